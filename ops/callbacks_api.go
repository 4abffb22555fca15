package ops

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/sip"
)

// CallbackDesk is what ops do with the callbacks kefu makes itself
// (issue 13): kefu run implements it on the callback scheduler, its book
// and the trunks.
type CallbackDesk interface {
	// Attempts lists callback id's attempts, oldest first.
	Attempts(ctx context.Context, id int64) ([]records.Attempt, error)
	// Cancel closes callback id as cancelled at at: kefu makes it no
	// more (out of its queue; a call in progress goes on).
	// records.ErrNotFound when there is none.
	Cancel(ctx context.Context, id int64, at time.Time) error
	// Requeue opens callback id again for a new round of attempts, made
	// at its caller's place in line. records.ErrNotFound when there is
	// none.
	Requeue(ctx context.Context, id int64) error
	// Trunks is the state of the trunks kefu calls through.
	Trunks() []sip.TrunkStatus
	// Resolve marks complaint id resolved at at by by (replied to, if
	// it was not) and has kefu make its follow-up call (CS-FOLLOWUP).
	// records.ErrNotFound for no complaint, records.ErrInvalid for one
	// whose caller withheld their number.
	Resolve(ctx context.Context, id int64, at time.Time, by string) (records.FollowUp, error)
}

// followUpJSON is a records.FollowUp on the wire.
type followUpJSON struct {
	ID          int64     `json:"id"`
	ComplaintID int64     `json:"complaint_id"`
	Resolved    time.Time `json:"resolved"`
	By          string    `json:"by,omitempty"`
	Due         time.Time `json:"due"`
	Attempts    int       `json:"attempts"`
	Outcome     string    `json:"outcome,omitempty"`
	Key         string    `json:"key,omitempty"`
	Score       int       `json:"score,omitempty"`
}

// attemptJSON is a records.Attempt on the wire.
type attemptJSON struct {
	ID      int64     `json:"id"`
	Round   int       `json:"round"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended,omitzero"`
	Agent   string    `json:"agent"`
	Trunk   string    `json:"trunk"`
	Result  string    `json:"result,omitempty"`
	Counts  bool      `json:"counts"`
	Talk    float64   `json:"talk_seconds"`
}

// MountCallbacks adds the callbacks kefu makes to mux:
//
//	GET  /api/callbacks/{id}/attempts   the calls kefu made for it, oldest first
//	POST /api/callbacks/{id}/cancel     kefu makes it no more (outcome cancelled)
//	POST /api/callbacks/{id}/requeue    a closed callback is made again: a new round of attempts
//	GET  /api/trunks                    the trunks: registration, up, calls in progress
//	POST /api/complaints/{id}/resolved  the problem is dealt with: replied to, and kefu's
//	                                    follow-up call due within 24 h (CS-FOLLOWUP); {"by": WHO}
//
// An attempt's result is answered (the customer talked to the agent),
// no_answer, busy, declined, failed, hung_up (at once), machine,
// agent_gone (the agent hung up first), trunk_down or interrupted (kefu
// stopped); counts says whether it counted against the queue's attempts.
// Unknown ids get 404. log may be nil.
func MountCallbacks(mux *http.ServeMux, d CallbackDesk, log *slog.Logger) {
	a := &recordsAPI{log: log, now: time.Now}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	mux.HandleFunc("GET /api/callbacks/{id}/attempts", func(w http.ResponseWriter, r *http.Request) {
		id, ok := a.callbackID(w, r)
		if !ok {
			return
		}
		as, err := d.Attempts(r.Context(), id)
		out := make([]attemptJSON, len(as))
		for i, at := range as {
			out[i] = attemptJSON{ID: at.ID, Round: at.Round, Started: at.Started, Ended: at.Ended, Agent: at.Agent,
				Trunk: at.Trunk, Result: at.Result, Counts: at.Counts, Talk: at.Talk.Seconds()}
		}
		a.reply(w, r, http.StatusOK, out, err)
	})
	mux.HandleFunc("POST /api/callbacks/{id}/cancel", func(w http.ResponseWriter, r *http.Request) {
		id, ok := a.callbackID(w, r)
		if !ok {
			return
		}
		if err := d.Cancel(r.Context(), id, a.now()); err != nil {
			a.reply(w, r, 0, nil, err)
			return
		}
		a.log.Info("callback cancelled", "id", id, "by", tokenHolder(r))
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /api/callbacks/{id}/requeue", func(w http.ResponseWriter, r *http.Request) {
		id, ok := a.callbackID(w, r)
		if !ok {
			return
		}
		if err := d.Requeue(r.Context(), id); err != nil {
			a.reply(w, r, 0, nil, err)
			return
		}
		a.log.Info("callback re-queued", "id", id, "by", tokenHolder(r))
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /api/complaints/{id}/resolved", func(w http.ResponseWriter, r *http.Request) {
		id, ok := a.callbackID(w, r)
		if !ok {
			return
		}
		var body struct {
			By string `json:"by"`
		}
		if r.ContentLength != 0 && failed(w, r, decodeBody(w, r, &body, 4096)) {
			return
		}
		if body.By == "" {
			body.By = tokenHolder(r)
		}
		f, err := d.Resolve(r.Context(), id, a.now(), body.By)
		if err == nil {
			a.log.Info("complaint resolved: follow-up call due", "id", id, "by", body.By, "followup", f.ID)
		}
		a.reply(w, r, http.StatusOK, followUpJSON{ID: f.ID, ComplaintID: f.ComplaintID, Resolved: f.Resolved, By: f.By, Due: f.Due,
			Attempts: f.Attempts, Outcome: f.Outcome, Key: f.Key, Score: f.Score}, err)
	})
	mux.HandleFunc("GET /api/trunks", func(w http.ResponseWriter, r *http.Request) {
		if failed(w, r, noQuery(r)) {
			return
		}
		ts := d.Trunks()
		if ts == nil {
			ts = []sip.TrunkStatus{}
		}
		respond(w, r, http.StatusOK, ts)
	})
}

// callbackID reads the path's id (and refuses a query); false when it
// answered the request with 400.
func (a *recordsAPI) callbackID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	if failed(w, r, noQuery(r)) {
		return 0, false
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		a.reply(w, r, 0, nil, badRequest("id", "%q: want a positive integer", r.PathValue("id")))
		return 0, false
	}
	return id, true
}
