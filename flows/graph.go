package flows

import "fmt"

// next returns the steps a step can lead to (by index) and whether it can
// end the call itself.
func (f *Flow) next(i int) []int {
	s := f.Steps[i]
	var out []int
	add := func(name string) {
		if j, ok := f.index[name]; ok {
			out = append(out, j)
		}
	}
	following := func() {
		switch {
		case s.Next != "":
			add(s.Next)
		case i+1 < len(f.Steps):
			out = append(out, i+1)
		}
	}
	switch {
	case s.Hangup != nil, s.Reject != nil, s.Close != nil:
	case s.Goto != "":
		add(s.Goto)
	case s.Branch != nil:
		for _, c := range s.Branch.Cases {
			add(c.Goto)
		}
		if s.Branch.Else != "" {
			add(s.Branch.Else)
		} else {
			following()
		}
	case s.Menu != nil:
		for _, t := range s.Menu.targets() {
			if t != "" {
				add(t)
			}
		}
		if s.Menu.OnTimeout == "" || s.Menu.OnInvalid == "" {
			following()
		}
	case s.Collect != nil, s.Record != nil, s.Queue != nil, s.Transfer != nil:
		outs := s.outcomes()
		fallsThrough := false
		for _, o := range outs {
			if o.to == "" {
				fallsThrough = true
			} else {
				add(o.to)
			}
		}
		if fallsThrough {
			following()
		}
	case s.Listen != nil:
		l := s.Listen
		for _, t := range []string{l.OnSpeech, l.OnDigit, l.OnWeak, l.OnNoise} {
			if t != "" {
				add(t)
			}
		}
		if l.OnSpeech == "" || l.OnDigit == "" {
			following()
		}
		if l.OnSilence != "" {
			add(l.OnSilence)
		}
	default:
		following()
	}
	return out
}

// instant reports whether a step runs without playing or waiting.
func instant(s *Step) bool { return s.Branch != nil || s.Goto != "" || s.Answer != nil }

// validateGraph finds unreachable steps, rejects that could run after the
// answer, and loops that could spin without ever playing or waiting.
func (f *Flow) validateGraph(p *problems, path string) {
	n := len(f.Steps)
	for _, s := range f.Steps {
		if s == nil || s.Verb() == "" {
			return // reported already; the graph would mislead
		}
	}
	seen := make([]bool, n)
	var walk func(int)
	walk = func(i int) {
		if seen[i] {
			return
		}
		seen[i] = true
		for _, j := range f.next(i) {
			walk(j)
		}
	}
	walk(0)
	for i, ok := range seen {
		if !ok {
			p.at(fmt.Sprintf("%s.steps[%d]", path, i), "step %q can never run: no step leads to it (remove it or add a goto)", f.Steps[i].Name)
		}
	}
	// Steps before the answer: from the first, through instant steps.
	pre := make([]bool, n)
	var walkPre func(int)
	walkPre = func(i int) {
		if pre[i] {
			return
		}
		pre[i] = true
		if s := f.Steps[i]; s.Branch != nil || s.Goto != "" {
			for _, j := range f.next(i) {
				walkPre(j)
			}
		}
	}
	walkPre(0)
	for i, s := range f.Steps {
		if s.Reject != nil && !pre[i] {
			p.at(fmt.Sprintf("%s.steps[%d]", path, i), "reject %q can run after the call is answered: a reject must come before any step that plays or listens (end answered calls with close)", s.Name)
		}
		if s.Reject != nil && s.Reject.Code != 0 && (s.Reject.Code < 400 || s.Reject.Code > 699) {
			p.at(fmt.Sprintf("%s.steps[%d].reject.code", path, i), "reject code %d is not a SIP error status (400-699; 603 Decline by default)", s.Reject.Code)
		}
	}
	// A cycle of instant steps spins without waiting.
	state := make([]uint8, n) // 0 new, 1 on the stack, 2 done
	var dfs func(int) bool
	dfs = func(i int) bool {
		state[i] = 1
		for _, j := range f.next(i) {
			if !instant(f.Steps[j]) {
				continue
			}
			if state[j] == 1 || (state[j] == 0 && dfs(j)) {
				return true
			}
		}
		state[i] = 2
		return false
	}
	for i, s := range f.Steps {
		if instant(s) && state[i] == 0 && dfs(i) {
			p.at(fmt.Sprintf("%s.steps[%d]", path, i), "steps from %q can loop forever without playing or waiting: put a say or listen in the loop", s.Name)
			break
		}
	}
}

// outcome is a named way out of a step.
type outcome struct{ to, label string }

// outcomes returns the ways out of a collect, record or queue step; an empty
// target is the following step.
func (s *Step) outcomes() []outcome {
	switch {
	case s.Collect != nil:
		return []outcome{{s.Collect.OnDone, "confirmed"}, {s.Collect.OnFail, "no number"}}
	case s.Record != nil:
		return []outcome{{s.Record.OnDone, "recorded"}, {s.Record.OnEmpty, "nothing said"}}
	case s.Queue != nil:
		return []outcome{{s.Queue.OnAnswer, "taken"}, {s.Queue.OnTimeout, "max wait"}}
	case s.Transfer != nil:
		// Success hands the call on; only a failure stays in the flow.
		return []outcome{{s.Transfer.OnFail, "transfer failed"}}
	}
	return nil
}
