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
			step int
			last string
		}
		seen := map[state]bool{}
		reported := map[int]bool{}
		var walk func(i int, last string)
		hangsUp := func(i int, last string) {
			if !slices.Contains(closing, last) && !reported[i] && !f.Steps[i].excepted() {
				reported[i] = true
				what := "nothing"
				if last != "" {
					what = fmt.Sprintf("%q", last)
				}
				p.at(fmt.Sprintf("$.flows.%s.steps[%d]", name, i), "CS-CLOSE: the call can be hung up here after %s, not a closing phrase (end with close, or a say of one of %v)", what, closing)
			}
		}
		walk = func(i int, last string) {
			if seen[state{i, last}] {
				return
			}
			seen[state{i, last}] = true
			s := f.Steps[i]
			switch {
			case s.Say != nil:
				last = s.Say.Prompt
			case s.Close != nil, s.Reject != nil:
				return // the closing itself; a reject never answered
			case s.Hangup != nil:
				hangsUp(i, last)
				return
			case s.Hold != nil:
				last = orStr(s.Hold.Resume, "hold.resume")
			case s.Listen != nil:
				l := s.Listen
				if n := len(l.Attempts); n > 0 {
					if l.OnSilence == "" {
						hangsUp(i, l.Attempts[n-1].Prompt)
					}
					// An early exit may follow any attempt's prompt.
					for _, a := range l.Attempts {
						for _, j := range f.next(i) {
							walk(j, a.Prompt)
						}
					}
					return
				}
			}
			next := f.next(i)
			if len(next) == 0 && s.Goto == "" && s.Branch == nil {
				hangsUp(i, last) // the flow runs out: kefu hangs up
			}
			for _, j := range next {
				walk(j, last)
			}
		}
		if len(f.Steps) > 0 {
			walk(0, "")
		}
	}
}

// excepted reports whether a step states an exception to the script rules.
func (s *Step) excepted() bool {
	return s.Listen != nil && s.Listen.Exception != "" || s.Exception != ""
}
