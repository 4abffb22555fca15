package flows

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

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

	typed string // keys that ended a listen, for the menu that follows it

	gainDB        float64 // CS-LOUDER: the call's prompt gain
	louderPending bool    // a louder key was pressed: ask whether it helps

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
}

// NewRunner prepares flow f of cfg for a call.
func NewRunner(cfg *Config, f *Flow, call Call, cat *prompts.Catalog, o Options) *Runner {
	r := &Runner{cfg: cfg, flow: f, call: call, cat: cat, clock: o.Clock, log: o.Logger, trace: o.Trace, waited: o.Waited,
		info: o.Info, vars: map[string]string{}, start: o.Start, records: o.Records, queues: o.Queues}
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
		next, err := r.runStep(ctx, s)
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

func (r *Runner) runStep(ctx context.Context, s *Step) (string, error) {
	typed := r.typed // only the step right after the listen may take them
	r.typed = ""
	switch {
	case s.Say != nil:
		if s.Say.Number != "" {
			return "", r.sayNumber(ctx, s.Say)
		}
		_, err := r.play(ctx, s.Say.Prompt)
		return "", err
	case s.Listen != nil:
		return r.listen(ctx, s.Listen)
	case s.Close != nil:
		return "", r.close(ctx, s.Close)
	case s.Hangup != nil:
		if w := s.Hangup.Wait.or(0); w > 0 {
			r.note("wait", "caller hang-up")
			if _, err := r.pause(ctx, w, never); err != nil {
				return "", err
			}
		}
		if err := r.hangup(ctx); err != nil {
			return "", err
		}
		return "", errHungUp
	case s.Hold != nil:
		return "", r.hold(ctx, s.Hold)
	case s.Menu != nil:
		return r.menu(ctx, s.Menu, typed)
	case s.Collect != nil:
		return r.collect(ctx, s.Collect)
	case s.Record != nil:
		return r.record(ctx, s.Record)
	case s.Survey != nil:
		return r.survey(ctx, s.Survey)
	case s.Queue != nil:
		return r.enqueue(ctx, s.Queue)
	case s.Transfer != nil:
		return r.transfer(ctx, s.Transfer)
	case s.Goto != "":
		return s.Goto, nil
	case s.Branch != nil:
		info := r.info
		info.At = r.clock.Now()
		return s.Branch.pick(info, r.vars, r.cfg), nil
	case s.Answer != nil:
		return "", nil // answered already
	case s.Reject != nil:
		// Validation keeps reject before the answer; once answered, the
		// polite way out is the closing, so this is a bug in the flow.
		return "", fmt.Errorf("step %q: reject after the call was answered", s.Name)
	}
	return "", fmt.Errorf("step %q has no verb", s.Name)
}

// sayNumber plays a prompt followed by a number read digit by digit.
func (r *Runner) sayNumber(ctx context.Context, s *Say) error {
	ps, err := r.cat.Compose(s.Prompt, map[string]string{prompts.VarNumber: s.Number})
	if err != nil {
		return err
	}
	for _, p := range ps {
		if _, err := r.playPrompt(ctx, p.ID, p); err != nil {
			return err
		}
	}
	return nil
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
		id = r.cfg.Calendar().Opening(r.clock.Now(), r.waited, r.cfg.BusyThreshold.or(calendar.DefaultBusyThreshold))
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
	key    rune   // the last key pressed
	keys   string // every key pressed, in order
}

// any reports whether the caller showed they are there: speech of any
// level or a key. Noise alone is not a caller.
func (h heard) any() bool { return h.speech || h.weak || h.key != 0 }

// play plays a prompt to the end and reports whether the caller spoke or
// pressed a key meanwhile (the prompt is not cut: a polite agent finishes
// the sentence).
func (r *Runner) play(ctx context.Context, id string) (heard, error) {
	p, err := r.resolve(id)
	if err != nil {
		return heard{}, err
	}
	return r.playPrompt(ctx, id, p)
}

// playPrompt plays a resolved prompt; id is the reference it came from.
func (r *Runner) playPrompt(ctx context.Context, id string, p *prompts.Prompt) (heard, error) {
	return r.playing(ctx, id, p, false)
}

// playKeys plays a prompt that asks for keys (a menu, a number, a score):
// a key stops it, as callers who know the menu expect (barge-in). The
// louder key does not: it is not an answer.
func (r *Runner) playKeys(ctx context.Context, id string) (heard, error) {
	p, err := r.resolve(id)
	if err != nil {
		return heard{}, err
	}
	return r.playing(ctx, id, p, true)
}

// bargeInKey marks a Play context whose prompt a key may stop; its value
// is the louder key, which does not. The simulation reads it to stop its
// virtual playback at the key.
type bargeInKey struct{}

// errBargeIn stops a prompt at the caller's key.
var errBargeIn = errors.New("key pressed")

func (r *Runner) playing(ctx context.Context, id string, p *prompts.Prompt, barge bool) (heard, error) {
	r.note("prompt_start", p.ID)
	pctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	if barge {
		louder := r.cfg.Louder.Key
		if r.cfg.Louder.Off {
			louder = ""
		}
		pctx = context.WithValue(pctx, bargeInKey{}, louder)
	}
	done := make(chan error, 1)
	go func() { done <- r.call.Play(pctx, p) }()
	var h heard
	for {
		select {
		case err := <-done:
			if errors.Is(context.Cause(pctx), errBargeIn) && ctx.Err() == nil {
				err = nil // stopped at the caller's key
			}
			r.note("prompt_end", p.ID)
			if id == r.cfg.Louder.Prompt {
				r.louderPending = false // presses during the question: asked already
			}
			r.drain(&h)
			if err == nil && r.louderPending {
				r.louderPending = false
				h2, err2 := r.play(ctx, r.cfg.Louder.Prompt)
				h.speech, h.key = h.speech || h2.speech, max(h.key, h2.key)
				h.keys += h2.keys
				return h, err2
			}
			return h, err
		case ev := <-r.call.Events():
			r.event(ev, &h)
			if barge && h.key != 0 {
				stop(errBargeIn)
			}
		}
	}
}

// drain takes the events already queued when a prompt ends, so what the
// caller did during the prompt counts for it.
func (r *Runner) drain(h *heard) {
	for {
		select {
		case ev := <-r.call.Events():
			r.event(ev, h)
		default:
			return
		}
	}
}

// wait waits up to d for the caller to speak or press a key.
func (r *Runner) wait(ctx context.Context, d time.Duration) (heard, error) {
	r.note("wait", d.String())
	return r.pause(ctx, d, heard.any)
}

// pause lets d pass while taking the caller's events; it ends early when
// stop says what was heard is enough. The timer is re-armed for the time
// left after each event, so a virtual clock sees every wait.
func (r *Runner) pause(ctx context.Context, d time.Duration, stop func(heard) bool) (heard, error) {
	deadline := r.clock.Now().Add(d)
	var h heard
	for {
		left := deadline.Sub(r.clock.Now())
		if left <= 0 {
			return h, nil
		}
		select {
		case <-ctx.Done():
			return h, context.Cause(ctx)
		case <-r.clock.After(left):
			return h, nil
		case ev := <-r.call.Events():
			if r.event(ev, &h); stop(h) {
				return h, nil
			}
			if r.louderPending {
				// Ask at once whether the caller hears better, then give
				// the caller the whole wait again to answer.
				r.louderPending = false
				if h, err := r.play(ctx, r.cfg.Louder.Prompt); err != nil || stop(h) {
					return h, err
				}
				deadline = r.clock.Now().Add(d)
			}
		}
	}
}

// pauseWake lets d pass like pause(never), but returns early, reporting
// true, when wake fires. A nil wake never fires.
func (r *Runner) pauseWake(ctx context.Context, d time.Duration, wake <-chan struct{}) (bool, error) {
	deadline := r.clock.Now().Add(d)
	var h heard
	for {
		left := deadline.Sub(r.clock.Now())
		if left <= 0 {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, context.Cause(ctx)
		case <-wake:
			return true, nil
		case <-r.clock.After(left):
			return false, nil
		case ev := <-r.call.Events():
			r.event(ev, &h)
			if r.louderPending {
				r.louderPending = false
				if _, err := r.play(ctx, r.cfg.Louder.Prompt); err != nil {
					return false, err
				}
			}
		}
	}
}

// never is a stop condition for pauses that only time or the call's end
// may end.
func never(heard) bool { return false }

func (r *Runner) event(ev Event, h *heard) {
	if l := r.cfg.Louder; ev.Kind == Digit && !l.Off && string(ev.Key) == l.Key {
		// CS-LOUDER: one step per press, capped, for the rest of the call.
		r.gainDB = min(r.gainDB+l.StepDB, l.MaxDB)
		r.call.SetGain(r.gainDB)
		r.Result.GainDB = r.gainDB
		r.louderPending = true
		r.noteAt(ev.At, "event", fmt.Sprintf("louder key: prompt gain now %+.0f dB", r.gainDB))
		return
	}
	switch ev.Kind {
	case SpeechStart:
		h.speech = true
		r.Result.Heard = true
		r.judge("speech", ev)
	case WeakSpeech:
		h.weak = true
		r.Result.Heard = true
		r.judge("weak", ev)
	case Noise:
		h.noise = true
		r.judge("noise", ev)
	case Digit:
		h.key = ev.Key
		h.keys += string(ev.Key)
	}
	r.noteAt(ev.At, "event", fmt.Sprintf("%s level=%.1fdBFS floor=%.1fdBFS%s", ev.Kind, ev.LevelDB, ev.FloorDB, keyStr(ev.Key)))
}

func keyStr(k rune) string {
	if k == 0 {
		return ""
	}
	return " key=" + string(k)
}

// close runs CS-CLOSE: ask if there is anything more; after a reply say
// goodbye and give the caller time to hang up first; if the caller stays
// silent, or stays on the line, say the final phrase and hang up after 5 s.
func (r *Runner) close(ctx context.Context, c *Close) error {
	h, err := r.play(ctx, orStr(c.Ask, "close.ask"))
	if err != nil {
		return err
	}
	if !h.any() {
		if h, err = r.wait(ctx, c.AnswerWait.or(DefaultSilenceWait)); err != nil {
			return err
		}
	}
	if h.weak && !h.speech && h.key == 0 {
		// CS-REPEAT: a reply too faint to understand; ask once, politely,
		// for it again.
		if h, err = r.play(ctx, orStr(c.Repeat, "repeat")); err != nil {
			return err
		}
		if !h.any() {
			if h, err = r.wait(ctx, c.AnswerWait.or(DefaultSilenceWait)); err != nil {
				return err
			}
		}
	}
	if h.any() {
		if _, err := r.play(ctx, orStr(c.Bye, "close.bye")); err != nil {
			return err
		}
		// Wait for the caller to hang up first: only the call's end
		// (cancelling ctx) or the timeout ends this wait.
		r.note("wait", "caller hang-up")
		if _, err := r.pause(ctx, c.CallerHangup.or(10*time.Second), never); err != nil {
			return err
		}
	}
	if _, err := r.play(ctx, orStr(c.Final, "close.hangup")); err != nil {
		return err
	}
	r.note("wait", "before hang-up")
	if _, err := r.pause(ctx, c.HangupAfter.or(DefaultSilenceWait), never); err != nil {
		return err
	}
	if err := r.hangup(ctx); err != nil {
		return err
	}
	return errHungUp
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
