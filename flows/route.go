package flows

import (
	"context"
	"fmt"
	"time"
)

// Start is where a call begins its flow, decided on the INVITE: the steps
// before the answer (branch, goto, answer, reject) need no audio, so they
// run before kefu answers.
type Start struct {
	Step   int    // first step to run after the answer
	Reject int    // when non-zero, refuse the call with this SIP status
	Reason string // the reject step's reason code
	Path   []string
}

// Start walks flow f's steps that run before the answer for a call: the
// instant ones (branch, goto), up to a reject, an answer step, or the
// first step that needs audio.
func (c *Config) Start(f *Flow, info CallInfo) (Start, error) {
	var st Start
	pre := &Runner{cfg: c, flow: f, info: info, clock: stoppedClock{info.At}}
	i := 0
	for range maxSteps {
		if i >= len(f.Steps) {
			return st, fmt.Errorf("flow %s ends before the call is answered", f.Name())
		}
		s := f.Steps[i]
		st.Path = append(st.Path, s.Name)
		switch v := s.v.(type) {
		case *Reject:
			st.Reject, st.Reason = v.code(), v.Reason
			return st, nil
		case *Answer:
			st.Step = i + 1
			return st, nil
		}
		if !instant(s) {
			st.Step = i
			return st, nil
		}
		next, err := s.v.run(context.Background(), pre)
		if err != nil {
			return st, fmt.Errorf("flow %s: step %s before the answer: %w", f.Name(), s.Name, err)
		}
		if i = f.following(i, next); i < 0 {
			i = len(f.Steps)
		}
	}
	return st, fmt.Errorf("flow %s loops before the answer", f.Name())
}

// stoppedClock reads one moment: the INVITE's, for the steps before the
// answer.
type stoppedClock struct{ at time.Time }

func (c stoppedClock) Now() time.Time { return c.at }

func (c stoppedClock) After(time.Duration) <-chan time.Time { return nil }
