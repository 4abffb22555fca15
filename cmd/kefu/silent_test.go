package main

import (
	"context"
	"math"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/calendar"
	"github.com/kefu-hotline/kefu/prompts"
)

// TestIntegrationSilentCaller dials kefu with `kefu dial -play silence` and
// checks CS-SILENT from the audio the caller received: three prompts, each
// gap 5 s ± 0.3 s, kefu's BYE 5 s ± 0.3 s after the third prompt.
func TestIntegrationSilentCaller(t *testing.T) {
	integration(t)
	t.Parallel()
	a := startAgent(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	evs, code, out := dial(t, ctx, a, "-play", "silence", "-max", "80s")
	if code != 0 {
		t.Fatalf("kefu dial exit %d:\n%s", code, out)
	}
	st := stretches(evs)
	if len(st) != 3 {
		t.Fatalf("heard %d stretches of audio %v, want 3 prompts\n%s", len(st), st, out)
	}
	for i := 1; i < 3; i++ {
		if gap := st[i][0] - st[i-1][1]; math.Abs(gap-5) > 0.3 {
			t.Errorf("silence before attempt %d: %.3f s, want 5 ± 0.3 s\n%s", i+1, gap, out)
		}
	}
	bye, ok := find(evs, "bye_received")
	if !ok {
		t.Fatalf("kefu never hung up\n%s", out)
	}
	if d := bye.T - st[2][1]; math.Abs(d-5) > 0.3 {
		t.Errorf("BYE %.3f s after the third prompt, want 5 ± 0.3 s\n%s", d, out)
	}
	// The first two prompts are the same opening; the third is the apology.
	d0, d1 := st[0][1]-st[0][0], st[1][1]-st[1][0]
	if math.Abs(d0-d1) > 0.1 {
		t.Errorf("opening lasted %.2f s then %.2f s: not the same prompt twice", d0, d1)
	}
	if !a.waitLog(`"attempts":3`, 5*time.Second) {
		t.Errorf("kefu's log does not record three attempts")
	}
}

// TestIntegrationSpeechStopsLadder: a caller who speaks (an espeak-ng WAV)
// during the opening stops the silent-call ladder: kefu goes straight on to
// the acknowledgement instead of waiting 5 s and repeating the opening.
func TestIntegrationSpeechStopsLadder(t *testing.T) {
	integration(t)
	t.Parallel()
	espeak := needTool(t, "espeak-ng")
	wav := filepath.Join(t.TempDir(), "caller.wav")
	if out, err := exec.Command(espeak, "-v", "en-us", "-w", wav, "Hello, I have a question about my bill.").CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v\n%s", err, out)
	}
	a := startAgent(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	evs, code, out := dial(t, ctx, a, "-play", wav, "-play-at", "1s", "-max", "80s")
	if code != 0 {
		t.Fatalf("kefu dial exit %d:\n%s", code, out)
	}
	// Without speech the opening would be followed by 5 s of silence. With
	// it, the acknowledgement and the main menu follow at once: the first
	// run of audio (gaps under 1 s bridged) holds all three prompts.
	cat, err := prompts.LoadEmbedded("zh-CN")
	if err != nil {
		t.Fatal(err)
	}
	sh, _ := time.LoadLocation("Asia/Shanghai")
	opening, _ := cat.Get("greet." + calendar.PeriodAt(time.Now(), sh).String())
	ack, _ := cat.Get("ack")
	menu, _ := cat.Get("menu.main")
	want := (opening.Duration() + ack.Duration() + menu.Duration()).Seconds()
	st := stretches(evs)
	if len(st) == 0 {
		t.Fatalf("heard nothing\n%s", out)
	}
	run := st[0]
	for _, s := range st[1:] {
		if s[0]-run[1] > 1 {
			break
		}
		run[1] = s[1]
	}
	if got := run[1] - run[0]; got < want-0.5 {
		t.Errorf("first run of audio %.2f s, want ≈ %.2f s (opening, ack, menu.main back to back): the ladder did not stop for the caller's speech\n%s", got, want, out)
	}
	if !a.waitLog(`"heard":true`, 80*time.Second) {
		t.Errorf("kefu's log does not record that the caller was heard")
	}
	if _, ok := find(evs, "bye_received"); !ok {
		t.Errorf("kefu never hung up after the closing\n%s", out)
	}
}
