package flows

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// timeline renders a simulation's trace compactly for golden comparisons.
func timeline(s *Simulation) string {
	var b strings.Builder
	for _, e := range s.Trace {
		if e.What == "step" {
			continue
		}
		fmt.Fprintf(&b, "%7.3f %s %s\n", s.Elapsed(e.At).Seconds(), e.What, e.Detail)
	}
	return b.String()
}

func simulate(t *testing.T, at string, caller string) (*Simulation, Result, error) {
	t.Helper()
	cfg, cat := loadDefault(t)
	script, err := ParseCaller(caller)
	if err != nil {
		t.Fatal(err)
	}
	start, err := time.Parse(time.RFC3339, at)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := cfg.Route("hotline", "")
	s := NewSimulation(start, script)
	res, err := s.Run(t.Context(), cfg, f, cat)
	return s, res, err
}

// TestSimulateSilent is CS-SILENT in virtual time at 14:10 Shanghai (the
// spec's example): the afternoon opening twice, the apology, 5 s waits
// measured from each prompt's end, hang-up 5 s after the apology.
func TestSimulateSilent(t *testing.T) {
	s, res, err := simulate(t, "2026-11-22T14:10:00+08:00", "silent")
	if err != nil {
		t.Fatal(err)
	}
	_, cat := loadDefault(t)
	g, _ := cat.Get("greet.afternoon")
	a, _ := cat.Get("silent.apology")
	gd, ad := g.Duration().Seconds(), a.Duration().Seconds()
	want := fmt.Sprintf(`  0.000 prompt_start greet.afternoon
%7.3f prompt_end greet.afternoon
%7.3f wait 5s
%7.3f prompt_start greet.afternoon
%7.3f prompt_end greet.afternoon
%7.3f wait 5s
%7.3f prompt_start silent.apology
%7.3f prompt_end silent.apology
%7.3f wait 5s
%7.3f hangup agent
`, gd, gd, gd+5, 2*gd+5, 2*gd+5, 2*gd+10, 2*gd+10+ad, 2*gd+10+ad, 2*gd+15+ad)
	if got := timeline(s); got != want {
		t.Errorf("timeline:\n%s\nwant:\n%s", got, want)
	}
	if res.Attempts != 3 || res.HungUpBy != "agent" {
		t.Errorf("result %+v", res)
	}
}

// TestSimulateSpeechAndHangup: the caller speaks at 7 s (in the first
// wait), then presses nothing; after the menu's tries and the other help,
// kefu says goodbye and waits; the caller hangs up 2 s after the goodbye,
// before kefu does (CS-CLOSE: the caller hangs up first).
func TestSimulateSpeechAndHangup(t *testing.T) {
	_, cat := loadDefault(t)
	g, _ := cat.Get("greet.evening")
	ack, _ := cat.Get("ack")
	other, _ := cat.Get("help.other")
	bye, _ := cat.Get("close.bye")
	// 2 s of speech; kefu answers when it has ended (CS-LISTEN).
	talk := 2*time.Second + DefaultUtteranceEnd
	hang := g.Duration() + 2*time.Second + talk + ack.Duration() + menuSkipped(t, cat) + other.Duration() + DefaultSilenceWait + bye.Duration() + 2*time.Second
	caller := fmt.Sprintf("speech@%v,hangup@%v", g.Duration()+2*time.Second, hang)
	s, res, err := simulate(t, "2026-11-22T19:00:00+08:00", caller)
	if !errors.Is(err, ErrCallerHangup) {
		t.Fatalf("Run = %v, want the caller's hang-up", err)
	}
	tl := timeline(s)
	for _, want := range []string{"prompt_start greet.evening", "event speech_start", "prompt_start ack", "prompt_start help.other", "prompt_start close.bye", "wait caller hang-up", "hangup caller"} {
		if !strings.Contains(tl, want) {
			t.Errorf("timeline lacks %q:\n%s", want, tl)
		}
	}
	if strings.Contains(tl, "close.hangup") || res.HungUpBy != "caller" {
		t.Errorf("kefu hung up before the caller:\n%s", tl)
	}
	if !strings.Contains(tl, fmt.Sprintf("%7.3f hangup caller", hang.Seconds())) {
		t.Errorf("caller hang-up not at %v:\n%s", hang, tl)
	}
}

func TestParseCaller(t *testing.T) {
	got, err := ParseCaller("keys@4s:1*,hangup@20s")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[1].Event.Key != '*' || got[1].At != 4300*time.Millisecond || !got[2].Hangup {
		t.Errorf("script %+v", got)
	}
	for _, bad := range []string{"speech", "speech@x", "keys@1s", "sing@1s"} {
		if _, err := ParseCaller(bad); err == nil {
			t.Errorf("ParseCaller(%q): no error", bad)
		}
	}
}

