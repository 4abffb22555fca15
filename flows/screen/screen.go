// Package screen decides, on the INVITE and before answer, whether a call
// is a nuisance (CS-NUISANCE): a number on the nuisance list ops keep, a
// number that called too often (the repeat-call rule), or a withheld number
// (the anonymous policy). Each verdict is Allow, Reject with a SIP code, or
// Route to a nuisance path or queue, with a reason code and what matched.
//
// The policy is pure logic over a Store (flows/store implements it on
// SQLite) and a clock the caller passes in; it never reads the wall clock
// itself, so tests run it in virtual time. Numbers never appear in its
// errors or logs unmasked (CS-PRIVACY).
package screen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/kefu-hotline/kefu/flows/callerid"
)

// The repeat-call rule by default (CS-NUISANCE, issue 6): more than
// DefaultRepeatCalls calls from one number within DefaultRepeatWindow make
// it a nuisance for the next DefaultRepeatBlock.
const (
	DefaultRepeatCalls  = 5
	DefaultRepeatWindow = 10 * time.Minute
	DefaultRepeatBlock  = time.Hour
)

// maxKeyLen bounds the caller string the repeat rule counts by; a longer
// SIP user part is cut (it is not a phone number anyway).
const maxKeyLen = 64

// Config is the screening policy. Its zero value is the default: the
// repeat-call rule on with the default limits and Reject 603, anonymous
// callers allowed.
type Config struct {
	Repeat    Repeat
	Anonymous Action // a call with a withheld number: Allow (the zero value), Reject or Route
}

// Repeat is the repeat-call rule: a number with more than Calls calls within
// Window is a nuisance for Block after the last call over the limit. Zero
// fields take the defaults; Off turns the rule off.
type Repeat struct {
	Off    bool
	Calls  int
	Window time.Duration
	Block  time.Duration
	Action Action // zero: Reject 603
}

// normalize fills in the defaults and checks the policy.
func (c Config) normalize(checkTarget func(string) error) (Config, error) {
	r := &c.Repeat
	if r.Calls == 0 {
		r.Calls = DefaultRepeatCalls
	}
	if r.Window == 0 {
		r.Window = DefaultRepeatWindow
	}
	if r.Block == 0 {
		r.Block = DefaultRepeatBlock
	}
	switch {
	case r.Calls < 0:
		return c, invalid("repeat.calls", fmt.Sprintf("%d: must be positive", r.Calls))
	case r.Window < 0:
		return c, invalid("repeat.window", fmt.Sprintf("%v: must be positive", r.Window))
	case r.Block < 0:
		return c, invalid("repeat.block", fmt.Sprintf("%v: must be positive", r.Block))
	}
	var err error
	if r.Action, err = r.Action.normalize(false); err != nil {
		return c, fmt.Errorf("repeat: %w", err)
	}
	if c.Anonymous.Kind == "" {
		c.Anonymous.Kind = Allow
	}
	if c.Anonymous, err = c.Anonymous.normalize(true); err != nil {
		return c, fmt.Errorf("anonymous: %w", err)
	}
	for _, a := range []Action{r.Action, c.Anonymous} {
		if a.Kind == Route && checkTarget != nil {
			if err := checkTarget(a.Target); err != nil {
				return c, &ValidationError{Field: "target", Msg: err.Error()}
			}
		}
	}
	return c, nil
}

// Call is what screening knows about an INVITE.
type Call struct {
	Caller    string         // the caller number (user part of From, or an identity the trunk asserted); may be "" or "anonymous"
	Anonymous bool           // the caller withheld the number (Privacy header, "anonymous" user ...); "" counts as withheld too
	Called    string         // the called user; no rule uses it yet
	Source    netip.AddrPort // where the INVITE came from; no rule uses it yet (per-source limits are sip's flood guard)
	At        time.Time      // when the INVITE arrived; zero means the Screener's clock
}

// Option adjusts a Screener or a Manager.
type Option func(*options)

type options struct {
	log         *slog.Logger
	checkTarget func(string) error
}

// WithLogger logs the rare background problem (a failed prune) to l; the
// default discards. Verdicts are for the caller to log (Verdict.LogValue).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithTargets checks every route target (in the config and in list
// entries) against the routes config defines; check returns an error for
// an unknown one. Without it any well-formed name is accepted.
func WithTargets(check func(target string) error) Option {
	return func(o *options) { o.checkTarget = check }
}

