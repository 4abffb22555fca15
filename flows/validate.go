package flows

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/kefu-hotline/kefu/flows/calendar"
	"github.com/kefu-hotline/kefu/prompts"
)

// GreetTOD is the prompt reference that plays the opening for the moment of
// the call (CS-GREET-TOD); it resolves to one of the greet.* prompts.
const GreetTOD = "greet.tod"

// problems collects load errors, each with file:line:column where the
// offending node can be found.
type problems struct {
	file string
	data []byte
	errs []error
}

// at records an error about the node at a YAML path like
// "$.flows.hotline.steps[0].next".
func (p *problems) at(path, format string, args ...any) {
	pos := ""
	if yp, err := yaml.PathString(path); err == nil && p.data != nil {
		if n, err := yp.ReadNode(strings.NewReader(string(p.data))); err == nil && n != nil {
			tk := n.GetToken()
			// A mapping's own token is its first ':'; point at its first key.
			if m, ok := n.(*ast.MappingNode); ok && len(m.Values) > 0 {
				tk = m.Values[0].Key.GetToken()
			}
			pos = fmt.Sprintf(":%d:%d", tk.Position.Line, tk.Position.Column)
		}
	}
	p.errs = append(p.errs, fmt.Errorf("%s%s: %s", p.file, pos, fmt.Sprintf(format, args...)))
}

func (p *problems) err() error { return errors.Join(p.errs...) }

func (c *Config) validate(file string, data []byte) error {
	p := &problems{file: file, data: data}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		p.at("$.timezone", "unknown time zone %q: use an IANA name like Asia/Shanghai", c.Timezone)
	}
	c.loc = loc
	if loc != nil {
		if c.cal, err = calendar.New(loc, c.Holidays); err != nil {
			p.at("$.holidays", "%v", err)
		}
	}
	if l := c.Louder; !l.Off {
		if len([]rune(l.Key)) != 1 || !strings.ContainsRune("0123456789*#ABCD", []rune(l.Key)[0]) {
			p.at("$.louder.key", "louder key %q is not a phone key: use one of 0-9 * # A-D", l.Key)
		}
		if l.StepDB <= 0 || l.StepDB > 6 || l.MaxDB < l.StepDB || l.MaxDB > 12 {
			p.at("$.louder", "louder: step_db must be in (0, 6] dB and max_db in [step_db, 12] dB (CS-LOUDER raises the level gradually)")
		}
	}
	c.validateScreening(p)
	c.validateHours(p)
	if len(c.Flows) == 0 {
		p.at("$", "no flows: define at least one under flows:")
	}
	if len(c.Routes) == 0 {
		p.at("$", "no routes: add routes: [{to: \"*\", flow: NAME}] so calls find a flow")
	}
	for i, r := range c.Routes {
		if f := strings.TrimPrefix(strings.TrimSuffix(r.From, "*"), "+"); r.From != "" && r.From != "*" && r.From != "anonymous" &&
			(f == "" || strings.Trim(f, "0123456789") != "") {
			p.at(fmt.Sprintf("$.routes[%d].from", i), "from %q: want a caller number (13812345678), a prefix (400*) or anonymous", r.From)
		}
		if _, ok := c.Flows[r.Flow]; !ok {
			p.at(fmt.Sprintf("$.routes[%d].flow", i), "route to unknown flow %q (flows: %s)", r.Flow, strings.Join(c.flowNames(), ", "))
		}
	}
	if _, err := c.Queues(); err != nil {
		p.at("$.queues", "%v", err)
	}
	c.validateAgents(p)
	c.validateTokens(p)
	c.validateTrunks(p)
	c.validateAnsweringMachine(p)
	c.validateCallbacks(p)
	c.validateFollowUps(p)
	for _, name := range slices.Sorted(maps.Keys(c.Destinations)) {
		if u := c.Destinations[name]; !strings.HasPrefix(u, "sip:") || !strings.Contains(u, "@") {
			p.at("$.destinations."+name, "destination %q: want a SIP URI such as sip:8001@pbx.example.com", u)
		}
	}
	for _, name := range c.flowNames() {
		c.Flows[name].validate(p, fmt.Sprintf("$.flows.%s", name), c)
	}
	if len(p.errs) == 0 {
		c.lintClosing(p)
	}
	return p.err()
}

