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
	"github.com/kefu-hotline/kefu/flows/records"
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
	if _, err := c.ScreenConfig(); err != nil {
		p.at("$.screening", "%v", err)
	}
	if s := c.Screening; s != nil && (strings.HasPrefix(s.RepeatAction, "route") || strings.HasPrefix(s.Anonymous, "route")) {
		if _, ok := c.Flows[c.NuisanceFlow()]; !ok {
			p.at("$.screening", "nuisance calls are routed to flow %q, which does not exist", c.NuisanceFlow())
		}
	}
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
	for _, name := range slices.Sorted(maps.Keys(c.Destinations)) {
		if u := c.Destinations[name]; !strings.HasPrefix(u, "sip:") || !strings.Contains(u, "@") {
			p.at("$.destinations."+name, "destination %q: want a SIP URI such as sip:8001@pbx.example.com", u)
		}
	}
	for _, name := range c.flowNames() {
		c.Flows[name].validate(p, fmt.Sprintf("$.flows.%s", name))
		for i, s := range c.Flows[name].Steps {
			if s != nil && s.Transfer != nil {
				if _, ok := c.Destinations[s.Transfer.To]; !ok {
					p.at(fmt.Sprintf("$.flows.%s.steps[%d].transfer.to", name, i), "no destination named %q: transfers go only to destinations: {NAME: sip:...} in this file (no arbitrary numbers)", s.Transfer.To)
				}
			}
			if s == nil || s.Queue == nil {
				continue
			}
			if !slices.ContainsFunc(c.QueueDefs, func(q QueueDef) bool { return q.Name == s.Queue.Queue }) {
				p.at(fmt.Sprintf("$.flows.%s.steps[%d].queue.queue", name, i), "no queue named %q: declare it under queues: [{name: %s}]", s.Queue.Queue, orStr(s.Queue.Queue, "NAME"))
			}
		}
	}
	for _, name := range c.flowNames() {
		for i, s := range c.Flows[name].Steps {
			if s == nil || c.Louder.Off {
				continue
			}
			sp := fmt.Sprintf("$.flows.%s.steps[%d]", name, i)
			clash := func(path string, keys ...string) {
				if slices.Contains(keys, c.Louder.Key) {
					p.at(path, "key %q is the louder key (CS-LOUDER), which kefu takes first: choose another key", c.Louder.Key)
				}
			}
			switch {
			case s.Menu != nil:
				clash(sp+".menu.choices", slices.Collect(maps.Keys(s.Menu.Choices))...)
			case s.Survey != nil:
				clash(sp+".survey.scores", s.Survey.keys()...)
			case s.Collect != nil:
				clash(sp+".collect.end_key", orStr(s.Collect.EndKey, "#"))
			case s.Record != nil:
				clash(sp+".record.end_key", orStr(s.Record.EndKey, "#"))
			}
		}
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

func (f *Flow) validate(p *problems, path string) {
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
		if s.Verb() == "" {
			p.at(sp, "a step needs exactly one verb (greet, say or play, listen, menu, queue, hold, collect, record, survey, transfer, close, hangup, branch, goto, answer, reject)")
			continue
		}
		s.settle()
		f.checkRef(p, sp+".next", s.Next)
		switch {
		case s.Say != nil:
			if s.Say.Prompt == "" {
				p.at(sp+".say", "say needs a prompt")
			}
		case s.Listen != nil:
			f.validateListen(p, sp+".listen", s.Listen)
		case s.Menu != nil:
			m := s.Menu
			if m.Prompt == "" || len(m.Choices) == 0 {
				p.at(sp+".menu", "a menu needs a prompt and choices: {\"1\": STEP, ...}")
			}
			for k, t := range m.Choices {
				if !isPhoneKey(k) {
					p.at(sp+".menu.choices", "menu key %q is not a phone key (0-9 * # A-D)", k)
				}
				f.checkRef(p, sp+".menu.choices", t)
			}
			f.checkRef(p, sp+".menu.on_timeout", m.OnTimeout)
			f.checkRef(p, sp+".menu.on_invalid", m.OnInvalid)
		case s.Transfer != nil:
			f.checkRef(p, sp+".transfer.on_fail", s.Transfer.OnFail)
		case s.Queue != nil:
			f.checkRef(p, sp+".queue.on_answer", s.Queue.OnAnswer)
			f.checkRef(p, sp+".queue.on_timeout", s.Queue.OnTimeout)
		case s.Collect != nil:
			validateCollect(p, sp+".collect", s.Collect)
			f.checkRef(p, sp+".collect.on_done", s.Collect.OnDone)
			f.checkRef(p, sp+".collect.on_fail", s.Collect.OnFail)
		case s.Record != nil:
			validateRecord(p, sp+".record", s.Record)
			f.checkRef(p, sp+".record.on_done", s.Record.OnDone)
			f.checkRef(p, sp+".record.on_empty", s.Record.OnEmpty)
		case s.Survey != nil:
			for k, v := range s.Survey.scores() {
				if !isPhoneKey(k) {
					p.at(sp+".survey.scores", "survey key %q is not a phone key (0-9 * # A-D)", k)
				}
				if v < records.MinScore || v > records.MaxScore {
					p.at(sp+".survey.scores", "score %d for key %q: scores run from %d to %d", v, k, records.MinScore, records.MaxScore)
				}
			}
		case s.Goto != "":
			f.checkRef(p, sp+".goto", s.Goto)
		case s.Branch != nil:
			for k := range s.Branch.Cases {
				c := &s.Branch.Cases[k]
				cp := fmt.Sprintf("%s.branch.cases[%d]", sp, k)
				for _, e := range c.compile() {
					p.at(cp, "%s", e)
				}
				if c.Goto == "" {
					p.at(cp, "a case needs goto: STEP")
				}
				f.checkRef(p, cp+".goto", c.Goto)
			}
			f.checkRef(p, sp+".branch.else", s.Branch.Else)
		}
	}
	if len(p.errs) == 0 {
		f.validateGraph(p, path)
	}
}

