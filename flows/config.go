package flows

import (
	_ "embed"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/kefu-hotline/kefu/flows/calendar"
	"github.com/kefu-hotline/kefu/flows/callerid"
)

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML returns the embedded default configuration, for `kefu run`
// without -config and for ops to start their own from.
func DefaultYAML() []byte { return append([]byte(nil), defaultYAML...) }

// Spec defaults (../shared/spec/call-scripts.md); a config that leaves a
// value out gets these.
const (
	DefaultCompany      = "卓达社区网中心"
	DefaultTimezone     = "Asia/Shanghai"
	DefaultLanguage     = "zh-CN"
	DefaultAnswerDelay  = 500 * time.Millisecond
	DefaultMediaTimeout = 60 * time.Second
	DefaultSilenceWait  = 5 * time.Second // CS-SILENT, CS-CLOSE
	MinSilentAttempts   = 3               // CS-SILENT: never fewer
)

// Duration is a time.Duration written as in Go ("5s", "500ms").
type Duration time.Duration

// UnmarshalYAML implements yaml.NodeUnmarshaler; its errors carry the
// value's line.
func (d *Duration) UnmarshalYAML(n ast.Node) error {
	s := ""
	if tk := n.GetToken(); tk != nil {
		s = strings.TrimSpace(tk.Value)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return errAt(n, "%q is not a duration: write it like 5s, 1m30s or 500ms", s)
	}
	if v < 0 {
		return errAt(n, "duration %q is negative", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML implements yaml.BytesMarshaler.
func (d Duration) MarshalYAML() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Config is a whole kefu configuration file.
type Config struct {
	Company  string `yaml:"company"`
	Timezone string `yaml:"timezone"`
	Language string `yaml:"language"`
	// PromptsDir, when set, holds ops' own prompt sets laid out like the
	// embedded ones (<dir>/<language>/prompts.txt and the recordings); a
	// relative path is taken from the config file's directory.
	PromptsDir   string    `yaml:"prompts_dir"`
	AnswerDelay  *Duration `yaml:"answer_delay"`
	MediaTimeout *Duration `yaml:"media_timeout"`
	Louder       *Louder   `yaml:"louder"`
	// Screening keeps nuisance callers away from customers, on the INVITE
	// before answer (CS-NUISANCE).
	Screening *Screening `yaml:"screening"`
	// Holidays are the dates of the holiday notices (以每次节日通知为准):
	// for a holiday and year they replace the computed lunar dates.
	Holidays []calendar.Notice `yaml:"holidays"`
	// BusyThreshold: a caller who waited this long before the answer hears
	// the apology opening (CS-GREET-BUSY). Default 15 s.
	BusyThreshold *Duration `yaml:"busy_threshold"`
	// ClosingPrompts are the phrases a call may end on (CS-CLOSE);
	// default DefaultClosingPrompts.
	ClosingPrompts []string `yaml:"closing_prompts"`
	// Forbidden adds phrases to the CS-FORBIDDEN list every prompt text is
	// checked against.
	Forbidden []string `yaml:"forbidden"`
	Routes    []Route  `yaml:"routes"`
	// Destinations are the only places a transfer may send a caller:
	// name → SIP URI (a PBX queue).
	Destinations map[string]string `yaml:"destinations"`
	// QueueDefs are kefu's own queues, used by the queue verb.
	QueueDefs []QueueDef `yaml:"queues"`
	// ServiceHours are when the hotline is open (CS-AFTER-HOURS); none:
	// always. Outside them a queue step goes to its on_unstaffed, and a
	// branch can test in_service.
	ServiceHours []HoursDef `yaml:"service_hours"`
	// OpsTokens are the bearer tokens of the ops API, with their roles;
	// with none the API is served on loopback only.
	OpsTokens []TokenDef `yaml:"ops_tokens"`
	// Agents are the people who take the queues' callers (issue 12).
	Agents []AgentDef `yaml:"agents"`
	// Trunks are what kefu places its own calls through: callbacks and
	// follow-ups (issue 13, callbackdef.go).
	Trunks []TrunkDef `yaml:"trunks"`
	// AnsweringMachine is how kefu tells a person from an answering
	// machine on the calls it places (amddef.go).
	AnsweringMachine *AnsweringMachine `yaml:"answering_machine"`
	// Callbacks and FollowUps are settings of the calls kefu places that
	// belong to no queue (outbounddef.go).
	Callbacks *Callbacks       `yaml:"callbacks"`
	FollowUps *FollowUps       `yaml:"followups"`
	Flows     map[string]*Flow `yaml:"flows"`

	loc   *time.Location
	cal   *calendar.Calendar
	hours calendar.Hours
}

// Louder is CS-LOUDER: a caller key that raises the prompt gain one step
// per press, up to a cap, for the rest of the call; kefu then asks whether
// the caller hears better.
type Louder struct {
	Key    string  `yaml:"key"`     // default "*"; "" in the file turns it off with off: true
	StepDB float64 `yaml:"step_db"` // default 3
	MaxDB  float64 `yaml:"max_db"`  // default 9
	Prompt string  `yaml:"prompt"`  // default louder.check
	// MaxPrompt is said instead when the caller asks again at the cap
	// (CS-LOUDER-MAX); default louder.max.
	MaxPrompt string `yaml:"max_prompt"`
	Off       bool   `yaml:"off"`
}

// Screening is the nuisance policy: the repeat-call rule, withheld
// numbers, and where routed nuisance calls go. The list itself lives in
// the data store, managed by ops (kefu nuisance, /api/nuisance).
type Screening struct {
	// RepeatOff turns the repeat-call rule off. It is on by default: more
	// than RepeatCalls calls kefu served within RepeatWindow (default 10 in
	// 10m) flag the number for RepeatBlock (1h) and propose it for the
	// list; a number with an open complaint or callback, or whose call
	// kefu cut short within RepeatSpare (1h), is spared (CS-ANGRY).
	RepeatOff    bool      `yaml:"repeat_off"`
	RepeatCalls  int       `yaml:"repeat_calls"`
	RepeatWindow *Duration `yaml:"repeat_window"`
	RepeatBlock  *Duration `yaml:"repeat_block"`
	RepeatSpare  *Duration `yaml:"repeat_spare"`
	// RepeatAction and Anonymous: "route" to the nuisance flow (the
	// default for a flagged number), "allow" (the default for a withheld
	// number), or "reject 603" (486, 403 ...), refusing before the answer.
	RepeatAction string `yaml:"repeat_action"`
	Anonymous    string `yaml:"anonymous"`
	// NuisanceFlow is the flow a routed nuisance call runs (the polite
	// line-fault message of CS-NUISANCE); default "nuisance", which kefu
	// provides when the configuration has no flow of that name.
	NuisanceFlow string `yaml:"nuisance_flow"`
	// NuisanceQueue sends routed nuisance calls to the separate nuisance
	// queue instead (CS-NUISANCE step 3): the nuisance_queue flow. It
	// overrides nuisance_flow: nuisance; another nuisance_flow with it is
	// an error.
	NuisanceQueue bool `yaml:"nuisance_queue"`
	// SystemDownFlows are the flows that tell callers the service is down
	// (CS-SYSTEM-DOWN); a call routed to one is a call kefu cut short, and
	// spares its number. Default: down, when the configuration has it.
	SystemDownFlows []string `yaml:"system_down_flows"`
}

// CS-LOUDER defaults.
const (
	DefaultLouderKey    = "*"
	DefaultLouderStepDB = 3.0
	DefaultLouderMaxDB  = 9.0
)

// Route picks the flow for a call by called user and caller; the first
// route that matches both wins. To "*" or empty matches every called user.
// From is a caller number ("13812345678", "+8613812345678": numbers are
// compared in one form), a prefix ("400*"), "anonymous" for withheld
// numbers, or empty for every caller.
type Route struct {
	To   string `yaml:"to"`
	From string `yaml:"from"`
	Flow string `yaml:"flow"`
}

// matches reports whether the route serves a call to user to from caller
// from (normalised, "" or "anonymous" when withheld).
func (r Route) matches(to, from string) bool {
	if r.To != "" && r.To != "*" && r.To != to {
		return false
	}
	switch {
	case r.From == "" || r.From == "*":
		return true
	case r.From == "anonymous":
		return from == "" || from == "anonymous"
	case strings.HasSuffix(r.From, "*"):
		return strings.HasPrefix(from, callerid.NormalizePrefix(strings.TrimSuffix(r.From, "*")))
	default:
		return from == callerid.Normalize(r.From)
	}
}

// Flow is an ordered list of named steps; the first step runs first.
type Flow struct {
	Steps []*Step `yaml:"steps"`

	name    string
	index   map[string]int
	builtin bool // kefu added it (BuiltinNuisanceFlow), ops did not write it
}

// Step is one verb with its parameters and outcomes. Exactly one verb field
// is set. The verb fields are the table of verbs: every field whose type
// implements verb is one (its YAML key is the verb's name), resolved once at
// load; each verb's type, defaults, run, checks and exits are in its own
// file.
type Step struct {
	Name   string   `yaml:"name"`
	Say    *Say     `yaml:"say"`
	Listen *Listen  `yaml:"listen"`
	Close  *Close   `yaml:"close"`
	Hangup *Hangup  `yaml:"hangup"`
	Branch *Branch  `yaml:"branch"`
	Reject *Reject  `yaml:"reject"`
	Answer *Answer  `yaml:"answer"`
	Goto   GotoStep `yaml:"goto"`
	Hold   *Hold    `yaml:"hold"`
	Menu   *Menu    `yaml:"menu"`

	// Greet plays the opening for the moment (CS-GREET-*): say of greet.tod.
	Greet *Greet `yaml:"greet"`
	// Play is another name for say.
	Play *Say `yaml:"play"`

	Collect  *Collect  `yaml:"collect"`
	Record   *Record   `yaml:"record"`
	Survey   *Survey   `yaml:"survey"`
	Queue    *Enqueue  `yaml:"queue"`
	Transfer *Transfer `yaml:"transfer"`
	// Exception states why this step deliberately departs from a call-
	// script rule (e.g. hanging up without a closing phrase on a test
	// line); `kefu check` lists it.
	Exception string `yaml:"exception"`
	// Next is where to go when the verb has no outcome of its own; empty
	// means the following step.
	Next string `yaml:"next"`

	v    verb   // the resolved verb
	key  string // its YAML key
	name string // its name in timelines: say for greet and play
}

// Calendar returns the holiday calendar in the caller-facing zone.
func (c *Config) Calendar() *calendar.Calendar { return c.cal }

// Location returns the caller-facing time zone.
func (c *Config) Location() *time.Location { return c.loc }

// Flow returns the named flow.
func (c *Config) Flow(name string) (*Flow, bool) {
	f, ok := c.Flows[name]
	return f, ok
}

// Route returns the flow for a call to the called user from the caller
// (a normalised number; "" or "anonymous" when withheld).
func (c *Config) Route(to, from string) (*Flow, bool) {
	for _, r := range c.Routes {
		if r.matches(to, from) {
			return c.Flow(r.Flow)
		}
	}
	return nil, false
}

// Name returns the flow's name in the config.
func (f *Flow) Name() string { return f.name }

// Parse decodes a config strictly: unknown keys and wrong types are errors
// with line and column. name is the file name used in messages.
func Parse(name string, data []byte) (*Config, error) {
	var c Config
	if err := decodeStrict(data, &c); err != nil { // yamlsafe.go
		return nil, located(name, data, err)
	}
	c.defaults()
	if err := c.validate(name, data); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Config) defaults() {
	if c.Company == "" {
		c.Company = DefaultCompany
	}
	if c.Timezone == "" {
		c.Timezone = DefaultTimezone
	}
	if c.Language == "" {
		c.Language = DefaultLanguage
	}
	if c.AnswerDelay == nil {
		d := Duration(DefaultAnswerDelay)
		c.AnswerDelay = &d
	}
	if c.Louder == nil {
		c.Louder = &Louder{}
	}
	if c.Louder.Key == "" {
		c.Louder.Key = DefaultLouderKey
	}
	if c.Louder.StepDB == 0 {
		c.Louder.StepDB = DefaultLouderStepDB
	}
	if c.Louder.MaxDB == 0 {
		c.Louder.MaxDB = DefaultLouderMaxDB
	}
	if c.Louder.Prompt == "" {
		c.Louder.Prompt = "louder.check"
	}
	if c.Louder.MaxPrompt == "" {
		c.Louder.MaxPrompt = "louder.max"
	}
	if c.MediaTimeout == nil {
		d := Duration(DefaultMediaTimeout)
		c.MediaTimeout = &d
	}
	c.addBuiltinNuisance()
	c.addBuiltinFeatures()
	for name, f := range c.Flows {
		if f == nil {
			continue
		}
		f.name = name
		f.index = map[string]int{}
		for i, s := range f.Steps {
			if s != nil && s.Name != "" {
				if _, dup := f.index[s.Name]; !dup {
					f.index[s.Name] = i
				}
			}
		}
	}
}

// or returns d's value, or def when d is unset.
func (d *Duration) or(def time.Duration) time.Duration {
	if d == nil {
		return def
	}
	return time.Duration(*d)
}
