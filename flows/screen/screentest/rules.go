package screentest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/screen"
)

// Rules runs the screening scenarios against stores that open makes (a new,
// empty store for each scenario): the repeat-call boundary and window, the
// nuisance list's matching and expiry, simultaneous calls, the ops flags.
// Every screen.Store must pass them.
func Rules(t *testing.T, open func(t *testing.T) screen.Store) {
	for _, sc := range []struct {
		name string
		cfg  screen.Config
		run  func(e *Env)
	}{
		{"repeat boundary", screen.Config{}, repeatBoundary},
		{"repeat window edge", screen.Config{}, repeatWindowEdge},
		{"repeat flag extends while calling", screen.Config{}, repeatExtends},
		{"repeat configured", screen.Config{Repeat: screen.Repeat{Calls: 2, Window: time.Minute, Block: 5 * time.Minute, Action: screen.Action{Kind: screen.Route}}}, repeatConfigured},
		{"repeat off", screen.Config{Repeat: screen.Repeat{Off: true}}, repeatOff},
		{"list matching and expiry", screen.Config{}, listMatching},
		{"listed calls are not counted", screen.Config{}, listedNotCounted},
		{"simultaneous calls all count", screen.Config{}, simultaneous},
		{"flags for ops", screen.Config{}, opsFlags},
		{"prune keeps what matters", screen.Config{}, prune},
	} {
		t.Run(sc.name, func(t *testing.T) {
			sc.run(NewEnv(t, open(t), sc.cfg))
		})
	}
}

// Env is a Screener and a Manager over one store on a virtual clock.
type Env struct {
	T     *testing.T
	Store screen.Store
	Clock *Clock
	S     *screen.Screener
	M     *screen.Manager
}

