package flows

import "fmt"

// next returns the steps a step can lead to (by index), from its exits.
func (f *Flow) next(i int) []int {
	var out []int
	for _, e := range f.Steps[i].v.exits() {
		if e.end != "" {
			continue
		}
		if j, ok := f.index[f.target(i, e)]; ok {
			out = append(out, j)
		}
	}
	return out
}

// instant reports whether a step runs without playing or waiting.
func instant(s *Step) bool {
	_, ok := s.v.(instantVerb)
	return ok
}

// validateGraph finds unreachable steps, rejects that could run after the
// answer, and loops that could spin without ever playing or waiting.
func (f *Flow) validateGraph(p *problems, path string) {
	n := len(f.Steps)
	for _, s := range f.Steps {
		if s == nil || s.v == nil {
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
	// Steps before the answer: from the first, through the instant steps
	// that do not answer.
	pre := make([]bool, n)
	var walkPre func(int)
	walkPre = func(i int) {
		if pre[i] {
			return
		}
		pre[i] = true
		if _, answers := f.Steps[i].v.(*Answer); instant(f.Steps[i]) && !answers {
			for _, j := range f.next(i) {
				walkPre(j)
			}
		}
	}
	walkPre(0)
	for i, s := range f.Steps {
		if _, ok := s.v.(*Reject); ok && !pre[i] {
			p.at(fmt.Sprintf("%s.steps[%d]", path, i), "reject %q can run after the call is answered: a reject must come before any step that plays or listens (end answered calls with close)", s.Name)
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
