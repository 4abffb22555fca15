package flows

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kefu-hotline/kefu/flows/queue"
	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/prompts"
)

// CallerAction is one thing a scripted caller does at a moment of a
// simulated call (measured from the answer).
type CallerAction struct {
	At     time.Duration
	Event  Event // Kind 0 with Hangup set means the caller hangs up
	Hangup bool
}

// Simulation runs a flow in virtual time against a scripted caller: no
// sockets, no waiting, the same Runner as live calls. Time moves only when
// the flow waits or plays, straight to the next thing that happens.
type Simulation struct {
	mu     sync.Mutex
	now    time.Time
	start  time.Time
	script []CallerAction
	events chan Event
	cancel context.CancelCauseFunc

	// Trace is the call's timeline; Gains the CS-LOUDER gain changes.
	Trace  []TraceEntry
	Gains  []float64
	hungUp bool

	// Waited is how long the simulated caller waited before the answer.
	Waited time.Duration
	// Info is the simulated caller's number and the called user.
	Info CallInfo
	// Rejected is the SIP status the flow refused the call with, if any.
	Rejected int
	// Records receives the callbacks, complaints and survey answers the
	// flow stores; nil keeps nothing.
	Records records.Store
	// TransferFails makes every transfer fail, to follow the on_fail path.
	TransferFails bool
	// Queues are the queues the flow's queue steps join; nil: a fresh set
	// from the config.
	Queues *queue.Manager
	// Agents, when set, makes the config's agents sign in and take the
	// queue's callers (SimAgents); unset, nobody takes them.
	Agents *SimAgents
}

// NewSimulation prepares a simulated call answered at start.
func NewSimulation(start time.Time, script []CallerAction) *Simulation {
	s := &Simulation{now: start, start: start, events: make(chan Event, 256)}
	s.script = append(s.script, script...)
	sort.SliceStable(s.script, func(i, j int) bool { return s.script[i].At < s.script[j].At })
	return s
}

// Run executes flow f of cfg and returns the runner's result.
func (s *Simulation) Run(ctx context.Context, cfg *Config, f *Flow, cat *prompts.Catalog) (Result, error) {
	info := s.Info
	info.At = s.start
	st, err := cfg.Start(f, info)
	if err != nil {
		return Result{Flow: f.Name()}, err
	}
	b := &Bundle{Config: cfg, Catalog: cat, Version: info.Version, Queues: s.Queues, Records: s.Records}
	adm := Admission{Info: info, Flow: f, Start: st.Step, Path: st.Path}
	var ref *Refusal
	if st.Reject != 0 {
		ref = &Refusal{Code: st.Reject, By: f.Name(), Reason: st.Reason}
	}
	return s.run(ctx, b, adm, ref)
}

// Admit runs the simulated call as a live INVITE is admitted on bundle b
// (routing by called user and caller, nuisance screening, the steps before
// the answer), then plays the flow it gets. A nuisance verdict, or a
// number the repeat-call rule spared, shows in the trace. The call is not
// counted: a simulation serves nobody.
func (s *Simulation) Admit(ctx context.Context, b *Bundle, inv Invite) (Result, error) {
	inv.At = s.start
	adm, ref, err := b.Admit(ctx, inv)
	defer b.Release(adm) // a simulated call is never served
	if sc := adm.Screening; sc.Nuisance() || sc.Spared != "" {
		s.record(TraceEntry{At: s.start, What: "screen", Detail: sc.Verdict})
	}
	if err != nil {
		return Result{}, err
	}
	if ref != nil && adm.Flow == nil {
		s.Rejected = ref.Code
		s.record(TraceEntry{At: s.start, What: "reject", Detail: fmt.Sprintf("%d %s", ref.Code, ref.Reason)})
		return Result{}, nil
	}
	return s.run(ctx, b, adm, ref)
}

// run plays an admitted call: the steps before the answer, a refusal, or
// the flow from its first step after the answer.
func (s *Simulation) run(ctx context.Context, b *Bundle, adm Admission, ref *Refusal) (Result, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	s.cancel = cancel
	f := adm.Flow
	for _, name := range adm.Path[:len(adm.Path)-1] {
		s.record(TraceEntry{At: s.start, What: "step", Detail: name + " (before answer)"})
	}
	if ref != nil {
		s.Rejected = ref.Code
		s.record(TraceEntry{At: s.start, What: "reject", Detail: fmt.Sprintf("%d %s", ref.Code, ref.Reason)})
		return Result{Flow: f.Name()}, nil
	}
	if b.Queues == nil {
		var err error
		if b.Queues, err = b.Config.Queues(); err != nil {
			return Result{Flow: f.Name()}, err
		}
	}
	s.Queues = b.Queues
	if s.Agents != nil {
		if err := s.useAgents(b); err != nil {
			return Result{Flow: f.Name()}, err
		}
	}
	r := b.Runner(adm, s, Options{Clock: s, Trace: s.record, Waited: s.Waited})
	err := r.Run(ctx)
	return r.Result, err
}