func (f *Flow) validateListen(p *problems, path string, l *Listen) {
	if len(l.Attempts) == 0 {
		p.at(path, "listen needs attempts: each a prompt and a wait")
	}
	for i, a := range l.Attempts {
		if a.Prompt == "" {
			p.at(fmt.Sprintf("%s.attempts[%d]", path, i), "attempt needs a prompt")
		}
	}
	hangsUp := l.OnSilence == "" || f.isHangup(l.OnSilence)
	if hangsUp && len(l.Attempts) < MinSilentAttempts && l.Exception == "" {
		p.at(path+".attempts", "CS-SILENT: this ladder hangs up after %d attempt(s); the script demands at least %d (add attempts, or state exception: REASON)", len(l.Attempts), MinSilentAttempts)
	}
	for i, c := range l.RepeatOn {
		if c != condWeak && c != condNoise && c != condSilence {
			p.at(fmt.Sprintf("%s.repeat_on[%d]", path, i), "repeat_on takes weak, noise or silence, not %q", c)
		}
	}
	f.checkRef(p, path+".on_weak", l.OnWeak)
	f.checkRef(p, path+".on_noise", l.OnNoise)
	f.checkRef(p, path+".on_speech", l.OnSpeech)
	f.checkRef(p, path+".on_digit", l.OnDigit)
	f.checkRef(p, path+".on_silence", l.OnSilence)
}

func isPhoneKey(k string) bool {
	r := []rune(k)
	return len(r) == 1 && strings.ContainsRune("0123456789*#ABCD", r[0])
}

func validateCollect(p *problems, path string, c *Collect) {
	if c.MinDigits < 0 || c.MaxDigits < 0 || c.MaxDigits > 32 || c.minDigits() > c.maxDigits() {
		p.at(path, "collect: min_digits %d and max_digits %d: want 1 <= min_digits <= max_digits <= 32", c.minDigits(), c.maxDigits())
	}
	if c.EndKey != "" && (!isPhoneKey(c.EndKey) || strings.ContainsAny(c.EndKey, "0123456789")) {
		p.at(path+".end_key", "end_key %q: use * or # (or A-D), not a digit of the number", c.EndKey)
	}
	if c.Retries < 0 {
		p.at(path+".retries", "retries must not be negative")
	}
}

func validateRecord(p *problems, path string, r *Record) {
	if r.EndKey != "" && !isPhoneKey(r.EndKey) {
		p.at(path+".end_key", "end_key %q is not a phone key (0-9 * # A-D)", r.EndKey)
	}
	if r.Max.or(DefaultRecordMax) <= r.SilenceEnd.or(DefaultRecordSilence) {
		p.at(path+".max", "max %v must be longer than silence_end %v", r.Max.or(DefaultRecordMax), r.SilenceEnd.or(DefaultRecordSilence))
	}
	if r.ReplyWithin != nil && r.ReplyWithin.D() <= 0 {
		p.at(path+".reply_within", "reply_within must be positive (CS-COMPLAINT-CLOSE: 24h by default)")
	}
}

