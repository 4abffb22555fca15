package flows

import (
	"context"
	"time"
)

// Close is the standard closing (CS-CLOSE): the question, then the goodbye
// and waiting for the caller to hang up first, or the polite hang-up.
type Close struct {
	Ask          string    `yaml:"ask"`           // default close.ask
	Bye          string    `yaml:"bye"`           // default close.bye
	Final        string    `yaml:"final"`         // default close.hangup
	Repeat       string    `yaml:"repeat"`        // default repeat: asks again for a reply too faint to understand (CS-REPEAT)
	AnswerWait   *Duration `yaml:"answer_wait"`   // for a reply to the question; default 5s
	CallerHangup *Duration `yaml:"caller_hangup"` // for the caller to hang up after the goodbye; default 10s
	HangupAfter  *Duration `yaml:"hangup_after"`  // after the final phrase; default 5s (CS-CLOSE)
}

// run asks if there is anything more; after a reply it says goodbye and
// gives the caller time to hang up first; if the caller stays silent, or
// stays on the line, it says the final phrase and hangs up after 5 s.
func (c *Close) run(ctx context.Context, r *Runner) (string, error) {
	h, err := r.play(ctx, orStr(c.Ask, "close.ask"))
	if err != nil {
		return "", err
	}
	if !h.any() {
		if h, err = r.wait(ctx, c.AnswerWait.or(DefaultSilenceWait)); err != nil {
			return "", err
		}
	}
	if h.weak && !h.speech && h.key == 0 {
		// CS-REPEAT: a reply too faint to understand; ask once, politely,
		// for it again.
		if h, err = r.play(ctx, orStr(c.Repeat, "repeat")); err != nil {
			return "", err
		}
		if !h.any() {
			if h, err = r.wait(ctx, c.AnswerWait.or(DefaultSilenceWait)); err != nil {
				return "", err
			}
		}
	}
	if h.any() {
		if _, err := r.play(ctx, orStr(c.Bye, "close.bye")); err != nil {
			return "", err
		}
		// Wait for the caller to hang up first: only the call's end
		// (cancelling ctx) or the timeout ends this wait.
		r.note("wait", "caller hang-up")
		if err := r.sleep(ctx, c.CallerHangup.or(10*time.Second)); err != nil {
			return "", err
		}
	}
	if _, err := r.play(ctx, orStr(c.Final, "close.hangup")); err != nil {
		return "", err
	}
	r.note("wait", "before hang-up")
	if err := r.sleep(ctx, c.HangupAfter.or(DefaultSilenceWait)); err != nil {
		return "", err
	}
	if err := r.hangup(ctx); err != nil {
		return "", err
	}
	return "", errHungUp
}

func (c *Close) exits() []exit { return []exit{{end: endHangup}} }

func (c *Close) check(*stepCheck) {}

func (c *Close) checkPrompts(pc *promptCheck) {
	for _, id := range []string{orStr(c.Ask, "close.ask"), orStr(c.Bye, "close.bye"), orStr(c.Final, "close.hangup"), orStr(c.Repeat, "repeat")} {
		pc.need(pc.path, id)
	}
}

// walkClose: the closing is itself the polite end; after a recorded
// complaint it must say the complaint's closing phrase.
func (c *Close) walkClose(w *closeWalk, i int, last, complaint string) {
	if complaint != "" && last != complaint && c.Bye != complaint && c.Final != complaint {
		w.report(i, "CS-COMPLAINT-CLOSE: after a recorded complaint this closing does not say %q (say it before, or set bye: %s)", complaint, complaint)
	}
}

func (c *Close) label() string { return "close" }