// TestSimulateOpenings: the opening follows the calendar (CS-GREET-*): a
// holiday's greeting on the computed date, a notice's dates winning over
// the computed ones, and the apology for a caller who waited.
func TestSimulateOpenings(t *testing.T) {
	_, cat := loadDefault(t)
	notice := "holidays:\n  - holiday: 春节\n    from: 2026-02-15\n    to: 2026-02-23\n"
	for _, tc := range []struct {
		name, extra, at string
		waited          time.Duration
		want            string
	}{
		{"national day", "", "2026-10-02T10:00:00+08:00", 0, "greet.nationalday"},
		{"mid-autumn 2026", "", "2026-09-25T20:00:00+08:00", 0, "greet.midautumn"},
		{"spring festival computed", "", "2026-02-17T09:00:00+08:00", 0, "greet.newyear"},
		{"before the festival: afternoon", "", "2026-02-15T14:10:00+08:00", 0, "greet.afternoon"},
		{"notice starts the holiday earlier", notice, "2026-02-15T14:10:00+08:00", 0, "greet.newyear"},
		{"caller waited 20 s", "", "2026-11-22T14:10:00+08:00", 20 * time.Second, "greet.busy"},
		{"UTC instant, Shanghai evening", "", "2026-11-22T10:30:00Z", 0, "greet.evening"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.extra + string(DefaultYAML())
			cfg, err := Parse("t.yaml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			start, _ := time.Parse(time.RFC3339, tc.at)
			s := NewSimulation(start, nil)
			s.Waited = tc.waited
			f, _ := cfg.Route("x", "")
			if _, err := s.Run(t.Context(), cfg, f, cat); err != nil {
				t.Fatal(err)
			}
			if got := s.Trace[1].Detail; got != tc.want {
				t.Errorf("opening %s, want %s", got, tc.want)
			}
		})
	}
}

// sayings returns the prompts of a simulation, with each one's start and
// the wait before it.
func sayings(s *Simulation) (ids []string, gaps []time.Duration) {
	var lastEnd time.Time
	for _, e := range s.Trace {
		switch e.What {
		case "prompt_start":
			ids = append(ids, e.Detail)
			if lastEnd.IsZero() {
				gaps = append(gaps, 0)
			} else {
				gaps = append(gaps, e.At.Sub(lastEnd))
			}
		case "prompt_end":
			lastEnd = e.At
		}
	}
	return ids, gaps
}

// TestSimulateWeakAndNoisy checks CS-WEAK and CS-NOISY in the default flow:
// the prompts, their repeats, the 5 s waits, and never a hang-up without
// having said them.
func TestSimulateWeakAndNoisy(t *testing.T) {
	for _, tc := range []struct {
		caller string
		want   []string
	}{
		// CS-WEAK with its hands-free variant (CS-HANDSFREE), then the
		// goodbye 5 s after the last question: never a hang-up on it.
		{"weak@7s", []string{"greet.afternoon", "weak.louder", "weak.handsfree", "weak.bye", "close.bye"}},
		{"noisy@6s", []string{"greet.afternoon", "noisy", "noisy", "close.bye"}},
		{"weak@7s,speech@15s", []string{"greet.afternoon", "weak.louder", "ack", "menu.main", "menu.main", "help.other", "close.bye"}},
	} {
		t.Run(tc.caller, func(t *testing.T) {
			s, res, err := simulate(t, "2026-11-22T14:10:00+08:00", tc.caller)
			if err != nil {
				t.Fatal(err)
			}
			ids, gaps := sayings(s)
			if strings.Join(ids, " ") != strings.Join(tc.want, " ") {
				t.Fatalf("prompts %v, want %v", ids, tc.want)
			}
			// Within the weak and noisy ladders every prompt after the
			// first, and the goodbye, follow a full 5 s wait.
			ladder := func(id string) bool { return strings.HasPrefix(id, "weak.") || id == "noisy" }
			for i := 2; i < len(ids); i++ {
				if ladder(ids[i-1]) && (ladder(ids[i]) || ids[i] == "close.bye") && gaps[i] != 5*time.Second {
					t.Errorf("%s came %v after %s, want 5s", ids[i], gaps[i], ids[i-1])
				}
			}
			if res.HungUpBy != "agent" {
				t.Errorf("result %+v", res)
			}
			// The goodbye, then 10 s for the caller to hang up first.
			last := s.Trace[len(s.Trace)-1]
			if last.What != "hangup" || last.At.Sub(s.Trace[len(s.Trace)-4].At) != 10*time.Second {
				t.Errorf("hang-up not 10 s after the goodbye: %+v", s.Trace[len(s.Trace)-4:])
			}
		})
	}
}

// TestSimulateNumber: CS-NOT-OURS reads the number to call digit by digit
// after the recorded phrase.
func TestSimulateNumber(t *testing.T) {
	_, cat := loadDefault(t)
	src := "routes:\n  - to: \"*\"\n    flow: f\nflows:\n  f:\n    steps:\n      - name: a\n        say:\n          prompt: notours\n          number: \"10086\"\n      - name: b\n        close: {}\n        exception: a test flow, where a reply to the closing question ends the call\n"
	cfg, err := Parse("n.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.CheckPrompts("n.yaml", []byte(src), cat); err != nil {
		t.Fatal(err)
	}
	f, _ := cfg.Flow("f")
	s := NewSimulation(time.Now(), nil)
	if _, err := s.Run(t.Context(), cfg, f, cat); err != nil {
		t.Fatal(err)
	}
	ids, _ := sayings(s)
	if got := strings.Join(ids[:6], " "); got != "notours digit.yao digit.0 digit.0 digit.8 digit.6" {
		t.Errorf("said %q", got)
	}
	bad := strings.Replace(src, "          number: \"10086\"\n", "", 1)
	cfg, err = Parse("n.yaml", []byte(bad))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.CheckPrompts("n.yaml", []byte(bad), cat); err == nil || !strings.Contains(err.Error(), "give the number to read") {
		t.Errorf("a {number} prompt without a number: %v", err)
	}
	other := strings.Replace(src, "routes:", "company: 另一家公司\nroutes:", 1)
	cfg, _ = Parse("n.yaml", []byte(other))
	if err := cfg.CheckPrompts("n.yaml", []byte(other), cat); err == nil || !strings.Contains(err.Error(), "recorded for \"卓达社区网中心\"") {
		t.Errorf("another company with these recordings: %v", err)
	}
}
