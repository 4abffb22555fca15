package flows

import (
	"strings"
	"testing"
	"time"
)

func TestDefaultConfig(t *testing.T) {
	cfg, err := Parse("default.yaml", DefaultYAML())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Company != DefaultCompany || cfg.Location().String() != "Asia/Shanghai" {
		t.Errorf("company %q zone %v", cfg.Company, cfg.Location())
	}
	if cfg.AnswerDelay.D() != 500*time.Millisecond || cfg.MediaTimeout.D() != 60*time.Second {
		t.Errorf("answer delay %v media timeout %v", cfg.AnswerDelay.D(), cfg.MediaTimeout.D())
	}
	f, ok := cfg.Route("anything", "")
	if !ok || f.Name() != "hotline" {
		t.Fatalf("route: %v %v", f, ok)
	}
	l := f.Steps[0].Listen
	if len(l.Attempts) != 3 || l.Attempts[0].Wait.D() != 5*time.Second {
		t.Errorf("CS-SILENT ladder %+v", l.Attempts)
	}
}

// TestParseErrors checks each load error's message and position.
func TestParseErrors(t *testing.T) {
	base := "routes:\n  - to: \"*\"\n    flow: f\nflows:\n  f:\n    steps:\n"
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"unknown key", base + "      - name: a\n        hangup: {}\n        colour: red\n", []string{`test.yaml:9:9: unknown key "colour"`}},
		{"near key", base + "      - name: a\n        hangup: {}\n        nxet: b\n", []string{`test.yaml:9:9: unknown key "nxet": did you mean "next"?`}},
		{"misplaced key", base + "      - name: a\n        say: {prompt: ack, next: b}\n", []string{`test.yaml:8:28: key "next" does not belong here`}},
		{"tab", base + "      - name: a\n\t hangup: {}\n", []string{`test.yaml:8:`, `a tab character: YAML is indented with spaces only`}},
		{"indentation", base + "      - name: a\n        hangup: {}\n       - name: b\n", []string{`test.yaml:9:`, `bad indentation`}},
		{"wrong type", "answer_delay: [1]\n" + base + "      - name: a\n        hangup: {}\n", []string{"test.yaml:"}},
		{"bad duration", base + "      - name: a\n        listen:\n          attempts:\n            - prompt: x\n              wait: 5q\n", []string{`test.yaml:11:21: "5q" is not a duration`}},
		{"dangling next", base + "      - name: a\n        say: {prompt: ack}\n        next: nowhere\n", []string{`test.yaml:9:15: no step named "nowhere"`}},
		{"two verbs", base + "      - name: a\n        say: {prompt: ack}\n        hangup: {}\n", []string{"test.yaml:7:9: a step needs exactly one verb"}},
		{"no name", base + "      - hangup: {}\n", []string{"test.yaml:7:9: step has no name"}},
		{"duplicate name", base + "      - name: a\n        hangup: {}\n      - name: a\n        hangup: {}\n", []string{`test.yaml:9:15: step name "a" used twice`}},
		{"unknown flow", "routes:\n  - to: \"*\"\n    flow: g\nflows:\n  f:\n    steps:\n      - name: a\n        hangup: {}\n", []string{`test.yaml:3:11: route to unknown flow "g"`}},
		{"bad zone", "timezone: Mars/Olympus\n" + base + "      - name: a\n        hangup: {}\n", []string{`test.yaml:1:11: unknown time zone "Mars/Olympus"`}},
		{"short ladder", base + "      - name: a\n        listen:\n          attempts:\n            - prompt: greet.tod\n            - prompt: silent.apology\n", []string{"test.yaml:10:13: CS-SILENT: this ladder hangs up after 2 attempt(s)"}},
		{"several at once", base + "      - name: a\n        say: {prompt: ack}\n        next: x\n      - name: b\n        say: {prompt: ack}\n        next: y\n", []string{`"x"`, `"y"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("test.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

// TestShortLadderException: ops may deliberately keep a shorter ladder
// (CS-SILENT-ALT has three attempts, but a test line may have one) when
// they state why.
func TestShortLadderException(t *testing.T) {
	src := "routes:\n  - to: \"*\"\n    flow: f\nflows:\n  f:\n    steps:\n      - name: a\n        listen:\n          exception: lab line, callers are robots\n          attempts:\n            - prompt: greet.tod\n"
	if _, err := Parse("t.yaml", []byte(src)); err != nil {
		t.Fatal(err)
	}
}

func TestCheckPrompts(t *testing.T) {
	_, cat := loadDefault(t)
	src := "media_timeout: 20s\nroutes:\n  - to: \"*\"\n    flow: f\nflows:\n  f:\n    steps:\n      - name: a\n        listen:\n          attempts:\n            - prompt: greet.tod\n            - prompt: no.such.prompt\n            - prompt: silent.apology\n"
	cfg, err := Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.CheckPrompts("t.yaml", []byte(src), cat)
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{`t.yaml:12:23: prompt "no.such.prompt" is not in the zh-CN prompt set`, "t.yaml:10:11: media_timeout 20s is not longer than this silence ladder"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q\nwant %q", err, w)
		}
	}
}

// TestClosingLint: CS-CLOSE, never hang up without a closing phrase: a
// hang-up after any other prompt is refused unless the step states an
// exception.
func TestClosingLint(t *testing.T) {
	head := "routes:\n  - to: \"*\"\n    flow: f\nflows:\n  f:\n    steps:\n"
	for _, tc := range []struct{ name, steps, want string }{
		{"hang-up after the ack", "      - name: a\n        say: {prompt: ack}\n      - name: b\n        hangup: {}\n", `t.yaml:9:9: CS-CLOSE: the call can be hung up here after "ack"`},
		{"flow runs out", "      - name: a\n        say: {prompt: ack}\n", `t.yaml:7:9: CS-CLOSE: the call can be hung up here after "ack"`},
		{"ladder ends on the opening", "      - name: a\n        listen:\n          attempts:\n            - prompt: greet.tod\n            - prompt: greet.tod\n            - prompt: greet.tod\n", `CS-CLOSE: the call can be hung up here after "greet.tod"`},
		{"fine: say goodbye first", "      - name: a\n        say: {prompt: close.bye}\n      - name: b\n        hangup: {}\n", ""},
		{"fine: exception", "      - name: a\n        say: {prompt: ack}\n      - name: b\n        hangup: {}\n        exception: lab line\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(head+tc.steps))
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v\nwant %q", err, tc.want)
			}
		})
	}
}
