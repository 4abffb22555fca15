package flows

import (
	"context"
	"time"
)

// Close is the standard closing (CS-CLOSE): the question 「请问还有什么可以
// 帮您?」; a caller who has more (speaks or presses a key) is served again
// at OnMore (「如有:继续为其咨询」); a caller who stays silent hears the
// polite final phrase and kefu hangs up 5 s later.
type Close struct {
	// OnMore is where a caller who answers the question goes: served
	// again (the main menu). Unset, a reply is taken as a goodbye (Bye,
	// then the caller hangs up first); the CS-CLOSE lint refuses that
	// unless the step states an exception.
	OnMore       string    `yaml:"on_more"`
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
	if h.any() && c.OnMore != "" {
		r.note("close", "the caller has more")
		if h.key != 0 {
			r.typed = h.keys // a menu next takes them as its answer
		}
		return c.OnMore, nil
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

func (c *Close) exits() []exit {
	out := []exit{{end: endHangup}}
	if c.OnMore != "" {
		out = append(out, exit{label: "more", to: c.OnMore, field: "on_more"})
	}
	return out
}

func (c *Close) check(sc *stepCheck) {
	sc.bound("answer_wait", c.AnswerWait, time.Minute)
	sc.bound("caller_hangup", c.CallerHangup, time.Minute)
	sc.bound("hangup_after", c.HangupAfter, 30*time.Second)
}

func (c *Close) checkPrompts(pc *promptCheck) {
	for _, id := range []string{orStr(c.Ask, "close.ask"), orStr(c.Bye, "close.bye"), orStr(c.Final, "close.hangup"), orStr(c.Repeat, "repeat")} {
		pc.need(pc.path, id)
	}
}

// walkClose: the closing is itself the polite end; after a recorded
// complaint it must say the complaint's closing phrase; a caller who has
// more must have a way back (CS-CLOSE: 「如有:继续为其咨询」); and a caller
// with more is served again from OnMore.
func (c *Close) walkClose(w *closeWalk, i int, last, complaint string) {
	if complaint != "" && last != complaint && c.Bye != complaint && c.Final != complaint {
		w.report(i, "CS-COMPLAINT-CLOSE: after a recorded complaint this closing does not say %q (say it before, or set bye: %s)", complaint, complaint)
	}
	if c.OnMore == "" {
		w.report(i, "CS-CLOSE: a caller who answers 「请问还有什么可以帮您?」 has more and must be served again: set on_more (e.g. the main menu), or state exception: REASON")
		return
	}
	if j, ok := w.f.index[c.OnMore]; ok {
		w.walk(j, orStr(c.Ask, "close.ask"), complaint)
	}
}

func (c *Close) label() string { return "close" }
