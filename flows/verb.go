package flows

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
)

// verb is what a step does, resolved once at load from the step's one verb
// field. Each verb lives in its own file with its parameters, defaults and
// these methods; the runner, the load checks, the graph walks of the lints
// and the Mermaid diagram all go through them, so a verb's knowledge is in
// one place.
type verb interface {
	// run plays the verb on a call and returns the step to go to next
	// ("" for the step's next, or the following step).
	run(ctx context.Context, r *Runner) (next string, err error)
	// exits lists every way out of the step, in a fixed order.
	exits() []exit
	// check validates the verb's parameters at load (no prompts needed).
	check(sc *stepCheck)
	// label names the step in a diagram.
	label() string
}

// exit is one way out of a step: an outcome and where it leads.
type exit struct {
	// label names the outcome in diagrams ("key 1", "no key"); "" for the
	// plain way on.
	label string
	// to is the step it leads to; "" is the step's next, or the following
	// step.
	to string
	// end, when set, says the call ends here this way ("hang up",
	// "reject 603", "transferred") and to is unused.
	end string
	// field is the verb's YAML key that names to, for errors about a
	// dangling reference ("choices", "on_timeout"); "" for none.
	field string
}

// Ends of a call that an exit may name.
const (
	endHangup      = "hang up"
	endTransferred = "transferred"
)

// Optional capabilities of a verb, for the few verbs that need them.
type (
	// instantVerb is a verb that runs without playing or waiting (branch,
	// goto, answer, reject): it may run on the INVITE, before the answer,
	// and a loop of such steps would spin.
	instantVerb interface{ instant() }
	// promptUser is a verb that plays prompts: it names them for the
	// check against the loaded prompt set.
	promptUser interface{ checkPrompts(pc *promptCheck) }
	// closeWalker is a verb the CS-CLOSE lint must follow in its own way
	// (it speaks a closing, records a complaint, ends with a ladder).
	closeWalker interface {
		walkClose(w *closeWalk, i int, last, complaint string)
	}
	// speaker is a verb after which the caller has last heard a given
	// prompt, whatever way it is left.
	speaker interface{ lastSaid() string }
	// excepter is a verb with its own exception to a call-script rule.
	excepter interface{ exception() string }
	// aliasVerb is another name for a verb (greet, play): the verb it
	// stands for.
	aliasVerb interface{ settle() verb }
)

// verbField is a Step field that holds a verb: the fields of Step whose
// type implements verb are the table of verbs.
type verbField struct {
	key   string // the YAML key
	index int
}

var verbType, aliasType = reflect.TypeFor[verb](), reflect.TypeFor[aliasVerb]()

// verbFields lists Step's verb fields in declaration order.
var verbFields = sync.OnceValue(func() []verbField {
	t := reflect.TypeFor[Step]()
	var out []verbField
	for i := range t.NumField() {
		f := t.Field(i)
		if f.IsExported() && (f.Type.Implements(verbType) || f.Type.Implements(aliasType)) {
			key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			out = append(out, verbField{key: key, index: i})
		}
	}
	return out
})

// set returns the keys of the verb fields set in s, and the value of the
// last one (a verb, or an alias of one).
func (s *Step) set() (keys []string, v any) {
	rv := reflect.ValueOf(s).Elem()
	for _, f := range verbFields() {
		fv := rv.Field(f.index)
		if fv.IsZero() {
			continue
		}
		keys = append(keys, f.key)
		v = fv.Interface()
	}
	return keys, v
}

// Verb returns the key of the step's verb ("say", "menu" ...), or "" when
// none or several are set.
func (s *Step) Verb() string {
	if s.v != nil {
		return s.name
	}
	keys, _ := s.set()
	if len(keys) != 1 {
		return ""
	}
	return keys[0]
}

// resolve sets the step's verb from its one verb field; it reports false
// when none or several are set.
func (s *Step) resolve() bool {
	keys, v := s.set()
	if len(keys) != 1 {
		return false
	}
	s.key, s.name = keys[0], keys[0]
	if n, ok := aliases[s.key]; ok {
		s.name = n
	}
	if a, ok := v.(aliasVerb); ok {
		s.v = a.settle()
	} else {
		s.v = v.(verb)
	}
	return true
}

// aliases are the verbs known by another name: their steps show in
// timelines as the verb they stand for.
var aliases = map[string]string{"greet": "say", "play": "say"}

// stepCheck is what a verb's check sees: the step's place in the file, its
// flow and the whole configuration.
type stepCheck struct {
	p    *problems
	path string // "$.flows.NAME.steps[I]"
	key  string // the verb's key under the step
	flow *Flow
	cfg  *Config
	// excepted: the step states an exception to the call-script rules
	// (a test line that only waits may wait long).
	excepted bool
}

// at reports a problem at a path under the verb ("" for the verb itself).
func (sc *stepCheck) at(sub, format string, args ...any) {
	path := sc.path + "." + sc.key
	if sub != "" {
		path += "." + sub
	}
	sc.p.at(path, format, args...)
}

// louderClash reports keys of the verb that are the louder key, which kefu
// takes first (CS-LOUDER).
func (sc *stepCheck) louderClash(sub string, keys ...string) {
	if l := sc.cfg.Louder; !l.Off && slices.Contains(keys, l.Key) {
		sc.at(sub, "key %q is the louder key (CS-LOUDER), which kefu takes first: choose another key", l.Key)
	}
}

// bound reports a timer beyond a sane limit (a menu waiting 6 h): kefu
// would keep a caller on the line for nothing. A step that states an
// exception may go beyond.
func (sc *stepCheck) bound(sub string, d *Duration, limit time.Duration) {
	if d != nil && d.D() > limit && !sc.excepted {
		sc.at(sub, "%s %v is beyond the limit of %v: a caller would wait on the line for nothing (or state exception: REASON)", sub, d.D(), limit)
	}
}

// checkExits reports exits that name a step the flow does not have.
func (sc *stepCheck) checkExits(v verb) {
	for _, e := range v.exits() {
		if e.end == "" {
			sc.ref(e.field, e.to)
		}
	}
}

// ref reports a reference to a step the flow does not have.
func (sc *stepCheck) ref(sub, step string) {
	if step == "" {
		return
	}
	if _, ok := sc.flow.index[step]; !ok {
		sc.at(sub, "no step named %q in this flow", step)
	}
}

// onward is the one exit of a verb without outcomes of its own: the step's
// next, or the following step.
var onward = []exit{{}}

// target returns the name of the step exit e of step i leads to: the named
// step, or the step's next, or the following one ("" when the flow runs
// out there).
func (f *Flow) target(i int, e exit) string {
	if e.to != "" {
		return e.to
	}
	if s := f.Steps[i]; s.Next != "" {
		return s.Next
	}
	if i+1 < len(f.Steps) {
		return f.Steps[i+1].Name
	}
	return ""
}

// errNoVerb is a step without a resolved verb at run time (a bug: load
// refuses such flows).
func errNoVerb(s *Step) error { return fmt.Errorf("step %q has no verb", s.Name) }