func (s *Simulation) record(e TraceEntry) {
	s.mu.Lock()
	s.Trace = append(s.Trace, e)
	s.mu.Unlock()
}

// Now implements Clock.
func (s *Simulation) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

// After implements Clock: if the caller does something before d has
// passed, time moves to that moment and the caller's action is delivered
// (the wait ends on it); otherwise time moves by d and the channel fires.
func (s *Simulation) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	s.mu.Lock()
	deadline := s.now.Add(d)
	if len(s.script) > 0 && !s.start.Add(s.script[0].At).After(deadline) {
		a := s.script[0]
		s.script = s.script[1:]
		s.now = s.start.Add(a.At)
		s.mu.Unlock()
		s.deliver(a)
		return ch // superseded by the caller's action
	}
	s.now = deadline
	s.mu.Unlock()
	ch <- deadline
	return ch
}

// sleep moves time by d, delivering every caller action due meanwhile. It
// stops early when the caller hangs up, and at what o says stops the prompt
// (barge-in), as a live call's player is stopped by the flow.
func (s *Simulation) sleep(ctx context.Context, d time.Duration, o PlayOptions) error {
	for {
		s.mu.Lock()
		deadline := s.now.Add(d)
		if len(s.script) == 0 || s.start.Add(s.script[0].At).After(deadline) {
			s.now = deadline
			s.mu.Unlock()
			return context.Cause(ctx)
		}
		a := s.script[0]
		s.script = s.script[1:]
		d = deadline.Sub(s.start.Add(a.At))
		s.now = s.start.Add(a.At)
		s.mu.Unlock()
		s.deliver(a)
		if a.Hangup {
			return context.Cause(ctx)
		}
		if o.Stops(a.Event) {
			return nil // the runner stops the prompt here
		}
	}
}

func (s *Simulation) deliver(a CallerAction) {
	if a.Hangup {
		s.record(TraceEntry{At: s.Now(), What: "hangup", Detail: "caller"})
		s.cancel(ErrCallerHangup)
		return
	}
	a.Event.At = s.Now()
	s.events <- a.Event
}

// Play implements Call: the prompt takes its duration of virtual time.
func (s *Simulation) Play(ctx context.Context, p *prompts.Prompt, o PlayOptions) error {
	return s.sleep(ctx, p.Duration(), o)
}

// StartLoop implements Call: the music plays from now until the flow
// stops it; the position follows the virtual time it played.
func (s *Simulation) StartLoop(p *prompts.Prompt, from int) func() int {
	t0 := s.Now()
	return func() int {
		played := int(s.Now().Sub(t0) / media.FrameDur)
		return (from + played) % max(p.Frames(), 1)
	}
}

// Events implements Call.
func (s *Simulation) Events() <-chan Event { return s.events }

// Hangup implements Call.
func (s *Simulation) Hangup(context.Context) error {
	s.mu.Lock()
	s.hungUp = true
	s.mu.Unlock()
	return nil
}

// SetGain implements Call.
func (s *Simulation) SetGain(db float64) {
	s.mu.Lock()
	s.Gains = append(s.Gains, db)
	s.mu.Unlock()
}

// Record implements Call: a simulated recording keeps no audio, only its
// length in virtual time.
func (s *Simulation) Record(string) (Recording, error) {
	return &simRecording{s: s, start: s.Now()}, nil
}

type simRecording struct {
	s     *Simulation
	start time.Time
}

func (r *simRecording) Stop() (RecordingInfo, error) {
	return RecordingInfo{Duration: r.s.Now().Sub(r.start)}, nil
}

// Transfer implements Call: a simulated transfer succeeds by REFER, unless
// TransferFails is set.
func (s *Simulation) Transfer(_ context.Context, uri string, _ time.Duration) (TransferResult, error) {
	if s.TransferFails {
		return TransferResult{}, fmt.Errorf("%w: %s refused (simulated)", ErrTransferFailed, uri)
	}
	return TransferResult{How: "refer"}, nil
}