// NewEnv makes an Env over st with policy cfg, the clock at T0.
func NewEnv(t *testing.T, st screen.Store, cfg screen.Config) *Env {
	clk := NewClock(T0)
	s, err := screen.New(st, cfg, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	return &Env{T: t, Store: st, Clock: clk, S: s, M: screen.NewManager(st, clk.Now)}
}

// Call screens a call from number at at and fails the test on an error.
func (e *Env) Call(number string, at time.Time) screen.Verdict {
	e.T.Helper()
	v, err := e.S.Screen(e.T.Context(), screen.Call{Caller: number, Called: "hotline", At: at})
	if err != nil {
		e.T.Fatalf("screen at %v: %v", at.Sub(T0), err)
	}
	return v
}

// Want screens a call and checks its action kind and reason.
func (e *Env) Want(number string, at time.Time, kind screen.Kind, reason screen.Reason) screen.Verdict {
	e.T.Helper()
	v := e.Call(number, at)
	if v.Kind != kind || v.Reason != reason {
		e.T.Fatalf("call at T0+%v: %v, want %s (%q)", at.Sub(T0), v, kind, reason)
	}
	return v
}

// Add puts an entry on the list through the Manager.
func (e *Env) Add(r screen.AddRequest) screen.Entry {
	e.T.Helper()
	if r.Reason == "" {
		r.Reason = "test"
	}
	if r.AddedBy == "" {
		r.AddedBy = "ops"
	}
	en, err := e.M.Add(e.T.Context(), r)
	if err != nil {
		e.T.Fatal(err)
	}
	return en
}

const caller = "13812345678"

func at(d time.Duration) time.Time { return T0.Add(d) }

// repeatBoundary: the 5th call in 10 minutes is allowed, the 6th is
// rejected 603 and flags the number for an hour, then it is allowed again.
func repeatBoundary(e *Env) {
	for i := range 5 {
		e.Want(caller, at(time.Duration(i)*time.Minute), screen.Allow, screen.ReasonNone)
	}
	v := e.Want(caller, at(5*time.Minute), screen.Reject, screen.ReasonRepeat)
	if v.Code != 603 || v.Flag == nil || !v.Flag.Until.Equal(at(65*time.Minute)) || v.Flag.Calls != 6 {
		e.T.Fatalf("6th call: %+v flag %+v, want 603 until T0+65m after 6 calls", v, v.Flag)
	}
	e.Want("13987654321", at(5*time.Minute), screen.Allow, screen.ReasonNone)
	e.Want(caller, at(30*time.Minute), screen.Reject, screen.ReasonRepeat)
	e.Want(caller, at(65*time.Minute-time.Second), screen.Reject, screen.ReasonRepeat)
	e.Want(caller, at(65*time.Minute), screen.Allow, screen.ReasonNone)
}

// repeatWindowEdge: a call exactly the window old no longer counts.
func repeatWindowEdge(e *Env) {
	for i := range 5 {
		e.Want(caller, at(time.Duration(i)*time.Minute), screen.Allow, screen.ReasonNone)
	}
	e.Want(caller, at(10*time.Minute), screen.Allow, screen.ReasonNone) // the T0 call left the window
	e.Want(caller, at(10*time.Minute+time.Second), screen.Reject, screen.ReasonRepeat)
}

// repeatExtends: a caller who keeps calling stays flagged until an hour
// after the last call over the limit.
func repeatExtends(e *Env) {
	var last screen.Verdict
	for i := range 20 {
		last = e.Call(caller, at(time.Duration(i)*time.Minute))
		if want := i >= 5; last.Allowed() == want {
			e.T.Fatalf("call %d: %v", i+1, last)
		}
	}
	if !last.Flag.Since.Equal(at(5*time.Minute)) || !last.Flag.Until.Equal(at(79*time.Minute)) {
		e.T.Fatalf("flag %+v: want since T0+5m until T0+79m", last.Flag)
	}
	e.Want(caller, at(79*time.Minute-time.Second), screen.Reject, screen.ReasonRepeat)
	e.Want(caller, at(79*time.Minute), screen.Allow, screen.ReasonNone)
}

// repeatConfigured: other limits and a route instead of a rejection.
func repeatConfigured(e *Env) {
	e.Want(caller, at(0), screen.Allow, screen.ReasonNone)
	e.Want(caller, at(30*time.Second), screen.Allow, screen.ReasonNone)
	v := e.Want(caller, at(59*time.Second), screen.Route, screen.ReasonRepeat)
	if v.Target != screen.DefaultRouteTarget {
		e.T.Fatalf("target %q", v.Target)
	}
	e.Want(caller, at(59*time.Second+5*time.Minute), screen.Allow, screen.ReasonNone)
}

func repeatOff(e *Env) {
	for i := range 50 {
		e.Want(caller, at(time.Duration(i)*time.Second), screen.Allow, screen.ReasonNone)
	}
}

// listMatching: exact beats prefix, longer prefix beats shorter, expired
// entries stop matching at their expiry, removal takes effect at once.
func listMatching(e *Env) {
	exact := e.Add(screen.AddRequest{Pattern: caller})
	e.Add(screen.AddRequest{Pattern: "138*", Action: screen.Action{Kind: screen.Route, Target: "nuisance-queue"}})
	e.Add(screen.AddRequest{Pattern: "400*", Action: screen.Action{Kind: screen.Route}})
	e.Add(screen.AddRequest{Pattern: "400-12*", Action: screen.Action{Kind: screen.Reject, Code: 486}})
	e.Add(screen.AddRequest{Pattern: "+8613900000000", TTL: "1h"})

	v := e.Want(caller, at(0), screen.Reject, screen.ReasonList)
	if v.Code != 603 || v.Entry == nil || v.Entry.ID != exact.ID || v.Entry.Pattern != caller {
		e.T.Fatalf("exact: %+v entry %+v", v, v.Entry)
	}
	if v := e.Want("13899999999", at(0), screen.Route, screen.ReasonList); v.Target != "nuisance-queue" {
		e.T.Fatalf("138*: %+v", v)
	}
	if v := e.Want("4001234567", at(0), screen.Reject, screen.ReasonList); v.Code != 486 || v.Entry.Pattern != "40012*" {
		e.T.Fatalf("40012*: %+v %+v", v, v.Entry)
	}
	if v := e.Want("4009999999", at(0), screen.Route, screen.ReasonList); v.Target != "nuisance" {
		e.T.Fatalf("400*: %+v", v)
	}
	e.Want("40", at(0), screen.Allow, screen.ReasonNone)
	e.Want("+8613900000000", at(time.Hour-time.Second), screen.Reject, screen.ReasonList)
	e.Want("+8613900000000", at(time.Hour), screen.Allow, screen.ReasonNone)
	e.Want("13900000000", at(0), screen.Reject, screen.ReasonList)     // +86 folded: one number
	e.Want("008613900000000", at(0), screen.Reject, screen.ReasonList) // in any of its forms

	e.Clock.Set(at(time.Hour))
	active, err := e.M.List(e.T.Context(), false)
	if err != nil {
		e.T.Fatal(err)
	}
	all, err := e.M.List(e.T.Context(), true)
	if err != nil {
		e.T.Fatal(err)
	}
	if len(active) != 4 || len(all) != 5 {
		e.T.Fatalf("list at T0+1h: %d active, %d in all; want 4 and 5", len(active), len(all))
	}
	if err := e.M.Remove(e.T.Context(), "138*"); err != nil {
		e.T.Fatal(err)
	}
	e.Want("13899999999", at(time.Hour), screen.Allow, screen.ReasonNone)
	if err := e.M.Remove(e.T.Context(), "138*"); !errors.Is(err, screen.ErrNotFound) {
		e.T.Fatalf("second remove: %v, want ErrNotFound", err)
	}
}

// listedNotCounted: calls the list turns away do not feed the repeat rule.
func listedNotCounted(e *Env) {
	e.Add(screen.AddRequest{Pattern: caller})
	for i := range 10 {
		e.Want(caller, at(time.Duration(i)*time.Second), screen.Reject, screen.ReasonList)
	}
	if err := e.M.Remove(e.T.Context(), caller); err != nil {
		e.T.Fatal(err)
	}
	e.Want(caller, at(11*time.Second), screen.Allow, screen.ReasonNone)
}

// simultaneous: ten calls from one number at the same instant all count:
// five are allowed and five are flagged, whatever the interleaving; calls
// from other numbers meanwhile are all allowed.
func simultaneous(e *Env) {
	const n = 10
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		allowed int
		other   int
		start   = make(chan struct{})
	)
	for i := range 2 * n {
		wg.Go(func() {
			<-start
			number := caller
			if i >= n {
				number = "1500000000" + string(rune('0'+i-n))
			}
			v, err := e.S.Screen(e.T.Context(), screen.Call{Caller: number, At: at(0)})
			if err != nil {
				e.T.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case number != caller && v.Allowed():
				other++
			case number == caller && v.Allowed():
				allowed++
			case number == caller && v.Reason != screen.ReasonRepeat:
				e.T.Errorf("verdict %v", v)
			}
		})
	}
	close(start)
	wg.Wait()
	if allowed != screen.DefaultRepeatCalls || other != n {
		e.T.Fatalf("%d of %d simultaneous calls allowed (want %d), %d of %d others", allowed, n, screen.DefaultRepeatCalls, other, n)
	}
}

