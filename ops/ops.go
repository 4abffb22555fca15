// Package ops is kefu's HTTP surface for operators and load balancers:
// /healthz (the process serves), /readyz (it takes new calls; false while
// draining), and /metrics (Prometheus).
package ops

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Status is what ops reads from the running agent.
type Status interface {
	Ready() bool
	ActiveCalls() int
}

// Handler returns the ops HTTP handler.
func Handler(st Status, reg *prometheus.Registry, version func() string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "calls": st.ActiveCalls(), "config_version": version()})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !st.Ready() {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"ready": false, "calls": st.ActiveCalls()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"ready": true, "calls": st.ActiveCalls()})
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
