package flows

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/flows/calendar"
	"github.com/kefu-hotline/kefu/flows/queue"
	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/prompts"
)

// Runner executes one flow for one call. Create one per call; Run it once.
type Runner struct {
	cfg    *Config
	flow   *Flow
	call   Call
	cat    *prompts.Catalog
	clock  Clock
	log    *slog.Logger
	trace  func(TraceEntry)
	waited time.Duration
	info   CallInfo
	vars   map[string]string
	start  int

	records records.Store // callbacks, complaints, survey answers; nil stores nothing
	queues  *queue.Manager
	agents  Distributor   // nil: no agents take the queues' callers
	offer   *agents.Offer // an offer waitFor received, for the hold to ring
	// offersGone: the offers channel of the caller's ticket was closed
	// (the ticket left its queue); it is not read again.
	offersGone bool

	typed    string // keys that ended a listen, for the menu that follows it
	typedNow string // the keys the running step may take

	gainDB        float64 // CS-LOUDER: the call's prompt gain
	louderPending bool    // a louder key was pressed: ask whether it helps
	louderAtMax   bool    // the last press found the gain at its cap already
	talking       bool    // the caller is in the middle of an utterance (CS-LISTEN)
	held          bool    // the caller's side has the call on hold
	opening       string  // the opening of this call, once said

	// Result, filled as the flow runs.
	Result Result
}

// Result is what a call record keeps of the flow.
type Result struct {
	Flow     string
	Steps    []string // the steps run, in order
	Heard    bool     // the caller spoke
	Attempts int      // silence-ladder prompts played
	GainDB   float64  // the prompt gain the caller asked for (CS-LOUDER)
	// Condition is the line condition kefu judged last: "silent" (nothing
	// heard), "speech", "weak" or "noise", with the levels behind it.
	Condition string
	LevelDB   float64
	FloorDB   float64
	HungUpBy  string // "agent", "caller", or "transfer" when the call was handed on
	// Transferred names the destination the call was handed to.
	Transferred string
	// The records the call left, by ID in the store (0: none).
	Callback, Complaint, Survey int64
	// The call's time with agents (issue 12): the queue and the wait
	// there, how long agents' phones rang for it, the agent who took it,
	// the talk, and who ended the talk ("agent", "caller", "transfer").
	Queue                         string
	QueueWait, RingTime, TalkTime time.Duration
	Agent, AgentEndedBy           string
}

// TraceEntry is one line of a call's timeline (prompts, waits, events).
type TraceEntry struct {
	At     time.Time
	What   string // "step", "prompt_start", "prompt_end", "wait", "event", "hangup"
	Detail string
}

// Options configure a Runner.
type Options struct {
	Clock  Clock            // default WallClock
	Logger *slog.Logger     // call-scoped logger
	Trace  func(TraceEntry) // optional timeline sink
	// Waited is how long the caller waited before the answer (ringing,
	// queue): past the busy threshold the opening is the apology.
	Waited time.Duration
	// Info describes the call for branches; Start is the step to begin
	// with (from Config.Start).
	Info  CallInfo
	Start int
	// Records is where collect, record and survey keep what the caller
	// left; nil keeps nothing (and logs it).
	Records records.Store
	// Queues are kefu's queues, shared by all calls on one config.
	Queues *queue.Manager
	// Agents offers the queues' callers to agents; nil: nobody takes them.
	Agents Distributor
}

