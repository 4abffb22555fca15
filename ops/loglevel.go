package ops

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
)

// LogLevel is the log level kefu runs at, changeable while it runs.
type LogLevel interface {
	Level() slog.Level      // in force
	Configured() slog.Level // kefu run's -log-level
	// SetLevel puts a level in force; by says who, for the log line.
	SetLevel(l slog.Level, by string)
}

// levelJSON is the log level on the wire.
type levelJSON struct {
	Level      string `json:"level"`
	Configured string `json:"configured"`
}

// MountLogLevel serves the log level: GET /api/loglevel shows it and the
// configured one, PUT /api/loglevel {"level": "debug"} changes it (debug,
// info, warn, error, or an offset such as info+2), DELETE /api/loglevel
// puts the configured one back. Each answers the levels as GET does.
func MountLogLevel(mux *http.ServeMux, lv LogLevel) {
	show := func(w http.ResponseWriter, r *http.Request) {
		respond(w, r, http.StatusOK, levelJSON{Level: levelName(lv.Level()), Configured: levelName(lv.Configured())})
	}
	mux.HandleFunc("GET /api/loglevel", func(w http.ResponseWriter, r *http.Request) {
		if !failed(w, r, noQuery(r)) {
			show(w, r)
		}
	})
	mux.HandleFunc("PUT /api/loglevel", func(w http.ResponseWriter, r *http.Request) {
		if failed(w, r, noQuery(r)) {
			return
		}
		var req struct {
			Level string `json:"level"`
		}
		if failed(w, r, decodeBody(w, r, &req, 4096)) {
			return
		}
		var l slog.Level
		if err := l.UnmarshalText([]byte(req.Level)); err != nil {
			fail(w, r, http.StatusBadRequest, "level: "+strconv.Quote(req.Level)+": want debug, info, warn or error")
			return
		}
		lv.SetLevel(l, "api "+r.RemoteAddr)
		show(w, r)
	})
	mux.HandleFunc("DELETE /api/loglevel", func(w http.ResponseWriter, r *http.Request) {
		if failed(w, r, noQuery(r)) {
			return
		}
		lv.SetLevel(lv.Configured(), "api "+r.RemoteAddr)
		show(w, r)
	})
}

// levelName is a level as kefu run's -log-level takes it.
func levelName(l slog.Level) string { return strings.ToLower(l.String()) }
