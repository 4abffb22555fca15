package softphone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// agentUserAgent is the User-Agent header of kefu agent's requests.
const agentUserAgent = "kefu-agent"

// agentAllow lists the methods the agent phone serves.
const agentAllow = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO"

// Defaults of AgentConfig.
const (
	DefaultExpires     = 10 * time.Minute
	DefaultQueueHeader = "X-Kefu-Queue"
)

// unregisterTimeout bounds the un-REGISTER at the end of a run.
const unregisterTimeout = 5 * time.Second

// ErrAgentStopped ends the calls in progress when the agent stops.
var ErrAgentStopped = errors.New("softphone: agent stopped")

// AgentConfig describes a scripted agent phone (kefu agent): it registers
// as sip:ID@registrar-host and answers the calls it is offered. Zero fields
// take the defaults.
type AgentConfig struct {
	// Registrar is kefu's SIP URI, e.g. "sip:127.0.0.1:5060".
	Registrar string
	// ID and Password are the agent's id (the user part) and digest
	// password.
	ID, Password string
	// Listen is the local UDP address; port 0 picks a free one. With an
	// unspecified IP the address the system routes to the registrar from
	// is advertised.
	Listen string
	// Expires is the registration expiry asked for.
	Expires time.Duration
	// Playback says what an answered call sends, and the keys it presses
	// (RFC 4733 when the call negotiated telephone-event, else SIP INFO).
	Playback
	// RecordDir, if set, receives each answered call's audio as
	// DIR/<n>-<call-id>.wav, 8 kHz mono 16-bit.
	RecordDir string
	// AnswerAfter is how long each offer rings (180) before the answer.
	AnswerAfter time.Duration
	// NoAnswer rings until the caller cancels.
	NoAnswer bool
	// Reject, if set, answers each offer with this final status instead.
	Reject int
	// HangupAfter hangs up this long after the answer; 0 waits for BYE.
	HangupAfter time.Duration
	// For stops the agent after this long; 0 runs until ctx ends.
	For time.Duration
	// Calls stops the agent once this many offered calls have ended.
	Calls int
	// QueueHeader names the INVITE header that carries the queue.
	QueueHeader string
	// Detector tunes how audio stretches are found.
	Detector DetectorConfig
	// OnEvent receives each timeline event as it happens, one at a time.
	OnEvent func(Event)
	// Logger receives SIP stack diagnostics; nil discards them.
	Logger *slog.Logger
}

func (c AgentConfig) withDefaults() (AgentConfig, error) {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.Expires == 0 {
		c.Expires = DefaultExpires
	}
	if c.QueueHeader == "" {
		c.QueueHeader = DefaultQueueHeader
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case c.Registrar == "":
		return c, errors.New("softphone: no registrar URI")
	case c.ID == "":
		return c, errors.New("softphone: no agent id")
	case c.Reject != 0 && (c.Reject < 400 || c.Reject > 699):
		return c, fmt.Errorf("softphone: reject code %d: want 400 to 699", c.Reject)
	case c.Reject != 0 && c.NoAnswer:
		return c, errors.New("softphone: reject and no-answer exclude each other")
	case c.Expires < time.Second || c.AnswerAfter < 0 || c.HangupAfter < 0 || c.For < 0 || c.Calls < 0:
		return c, errors.New("softphone: durations and counts must not be negative (expires at least 1s)")
	}
	return c, validateMedia(c.Playback, c.Detector)
}

// AgentResult is what happened during an agent's run, for Go callers; the
// same facts are on the event stream.
type AgentResult struct {
	// Registered says whether the first registration was accepted.
	Registered bool
	// Calls are the calls offered, in order.
	Calls []*AgentCall
	// Events is the whole timeline in emission order.
	Events []Event
}

// AgentCall is one offered call.
type AgentCall struct {
	N                            int
	CallID, From, Display, Queue string
	Called                       string
	Wait                         time.Duration // X-Kefu-Wait, -1 if absent
	Outcome                      Kind          // EvByeReceived, EvByeSent, EvCancelled, EvRejected or EvFinal
	Code                         int           // the final status we sent
	Codec                        string
	Answered, Ended              time.Duration
	Packets, Lost, Sent          uint64
	Stretches                    []Stretch
	Recording                    string // the WAV file, if recorded
	Err                          error  // what broke, for EvFinal
}

// agent is a running agent phone. The run goroutine owns registration; each
// call is owned by the goroutine that serves its INVITE.
type agent struct {
	eventLog
	cfg     AgentConfig
	st      *stack
	dialogs *sipgo.DialogServerCache
	reg     *registration
	contact sip.Uri // ours, in REGISTER, responses and dialogs
	log     *slog.Logger

	callsCtx  context.Context // ends when the agent stops: calls hang up
	stopCalls context.CancelCauseFunc
	accepting atomic.Bool
	busy      atomic.Bool // a call is offered or in progress
	offered   atomic.Int32
	wg        sync.WaitGroup // calls in progress
	ended     chan struct{}  // one token per ended call

	mu    sync.Mutex // res.Calls and calls
	res   *AgentResult
	calls map[string]*agentCall // answered calls by dialog id, for re-INVITEs
}