// NewRunner prepares flow f of cfg for a call.
func NewRunner(cfg *Config, f *Flow, call Call, cat *prompts.Catalog, o Options) *Runner {
	r := &Runner{cfg: cfg, flow: f, call: call, cat: cat, clock: o.Clock, log: o.Logger, trace: o.Trace, waited: o.Waited,
		info: o.Info, vars: map[string]string{}, start: o.Start, records: o.Records, queues: o.Queues, agents: o.Agents}
	if r.clock == nil {
		r.clock = WallClock{}
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.Result.Flow = f.Name()
	return r
}

// errHungUp ends Run when a step hung up.
var errHungUp = errors.New("flow hung up")

// maxSteps bounds the steps one call may run, so that a flow loop without
// waits cannot spin forever.
const maxSteps = 1000

// Run executes the flow from its first step until a step hangs up or the
// call ends. It returns nil when the flow hung up, else the reason the
// call's context ended.
func (r *Runner) Run(ctx context.Context) error {
	i := r.start
	for range maxSteps {
		s := r.flow.Steps[i]
		r.Result.Steps = append(r.Result.Steps, s.Name)
		r.note("step", s.Name+" ("+s.Verb()+")")
		r.typedNow, r.typed = r.typed, "" // only the step right after the listen may take them
		if s.v == nil {
			return errNoVerb(s)
		}
		next, err := s.v.run(ctx, r)
		if _, instant := s.v.(instantVerb); instant && r.typed == "" {
			r.typed = r.typedNow // a branch or goto passes the keys on to the step after it
		}
		if errors.Is(err, errHungUp) || errors.Is(err, errTransferred) {
			return nil
		}
		if err != nil {
			if c := context.Cause(ctx); c != nil {
				if errors.Is(c, ErrCallerHangup) && r.Result.HungUpBy == "" {
					r.Result.HungUpBy = "caller"
				}
				return c
			}
			return err
		}
		if next == "" {
			next = s.Next
		}
		if next == "" {
			if i+1 >= len(r.flow.Steps) {
				return r.hangup(ctx)
			}
			i++
			continue
		}
		i = r.flow.index[next]
	}
	r.log.Error("flow ran too many steps; hanging up", "flow", r.flow.Name(), "limit", maxSteps)
	return r.hangup(ctx)
}

func (r *Runner) hangup(ctx context.Context) error {
	r.note("hangup", "agent")
	r.Result.HungUpBy = "agent"
	if err := r.call.Hangup(ctx); err != nil {
		return fmt.Errorf("hang up: %w", err)
	}
	return nil
}

// resolve maps a prompt reference to a prompt of the catalog.
func (r *Runner) resolve(id string) (*prompts.Prompt, error) {
	if id == GreetTOD {
		// The opening is fixed by the first one said: a repeated opening
		// is the same opening (CS-SILENT), whatever the clock says now.
		if r.opening == "" {
			r.opening = r.cfg.Calendar().Opening(r.clock.Now(), r.waited, r.cfg.BusyThreshold.or(calendar.DefaultBusyThreshold))
		}
		id = r.opening
	}
	p, ok := r.cat.Get(id)
	if !ok {
		return nil, fmt.Errorf("prompt %q missing from the %s set", id, r.cat.Lang())
	}
	return p, nil
}

// heard is what the caller did while we played or waited.
type heard struct {
	speech bool   // normal speech
	weak   bool   // speech too quiet to understand (CS-WEAK)
	noise  bool   // a loud, steady, non-speech line (CS-NOISY)
	louder bool   // the louder key (CS-LOUDER): the caller is there
	ended  bool   // an utterance ended: the caller has finished (CS-LISTEN)
	key    rune   // the last key pressed
	keys   string // every key pressed, in order
}

// any reports whether the caller showed they are there: speech of any
// level or a key. Noise alone is not a caller.
func (h heard) any() bool { return h.speech || h.weak || h.key != 0 }

// merge adds what was heard later.
func (h heard) merge(o heard) heard {
	h.speech, h.weak, h.noise, h.louder, h.ended = h.speech || o.speech, h.weak || o.weak, h.noise || o.noise, h.louder || o.louder, h.ended || o.ended
	if o.key != 0 {
		h.key = o.key
	}
	h.keys += o.keys
	return h
}

// How a prompt may be stopped before its end (CS-LISTEN).
const (
	whole    = iota // must be heard in full: a read-back, a notice
	informs         // asks or informs: the caller talking over it stops it
	asksKeys        // asks for keys: a key stops it too
)

// play plays a prompt that asks or informs: the caller starting to speak
// stops it (barge-in), and kefu listens.
func (r *Runner) play(ctx context.Context, id string) (heard, error) {
	return r.playAs(ctx, id, informs)
}

// playKeys plays a prompt that asks for keys (a menu, a number, a score):
// a key stops it, as callers who know the menu expect, and so does the
// caller's voice. The louder key does not: it is not an answer.
func (r *Runner) playKeys(ctx context.Context, id string) (heard, error) {
	return r.playAs(ctx, id, asksKeys)
}

func (r *Runner) playAs(ctx context.Context, id string, how int) (heard, error) {
	p, err := r.resolve(id)
	if err != nil {
		return heard{}, err
	}
	return r.playing(ctx, id, p, how)
}

// playPrompt plays a resolved prompt that informs; id is the reference
// it came from.
func (r *Runner) playPrompt(ctx context.Context, id string, p *prompts.Prompt) (heard, error) {
	return r.playing(ctx, id, p, informs)
}

// errBargeIn stops a prompt at the caller's key or voice.
var errBargeIn = errors.New("caller barged in")

// maxTalk bounds how long a prompt waits for a caller who keeps talking.
const maxTalk = 60 * time.Second

// options says what may stop a prompt played as how.
func (r *Runner) options(how int) PlayOptions {
	o := PlayOptions{Voice: how != whole, Keys: how == asksKeys}
	if l := r.cfg.Louder; !l.Off {
		o.Louder = []rune(l.Key)[0]
	}
	return o
}

// playing plays p once the caller has finished speaking (no prompt starts
// while the caller speaks, CS-LISTEN), and reports what the caller did
// meanwhile. A key or the caller's voice stops it where how allows.
func (r *Runner) playing(ctx context.Context, id string, p *prompts.Prompt, how int) (heard, error) {
	o := r.options(how)
	h, err := r.untilQuiet(ctx, o)
	if err != nil || o.Keys && h.key != 0 {
		return h, err // a key answered the prompt before it began
	}
	r.note("prompt_start", p.ID)
	pctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	done := make(chan error, 1)
	go func() { done <- r.call.Play(pctx, p, o) }()
	for {
		select {
		case err := <-done:
			// The events that came with the prompt's end count for it; in
			// a simulation the one that stopped it may be among them.
			barged := errors.Is(context.Cause(pctx), errBargeIn)
			for _, ev := range r.drain(&h) {
				barged = barged || o.Stops(ev)
			}
			if barged && ctx.Err() == nil {
				err = nil // stopped by the caller
				r.note("barge_in", p.ID)
			}
			r.note("prompt_end", p.ID)
			if id == r.cfg.Louder.Prompt || id == r.cfg.Louder.MaxPrompt {
				r.louderPending = false // presses during the question: asked already
			}
			if err == nil && r.louderPending {
				r.louderPending = false
				h2, err2 := r.play(ctx, r.louderQuestion())
				return h.merge(h2), err2
			}
			return h, err
		case ev := <-r.call.Events():
			r.event(ev, &h)
			if o.Stops(ev) {
				stop(errBargeIn)
			}
		}
	}
}

// untilQuiet waits while the caller is speaking (up to maxTalk) or has
// the call on hold (nobody would hear a prompt); a key ends the wait where
// o takes keys.
func (r *Runner) untilQuiet(ctx context.Context, o PlayOptions) (heard, error) {
	var h heard
	for r.talking || r.held {
		what, d := "caller speaking", maxTalk
		if r.held {
			what, d = "caller holding", maxHeld
		}
		r.note("wait", what)
		h2, _, err := r.waitFor(ctx, waitSpec{d: d, until: func(h heard) bool { return !r.talking && !r.held || o.Keys && h.key != 0 }})
		h = h.merge(h2)
		if err != nil || o.Keys && h.key != 0 || !r.talking && !r.held {
			return h, err
		}
		if r.talking && !r.held {
			r.talking = false // maxTalk passed: speak anyway
		}
		if r.held {
			r.held = false // maxHeld passed
		}
	}
	return h, nil
}

// drain takes the events already queued when a prompt ends, so what the
// caller did during the prompt counts for it, and returns them.
func (r *Runner) drain(h *heard) []Event {
	var evs []Event
	for {
		select {
		case ev := <-r.call.Events():
			r.event(ev, h)
			evs = append(evs, ev)
		default:
			return evs
		}
	}
}

// louderQuestion is what kefu asks after a press of the louder key:
// whether the caller hears better now, or, at the cap, that it cannot be
// louder (CS-LOUDER-MAX).
func (r *Runner) louderQuestion() string {
	if r.louderAtMax {
		return r.cfg.Louder.MaxPrompt
	}
	return r.cfg.Louder.Prompt
}

func (r *Runner) event(ev Event, h *heard) {
	if l := r.cfg.Louder; ev.Kind == Digit && !l.Off && string(ev.Key) == l.Key {
		// CS-LOUDER: one step per press, capped, for the rest of the call;
		// a press at the cap is told so (CS-LOUDER-MAX), not pretended to.
		r.louderAtMax = r.gainDB >= l.MaxDB
		r.gainDB = min(r.gainDB+l.StepDB, l.MaxDB)
		r.call.SetGain(r.gainDB)
		r.Result.GainDB = r.gainDB
		r.louderPending, h.louder = true, true
		r.noteAt(ev.At, "event", fmt.Sprintf("louder key: prompt gain now %+.0f dB", r.gainDB))
		return
	}
	switch ev.Kind {
	case Onset:
		r.talking = true
	case SpeechStart:
		h.speech, r.talking = true, true
		r.Result.Heard = true
		r.judge("speech", ev)
	case WeakSpeech:
		h.weak, r.talking = true, true
		r.Result.Heard = true
		r.judge("weak", ev)
	case UtteranceEnd:
		h.ended, r.talking = true, false
	case Held:
		r.held = true
	case Resumed:
		r.held = false
	case Noise:
		h.noise = true
		r.judge("noise", ev)
	case Digit:
		h.key = ev.Key
		h.keys += string(ev.Key)
	}
	extra := keyStr(ev.Key)
	if ev.Kind == UtteranceEnd {
		extra = fmt.Sprintf(" after %v", ev.Dur.Round(10*time.Millisecond))
	}
	r.noteAt(ev.At, "event", fmt.Sprintf("%s level=%.1fdBFS floor=%.1fdBFS%s", ev.Kind, ev.LevelDB, ev.FloorDB, extra))
}

func keyStr(k rune) string {
	if k == 0 {
		return ""
	}
	return " key=" + string(k)
}

func (r *Runner) note(what, detail string) { r.noteAt(time.Time{}, what, detail) }

// noteAt records a timeline entry at t (now when t is zero).
func (r *Runner) noteAt(t time.Time, what, detail string) {
	if t.IsZero() {
		t = r.clock.Now()
	}
	if r.trace != nil {
		r.trace(TraceEntry{At: t, What: what, Detail: detail})
	}
	r.log.Debug("flow", "what", what, "detail", detail)
}
