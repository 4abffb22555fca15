package flows

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kefu-hotline/kefu/prompts"
)

// fakeCall plays prompts in (virtual) real time and records when.
type fakeCall struct {
	mu      sync.Mutex
	start   time.Time
	played  []played
	events  chan Event
	hungUp  time.Duration
	cancel  context.CancelCauseFunc
	hangups int
	gains   []float64
}

type played struct {
	id         string
	start, end time.Duration
	cut        bool // stopped before its end (barge-in, the call's end)
}

func newFakeCall(cancel context.CancelCauseFunc) *fakeCall {
	return &fakeCall{start: time.Now(), events: make(chan Event, 16), cancel: cancel}
}

func (c *fakeCall) Play(ctx context.Context, p *prompts.Prompt, _ PlayOptions) error {
	start := time.Since(c.start)
	var err error
	select {
	case <-time.After(p.Duration()):
	case <-ctx.Done():
		err = context.Cause(ctx)
	}
	c.mu.Lock()
	c.played = append(c.played, played{p.ID, start, time.Since(c.start), err != nil})
	c.mu.Unlock()
	return err
}

func (c *fakeCall) Events() <-chan Event { return c.events }

func (c *fakeCall) StartLoop(p *prompts.Prompt, from int) func() int {
	return func() int { return from }
}

func (c *fakeCall) SetGain(db float64) {
	c.mu.Lock()
	c.gains = append(c.gains, db)
	c.mu.Unlock()
}

// Record keeps no audio; the recording lasts as long as the synctest
// bubble's time says.
func (c *fakeCall) Record(string) (Recording, error) {
	return fakeRecording{start: time.Now()}, nil
}

type fakeRecording struct{ start time.Time }

func (r fakeRecording) Stop() (RecordingInfo, error) {
	return RecordingInfo{Path: "fake.wav", Duration: time.Since(r.start)}, nil
}

// Transfer fails: the fake call has nowhere to go.
func (c *fakeCall) Transfer(context.Context, string, time.Duration) (TransferResult, error) {
	return TransferResult{}, ErrTransferFailed
}

// Ring rings nobody: the fake call has no agents.
func (c *fakeCall) Ring(_ context.Context, req RingRequest) (AgentLeg, []RingOutcome, error) {
	return nil, failedAll(req), ErrNoAgentLegs
}

func (c *fakeCall) Hangup(context.Context) error {
	c.mu.Lock()
	c.hungUp = time.Since(c.start)
	c.hangups++
	c.mu.Unlock()
	return nil
}

// speakAt makes the caller speak for 1 s from t after the call started,
// as the line judge reports it: onset and speech at t, the utterance's end
// DefaultUtteranceEnd after the voice.
func (c *fakeCall) speakAt(t time.Duration) {
	time.AfterFunc(t-time.Since(c.start), func() {
		c.events <- Event{Kind: Onset, At: time.Now(), LevelDB: -20}
		c.events <- Event{Kind: SpeechStart, At: time.Now(), LevelDB: -20}
	})
	time.AfterFunc(t+time.Second+DefaultUtteranceEnd-time.Since(c.start), func() {
		c.events <- Event{Kind: UtteranceEnd, At: time.Now(), Dur: time.Second}
	})
}

func loadDefault(t *testing.T) (*Config, *prompts.Catalog) {
	t.Helper()
	cfg, err := Parse("default.yaml", DefaultYAML())
	if err != nil {
		t.Fatal(err)
	}
	cat, err := prompts.LoadEmbedded(cfg.Language)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.CheckPrompts("default.yaml", DefaultYAML(), cat); err != nil {
		t.Fatal(err)
	}
	return cfg, cat
}

// menuSkipped is how long the default hotline's main menu takes when the
// caller presses no key: the prompt and its 5 s wait, twice.
func menuSkipped(t *testing.T, cat *prompts.Catalog) time.Duration {
	t.Helper()
	m, ok := cat.Get("menu.main")
	if !ok {
		t.Fatal("no menu.main")
	}
	return 2 * (m.Duration() + DefaultSilenceWait)
}

// startFake prepares the default route's flow on a fake call inside a
// synctest bubble; cancel ends the call with a cause.
func startFake(t *testing.T, cfg *Config, cat *prompts.Catalog) (context.Context, context.CancelCauseFunc, *fakeCall, *Runner) {
	t.Helper()
	ctx, cancel := context.WithCancelCause(t.Context())
	t.Cleanup(func() { cancel(nil) })
	call := newFakeCall(cancel)
	f, _ := cfg.Route("100", "")
	return ctx, cancel, call, NewRunner(cfg, f, call, cat, Options{})
}

// TestSilentLadder checks CS-SILENT on the default flow in virtual time:
// the opening, 5 s, the opening again, 5 s, the apology, 5 s, hang up.
func TestSilentLadder(t *testing.T) {
	cfg, cat := loadDefault(t)
	synctest.Test(t, func(t *testing.T) {
		ctx, _, call, r := startFake(t, cfg, cat)
		if err := r.Run(ctx); err != nil {
			t.Fatal(err)
		}
		if len(call.played) != 3 {
			t.Fatalf("played %v, want three attempts", call.played)
		}
		if call.played[0].id != call.played[1].id || call.played[2].id != "silent.apology" {
			t.Errorf("prompts %v: want the opening twice, then silent.apology", call.played)
		}
		for i := 1; i < 3; i++ {
			if gap := call.played[i].start - call.played[i-1].end; gap != 5*time.Second {
				t.Errorf("gap before attempt %d: %v, want 5s from the end of the prompt", i+1, gap)
			}
		}
		if d := call.hungUp - call.played[2].end; d != 5*time.Second || call.hangups != 1 {
			t.Errorf("hung up %v after the apology (%d times), want 5s, once", d, call.hangups)
		}
		if r.Result.Attempts != 3 || r.Result.Heard || r.Result.HungUpBy != "agent" {
			t.Errorf("result %+v", r.Result)
		}
	})
}

