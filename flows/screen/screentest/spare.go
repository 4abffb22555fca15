package screentest

import (
	"errors"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/flows/screen"
)

// backend is the store's records side: Rules needs stores that keep both.
func (e *Env) backend() records.Backend {
	e.T.Helper()
	b, ok := e.Store.(records.Backend)
	if !ok {
		e.T.Fatalf("%T keeps no records (records.Backend)", e.Store)
	}
	return b
}

// spared makes n calls from number, d apart from start, and checks that
// each is served, that the last over of them, over the limit, were spared
// for why, and that the number was neither flagged nor proposed.
func (e *Env) spared(number string, start, d time.Duration, n, over int, why screen.Exemption) {
	e.T.Helper()
	for i, t := range every(start, d, n) {
		v := e.Want(number, t, screen.Allow, screen.ReasonNone)
		want := screen.ExemptNone
		if i >= n-over {
			want = why
		}
		if v.Spared != want {
			e.T.Fatalf("call %d of %d at T0+%v: spared %q, want %q", i+1, n, t.Sub(T0), v.Spared, want)
		}
	}
	if fs, err := e.Store.Flags(e.T.Context(), at(start)); err != nil || len(fs) != 0 {
		e.T.Fatalf("flags %+v %v: a spared number was flagged", fs, err)
	}
	if ps, err := e.M.Proposals(e.T.Context(), true); err != nil || len(ps) != 0 {
		e.T.Fatalf("proposals %+v %v: a spared number was proposed", ps, err)
	}
}

// spareComplaint: a customer with a complaint not yet answered is served
// on every call, however often (CS-ANGRY); once it is answered the rule
// applies again.
func spareComplaint(e *Env) {
	b := e.backend()
	c, err := b.AddComplaint(e.T.Context(), records.Complaint{CallID: "c1", Caller: caller, Class: "service", At: at(-time.Hour)})
	if err != nil {
		e.T.Fatal(err)
	}
	e.spared(caller, 0, 20*time.Second, 15, 5, screen.ExemptComplaint)
	if err := b.MarkComplaintReplied(e.T.Context(), c.ID, at(5*time.Minute), "ops"); err != nil {
		e.T.Fatal(err)
	}
	e.Want(caller, at(5*time.Minute+time.Second), screen.Route, screen.ReasonRepeat)
}

// spareCallback: a number owed a callback — as the caller who left it, or
// as the number left — is served on its 12th call; once called back the
// rule applies again.
func spareCallback(e *Env) {
	b := e.backend()
	left, err := b.AddCallback(e.T.Context(), records.Callback{CallID: "c1", Caller: caller, Number: "01088886666", Reason: "system_down", At: at(-time.Hour)})
	if err != nil {
		e.T.Fatal(err)
	}
	if _, err := b.AddCallback(e.T.Context(), records.Callback{CallID: "c2", Caller: "anonymous", Number: "13900001111", Reason: "system_down", At: at(-time.Hour)}); err != nil {
		e.T.Fatal(err)
	}
	e.spared(caller, 0, 20*time.Second, 12, 2, screen.ExemptCallback)
	e.spared("13900001111", 0, 20*time.Second, 12, 2, screen.ExemptCallback)
	if err := b.MarkCallbackDone(e.T.Context(), left.ID, at(5*time.Minute), "ops"); err != nil {
		e.T.Fatal(err)
	}
	e.Want(caller, at(5*time.Minute+time.Second), screen.Route, screen.ReasonRepeat)
}

// spareCutShort: a number whose call kefu cut short (the system-down flow,
// a line fault, a dropped call) is spared for Spare after it; calls
// judged nuisance are never taken for cut short.
func spareCutShort(e *Env) {
	var v screen.Verdict
	for _, t := range every(0, 10*time.Second, 5) {
		v = e.Want(caller, t, screen.Allow, screen.ReasonNone)
	}
	if err := e.S.CutShort(e.T.Context(), v, at(time.Minute)); err != nil {
		e.T.Fatal(err)
	}
	e.spared(caller, time.Minute, 10*time.Second, 10, 5, screen.ExemptCutShort) // 15 calls in 2.5 minutes
	// An hour after the call was cut short the rule applies again.
	for _, t := range every(time.Hour+time.Minute, 10*time.Second, 10) {
		e.Want(caller, t, screen.Allow, screen.ReasonNone)
	}
	nuisance := e.Want(caller, at(time.Hour+3*time.Minute), screen.Route, screen.ReasonRepeat)
	if err := e.S.CutShort(e.T.Context(), nuisance, at(time.Hour+4*time.Minute)); err != nil {
		e.T.Fatal(err)
	}
	e.Want(caller, at(time.Hour+5*time.Minute), screen.Route, screen.ReasonRepeat)
}

