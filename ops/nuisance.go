package ops

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/kefu-hotline/kefu/flows/screen"
)

// MountNuisance adds the nuisance-list API (CS-NUISANCE) to mux:
//
//	GET    /api/nuisance              the list (?all=1: expired entries too)
//	POST   /api/nuisance              add an entry: {"pattern", "reason", "added_by", "ttl" | "expires_at", "action"}
//	DELETE /api/nuisance/{pattern}    remove an entry
//	GET    /api/nuisance/flags        numbers the repeat-call rule flagged
//	DELETE /api/nuisance/flags/{n}    let a flagged number through again
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
}

// reply writes v with code, or the error with the status it deserves.
func reply(w http.ResponseWriter, code int, v any, err error) {
	switch {
	case errors.Is(err, screen.ErrInvalid):
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
	case errors.Is(err, screen.ErrNotFound):
		writeJSON(w, http.StatusNotFound, map[string]any{"error": err.Error()})
	case err != nil:
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": err.Error()})
	case code == http.StatusNoContent:
		w.WriteHeader(code)
	default:
		writeJSON(w, code, v)
	}
}
