package flows

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/kefu-hotline/kefu/flows/calendar"
)

// Branch picks the next step by the first case whose conditions all hold;
// Else when none does.
type Branch struct {
	Cases []Case `yaml:"cases"`
	Else  string `yaml:"else"`
}

// Case is one branch: every condition set must hold.
type Case struct {
	Holiday   string            `yaml:"holiday"`    // newyear, midautumn, nationalday, newyearday, labourday, dragonboat, or "any"
	Weekday   []string          `yaml:"weekday"`    // mon..sun
	Time      string            `yaml:"time"`       // "08:30-17:00", local; the end is excluded
	Dates     string            `yaml:"dates"`      // "2026-02-15..2026-02-23"
	Caller    string            `yaml:"caller"`     // regular expression on the caller number
	Called    string            `yaml:"called"`     // regular expression on the called user
	Vars      map[string]string `yaml:"vars"`       // call variables that must equal these values
	Anonymous *bool             `yaml:"anonymous"`  // the caller withheld the number
	InService *bool             `yaml:"in_service"` // within the service hours (CS-AFTER-HOURS)
	Goto      string            `yaml:"goto"`

	caller, called *regexp.Regexp
	from, to       int // minutes of the day for Time
	dfrom, dto     calendar.Date
}

// CallInfo is what a flow knows about a call before it is answered.
type CallInfo struct {
	Caller    string // the caller's number (user part of From)
	Called    string // the called user (Request-URI)
	Anonymous bool   // the caller withheld the number
	At        time.Time
	CallID    string // the SIP Call-ID, for the records a call leaves
	Version   string // the config version the call runs on
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// compile checks a case and prepares its matchers.
func (c *Case) compile() []string {
	var errs []string
	var err error
	if c.Caller != "" {
		if c.caller, err = regexp.Compile(c.Caller); err != nil {
			errs = append(errs, fmt.Sprintf("caller pattern %q: %v", c.Caller, err))
		}
	}
	if c.Called != "" {
		if c.called, err = regexp.Compile(c.Called); err != nil {
			errs = append(errs, fmt.Sprintf("called pattern %q: %v", c.Called, err))
		}
	}
	for _, d := range c.Weekday {
		if _, ok := weekdays[strings.ToLower(d)]; !ok {
			errs = append(errs, fmt.Sprintf("weekday %q: use mon, tue, wed, thu, fri, sat or sun", d))
		}
	}
	if c.Time != "" {
		a, b, ok := strings.Cut(c.Time, "-")
		f, e1 := time.Parse("15:04", strings.TrimSpace(a))
		t, e2 := time.Parse("15:04", strings.TrimSpace(b))
		if !ok || e1 != nil || e2 != nil {
			errs = append(errs, fmt.Sprintf("time %q: write it like 08:30-17:00", c.Time))
		}
		c.from, c.to = f.Hour()*60+f.Minute(), t.Hour()*60+t.Minute()
	}
	if c.Dates != "" {
		a, b, ok := strings.Cut(c.Dates, "..")
		f, e1 := calendar.ParseDate(strings.TrimSpace(a))
		t, e2 := calendar.ParseDate(strings.TrimSpace(b))
		if !ok || e1 != nil || e2 != nil || t.Compare(f) < 0 {
			errs = append(errs, fmt.Sprintf("dates %q: write it like 2026-02-15..2026-02-23", c.Dates))
		}
		c.dfrom, c.dto = f, t
	}
	if c.Holiday != "" && c.Holiday != "any" {
		if _, err := calendar.ParseHoliday(c.Holiday); err != nil {
			errs = append(errs, fmt.Sprintf("holiday %q: use %s, or any", c.Holiday, strings.Join(calendar.HolidayNames()[:6], ", ")))
		}
	}
	return errs
}

// match reports whether every condition of the case holds.
func (c *Case) match(info CallInfo, vars map[string]string, cfg *Config) bool {
	local := info.At.In(cfg.Location())
	if c.Holiday != "" {
		h := cfg.Calendar().HolidayAt(info.At)
		if h == calendar.None {
			return false
		}
		if want, _ := calendar.ParseHoliday(c.Holiday); c.Holiday != "any" && h != want {
			return false
		}
	}
	if len(c.Weekday) > 0 && !slices.ContainsFunc(c.Weekday, func(d string) bool { return weekdays[strings.ToLower(d)] == local.Weekday() }) {
		return false
	}
	if c.Time != "" {
		m := local.Hour()*60 + local.Minute()
		in := m >= c.from && m < c.to
		if c.from > c.to { // over midnight, e.g. 22:00-08:30
			in = m >= c.from || m < c.to
		}
		if !in {
			return false
		}
	}
	if c.Dates != "" {
		d := calendar.DateOf(local)
		if d.Compare(c.dfrom) < 0 || d.Compare(c.dto) > 0 {
			return false
		}
	}
	if c.caller != nil && !c.caller.MatchString(info.Caller) {
		return false
	}
	if c.called != nil && !c.called.MatchString(info.Called) {
		return false
	}
	if c.Anonymous != nil && *c.Anonymous != info.Anonymous {
		return false
	}
	if c.InService != nil && *c.InService != cfg.InService(info.At) {
		return false
	}
	for k, v := range c.Vars {
		if vars[k] != v {
			return false
		}
	}
	return true
}

// pick returns the step a branch leads to.
func (b *Branch) pick(info CallInfo, vars map[string]string, cfg *Config) string {
	for i := range b.Cases {
		if b.Cases[i].match(info, vars, cfg) {
			return b.Cases[i].Goto
		}
	}
	return b.Else
}

func (*Branch) instant() {}

func (b *Branch) run(_ context.Context, r *Runner) (string, error) {
	info := r.info
	info.At = r.clock.Now()
	return b.pick(info, r.vars, r.cfg), nil
}

// exits: each case, then else (the following step when unset).
func (b *Branch) exits() []exit {
	out := make([]exit, 0, len(b.Cases)+1)
	for k, c := range b.Cases {
		out = append(out, exit{label: caseLabel(c), to: c.Goto, field: fmt.Sprintf("cases[%d].goto", k)})
	}
	return append(out, exit{label: "else", to: b.Else, field: "else"})
}

func (b *Branch) check(sc *stepCheck) {
	for k := range b.Cases {
		c := &b.Cases[k]
		sub := fmt.Sprintf("cases[%d]", k)
		for _, e := range c.compile() {
			sc.at(sub, "%s", e)
		}
		if c.Goto == "" {
			sc.at(sub, "a case needs goto: STEP")
		}
	}
}

func (b *Branch) label() string { return "branch" }

// caseLabel describes a case's conditions for a diagram edge.
func caseLabel(c Case) string {
	var parts []string
	for _, kv := range [][2]string{{"holiday", c.Holiday}, {"time", c.Time}, {"dates", c.Dates}, {"caller", c.Caller}, {"called", c.Called}, {"weekday", strings.Join(c.Weekday, " ")}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+" "+kv[1])
		}
	}
	if c.Anonymous != nil && *c.Anonymous {
		parts = append(parts, "anonymous")
	}
	return strings.NewReplacer(`"`, "'", "|", "/").Replace(strings.Join(parts, ", "))
}