func (f *Flow) isHangup(step string) bool {
	i, ok := f.index[step]
	return ok && f.Steps[i].Hangup != nil
}

func (f *Flow) checkRef(p *problems, path, ref string) {
	if ref == "" {
		return
	}
	if _, ok := f.index[ref]; !ok {
		p.at(path, "no step named %q in this flow", ref)
	}
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
	for _, name := range c.flowNames() {
		f := c.Flows[name]
		for i, s := range f.Steps {
			sp := fmt.Sprintf("$.flows.%s.steps[%d]", name, i)
			switch {
			case s.Menu != nil:
				need(sp+".menu.prompt", s.Menu.Prompt)
				need(sp+".menu.invalid", orStr(s.Menu.Invalid, "menu.invalid"))
			case s.Say != nil:
				need(sp+".say.prompt", s.Say.Prompt)
				if pr, ok := cat.Get(s.Say.Prompt); ok && strings.Contains(pr.Text, "{"+prompts.VarNumber+"}") {
					if _, err := cat.Compose(s.Say.Prompt, map[string]string{prompts.VarNumber: s.Say.Number}); err != nil {
						p.at(sp+".say", "%v: give the number to read with number: \"10086\"", err)
					}
				}
			case s.Listen != nil:
				var total time.Duration
				for k, a := range s.Listen.Attempts {
					total += need(fmt.Sprintf("%s.listen.attempts[%d].prompt", sp, k), a.Prompt) + a.Wait.or(DefaultSilenceWait)
				}
				if mt := c.MediaTimeout.or(DefaultMediaTimeout); mt <= total {
					p.at(sp+".listen", "media_timeout %v is not longer than this silence ladder (%v): a caller sending no RTP would be cut off before the ladder ends; raise media_timeout", mt, total.Round(time.Millisecond))
				}
			case s.Queue != nil:
				c.checkHold(p, sp+".queue", s.Queue.hold(), need)
				for _, id := range []string{"queue.position", "queue.wait", "unit.position", "unit.minute"} {
					need(sp+".queue", id)
				}
				if _, err := cat.Cardinal(99); err != nil {
					p.at(sp+".queue", "positions and waits are read from the number recordings: %v", err)
				}
			case s.Hold != nil:
				c.checkHold(p, sp+".hold", s.Hold, need)
			case s.Collect != nil:
				cl := s.Collect
				for _, id := range []string{orStr(cl.Prompt, "callback.ask"), orStr(cl.Confirm, "callback.confirm"),
					orStr(cl.ConfirmEnd, "callback.confirm.end"), orStr(cl.Keys, "callback.keys"), orStr(cl.Invalid, "menu.invalid")} {
					need(sp+".collect", id)
				}
				if _, err := cat.Number("0123456789"); err != nil {
					p.at(sp+".collect", "the read-back needs the digit recordings: %v", err)
				}
			case s.Record != nil:
				need(sp+".record.prompt", orStr(s.Record.Prompt, "complaint.ask"))
				need(sp+".record.closing", orStr(s.Record.Closing, "complaint.close"))
			case s.Survey != nil:
				sv := s.Survey
				for _, id := range []string{orStr(sv.Prompt, "survey.ask"), orStr(sv.Thanks, "survey.thanks"), orStr(sv.Invalid, "menu.invalid")} {
					need(sp+".survey", id)
				}
			case s.Close != nil:
				cl := s.Close
				need(sp+".close", orStr(cl.Ask, "close.ask"))
				need(sp+".close", orStr(cl.Bye, "close.bye"))
				need(sp+".close", orStr(cl.Final, "close.hangup"))
				need(sp+".close", orStr(cl.Repeat, "repeat"))
			}
		}
	}
	return p.err()
}

// checkHold checks a hold's (or queue's) prompts and announcement timing.
func (c *Config) checkHold(p *problems, path string, h *Hold, need func(path, id string) time.Duration) {
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
			if s.Listen != nil && s.Listen.Exception != "" {
				out = append(out, fmt.Sprintf("%s/%s: %s", name, s.Name, s.Listen.Exception))
			}
			if s.Exception != "" {
				out = append(out, fmt.Sprintf("%s/%s: %s", name, s.Name, s.Exception))
			}
		}
	}
	return out
}
