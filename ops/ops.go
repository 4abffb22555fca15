// Package ops is kefu's HTTP surface for operators and load balancers:
// /healthz (the process serves), /readyz (it takes new calls; false while
// draining), /metrics (Prometheus), and POST /api/reload (apply the
// configuration file again; a bad file is refused with its errors).
package ops

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Status is what ops reads from the running agent.
type Status interface {
	Ready() bool
	ActiveCalls() int
}

// Reloader applies the configuration file again; it returns the version
// now in force, or why the file was refused (the running version stays).
type Reloader func() (version string, err error)

// Handler returns the ops HTTP handler. reload may be nil (no API); more
// routes may be mounted on the returned mux.
func Handler(st Status, reg *prometheus.Registry, version func() string, reload Reloader) *http.ServeMux {
	mux := http.NewServeMux()
	if reload != nil {
		mux.HandleFunc("POST /api/reload", func(w http.ResponseWriter, r *http.Request) {
			if failed(w, r, noQuery(r)) {
				return
			}
			v, err := reload()
			if err != nil {
				respond(w, r, http.StatusUnprocessableEntity, map[string]any{"error": "configuration refused; the running one stays",
					"applied": false, "running": version(), "errors": strings.Split(err.Error(), "\n")})
				return
			}
			respond(w, r, http.StatusOK, map[string]any{"applied": true, "version": v})
		})
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		respond(w, r, http.StatusOK, map[string]any{"status": "ok", "calls": st.ActiveCalls(), "config_version": version()})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if !st.Ready() {
			respond(w, r, http.StatusServiceUnavailable, map[string]any{"ready": false, "calls": st.ActiveCalls()})
			return
		}
		respond(w, r, http.StatusOK, map[string]any{"ready": true, "calls": st.ActiveCalls()})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return mux
}

// NewServer returns an HTTP server for the ops handler on addr.
func NewServer(addr string, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
