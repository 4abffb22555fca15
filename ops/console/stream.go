package console

import (
	"errors"
	"net/http"
	"time"

	"github.com/kefu-hotline/kefu/ops"
)

// keepAlive is how often a quiet stream gets a comment line, so that
// proxies and the page know it is alive.
const keepAlive = 15 * time.Second

// events serves the live view as server-sent events: a snapshot, then an
// update whenever something the page shows changed. Any role may watch;
// a viewer's numbers are masked. The stream is outside the guard's Wrap
// (which would hold a viewer's answer until it ends), so it authenticates
// with the guard itself.
func (c *Console) events(w http.ResponseWriter, r *http.Request) {
	who, err := c.cfg.Guard.Authenticate(r)
	if err != nil {
		var ae *ops.AuthError
		status := http.StatusUnauthorized
		if errors.As(err, &ae) {
			status = ae.Status
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="kefu"`)
		writeJSON(w, status, errorJSON{err.Error()})
		return
	}
	rc := http.NewResponseController(w)
	sub, snap, err := c.hub.subscribe()
	if err != nil {
		c.cfg.Log.Error("console: stream", "error", err)
		writeJSON(w, http.StatusInternalServerError, errorJSON{"the live view failed: " + err.Error()})
		return
	}
	defer c.hub.unsubscribe(sub)
	viewer := who.Role == ops.Viewer
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: pass each event on at once
	w.WriteHeader(http.StatusOK)
	// The page reconnects after a drop by itself; retry tells EventSource
	// clients the same.
	if _, err := w.Write(append([]byte("retry: 2000\n\n"), snap.bytes(viewer)...)); err != nil {
		return
	}
	if rc.Flush() != nil {
		return
	}
	ping := time.NewTicker(keepAlive)
	defer ping.Stop()
	for {
		var b []byte
		select {
		case <-r.Context().Done():
			return
		case <-sub.gone:
			return // dropped for being slow, or the console closed
		case f := <-sub.ch:
			b = f.bytes(viewer)
		case <-ping.C:
			b = []byte(": ping\n\n")
		}
		if _, err := w.Write(b); err != nil {
			return
		}
		if rc.Flush() != nil {
			return
		}
	}
}
