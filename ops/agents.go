package ops

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/kefu-hotline/kefu/flows/agents"
)

// AgentBoard is the agents' states and what ops may change on them
// (flows/agents.Board).
type AgentBoard interface {
	Agents() []agents.Status
	Ready(id string) error
	Pause(id, reason string) error
	SignOut(id string) error
}

// MountAgents serves the agents: GET /api/agents lists each agent's state
// (offline, available, ringing, on_call, wrap_up, paused with its reason),
// the caller they have, calls today and offers missed in a row; POST
// /api/agents/{id}/ready, /pause (a JSON body {"reason": "..."}, default
// "ops") and /signout change it.
func MountAgents(mux *http.ServeMux, board AgentBoard) {
	mux.HandleFunc("GET /api/agents", func(w http.ResponseWriter, r *http.Request) {
		list := board.Agents()
		if list == nil {
			list = []agents.Status{}
		}
		respond(w, r, http.StatusOK, list)
	})
	act := func(w http.ResponseWriter, r *http.Request, err error) {
		switch {
		case errors.Is(err, agents.ErrUnknownAgent):
			fail(w, r, http.StatusNotFound, "no agent "+strconv.Quote(r.PathValue("id")))
		case err != nil:
			fail(w, r, http.StatusConflict, err.Error())
		default:
			for _, s := range board.Agents() {
				if s.ID == r.PathValue("id") {
					respond(w, r, http.StatusOK, s)
					return
				}
			}
			respond(w, r, http.StatusOK, map[string]any{"id": r.PathValue("id")})
		}
	}
	mux.HandleFunc("POST /api/agents/{id}/ready", func(w http.ResponseWriter, r *http.Request) {
		act(w, r, board.Ready(r.PathValue("id")))
	})
	mux.HandleFunc("POST /api/agents/{id}/signout", func(w http.ResponseWriter, r *http.Request) {
		act(w, r, board.SignOut(r.PathValue("id")))
	})
	mux.HandleFunc("POST /api/agents/{id}/pause", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Reason string `json:"reason"`
		}
		if r.ContentLength != 0 {
			if failed(w, r, decodeBody(w, r, &body, 4096)) {
				return
			}
		}
		if body.Reason == "" {
			body.Reason = "ops"
		}
		act(w, r, board.Pause(r.PathValue("id"), body.Reason))
	})
}
