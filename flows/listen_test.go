package flows

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/prompts"
)

// listenFlow runs a one-flow config in the simulator against caller and
// returns the timeline.
func listenFlow(t *testing.T, steps, caller string) string {
	t.Helper()
	src := "routes: [{to: \"*\", flow: f}]\nflows:\n  f:\n    steps:\n" + steps
	cfg, err := Parse("l.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := prompts.LoadEmbedded(cfg.Language)
	if err != nil {
		t.Fatal(err)
	}
	script, err := ParseCaller(caller)
	if err != nil {
		t.Fatal(err)
	}
	at, _ := time.Parse(time.RFC3339, "2026-11-23T14:10:00+08:00")
	s := NewSimulation(at, script)
	if _, err := s.Run(context.Background(), cfg, cfg.Flows["f"], cat); err != nil && err != ErrCallerHangup {
		t.Fatal(err)
	}
	return timeline(s)
}

// TestBargeInByVoice is CS-LISTEN: a caller who talks over a prompt that
// informs stops it at once, and the next prompt waits until the caller
// has finished; a prompt marked whole is heard to its end.
func TestBargeInByVoice(t *testing.T) {
	tl := listenFlow(t, `      - name: a
        say: {prompt: ack}
      - name: b
        say: {prompt: complaint.close, whole: true}
      - name: c
        hangup: {}
        exception: test
`, "speech@1s:1s,speech@4s:1s")
	for _, want := range []string{
		"  1.000 barge_in ack",
		"  1.000 prompt_end ack",
		"  2.800 prompt_start complaint.close", // 1 s of speech, then 0.8 s to its end
	} {
		if !strings.Contains(tl, want) {
			t.Errorf("timeline lacks %q:\n%s", want, tl)
		}
	}
	if strings.Contains(tl, "barge_in complaint.close") {
		t.Errorf("a whole prompt was stopped:\n%s", tl)
	}
}

// TestListenAnswersAtTheEnd: speech leaves a ladder when the caller has
// finished (the default), or at once with at: onset.
func TestListenAnswersAtTheEnd(t *testing.T) {
	steps := func(at string) string {
		return `      - name: open
        listen:
          attempts: [{prompt: greet.tod}, {prompt: greet.tod}, {prompt: silent.apology}]
          on_speech: next
` + at + `      - name: next
        record: {more: none}
      - name: bye
        say: {prompt: complaint.close}
`
	}
	tl := listenFlow(t, steps(""), "speech@6s:10s,hangup@30s")
	if !strings.Contains(tl, " 16.800 record start") {
		t.Errorf("default: want the next step when the caller has finished (16.8 s):\n%s", tl)
	}
	// At onset the recording starts at once, and its prompt still waits
	// for the caller to finish (no prompt over the caller).
	tl = listenFlow(t, steps("          at: onset\n"), "speech@6s:10s,hangup@30s")
	if !strings.Contains(tl, "  6.000 record start") || !strings.Contains(tl, " 16.800 prompt_start complaint.ask") {
		t.Errorf("at: onset: want the next step at once (6 s):\n%s", tl)
	}
}

// TestCallerHoldPausesLadder: while the caller's side holds the call the
// silence ladder stands still; it goes on when the caller comes back, with
// the rest of its wait.
func TestCallerHoldPausesLadder(t *testing.T) {
	tl := listenFlow(t, `      - name: open
        listen:
          attempts: [{prompt: greet.tod}, {prompt: greet.tod}, {prompt: silent.apology}]
`, "hold@6s,resume@100s,hangup@200s")
	// The opening ends at 4.86 s and the wait has 3.86 s left at the
	// hold; after the hold the opening comes again 3.86 s later.
	if !strings.Contains(tl, "103.860 prompt_start greet.afternoon") {
		t.Errorf("want the second opening 3.86 s after the caller came back:\n%s", tl)
	}
	if !strings.Contains(tl, "100.000 event resumed") || strings.Contains(tl, " 9.860 prompt_start") {
		t.Errorf("the ladder went on during the hold:\n%s", tl)
	}
}

// TestCloseKeepsServing is CS-CLOSE: a caller who answers 「请问还有什么可以
// 帮您?」 (speech or a key) is served again at on_more, never told goodbye;
// a reply too faint to understand is asked for again (CS-REPEAT); a
// caller who stays silent hears the final phrase and the hang-up 5 s later.
func TestCloseKeepsServing(t *testing.T) {
	steps := `      - name: close
        close: {on_more: menu}
      - name: menu
        menu:
          prompt: menu.main
          choices: {"1": bye}
          on_timeout: bye
          on_invalid: bye
      - name: bye
        say: {prompt: close.bye}
`
	tl := listenFlow(t, steps, "speech@3s:1s,hangup@12s")
	if !strings.Contains(tl, "close the caller has more") || !strings.Contains(tl, "prompt_start menu.main") || strings.Contains(tl, "prompt_start close.bye") {
		t.Errorf("a reply to the question: want the menu again, no goodbye:\n%s", tl)
	}
	tl = listenFlow(t, steps, "keys@3s:1")
	if !strings.Contains(tl, "choice 1 pressed before the menu") {
		t.Errorf("a key after the question: want it taken by the menu:\n%s", tl)
	}
	tl = listenFlow(t, steps, "weak@3s:1s")
	if !strings.Contains(tl, "prompt_start repeat") || !strings.Contains(tl, "prompt_start close.hangup") {
		t.Errorf("a faint reply: want it asked for again, then the final phrase:\n%s", tl)
	}
	tl = listenFlow(t, steps, "silent")
	if !strings.Contains(tl, "prompt_start close.hangup") || !strings.Contains(tl, "hangup agent") || strings.Contains(tl, "menu.main") {
		t.Errorf("silence: want the final phrase and the hang-up:\n%s", tl)
	}
}

// TestLouderMax is CS-LOUDER-MAX: a press at the gain cap is not pretended
// to raise it: kefu says it is at its loudest.
func TestLouderMax(t *testing.T) {
	tl := listenFlow(t, `      - name: open
        listen:
          attempts: [{prompt: greet.tod}, {prompt: greet.tod}, {prompt: silent.apology}]
          on_speech: menu
      - name: menu
        menu:
          prompt: menu.main
          choices: {"1": bye}
          on_timeout: bye
          on_invalid: bye
      - name: bye
        say: {prompt: close.bye}
`, "keys@1s:***,keys@12s:*,hangup@30s")
	if strings.Count(tl, "prompt_start louder.check") != 1 || !strings.Contains(tl, "prompt_start louder.max") {
		t.Errorf("want the question once, then at +9 dB the maximum:\n%s", tl)
	}
}
