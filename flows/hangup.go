package flows

import (
	"context"
	"time"
)

// Hangup ends the call from our side.
type Hangup struct {
	// Wait gives the caller up to this long to hang up first (CS-CLOSE,
	// CS-COMPLAINT-CLOSE: after the goodbye, the caller hangs up first);
	// unset hangs up at once.
	Wait *Duration `yaml:"wait"`
}

func (h *Hangup) run(ctx context.Context, r *Runner) (string, error) {
	if w := h.Wait.or(0); w > 0 {
		r.note("wait", "caller hang-up")
		if err := r.sleep(ctx, w); err != nil {
			return "", err
		}
	}
	if err := r.hangup(ctx); err != nil {
		return "", err
	}
	return "", errHungUp
}

func (h *Hangup) exits() []exit { return []exit{{end: endHangup}} }

func (h *Hangup) check(sc *stepCheck) { sc.bound("wait", h.Wait, time.Minute) }

func (h *Hangup) label() string { return "hangup" }
