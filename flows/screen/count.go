package screen

import (
	"context"
	"fmt"
	"time"

	"github.com/kefu-hotline/kefu/flows/callerid"
)

// Counted is what counting a served call did.
type Counted struct {
	Calls    int       // the number's served calls within the window, this one included
	Flag     *Flag     // the number's flag when this call set or extended it; nil otherwise
	Spared   Exemption // why a number over the limit was not flagged
	Proposal *Proposal // the list entry proposed for a flagged number
}

// Count counts the call of verdict v (from Check) as served: call it once
// kefu has answered the call, and never for a call it refused or the
// caller cancelled (Release those). A call the rule does not count (a listed or withheld
// number, the rule off) is ignored. The count is atomic with the number's
// other calls, so concurrent calls from one number each count once; when
// the count goes over the limit and the number is not spared, the number
// is flagged for Block (a flag already in force is extended) and a list
// entry is proposed (one open proposal per number). Counting also prunes
// the rule's old state, at most once per window.
func (s *Screener) Count(ctx context.Context, v Verdict) (Counted, error) {
	if !v.Counts() {
		return Counted{}, nil
	}
	r := s.cfg.Repeat
	s.maybePrune(ctx, v.at)
	st := s.pend.lock(v.key)
	n, _, err := s.st.RecordAttempt(ctx, v.key, v.at, r.Window)
	st.remove(v.key, v.t)
	st.mu.Unlock()
	if err != nil {
		return Counted{}, fmt.Errorf("screen: count call: %w", err)
	}
	if n <= r.Calls {
		return Counted{Calls: n}, nil
	}
	return s.flag(ctx, v, n)
}

// Release gives up the place the call of verdict v held among its
// number's ringing calls: call it when kefu refuses the call after Check
// let it through (no media port, no common codec, a flow's reject step) or
// the caller cancels. The call is not counted. Releasing twice, or after
// Count, does nothing.
func (s *Screener) Release(v Verdict) {
	if v.t == nil {
		return
	}
	st := s.pend.lock(v.key)
	st.remove(v.key, v.t)
	st.mu.Unlock()
}

// Continue shares prev's ringing calls with s, so that calls let through
// by the configuration a reload replaces still hold their places: call it
// on the new Screener before it screens any call.
func (s *Screener) Continue(prev *Screener) {
	if prev != nil {
		s.pend = prev.pend
	}
}

// Refused records what a call the repeat-call rule refused leaves (when
// ops made its action a rejection): the call is not counted, as no refused
// call is, but the number is flagged — or its flag extended — and proposed
// for the list, as if the call had been counted. Other verdicts are
// ignored.
func (s *Screener) Refused(ctx context.Context, v Verdict) (Counted, error) {
	if !v.Counts() || v.Reason != ReasonRepeat || v.Kind != Reject || v.Flag == nil {
		return Counted{}, nil
	}
	return s.flag(ctx, v, v.Flag.Calls)
}

// flag flags v's number after n calls, unless it is spared, and proposes
// it for the list.
func (s *Screener) flag(ctx context.Context, v Verdict, n int) (Counted, error) {
	r := s.cfg.Repeat
	out := Counted{Calls: n}
	var err error
	if out.Spared, err = s.st.Exemption(ctx, v.key, v.at.Add(-r.Spare)); err != nil || out.Spared != ExemptNone {
		return out, wrap("screen: exemptions", err)
	}
	f, err := s.st.PutFlag(ctx, Flag{Number: v.key, Since: v.at, Until: v.at.Add(r.Block), Calls: n})
	if err != nil {
		return out, fmt.Errorf("screen: flag: %w", err)
	}
	out.Flag = &f
	p, err := s.st.Propose(ctx, Proposal{Number: v.key, Reason: proposalReason(f.Calls, r.Window, f.Since.In(v.at.Location())),
		Calls: f.Calls, Since: f.Since, Until: f.Until, Status: Proposed})
	if err != nil {
		return out, fmt.Errorf("screen: propose a list entry: %w", err)
	}
	out.Proposal = &p
	s.log.InfoContext(ctx, "repeat-call rule flagged a number", "number", callerid.Mask(v.key), "calls", n,
		"until", f.Until, "proposal", p.ID)
	return out, nil
}

// CutShort records that kefu cut the call of verdict v short — the
// system-down flow, a line fault, a dropped call — so that its number is
// spared by the repeat-call rule for Spare from at (CS-ANGRY: the caller
// will call again, and rightly). Calls the rule does not count, and calls
// it judged nuisance, are ignored.
func (s *Screener) CutShort(ctx context.Context, v Verdict, at time.Time) error {
	if !v.Counts() || !v.Allowed() {
		return nil
	}
	if err := s.st.RecordCutShort(ctx, v.key, at); err != nil {
		return fmt.Errorf("screen: record a call cut short: %w", err)
	}
	return nil
}

// proposalReason says why a number is proposed for the list.
func proposalReason(calls int, window time.Duration, since time.Time) string {
	return fmt.Sprintf("repeat-call rule: %d calls within %v (over the limit since %s)",
		calls, window, since.Format(time.RFC3339))
}

// wrap wraps err with msg, nil for nil.
func wrap(msg string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", msg, err)
}

// maybePrune prunes the repeat-call state at most once per window, from
// whichever counted call comes first after it; a failure is logged and
// counting goes on.
func (s *Screener) maybePrune(ctx context.Context, at time.Time) {
	last := s.last.Load()
	if at.UnixNano()-last < int64(s.cfg.Repeat.Window) || !s.last.CompareAndSwap(last, at.UnixNano()) {
		return
	}
	if err := s.st.Prune(ctx, at, s.cfg.Repeat.Window, s.cfg.Repeat.Spare); err != nil {
		s.log.WarnContext(ctx, "screen: prune of the repeat-call state failed", "error", err)
	}
}

// Prune deletes the repeat-call state that no longer matters at the
// clock's time: calls older than the window, ended flags, calls cut short
// longer than Spare ago. Count already does this once per window; call it
// to clean up on a schedule of your own.
func (s *Screener) Prune(ctx context.Context) error {
	at := s.now()
	s.last.Store(at.UnixNano())
	if err := s.st.Prune(ctx, at, s.cfg.Repeat.Window, s.cfg.Repeat.Spare); err != nil {
		return fmt.Errorf("screen: prune: %w", err)
	}
	return nil
}
