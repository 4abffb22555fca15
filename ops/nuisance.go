package ops

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/kefu-hotline/kefu/flows/screen"
)

// MountNuisance adds the nuisance-list API (CS-NUISANCE) to mux:
//
//	GET    /api/nuisance              the list (?all=1: expired entries too)
//	POST   /api/nuisance              add an entry: {"pattern", "reason", "added_by", "ttl" | "expires_at", "action"}
//	DELETE /api/nuisance/{pattern}    remove an entry
//	GET    /api/nuisance/flags        numbers the repeat-call rule flagged
//	DELETE /api/nuisance/flags/{n}    let a flagged number through again
//	GET    /api/nuisance/proposed     list entries the repeat-call rule proposed (?all=1: decided ones too)
//	POST   /api/nuisance/proposed/{id}/confirm  put it on the list: {"by", and optionally "reason", "ttl" | "expires_at", "action"}
//	POST   /api/nuisance/proposed/{id}/reject   judge it a customer: {"by"}; its flag goes too
//
// A decided proposal answers 409 Conflict.
func MountNuisance(mux *http.ServeMux, m *screen.Manager) {
	mux.HandleFunc("GET /api/nuisance", func(w http.ResponseWriter, r *http.Request) {
		list, err := m.List(r.Context(), r.URL.Query().Get("all") != "")
		reply(w, http.StatusOK, list, err)
	})
	mux.HandleFunc("POST /api/nuisance", func(w http.ResponseWriter, r *http.Request) {
		var req screen.AddRequest
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "body: " + err.Error()})
			return
		}
		e, err := m.Add(r.Context(), req)
		reply(w, http.StatusCreated, e, err)
	})
	mux.HandleFunc("DELETE /api/nuisance/{pattern}", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusNoContent, nil, m.Remove(r.Context(), r.PathValue("pattern")))
	})
	mux.HandleFunc("GET /api/nuisance/flags", func(w http.ResponseWriter, r *http.Request) {
		flags, err := m.Flags(r.Context())
		reply(w, http.StatusOK, flags, err)
	})
	mux.HandleFunc("DELETE /api/nuisance/flags/{number}", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusNoContent, nil, m.ClearFlag(r.Context(), r.PathValue("number")))
	})
	mux.HandleFunc("GET /api/nuisance/proposed", func(w http.ResponseWriter, r *http.Request) {
		ps, err := m.Proposals(r.Context(), r.URL.Query().Get("all") != "")
		if ps == nil && err == nil {
			ps = []screen.Proposal{}
		}
		reply(w, http.StatusOK, ps, err)
	})
	for verb, decide := range map[string]func(context.Context, int64, screen.DecideRequest) (screen.Proposal, error){
		"confirm": m.Confirm,
		"reject":  m.Reject,
	} {
		mux.HandleFunc("POST /api/nuisance/proposed/{id}/"+verb, func(w http.ResponseWriter, r *http.Request) {
			id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
			if err != nil || id <= 0 {
				writeJSON(w, http.StatusNotFound, map[string]any{"error": "no proposal " + strconv.Quote(r.PathValue("id"))})
				return
			}
			var req screen.DecideRequest
			dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&req); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]any{"error": "body: " + err.Error()})
				return
			}
			p, err := decide(r.Context(), id, req)
			reply(w, http.StatusOK, p, err)
		})
	}
}

// reply writes v with code, or the error with the status it deserves.
func reply(w http.ResponseWriter, code int, v any, err error) {
	switch {
	case errors.Is(err, screen.ErrInvalid):
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
	case errors.Is(err, screen.ErrNotFound):
		writeJSON(w, http.StatusNotFound, map[string]any{"error": err.Error()})
	case errors.Is(err, screen.ErrDecided):
		writeJSON(w, http.StatusConflict, map[string]any{"error": err.Error()})
	case err != nil:
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": err.Error()})
	case code == http.StatusNoContent:
		w.WriteHeader(code)
	default:
		writeJSON(w, code, v)
	}
}
