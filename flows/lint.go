package flows

import (
	"fmt"
	"slices"
)

// DefaultClosingPrompts are the phrases that may be the last thing a caller
// hears before kefu hangs up (CS-CLOSE, CS-COMPLAINT-CLOSE and the polite
// endings of CS-SILENT, CS-WEAK, CS-NOISY, CS-NUISANCE): "never hang up
// without a closing phrase".
var DefaultClosingPrompts = []string{
	"close.bye", "close.hangup", "complaint.close", "silent.apology", "silent.alt.bye",
	"weak.bye", "noisy", "nuisance", "system.down",
}

// lintClosing reports every way a flow can hang up without a closing
// phrase as the last prompt (CS-CLOSE). A step with an exception is let
// through.
func (c *Config) lintClosing(p *problems) {
	closing := DefaultClosingPrompts
	if len(c.ClosingPrompts) > 0 {
		closing = c.ClosingPrompts
	}
	for _, name := range c.flowNames() {
		f := c.Flows[name]
		type state struct {
			step      int
			last      string
			complaint string // after a recorded complaint: the phrase that must close the call
		}
		seen := map[state]bool{}
		reported := map[int]bool{}
		report := func(i int, format string, args ...any) {
			if !reported[i] && !f.Steps[i].excepted() {
				reported[i] = true
				p.at(fmt.Sprintf("$.flows.%s.steps[%d]", name, i), format, args...)
			}
		}
		var walk func(i int, last, complaint string)
		hangsUp := func(i int, last, complaint string) {
			what := "nothing"
			if last != "" {
				what = fmt.Sprintf("%q", last)
			}
			switch {
			case complaint != "" && last != complaint:
				report(i, "CS-COMPLAINT-CLOSE: after a recorded complaint the call can be hung up here after %s, not %q (end with a say of %q)", what, complaint, complaint)
			case !slices.Contains(closing, last):
				report(i, "CS-CLOSE: the call can be hung up here after %s, not a closing phrase (end with close, or a say of one of %v)", what, closing)
			}
		}
		walk = func(i int, last, complaint string) {
			if seen[state{i, last, complaint}] {
				return
			}
			seen[state{i, last, complaint}] = true
			s := f.Steps[i]
			switch {
			case s.Say != nil:
				last = s.Say.Prompt
			case s.Close != nil:
				c := s.Close
				if complaint != "" && last != complaint && c.Bye != complaint && c.Final != complaint {
					report(i, "CS-COMPLAINT-CLOSE: after a recorded complaint this closing does not say %q (say it before, or set bye: %s)", complaint, complaint)
				}
				return // the closing itself
			case s.Reject != nil:
				return // a reject never answered
			case s.Transfer != nil:
				// Handed on, the caller is not hung up on; a failure
				// goes on to OnFail.
				if j := following(f, i, s.Transfer.OnFail); j >= 0 {
					walk(j, last, complaint)
				} else {
					hangsUp(i, last, complaint)
				}
				return
			case s.Hangup != nil:
				hangsUp(i, last, complaint)
				return
			case s.Hold != nil:
				last = orStr(s.Hold.Resume, "hold.resume")
			case s.Queue != nil:
				last = orStr(s.Queue.Resume, "hold.resume") // taken; a timeout's step speaks next
			case s.Record != nil:
				// A recorded complaint must be closed with the complaint
				// phrase; nothing said leaves no complaint to promise on.
				rc := s.Record
				done, empty := following(f, i, rc.OnDone), following(f, i, rc.OnEmpty)
				if done < 0 || empty < 0 {
					hangsUp(i, orStr(rc.Prompt, "complaint.ask"), complaint)
				}
				if done >= 0 {
					walk(done, orStr(rc.Prompt, "complaint.ask"), orStr(rc.Closing, "complaint.close"))
				}
				if empty >= 0 {
					walk(empty, orStr(rc.Prompt, "complaint.ask"), complaint)
				}
				return
			case s.Listen != nil:
				l := s.Listen
				if n := len(l.Attempts); n > 0 {
					if l.OnSilence == "" {
						hangsUp(i, l.Attempts[n-1].Prompt, complaint)
					}
					// An early exit may follow any attempt's prompt.
					for _, a := range l.Attempts {
						for _, j := range f.next(i) {
							walk(j, a.Prompt, complaint)
						}
					}
					return
				}
			}
			next := f.next(i)
			if len(next) == 0 && s.Goto == "" && s.Branch == nil {
				hangsUp(i, last, complaint) // the flow runs out: kefu hangs up
			}
			for _, j := range next {
				walk(j, last, complaint)
			}
		}
		if len(f.Steps) > 0 {
			walk(0, "", "")
		}
	}
}

// excepted reports whether a step states an exception to the script rules.
func (s *Step) excepted() bool {
	return s.Listen != nil && s.Listen.Exception != "" || s.Exception != ""
}

// following returns the index of the step an outcome leads to: the named
// step, or the next one when the outcome is unset (then -1 when there is
// none and the flow ends).
func following(f *Flow, i int, to string) int {
	if to != "" {
		if j, ok := f.index[to]; ok {
			return j
		}
		return -1
	}
	if s := f.Steps[i]; s.Next != "" {
		return following(f, i, s.Next)
	}
	if i+1 < len(f.Steps) {
		return i + 1
	}
	return -1
}
