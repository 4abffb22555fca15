package ops

import (
	"log/slog"
	"net/http"
	"strconv"

	"github.com/kefu-hotline/kefu/sip"
)

// LiveCalls is the calls in progress and the way to end one (sip.Agent).
type LiveCalls interface {
	// Calls returns the calls in progress, newest first, numbers masked.
	Calls() []sip.CallInfo
	// Hangup ends the calls with this Call-ID; false when there is none.
	Hangup(callID string) bool
}

// MountCalls serves the calls in progress: GET /api/calls lists them
// (masked caller, flow, step, line, since when), POST
// /api/calls/{id}/hangup ends a stuck one (BYE when answered, 480 while
// ringing) and answers 202: the call's teardown runs on. log records who
// ended which call; it may be nil.
func MountCalls(mux *http.ServeMux, calls LiveCalls, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mux.HandleFunc("GET /api/calls", func(w http.ResponseWriter, r *http.Request) {
		if failed(w, r, noQuery(r)) {
			return
		}
		list := calls.Calls()
		if list == nil {
			list = []sip.CallInfo{}
		}
		respond(w, r, http.StatusOK, list)
	})
	mux.HandleFunc("POST /api/calls/{id}/hangup", func(w http.ResponseWriter, r *http.Request) {
		if failed(w, r, noQuery(r)) {
			return
		}
		id := r.PathValue("id")
		if !calls.Hangup(id) {
			fail(w, r, http.StatusNotFound, "no call in progress has Call-ID "+strconv.Quote(id))
			return
		}
		log.Info("call hung up through the API", "call", id, "remote", r.RemoteAddr)
		respond(w, r, http.StatusAccepted, map[string]any{"call_id": id, "ending": true})
	})
}
