package ops

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/kefu-hotline/kefu/flows/screen"
)

// MountNuisance adds the nuisance-list API (CS-NUISANCE) to mux:
//
//	GET    /api/nuisance              the list, newest first (?all=1: expired entries too; ?limit= &offset=)
//	POST   /api/nuisance              add an entry: {"pattern", "reason", "added_by", "ttl" | "expires_at", "action"}
//	DELETE /api/nuisance/{pattern}    remove an entry
//	GET    /api/nuisance/flags        numbers the repeat-call rule flagged, newest first
//	DELETE /api/nuisance/flags/{number}  let a flagged number through again
//	GET    /api/nuisance/proposed     entries the repeat-call rule proposed, newest first (?all=1: decided ones too)
//	POST   /api/nuisance/proposed/{id}/confirm  put it on the list: {"by", and optionally "reason", "ttl" | "expires_at", "action"}
//	POST   /api/nuisance/proposed/{id}/reject   judge it a customer: {"by"}; its flag goes too
//
// A decided proposal answers 409 Conflict. Errors show the pattern or
// number as the operator gave it: the answer goes back to them, not to a
// log.
func MountNuisance(mux *http.ServeMux, m *screen.Manager) {
	n := nuisanceAPI{m}
	mux.HandleFunc("GET /api/nuisance", n.list)
	mux.HandleFunc("POST /api/nuisance", n.add)
	mux.HandleFunc("DELETE /api/nuisance/{pattern}", n.remove)
	mux.HandleFunc("GET /api/nuisance/flags", n.flags)
	mux.HandleFunc("DELETE /api/nuisance/flags/{number}", n.unflag)
	mux.HandleFunc("GET /api/nuisance/proposed", n.proposed)
	mux.HandleFunc("POST /api/nuisance/proposed/{id}/confirm", n.decide(m.Confirm))
	mux.HandleFunc("POST /api/nuisance/proposed/{id}/reject", n.decide(m.Reject))
}

type nuisanceAPI struct{ m *screen.Manager }

// maxBody bounds the JSON bodies the API reads.
const maxBody = 64 << 10

// pageQuery reads ?limit=, ?offset= and, when withAll, ?all=.
func pageQuery(r *http.Request, withAll bool) (p page, all bool, err error) {
	names := []string{"limit", "offset"}
	if withAll {
		names = append(names, "all")
	}
	q, err := query(r, names...)
	if err == nil {
		all, err = flag(q, "all")
	}
	if err == nil {
		p, err = pageParams(q)
	}
	return p, all, err
}

func (n nuisanceAPI) list(w http.ResponseWriter, r *http.Request) {
	p, all, err := pageQuery(r, true)
	if failed(w, r, err) {
		return
	}
	es, err := n.m.List(r.Context(), all)
	slices.SortStableFunc(es, func(a, b screen.Entry) int {
		return cmp.Or(b.AddedAt.Compare(a.AddedAt), cmp.Compare(b.ID, a.ID))
	})
	n.reply(w, r, http.StatusOK, pageOf(es, p), err, "")
}

func (n nuisanceAPI) add(w http.ResponseWriter, r *http.Request) {
	if failed(w, r, noQuery(r)) {
		return
	}
	var req screen.AddRequest
	if failed(w, r, decodeBody(w, r, &req, maxBody)) {
		return
	}
	e, err := n.m.Add(r.Context(), req)
	n.reply(w, r, http.StatusCreated, e, err, "")
}

func (n nuisanceAPI) remove(w http.ResponseWriter, r *http.Request) {
	if failed(w, r, noQuery(r)) {
		return
	}
	pattern := r.PathValue("pattern")
	n.reply(w, r, http.StatusNoContent, nil, n.m.Remove(r.Context(), pattern), "no nuisance entry "+strconv.Quote(pattern))
}

func (n nuisanceAPI) flags(w http.ResponseWriter, r *http.Request) {
	p, _, err := pageQuery(r, false)
	if failed(w, r, err) {
		return
	}
	fs, err := n.m.Flags(r.Context())
	slices.SortStableFunc(fs, func(a, b screen.Flag) int {
		return cmp.Or(b.Since.Compare(a.Since), cmp.Compare(a.Number, b.Number))
	})
	n.reply(w, r, http.StatusOK, pageOf(fs, p), err, "")
}

func (n nuisanceAPI) unflag(w http.ResponseWriter, r *http.Request) {
	if failed(w, r, noQuery(r)) {
		return
	}
	number := r.PathValue("number")
	n.reply(w, r, http.StatusNoContent, nil, n.m.ClearFlag(r.Context(), number),
		strconv.Quote(number)+" is not flagged and has no recent calls")
}

func (n nuisanceAPI) proposed(w http.ResponseWriter, r *http.Request) {
	p, all, err := pageQuery(r, true)
	if failed(w, r, err) {
		return
	}
	ps, err := n.m.Proposals(r.Context(), all)
	slices.SortStableFunc(ps, func(a, b screen.Proposal) int { return cmp.Compare(b.ID, a.ID) })
	n.reply(w, r, http.StatusOK, pageOf(ps, p), err, "")
}

func (n nuisanceAPI) decide(decide func(context.Context, int64, screen.DecideRequest) (screen.Proposal, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if failed(w, r, noQuery(r)) {
			return
		}
		raw := r.PathValue("id")
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			fail(w, r, http.StatusNotFound, "no proposal "+strconv.Quote(raw))
			return
		}
		var req screen.DecideRequest
		if failed(w, r, decodeBody(w, r, &req, maxBody)) {
			return
		}
		p, err := decide(r.Context(), id, req)
		n.reply(w, r, http.StatusOK, p, err, "no proposal "+raw)
	}
}

// noQuery refuses query parameters on an endpoint that takes none.
func noQuery(r *http.Request) error {
	_, err := query(r)
	return err
}

// reply writes v with code, or the error with the status it deserves;
// missing is the message of a 404.
func (nuisanceAPI) reply(w http.ResponseWriter, r *http.Request, code int, v any, err error, missing string) {
	var ve *screen.ValidationError
	switch {
	case errors.As(err, &ve):
		fail(w, r, http.StatusBadRequest, ve.Echo())
	case errors.Is(err, screen.ErrInvalid):
		fail(w, r, http.StatusBadRequest, err.Error())
	case errors.Is(err, screen.ErrNotFound):
		fail(w, r, http.StatusNotFound, missing)
	case errors.Is(err, screen.ErrDecided):
		fail(w, r, http.StatusConflict, err.Error())
	case err != nil:
		fail(w, r, http.StatusInternalServerError, err.Error())
	case code == http.StatusNoContent:
		w.WriteHeader(code)
	default:
		respond(w, r, code, v)
	}
}
