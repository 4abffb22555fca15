package ops

import (
	"net/http"
	"time"

	"github.com/kefu-hotline/kefu/flows/queue"
)

// QueueFigures returns the figures of kefu's queues at now; nil when the
// running configuration has none.
type QueueFigures func(now time.Time) []queue.Figures

// MountQueues serves GET /api/queues: per queue the callers waiting, the
// longest wait, and the answered, abandoned and timed-out calls with their
// waits (CS-SLA).
func MountQueues(mux *http.ServeMux, figures QueueFigures) {
	mux.HandleFunc("GET /api/queues", func(w http.ResponseWriter, r *http.Request) {
		f := figures(time.Now())
		if f == nil {
			f = []queue.Figures{}
		}
		respond(w, r, http.StatusOK, f)
	})
}