func buildOptions(opts []Option) options {
	o := options{log: slog.New(slog.DiscardHandler)}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// Screener applies the policy to calls. It is safe for concurrent use; to
// change the policy (a config reload) make a new one on the same Store.
type Screener struct {
	st   Store
	cfg  Config
	now  func() time.Time
	log  *slog.Logger
	last atomic.Int64 // unix ns of the last prune
}

// New makes a Screener over st with policy cfg. now is its clock (clock.Now
// in production, a virtual clock in tests); it is read only for calls with
// no At and by Prune.
func New(st Store, cfg Config, now func() time.Time, opts ...Option) (*Screener, error) {
	if st == nil || now == nil {
		return nil, errors.New("screen: New needs a store and a clock")
	}
	o := buildOptions(opts)
	cfg, err := cfg.normalize(o.checkTarget)
	if err != nil {
		return nil, fmt.Errorf("screen config: %w", err)
	}
	return &Screener{st: st, cfg: cfg, now: now, log: o.log}, nil
}

// Config returns the policy in effect, defaults filled in.
func (s *Screener) Config() Config { return s.cfg }

// Screen decides what happens to call c. The rules, in order:
//
//  1. a number on the nuisance list gets its entry's action (exact number
//     first, then the longest prefix); such calls are not counted. This
//     holds for a withheld call that still carries a number (one the trunk
//     asserted), so hiding the number does not get a listed caller through;
//  2. a withheld number gets the anonymous policy; it is never counted
//     ("anonymous" is not one caller);
//  3. the repeat-call rule counts the call; the call that takes the number
//     over the limit, and every call while the number is flagged, get the
//     rule's action. Calls while flagged count too, so a caller who keeps
//     calling stays flagged.
//
// Otherwise the call is allowed. When the store fails the call is allowed
// too — a sick disk must not turn customers away — with ReasonError and the
// error, which never contains the number.
func (s *Screener) Screen(ctx context.Context, c Call) (Verdict, error) {
	at := c.At
	if at.IsZero() {
		at = s.now()
	}
	if cands := candidates(c.Caller); len(cands) > 0 {
		es, err := s.st.MatchEntries(ctx, cands, at)
		if err != nil {
			return failOpen(fmt.Errorf("screen: nuisance list: %w", err))
		}
		if e, ok := pick(es, at); ok {
			return Verdict{Action: e.Action, Reason: ReasonList, Entry: &e}, nil
		}
	}
	if c.Anonymous || c.Caller == "" {
		if s.cfg.Anonymous.Kind == Allow {
			return Verdict{Action: s.cfg.Anonymous}, nil
		}
		return Verdict{Action: s.cfg.Anonymous, Reason: ReasonAnonymous}, nil
	}
	r := s.cfg.Repeat
	if r.Off {
		return Verdict{Action: Action{Kind: Allow}}, nil
	}
	s.maybePrune(ctx, at)
	key := counterKey(c.Caller)
	n, flag, err := s.st.RecordAttempt(ctx, key, at, r.Window)
	if err != nil {
		return failOpen(fmt.Errorf("screen: record call: %w", err))
	}
	if n > r.Calls {
		f, err := s.st.PutFlag(ctx, Flag{Number: key, Since: at, Until: at.Add(r.Block), Calls: n})
		if err != nil {
			return failOpen(fmt.Errorf("screen: flag: %w", err))
		}
		flag = &f
	}
	if flag != nil && flag.Until.After(at) {
		return Verdict{Action: r.Action, Reason: ReasonRepeat, Flag: flag}, nil
	}
	return Verdict{Action: Action{Kind: Allow}}, nil
}

// counterKey is the key the repeat rule counts a caller by: the number
// without separators, cut to maxKeyLen bytes.
func counterKey(caller string) string {
	k := callerid.Normalize(dropSeparators(caller))
	if len(k) > maxKeyLen {
		k = k[:maxKeyLen]
	}
	return k
}

// failOpen is the verdict when the store fails: allow, and say why.
func failOpen(err error) (Verdict, error) {
	return Verdict{Action: Action{Kind: Allow}, Reason: ReasonError}, err
}

// pick returns the most specific active entry of es, with its action made
// whole (an entry a person edited in the database could lack one).
func pick(es []Entry, at time.Time) (Entry, bool) {
	var best Entry
	found := false
	for _, e := range es {
		if e.Active(at) && (!found || better(e.Pattern, best.Pattern)) {
			best, found = e, true
		}
	}
	if !found {
		return best, false
	}
	a, err := best.Action.normalize(false)
	if err != nil {
		a = Action{Kind: Reject, Code: DefaultRejectCode}
	}
	best.Action = a
	return best, true
}

// maybePrune prunes the repeat-call state at most once per window, from
// whichever call comes first after it; a failure is logged and screening
// goes on.
func (s *Screener) maybePrune(ctx context.Context, at time.Time) {
	last := s.last.Load()
	if at.UnixNano()-last < int64(s.cfg.Repeat.Window) || !s.last.CompareAndSwap(last, at.UnixNano()) {
		return
	}
	if err := s.st.Prune(ctx, at, s.cfg.Repeat.Window); err != nil {
		s.log.WarnContext(ctx, "screen: prune of the repeat-call state failed", "error", err)
	}
}

// Prune deletes the repeat-call state that no longer matters at the
// clock's time: calls older than the window and ended flags. Screen already
// does this once per window; call it to clean up on a schedule of your own.
func (s *Screener) Prune(ctx context.Context) error {
	at := s.now()
	s.last.Store(at.UnixNano())
	if err := s.st.Prune(ctx, at, s.cfg.Repeat.Window); err != nil {
		return fmt.Errorf("screen: prune: %w", err)
	}
	return nil
}