// opsFlags: ops see the flagged number and can let it call again.
func opsFlags(e *Env) {
	for i := range 6 {
		e.Call(caller, at(time.Duration(i)*time.Second))
	}
	e.Clock.Set(at(time.Minute))
	fs, err := e.M.Flags(e.T.Context())
	if err != nil {
		e.T.Fatal(err)
	}
	if len(fs) != 1 || fs[0].Number != caller || !fs[0].Until.Equal(at(5*time.Second+time.Hour)) {
		e.T.Fatalf("flags %+v", fs)
	}
	if err := e.M.ClearFlag(e.T.Context(), caller); err != nil {
		e.T.Fatal(err)
	}
	e.Want(caller, at(time.Minute), screen.Allow, screen.ReasonNone)
	if err := e.M.ClearFlag(e.T.Context(), "13000000000"); !errors.Is(err, screen.ErrNotFound) {
		e.T.Fatalf("clear unknown: %v", err)
	}
}

// prune: pruning on schedule never forgets an active flag or a call still
// in the window.
func prune(e *Env) {
	for i := range 6 {
		e.Call(caller, at(time.Duration(i)*time.Second))
	}
	e.Call("13987654321", at(0))
	e.Clock.Set(at(30 * time.Minute))
	if err := e.S.Prune(e.T.Context()); err != nil {
		e.T.Fatal(err)
	}
	e.Want(caller, at(30*time.Minute), screen.Reject, screen.ReasonRepeat)
	e.Clock.Set(at(2 * time.Hour))
	if err := e.S.Prune(e.T.Context()); err != nil {
		e.T.Fatal(err)
	}
	if fs, err := e.M.Flags(e.T.Context()); err != nil || len(fs) != 0 {
		e.T.Fatalf("flags after the block: %v %v", fs, err)
	}
	if err := e.M.ClearFlag(e.T.Context(), "13987654321"); !errors.Is(err, screen.ErrNotFound) {
		e.T.Fatalf("calls from 2 hours ago still stored: %v", err)
	}
}
