// Package screen decides, on the INVITE and before answer, whether a call
// is a nuisance (CS-NUISANCE): a number on the nuisance list ops keep, a
// number that called too often (the repeat-call rule), or a withheld number
// (the anonymous policy). Each verdict is Allow, Reject with a SIP code, or
// Route to the nuisance path (the default: kefu answers with the polite
// line-fault message), with a reason code and what matched.
//
// Screening is split in two so that only calls kefu served count
// (CS-ANGRY): Check judges an INVITE without writing anything, and Count
// counts the call once kefu has answered it; a call kefu refused (no
// media port, no common codec) or that the caller cancelled is never
// counted. A number with an open complaint or callback, or whose call kefu
// cut short lately (CutShort), is never flagged. A flag proposes a list
// entry that a person confirms or rejects (Manager).
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

// The repeat-call rule by default (CS-NUISANCE, CS-ANGRY): more than
// DefaultRepeatCalls served calls from one number within
// DefaultRepeatWindow flag it for DefaultRepeatBlock; a call kefu cut short
// spares its number for DefaultRepeatSpare.
const (
	DefaultRepeatCalls  = 10
	DefaultRepeatWindow = 10 * time.Minute
	DefaultRepeatBlock  = time.Hour
	DefaultRepeatSpare  = time.Hour
)

// maxKeyLen bounds the caller string the repeat rule counts by; a longer
// SIP user part is cut (it is not a phone number anyway).
const maxKeyLen = 64

// Config is the screening policy. Its zero value is the default: the
// repeat-call rule on with the default limits and the nuisance path for
// flagged numbers, anonymous callers allowed.
type Config struct {
	Repeat    Repeat
	Anonymous Action // a call with a withheld number: Allow (the zero value), Reject or Route
}

// Repeat is the repeat-call rule: a number with more than Calls served
// calls within Window is a nuisance for Block after the last call over the
// limit, unless it is spared (an open complaint or callback, or a call kefu
// cut short within Spare). Zero fields take the defaults; Off turns the
// rule off.
type Repeat struct {
	Off    bool
	Calls  int
	Window time.Duration
	Block  time.Duration
	Spare  time.Duration
	Action Action // zero: DefaultAction, the nuisance path
}

// Validate checks the policy; its errors wrap ErrInvalid.
func (c Config) Validate() error {
	_, err := c.normalize(nil)
	return err
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
	if r.Spare == 0 {
		r.Spare = DefaultRepeatSpare
	}
	switch {
	case r.Calls < 0:
		return c, invalid("repeat.calls", fmt.Sprintf("%d: must be positive", r.Calls))
	case r.Window < 0:
		return c, invalid("repeat.window", fmt.Sprintf("%v: must be positive", r.Window))
	case r.Block < 0:
		return c, invalid("repeat.block", fmt.Sprintf("%v: must be positive", r.Block))
	case r.Spare < 0:
		return c, invalid("repeat.spare", fmt.Sprintf("%v: must be positive", r.Spare))
	}
	var err error
	if r.Action, err = r.Action.normalize(false); err != nil {
		return c, fmt.Errorf("repeat: %w", err)
	}
	if c.Anonymous.Kind == "" && c.Anonymous.Code == 0 {
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

// WithLogger logs to l the numbers the repeat-call rule flags, the
// proposals people decide, and the rare background problem (a failed
// prune), numbers masked; the default discards. Verdicts are for the
// caller to log (Verdict.LogValue). A nil l changes nothing.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

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
	pend *pending     // calls let through, not yet answered or refused
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
	return &Screener{st: st, cfg: cfg, now: now, log: o.log, pend: newPending()}, nil
}

// Config returns the policy in effect, defaults filled in.
func (s *Screener) Config() Config { return s.cfg }

// Check decides what happens to call c, and writes nothing to the store.
// The rules, in order:
//
//  1. a number on the nuisance list gets its entry's action (exact number
//     first, then the longest prefix); such calls are not counted. This
//     holds for a withheld call that still carries a number (one the trunk
//     asserted), so hiding the number does not get a listed caller through;
//  2. a withheld number gets the anonymous policy; it is never counted
//     ("anonymous" is not one caller);
//  3. the repeat-call rule: a number that is flagged, or whose served calls
//     within the window, with its calls still ringing, already reach the
//     limit (so this call would go over it), gets the rule's action —
//     unless it is spared (an open complaint or callback, a call kefu cut
//     short within Spare), which the verdict's Spared says. Either way
//     the call counts once it is served: a caller who keeps calling on the
//     nuisance path stays flagged.
//
// A call the rule counts and that is not refused holds its place among
// the number's calls until it is answered (Count) or not (Release), so
// simultaneous calls from one number are judged with each other: of 20 at
// once, 10 are let through.
//
// Otherwise the call is allowed. When the store fails the call is allowed
// too — a sick disk must not turn customers away — with ReasonError and the
// error, which never contains the number.
func (s *Screener) Check(ctx context.Context, c Call) (Verdict, error) {
	at := c.At
	if at.IsZero() {
		at = s.now()
	}
	if cands := candidates(c.Caller); len(cands) > 0 {
		es, err := s.st.MatchEntries(ctx, cands, at)
		if err != nil {
			return failOpen(Verdict{}, fmt.Errorf("screen: nuisance list: %w", err))
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
	if s.cfg.Repeat.Off {
		return Verdict{Action: Action{Kind: Allow}}, nil
	}
	key := counterKey(c.Caller)
	st := s.pend.lock(key)
	defer st.mu.Unlock()
	v, err := s.repeat(ctx, key, at, st.live(key, at))
	if v.Kind != Reject {
		v.t = st.add(key, at)
	}
	return v, err
}

// repeat applies the repeat-call rule to a call from key at at, with
// ringing calls from it still pending.
func (s *Screener) repeat(ctx context.Context, key string, at time.Time, ringing int) (Verdict, error) {
	r := s.cfg.Repeat
	allow := Verdict{Action: Action{Kind: Allow}, key: key, at: at}
	n, flag, err := s.st.CountCalls(ctx, key, at, r.Window)
	if err != nil {
		return failOpen(allow, fmt.Errorf("screen: count calls: %w", err))
	}
	n += ringing
	if flag == nil || !flag.Until.After(at) {
		if n < r.Calls {
			return allow, nil
		}
		// This call would take the number over the limit: the flag it
		// sets once it is counted.
		flag = &Flag{Number: key, Since: at, Until: at.Add(r.Block), Calls: n + 1}
	}
	ex, err := s.st.Exemption(ctx, key, at.Add(-r.Spare))
	if err != nil {
		return failOpen(allow, fmt.Errorf("screen: exemptions: %w", err))
	}
	if ex != ExemptNone {
		allow.Spared = ex
		return allow, nil
	}
	return Verdict{Action: r.Action, Reason: ReasonRepeat, Flag: flag, key: key, at: at}, nil
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

// failOpen is the verdict when the store fails: allow, and say why. v
// keeps the call's ticket, so that it still counts once served.
func failOpen(v Verdict, err error) (Verdict, error) {
	v.Action, v.Reason, v.Spared = Action{Kind: Allow}, ReasonError, ExemptNone
	return v, err
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
		a = DefaultAction
	}
	best.Action = a
	return best, true
}