// RunAgent registers, serves offered calls until ctx ends, cfg.For has
// passed or cfg.Calls calls have ended, then hangs up what is left and
// un-registers. It returns an error wrapping ErrRegister when registration
// failed (a *RegisterError when it was refused), and the errors of broken
// calls. The result is nil only when cfg is unusable.
func RunAgent(ctx context.Context, cfg AgentConfig) (*AgentResult, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	registrar, err := parseSIPURI("registrar", cfg.Registrar)
	if err != nil {
		return nil, err
	}
	a := &agent{cfg: cfg, log: cfg.Logger, res: &AgentResult{}, ended: make(chan struct{}, 64), calls: map[string]*agentCall{}}
	if a.st, err = newStack(cfg.Listen, "UDP", registrar, agentUserAgent, cfg.Logger); err != nil {
		return nil, err
	}
	defer a.st.close()
	a.eventLog = eventLog{start: time.Now(), events: &a.res.Events, sink: cfg.OnEvent}
	a.contact = sip.Uri{Scheme: "sip", User: cfg.ID, Host: a.st.advertise.String(), Port: a.st.port()}
	a.dialogs = sipgo.NewDialogServerCache(a.st.client, sip.ContactHeader{Address: a.contact})
	a.callsCtx, a.stopCalls = context.WithCancelCause(context.WithoutCancel(ctx))
	defer a.stopCalls(nil)
	a.accepting.Store(true)
	a.serve()

	a.reg = &registration{
		send: func(ctx context.Context, req *sip.Request) (*sip.Response, error) {
			return a.st.client.Do(ctx, req)
		},
		registrar: sip.Uri{Scheme: "sip", Host: registrar.Host, Port: registrar.Port},
		aor:       sip.Uri{Scheme: "sip", User: cfg.ID, Host: registrar.Host},
		contact:   a.contact,
		user:      cfg.ID,
		password:  cfg.Password,
		userAgent: agentUserAgent,
		callID:    sip.GenerateTagN(24),
		fromTag:   sip.GenerateTagN(12),
	}
	err = a.run(ctx)
	return a.res, err
}

// run keeps the registration and waits for the end of the run.
func (a *agent) run(ctx context.Context) error {
	granted, err := a.register(ctx, EvRegistered)
	if err != nil {
		a.finish(err)
		return err
	}
	a.res.Registered = true
	var forC <-chan time.Time
	if a.cfg.For > 0 {
		t := time.NewTimer(a.cfg.For - a.since())
		defer t.Stop()
		forC = t.C
	}
	refresh := time.NewTimer(refreshAfter(granted))
	defer refresh.Stop()
	ended := 0
	var runErr error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-forC:
			break loop
		case <-a.ended:
			if ended++; a.cfg.Calls > 0 && ended >= a.cfg.Calls {
				break loop
			}
		case <-refresh.C:
			if granted, runErr = a.register(ctx, EvRefreshed); runErr != nil {
				break loop
			}
			refresh.Reset(refreshAfter(granted))
		}
	}
	a.accepting.Store(false)
	a.stopCalls(ErrAgentStopped)
	a.wg.Wait()
	if runErr == nil {
		runErr = a.unregister(ctx)
	}
	runErr = errors.Join(runErr, a.callErrors())
	a.finish(runErr)
	return runErr
}

// register sends one registration and reports it as kind, or as
// EvRegisterFailed.
func (a *agent) register(ctx context.Context, kind Kind) (time.Duration, error) {
	granted, err := a.reg.register(ctx, a.cfg.Expires)
	if err == nil && granted <= 0 {
		err = fmt.Errorf("%w: the registrar granted no time", ErrRegister)
	}
	if err != nil {
		a.emit(registerFailed(a.since(), err))
		return 0, err
	}
	a.emit(Event{T: a.since(), Kind: kind, Expires: granted})
	return granted, nil
}

// unregister removes the binding (Expires: 0), bounded even when ctx ended.
func (a *agent) unregister(ctx context.Context) error {
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unregisterTimeout)
	defer cancel()
	if _, err := a.reg.register(uctx, 0); err != nil {
		a.emit(registerFailed(a.since(), err))
		return err
	}
	a.emit(Event{T: a.since(), Kind: EvUnregistered, Code: sip.StatusOK})
	return nil
}

func registerFailed(at time.Duration, err error) Event {
	e := Event{T: at, Kind: EvRegisterFailed, Error: err.Error()}
	if re, ok := errors.AsType[*RegisterError](err); ok {
		e.Code, e.Reason = re.Code, re.Reason
	}
	return e
}

// callErrors joins the errors of the calls that broke.
func (a *agent) callErrors() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var errs []error
	for _, c := range a.res.Calls {
		if c.Err != nil {
			errs = append(errs, fmt.Errorf("call %d: %w", c.N, c.Err))
		}
	}
	return errors.Join(errs...)
}

// finish emits the summary line.
func (a *agent) finish(err error) {
	if err != nil {
		a.emit(Event{T: a.since(), Kind: EvFinal, Error: err.Error()})
	}
	a.mu.Lock()
	calls, answered := len(a.res.Calls), 0
	for _, c := range a.res.Calls {
		if c.Answered > 0 {
			answered++
		}
	}
	a.mu.Unlock()
	a.emit(Event{T: a.since(), Kind: EvDone, Dur: a.since(), Calls: calls, Answered: answered, agent: true})
}