// spareFlagged: a flagged number that then gets a complaint or a callback
// is served while it is open, though its flag stays.
func spareFlagged(e *Env) {
	for _, t := range every(0, time.Second, 11) {
		e.Call(caller, t)
	}
	e.Want(caller, at(time.Minute), screen.Route, screen.ReasonRepeat)
	if _, err := e.backend().AddCallback(e.T.Context(), records.Callback{CallID: "c1", Caller: "13000000000", Number: caller, Reason: "escalate", At: at(90 * time.Second)}); err != nil {
		e.T.Fatal(err)
	}
	if v := e.Want(caller, at(2*time.Minute), screen.Allow, screen.ReasonNone); v.Spared != screen.ExemptCallback {
		e.T.Fatalf("flagged number with a callback: %v", v)
	}
}

// flagged makes number go over the limit and returns its open proposal.
func (e *Env) flagged(number string, start time.Duration) screen.Proposal {
	e.T.Helper()
	for _, t := range every(start, time.Second, 12) {
		e.Call(number, t)
	}
	ps, err := e.M.Proposals(e.T.Context(), false)
	if err != nil {
		e.T.Fatal(err)
	}
	for _, p := range ps {
		if p.Number == number {
			return p
		}
	}
	e.T.Fatalf("no proposal for the flagged number: %+v", ps)
	return screen.Proposal{}
}

// proposalConfirmed: a flag proposes one list entry, with the calls that
// made it and when; a person confirms it and the number is on the list
// (the nuisance path by default), added by them; a second decision is
// refused.
func proposalConfirmed(e *Env) {
	p := e.flagged(caller, 0)
	if p.Status != screen.Proposed || p.Calls != 12 || !p.Since.Equal(at(10*time.Second)) || !p.Until.Equal(at(11*time.Second+time.Hour)) ||
		p.Reason != "repeat-call rule: 11 calls within 10m0s (over the limit since 2026-11-23T10:00:10+08:00)" {
		e.T.Fatalf("proposal %+v", p)
	}
	e.Clock.Set(at(time.Hour))
	got, err := e.M.Confirm(e.T.Context(), p.ID, screen.DecideRequest{By: "ops:li"})
	if err != nil {
		e.T.Fatal(err)
	}
	if got.Status != screen.Confirmed || got.DecidedBy != "ops:li" || got.DecidedAt == nil || !got.DecidedAt.Equal(at(time.Hour)) || got.EntryID == 0 {
		e.T.Fatalf("confirmed %+v", got)
	}
	v := e.Want(caller, at(time.Hour), screen.Route, screen.ReasonList)
	if v.Entry.ID != got.EntryID || v.Entry.AddedBy != "ops:li" || v.Entry.ExpiresAt != nil || v.Target != screen.DefaultRouteTarget {
		e.T.Fatalf("entry %+v", v.Entry)
	}
	if _, err := e.M.Confirm(e.T.Context(), p.ID, screen.DecideRequest{By: "ops:wang"}); !errors.Is(err, screen.ErrDecided) {
		e.T.Fatalf("confirm again: %v", err)
	}
	if _, err := e.M.Reject(e.T.Context(), p.ID, screen.DecideRequest{By: "ops:wang"}); !errors.Is(err, screen.ErrDecided) {
		e.T.Fatalf("reject a confirmed one: %v", err)
	}
	if _, err := e.M.Confirm(e.T.Context(), p.ID+100, screen.DecideRequest{By: "ops:wang"}); !errors.Is(err, screen.ErrNotFound) {
		e.T.Fatalf("confirm an unknown one: %v", err)
	}
	if _, err := e.M.Confirm(e.T.Context(), p.ID, screen.DecideRequest{}); !errors.Is(err, screen.ErrInvalid) {
		e.T.Fatalf("confirm by nobody: %v", err)
	}
	if ps, err := e.M.Proposals(e.T.Context(), false); err != nil || len(ps) != 0 {
		e.T.Fatalf("open proposals after the decision: %+v %v", ps, err)
	}
}

// proposalRejected: a person judges the number a customer: the proposal
// closes, the flag goes and the number is served at once; flagged again
// later, it is proposed anew.
func proposalRejected(e *Env) {
	p := e.flagged(caller, 0)
	e.flagged("13900002222", 0)
	e.Clock.Set(at(time.Minute))
	got, err := e.M.Reject(e.T.Context(), p.ID, screen.DecideRequest{By: "ops:li"})
	if err != nil {
		e.T.Fatal(err)
	}
	if got.Status != screen.Rejected || got.DecidedBy != "ops:li" || got.EntryID != 0 {
		e.T.Fatalf("rejected %+v", got)
	}
	e.Want(caller, at(time.Minute), screen.Allow, screen.ReasonNone)
	if es, err := e.M.List(e.T.Context(), true); err != nil || len(es) != 0 {
		e.T.Fatalf("list after a rejection: %+v %v", es, err)
	}
	open, err := e.M.Proposals(e.T.Context(), false)
	if err != nil || len(open) != 1 || open[0].Number != "13900002222" {
		e.T.Fatalf("open proposals %+v %v", open, err)
	}
	again := e.flagged(caller, 2*time.Minute)
	if again.ID == p.ID {
		e.T.Fatalf("flagged again: the rejected proposal %d came back", p.ID)
	}
	if all, err := e.M.Proposals(e.T.Context(), true); err != nil || len(all) != 3 {
		e.T.Fatalf("all proposals %+v %v", all, err)
	}
}