// Ring implements Call: with Agents, the offered agent answers as they
// say; without, a simulation has no agents' phones to ring.
func (s *Simulation) Ring(ctx context.Context, req RingRequest) (AgentLeg, []RingOutcome, error) {
	if s.Agents == nil {
		return nil, failedAll(req), ErrNoAgentLegs
	}
	return s.ringSim(ctx, req)
}

// failedAll is the outcome of an offer that rang nobody.
func failedAll(req RingRequest) []RingOutcome {
	out := make([]RingOutcome, len(req.Targets))
	for i, t := range req.Targets {
		out[i] = RingOutcome{ID: t.ID, Result: RingFailed}
	}
	return out
}

// Elapsed returns how far into the call t is.
func (s *Simulation) Elapsed(t time.Time) time.Duration { return t.Sub(s.start) }

// ParseCaller turns a caller description into a script:
//
//	silent              says nothing, stays on the line
//	speech@3s           starts speaking 3 s after the answer (and stops 2 s later)
//	speech@3s:10s       speaks for 10 s from 3 s
//	keys@4s:12#         presses 1, 2, # from 4 s, 300 ms apart
//	weak@3s             speaks too quietly from 3 s, for 2 s (weak@3s:5s: for 5 s; CS-WEAK)
//	noisy@0s            the line turns loud with steady noise at 0 s (CS-NOISY)
//	hangup@20s          hangs up at 20 s
//	hold@6s, resume@40s puts kefu on hold at 6 s (a re-INVITE), takes it off at 40 s
//
// Several, comma-separated, combine: "speech@3s,hangup@40s".
func ParseCaller(desc string) ([]CallerAction, error) {
	var out []CallerAction
	for _, part := range strings.Split(desc, ",") {
		if p := strings.TrimSpace(part); p == "silent" || p == "" {
			continue
		}
		kind, rest, ok := strings.Cut(strings.TrimSpace(part), "@")
		if !ok {
			return nil, fmt.Errorf("caller %q: want silent, speech@T[:LEN], weak@T[:LEN], noisy@T, keys@T:DIGITS, hold@T, resume@T or hangup@T", part)
		}
		at, keys, _ := strings.Cut(rest, ":")
		t, err := time.ParseDuration(at)
		if err != nil {
			return nil, fmt.Errorf("caller %q: %q is not a duration like 3s", part, at)
		}
		switch kind {
		case "speech", "weak":
			// The caller speaks for dur (2 s unless given, speech@3s:10s);
			// the utterance ends DefaultUtteranceEnd after the voice.
			dur := 2 * time.Second
			if keys != "" {
				if dur, err = time.ParseDuration(keys); err != nil || dur <= 0 {
					return nil, fmt.Errorf("caller %q: %q is not a length like 10s", part, keys)
				}
			}
			judged := Event{Kind: SpeechStart, LevelDB: -20}
			if kind == "weak" {
				judged = Event{Kind: WeakSpeech, LevelDB: -45, FloorDB: -70}
			}
			out = append(out,
				CallerAction{At: t, Event: Event{Kind: Onset, LevelDB: judged.LevelDB, FloorDB: judged.FloorDB}},
				CallerAction{At: t, Event: judged},
				CallerAction{At: t + dur, Event: Event{Kind: SpeechEnd, LevelDB: -96}},
				CallerAction{At: t + dur + DefaultUtteranceEnd, Event: Event{Kind: UtteranceEnd, LevelDB: -96, Dur: dur}})
		case "noisy":
			out = append(out, CallerAction{At: t, Event: Event{Kind: Noise, LevelDB: -25, FloorDB: -25}})
		case "keys":
			if keys == "" {
				return nil, fmt.Errorf("caller %q: keys@T:DIGITS needs digits", part)
			}
			for i, k := range keys {
				out = append(out, CallerAction{At: t + time.Duration(i)*300*time.Millisecond, Event: Event{Kind: Digit, Key: k}})
			}
		case "hangup":
			out = append(out, CallerAction{At: t, Hangup: true})
		case "hold":
			out = append(out, CallerAction{At: t, Event: Event{Kind: Held}})
		case "resume":
			out = append(out, CallerAction{At: t, Event: Event{Kind: Resumed}})
		default:
			return nil, fmt.Errorf("caller %q: unknown action %q", part, kind)
		}
	}
	return out, nil
}