// TestSpeechStopsLadder: a caller who speaks during the second wait stops
// the ladder; the flow acknowledges and offers the menu; a caller who gets
// nowhere with it is offered a callback or a message (CS-CLOSE: not the
// closing question), then the goodbye, and kefu hangs up 10 s later unless
// the caller does first.
func TestSpeechStopsLadder(t *testing.T) {
	cfg, cat := loadDefault(t)
	synctest.Test(t, func(t *testing.T) {
		ctx, _, call, r := startFake(t, cfg, cat)
		greet, _ := r.resolve(GreetTOD)
		call.speakAt(2*greet.Duration() + 5*time.Second + 2*time.Second)
		if err := r.Run(ctx); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, p := range call.played {
			ids = append(ids, p.id)
		}
		// After the ack, the main menu twice (no key), the other help, the
		// goodbye.
		want := []string{greet.ID, greet.ID, "ack", "menu.main", "menu.main", "help.other", "close.bye"}
		if len(ids) != len(want) {
			t.Fatalf("played %v, want %v", ids, want)
		}
		for i := range want {
			if ids[i] != want[i] {
				t.Fatalf("played %v, want %v", ids, want)
			}
		}
		// Speech came 2 s into the second wait and lasted 1 s: the ack
		// follows the end of the utterance (CS-LISTEN), not its start.
		if gap := call.played[2].start - call.played[1].end; gap != 2*time.Second+time.Second+DefaultUtteranceEnd {
			t.Errorf("ack %v after the second opening, want 3.8s", gap)
		}
		if d := call.hungUp - call.played[6].end; d != 10*time.Second {
			t.Errorf("hang-up %v after the goodbye, want 10s", d)
		}
		if !r.Result.Heard || r.Result.Attempts != 2 {
			t.Errorf("result %+v", r.Result)
		}
	})
}

// TestCallerHangsUpFirst: after the goodbye kefu waits for the caller to
// hang up, and never sends BYE itself when the caller does.
func TestCallerHangsUpFirst(t *testing.T) {
	cfg, cat := loadDefault(t)
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel, call, r := startFake(t, cfg, cat)
		call.speakAt(time.Second) // during the opening: it stops (CS-LISTEN)
		other, _ := cat.Get("help.other")
		ack, _ := cat.Get("ack")
		byeAt := time.Second + time.Second + DefaultUtteranceEnd + ack.Duration() + menuSkipped(t, cat) + other.Duration() + DefaultSilenceWait
		bye, _ := cat.Get("close.bye")
		time.AfterFunc(byeAt+bye.Duration()+3*time.Second, func() { cancel(ErrCallerHangup) })
		err := r.Run(ctx)
		if !errors.Is(err, ErrCallerHangup) {
			t.Fatalf("Run = %v, want caller hang-up", err)
		}
		if call.hangups != 0 || r.Result.HungUpBy != "caller" {
			t.Errorf("kefu hung up %d times, result %+v; the caller hangs up first", call.hangups, r.Result)
		}
		last := call.played[len(call.played)-1]
		if last.id != "close.bye" {
			t.Errorf("last prompt %s, want close.bye", last.id)
		}
		if first := call.played[0]; !first.cut || first.end != time.Second {
			t.Errorf("the opening %+v: want it stopped when the caller spoke over it, at 1s", first)
		}
	})
}

// TestLouderKey checks CS-LOUDER: each press of * raises the gain one step
// (+3 dB) up to the cap (+9 dB), and kefu asks whether the caller hears
// better; the key ends the silent-call ladder (the caller is there).
func TestLouderKey(t *testing.T) {
	cfg, cat := loadDefault(t)
	synctest.Test(t, func(t *testing.T) {
		ctx, _, call, r := startFake(t, cfg, cat)
		greet, _ := r.resolve(GreetTOD)
		for i := range 4 { // four presses during the first wait
			at := greet.Duration() + time.Second + time.Duration(i)*10*time.Millisecond
			time.AfterFunc(at, func() { call.events <- Event{Kind: Digit, Key: '*', At: time.Now()} })
		}
		if err := r.Run(ctx); err != nil {
			t.Fatal(err)
		}
		if want := []float64{3, 6, 9, 9}; len(call.gains) != 4 || call.gains[2] != 9 || call.gains[3] != 9 {
			t.Errorf("gains %v, want %v", call.gains, want)
		}
		var ids []string
		for _, p := range call.played {
			ids = append(ids, p.id)
		}
		if len(ids) < 3 || ids[1] != "louder.check" || ids[2] != "ack" {
			t.Fatalf("played %v: want louder.check right after the presses, then the flow goes on", ids)
		}
		// A caller who presses the louder key is on the line (CS-SILENT):
		// the ladder ends, never reaching 「您的电话没有声音」.
		if r.Result.Attempts != 1 || r.Result.GainDB != 9 || slices.Contains(ids, "silent.apology") {
			t.Errorf("result %+v, played %v", r.Result, ids)
		}
	})
}