func (c *Config) flowNames() []string {
	names := make([]string, 0, len(c.Flows))
	for n := range c.Flows {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (f *Flow) validate(p *problems, path string, c *Config) {
	if f == nil || len(f.Steps) == 0 {
		p.at(path, "flow has no steps")
		return
	}
	seen := map[string]bool{}
	for i, s := range f.Steps {
		sp := fmt.Sprintf("%s.steps[%d]", path, i)
		if s == nil {
			p.at(sp, "empty step")
			continue
		}
		if s.Name == "" {
			p.at(sp, "step has no name: add name: SOMETHING so other steps can refer to it")
		} else if seen[s.Name] {
			p.at(sp+".name", "step name %q used twice in this flow", s.Name)
		}
		seen[s.Name] = true
		if !s.resolve() {
			p.at(sp, "a step needs exactly one verb (greet, say or play, listen, menu, queue, hold, collect, record, survey, transfer, close, hangup, branch, goto, answer, reject)")
			continue
		}
		if _, ok := f.index[s.Next]; s.Next != "" && !ok {
			p.at(sp+".next", "no step named %q in this flow", s.Next)
		}
		sc := &stepCheck{p: p, path: sp, key: s.key, flow: f, cfg: c, excepted: s.Exception != ""}
		s.v.check(sc)
		sc.checkExits(s.v)
	}
	if len(p.errs) == 0 {
		f.validateGraph(p, path)
	}
}

func isPhoneKey(k string) bool {
	r := []rune(k)
	return len(r) == 1 && strings.ContainsRune("0123456789*#ABCD", r[0])
}

func (f *Flow) isHangup(step string) bool {
	i, ok := f.index[step]
	return ok && f.Steps[i] != nil && f.Steps[i].Hangup != nil
}

// CheckPrompts verifies against a loaded catalog that every prompt the
// flows use exists, and that the media timeout outlasts every silence ladder
// (a silent caller must hear the whole ladder, not be cut off by the media
// timeout).
func (c *Config) CheckPrompts(file string, data []byte, cat *prompts.Catalog) error {
	p := &problems{file: file, data: data}
	if rec := cat.Company(); rec != "" && rec != c.Company {
		p.at("$.company", "company %q, but the %s prompts were recorded for %q: set company to match, or change \"#! company\" in the set's prompts.txt and regenerate the recordings (go run ./prompts/gen)", c.Company, cat.Lang(), rec)
	}
	var need func(path, id string) time.Duration
	need = func(path, id string) time.Duration {
		if id == GreetTOD {
			var longest time.Duration
			for _, g := range calendar.OpeningPrompts() {
				longest = max(longest, need(path, g))
			}
			return longest
		}
		pr, ok := cat.Get(id)
		if !ok {
			p.at(path, "prompt %q is not in the %s prompt set (see `kefu prompts list`)", id, cat.Lang())
			return 0
		}
		return pr.Duration()
	}
	if !c.Louder.Off {
		need("$.louder.prompt", c.Louder.Prompt)
		need("$.louder.max_prompt", c.Louder.MaxPrompt)
	}
	// CS-FORBIDDEN: no prompt text may hold a service taboo phrase.
	list := prompts.DefaultForbidden()
	if len(c.Forbidden) > 0 {
		extra, err := prompts.LoadForbidden(strings.NewReader(strings.Join(c.Forbidden, "\n")))
		if err != nil {
			p.at("$.forbidden", "%v", err)
		} else {
			list = extra
		}
	}
	for _, err := range cat.Lint(list) {
		p.at("$.language", "%v: replace the recording and its text", err)
	}
	// CS-CLOSE, CS-WEAK: kefu never hangs up on a question.
	closing := DefaultClosingPrompts
	if len(c.ClosingPrompts) > 0 {
		closing = c.ClosingPrompts
	}
	for _, id := range closing {
		if pr, ok := cat.Get(id); ok && endsOnQuestion(pr.Text) {
			p.at("$.closing_prompts", "closing phrase %q ends on a question (%q): kefu would hang up on it; end with a goodbye", id, pr.Text)
		}
	}
	for _, name := range c.flowNames() {
		for i, s := range c.Flows[name].Steps {
			if pu, ok := s.v.(promptUser); ok {
				pu.checkPrompts(&promptCheck{p: p, path: fmt.Sprintf("$.flows.%s.steps[%d].%s", name, i, s.key), need: need, cfg: c, cat: cat})
			}
		}
	}
	c.checkCallbackPrompts(need, cat) // callbackdef.go
	return p.err()
}

// promptCheck is what a verb's prompt check sees: the loaded prompt set,
// and need, which reports a prompt missing from it and returns its length.
type promptCheck struct {
	p    *problems
	path string // "$.flows.NAME.steps[I].VERB"
	need func(path, id string) time.Duration
	cfg  *Config
	cat  *prompts.Catalog
}

// at reports a problem at a path under the verb ("" for the verb itself).
func (pc *promptCheck) at(sub, format string, args ...any) {
	path := pc.path
	if sub != "" {
		path += "." + sub
	}
	pc.p.at(path, format, args...)
}

// checkHold checks a hold's (or queue's) prompts and announcement timing.
func (pc *promptCheck) checkHold(h *Hold) {
	p, path, need := pc.p, pc.path, pc.need
	need(path, orStr(h.Ask, "hold.ask"))
	need(path, orStr(h.Resume, "hold.resume"))
	for k, an := range h.announcements() {
		ap := fmt.Sprintf("%s.announce[%d]", path, k)
		// The spec needs each apology heard whole: with a period no longer
		// than its prompt the next would be due before the caller heard
		// this one (and no music).
		if d := need(ap, an.Prompt); an.Every != nil && an.Every.D() > 0 && an.Every.D() <= d {
			p.at(ap+".every", "every %v is not longer than its prompt %q (%v): the next announcement would be due before the caller heard this one to the end; make every longer", an.Every.D(), an.Prompt, d.Round(10*time.Millisecond))
		}
	}
	if m := orStr(h.Music, DefaultMusic); m != DefaultMusic {
		need(path+".music", m)
	} else if _, err := prompts.LoadMusic(); err != nil {
		// Decoded now (once per process), not in a call's silence.
		p.at(path, "hold music: %v", err)
	}
}

func orStr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Exceptions lists the steps where ops deliberately depart from a
// call-script rule, with their stated reasons, for `kefu check`.
func (c *Config) Exceptions() []string {
	var out []string
	for _, name := range c.flowNames() {
		for _, s := range c.Flows[name].Steps {
			if e, ok := s.v.(excepter); ok && e.exception() != "" {
				out = append(out, fmt.Sprintf("%s/%s: %s", name, s.Name, e.exception()))
			}
			if s.Exception != "" {
				out = append(out, fmt.Sprintf("%s/%s: %s", name, s.Name, s.Exception))
			}
		}
	}
	return out
}

// endsOnQuestion reports whether a prompt's text ends asking something.
func endsOnQuestion(text string) bool {
	t := strings.TrimRight(strings.TrimSpace(text), "。.!！ ")
	return strings.HasSuffix(t, "?") || strings.HasSuffix(t, "？") || strings.HasSuffix(t, "吗")
}
