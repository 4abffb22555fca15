package flows

import (
	"fmt"
	"slices"
)

// DefaultClosingPrompts are the phrases that may be the last thing a caller
// hears before kefu hangs up (CS-CLOSE, CS-COMPLAINT-CLOSE and the polite
// endings of CS-SILENT, CS-WEAK, CS-NOISY, CS-NUISANCE): "never hang up
// without a closing phrase". None ends on a question: kefu never hangs up
// on one (CS-WEAK, CS-NOISY: the goodbye follows the 5 s wait).
var DefaultClosingPrompts = []string{
	"close.bye", "close.hangup", "complaint.close", "message.close", "silent.apology", "silent.alt.bye", "nuisance",
}

// closeWalk follows every path through one flow with the last prompt the
// caller heard, for the CS-CLOSE lint. Verbs that must be followed in
// their own way implement closeWalker; the rest leave by their exits, the
// caller having last heard what a speaker says.
type closeWalk struct {
	c       *Config
	p       *problems
	name    string
	f       *Flow
	closing []string
	seen    map[closeState]bool
	done    map[int]bool // steps reported
}

type closeState struct {
	step      int
	last      string
	complaint string // after a recorded complaint: the phrase that must close the call
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
		w := &closeWalk{c: c, p: p, name: name, f: c.Flows[name], closing: closing, seen: map[closeState]bool{}, done: map[int]bool{}}
		if len(w.f.Steps) > 0 && !w.f.builtin { // kefu's own nuisance path ends on CS-NUISANCE's message, whatever ops' closing phrases
			w.walk(0, "", "")
		}
	}
}

// report flags step i once, unless it states an exception.
func (w *closeWalk) report(i int, format string, args ...any) {
	if !w.done[i] && !w.f.Steps[i].excepted() {
		w.done[i] = true
		w.p.at(fmt.Sprintf("$.flows.%s.steps[%d]", w.name, i), format, args...)
	}
}

// hangsUp checks that kefu hanging up at step i after last is polite.
func (w *closeWalk) hangsUp(i int, last, complaint string) {
	what := "nothing"
	if last != "" {
		what = fmt.Sprintf("%q", last)
	}
	switch {
	case complaint != "" && last != complaint:
		w.report(i, "CS-COMPLAINT-CLOSE: after a recorded complaint the call can be hung up here after %s, not %q (end with a say of %q)", what, complaint, complaint)
	case !slices.Contains(w.closing, last):
		w.report(i, "CS-CLOSE: the call can be hung up here after %s, not a closing phrase (end with close, or a say of one of %v)", what, w.closing)
	}
}

// walk follows step i, reached with last the prompt heard last.
func (w *closeWalk) walk(i int, last, complaint string) {
	st := closeState{i, last, complaint}
	if w.seen[st] {
		return
	}
	w.seen[st] = true
	v := w.f.Steps[i].v
	if cw, ok := v.(closeWalker); ok {
		cw.walkClose(w, i, last, complaint)
		return
	}
	if sp, ok := v.(speaker); ok {
		last = sp.lastSaid()
	}
	w.onward(i, last, complaint)
}

// onward leaves step i by each of its exits: a hang-up is checked, other
// ends (a reject, a transfer) are not kefu hanging up, and an exit past
// the last step is the flow running out, which hangs up.
func (w *closeWalk) onward(i int, last, complaint string) {
	for _, e := range w.f.Steps[i].v.exits() {
		switch {
		case e.end == endHangup:
			w.hangsUp(i, last, complaint)
		case e.end != "":
		default:
			if j, ok := w.f.index[w.f.target(i, e)]; ok {
				w.walk(j, last, complaint)
			} else {
				w.hangsUp(i, last, complaint)
			}
		}
	}
}

// excepted reports whether a step states an exception to the script rules.
func (s *Step) excepted() bool {
	if e, ok := s.v.(excepter); ok && e.exception() != "" {
		return true
	}
	return s.Exception != ""
}

// following returns the index of the step an outcome leads to: the named
// step, or the next one when the outcome is unset (then -1 when there is
// none and the flow ends).
func (f *Flow) following(i int, to string) int {
	if j, ok := f.index[f.target(i, exit{to: to})]; ok {
		return j
	}
	return -1
}
