package screentest

import (
	"sync"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/screen"
)

// Rules runs the screening scenarios against stores that open makes (a new,
// empty store for each scenario): the repeat-call boundary and window,
// only served calls counting, the nuisance list's matching and expiry,
// simultaneous calls, the ops flags, the numbers the rule spares and the
// list entries it proposes. Every screen.Store must pass them; the stores
// must keep records too (records.Backend), for the spared numbers.
func Rules(t *testing.T, open func(t *testing.T) screen.Store) {
	for _, sc := range []struct {
		name string
		cfg  screen.Config
		run  func(e *Env)
	}{
		{"repeat boundary", screen.Config{}, repeatBoundary},
		{"repeat window edge", screen.Config{}, repeatWindowEdge},
		{"only served calls count", screen.Config{}, onlyServedCount},
		{"repeat flag extends while calling", screen.Config{}, repeatExtends},
		{"repeat configured", screen.Config{Repeat: screen.Repeat{Calls: 2, Window: time.Minute, Block: 5 * time.Minute, Action: screen.Action{Kind: screen.Reject, Code: 486}}}, repeatConfigured},
		{"repeat off", screen.Config{Repeat: screen.Repeat{Off: true}}, repeatOff},
		{"list matching and expiry", screen.Config{}, listMatching},
		{"listed calls are not counted", screen.Config{}, listedNotCounted},
		{"simultaneous calls all count", screen.Config{}, simultaneous},
		{"flags for ops", screen.Config{}, opsFlags},
		{"prune keeps what matters", screen.Config{}, prune},
		{"open complaint spares", screen.Config{}, spareComplaint},
		{"open callback spares", screen.Config{}, spareCallback},
		{"calls cut short spare", screen.Config{}, spareCutShort},
		{"a flagged number is spared too", screen.Config{}, spareFlagged},
		{"proposal confirmed", screen.Config{}, proposalConfirmed},
		{"proposal rejected", screen.Config{}, proposalRejected},
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

// Call makes a call from number at at as kefu does: checked on the INVITE,
// then counted once answered (a verdict that routes or allows it), or
// refused before the answer (a rejection). It fails the test on an error.
func (e *Env) Call(number string, at time.Time) screen.Verdict {
	e.T.Helper()
	v := e.check(number, at)
	var err error
	if v.Kind == screen.Reject {
		_, err = e.S.Refused(e.T.Context(), v)
	} else {
		_, err = e.S.Count(e.T.Context(), v)
	}
	if err != nil {
		e.T.Fatalf("count at %v: %v", at.Sub(T0), err)
	}
	return v
}

// Check screens a call from number at at that kefu then refuses for a
// reason of its own (no media port, no common codec) or the caller
// cancels: it is released, and nothing is counted.
func (e *Env) Check(number string, at time.Time) screen.Verdict {
	e.T.Helper()
	v := e.check(number, at)
	e.S.Release(v)
	return v
}

func (e *Env) check(number string, at time.Time) screen.Verdict {
	e.T.Helper()
	v, err := e.S.Check(e.T.Context(), screen.Call{Caller: number, Called: "hotline", At: at})
	if err != nil {
		e.T.Fatalf("screen at %v: %v", at.Sub(T0), err)
	}
	return v
}

// Want makes a call (Call) and checks its action kind and reason.
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

// every returns the times of n calls d apart from start.
func every(start, d time.Duration, n int) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = at(start + time.Duration(i)*d)
	}
	return out
}

// repeatBoundary: the 10th call in 10 minutes is served, the 11th goes to
// the nuisance path (answered) and flags the number for an hour, then it is
// served again.
func repeatBoundary(e *Env) {
	for _, t := range every(0, 50*time.Second, 10) {
		e.Want(caller, t, screen.Allow, screen.ReasonNone)
	}
	v := e.Want(caller, at(500*time.Second), screen.Route, screen.ReasonRepeat)
	if v.Target != screen.DefaultRouteTarget || v.Flag == nil || v.Flag.Calls != 11 {
		e.T.Fatalf("11th call: %+v flag %+v, want the nuisance path after 11 calls", v, v.Flag)
	}
	fs, err := e.Store.Flags(e.T.Context(), at(500*time.Second))
	if err != nil || len(fs) != 1 || !fs[0].Until.Equal(at(500*time.Second+time.Hour)) || fs[0].Calls != 11 {
		e.T.Fatalf("flags %+v %v: want one until T0+1h8m20s after 11 calls", fs, err)
	}
	e.Want("13987654321", at(500*time.Second), screen.Allow, screen.ReasonNone)
	e.Want(caller, at(30*time.Minute), screen.Route, screen.ReasonRepeat)
	e.Want(caller, at(500*time.Second+time.Hour-time.Second), screen.Route, screen.ReasonRepeat)
	e.Want(caller, at(500*time.Second+time.Hour), screen.Allow, screen.ReasonNone)
}

// repeatWindowEdge: a call exactly the window old no longer counts.
func repeatWindowEdge(e *Env) {
	for _, t := range every(0, time.Minute, 10) {
		e.Want(caller, t, screen.Allow, screen.ReasonNone)
	}
	e.Want(caller, at(10*time.Minute), screen.Allow, screen.ReasonNone) // the T0 call left the window
	e.Want(caller, at(10*time.Minute+time.Second), screen.Route, screen.ReasonRepeat)
}

// onlyServedCount: calls kefu refused for reasons of its own (503, 488) or
// that the caller cancelled are screened but never counted (CS-ANGRY): a
// customer who retried 20 times is served on each of the next 10 calls.
func onlyServedCount(e *Env) {
	for _, t := range every(0, 10*time.Second, 20) {
		if v := e.Check(caller, t); !v.Allowed() || !v.Counts() {
			e.T.Fatalf("refused retry at %v: %v", t.Sub(T0), v)
		}
	}
	for _, t := range every(200*time.Second, 10*time.Second, 10) {
		e.Want(caller, t, screen.Allow, screen.ReasonNone)
	}
	// Checking a number over the limit writes nothing either: no flag
	// until a call over it is served.
	if v := e.Check(caller, at(300*time.Second)); v.Reason != screen.ReasonRepeat {
		e.T.Fatalf("11th call checked: %v", v)
	}
	if fs, err := e.Store.Flags(e.T.Context(), at(300*time.Second)); err != nil || len(fs) != 0 {
		e.T.Fatalf("flags after a check: %v %v", fs, err)
	}
	e.Want(caller, at(301*time.Second), screen.Route, screen.ReasonRepeat)
	if fs, err := e.Store.Flags(e.T.Context(), at(301*time.Second)); err != nil || len(fs) != 1 {
		e.T.Fatalf("flags after the 11th call was served: %v %v", fs, err)
	}
}

// repeatExtends: a caller who keeps calling (and hearing the nuisance
// message) stays flagged until an hour after the last call over the limit.
func repeatExtends(e *Env) {
	var last screen.Verdict
	for i, t := range every(0, 30*time.Second, 40) {
		last = e.Call(caller, t)
		if want := i >= 10; last.Allowed() == want {
			e.T.Fatalf("call %d: %v", i+1, last)
		}
	}
	fs, err := e.Store.Flags(e.T.Context(), at(20*time.Minute))
	if err != nil || len(fs) != 1 || !fs[0].Since.Equal(at(5*time.Minute)) || !fs[0].Until.Equal(at(79*time.Minute+30*time.Second)) {
		e.T.Fatalf("flags %+v %v: want since T0+5m until T0+1h19m30s", fs, err)
	}
	e.Want(caller, at(79*time.Minute+29*time.Second), screen.Route, screen.ReasonRepeat)
	e.Want(caller, at(79*time.Minute+30*time.Second), screen.Allow, screen.ReasonNone)
}

// repeatConfigured: other limits, and a rejection (ops' choice) instead of
// the nuisance path. Refused calls are not counted, but the refusal flags
// the number and proposes it all the same.
func repeatConfigured(e *Env) {
	e.Want(caller, at(0), screen.Allow, screen.ReasonNone)
	e.Want(caller, at(30*time.Second), screen.Allow, screen.ReasonNone)
	v := e.Want(caller, at(59*time.Second), screen.Reject, screen.ReasonRepeat)
	if v.Code != 486 {
		e.T.Fatalf("code %d", v.Code)
	}
	e.Want(caller, at(3*time.Minute), screen.Reject, screen.ReasonRepeat) // flagged, though the calls left the window
	if v := e.Check(caller, at(8*time.Minute-time.Second)); v.Kind != screen.Reject {
		e.T.Fatalf("5 min after the last refusal, less a second: %v", v)
	}
	e.Want(caller, at(8*time.Minute), screen.Allow, screen.ReasonNone) // 5 min after the last refusal
	ps, err := e.M.Proposals(e.T.Context(), false)
	if err != nil || len(ps) != 1 || ps[0].Number != caller || ps[0].Calls != 3 {
		e.T.Fatalf("proposals %+v %v", ps, err)
	}
}

func repeatOff(e *Env) {
	for _, t := range every(0, time.Second, 50) {
		if v := e.Want(caller, t, screen.Allow, screen.ReasonNone); v.Counts() {
			e.T.Fatalf("counted with the rule off")
		}
	}
}

// simultaneous: twenty calls from one number at the same instant, checked
// before any is answered, are judged with each other: ten are served and
// ten go to the nuisance path, whatever the interleaving; each counts
// once, the number ends flagged with all twenty counted and one open
// proposal; calls from other numbers meanwhile are all served.
func simultaneous(e *Env) {
	const n = 20
	var (
		mu      sync.Mutex
		allowed int
		other   int
		start   = make(chan struct{})
	)
	var checked, counted sync.WaitGroup
	checked.Add(2 * n)
	for i := range 2 * n {
		counted.Go(func() {
			<-start
			number := caller
			if i >= n {
				number = "150000000" + string(rune('0'+(i-n)/10)) + string(rune('0'+(i-n)%10))
			}
			v, err := e.S.Check(e.T.Context(), screen.Call{Caller: number, At: at(0)})
			checked.Done()
			checked.Wait() // all ring at once: none is answered before all are checked
			if err == nil {
				_, err = e.S.Count(e.T.Context(), v)
			}
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
	counted.Wait()
	if allowed != screen.DefaultRepeatCalls || other != n {
		e.T.Fatalf("%d of %d simultaneous calls served (want %d), %d of %d others", allowed, n, screen.DefaultRepeatCalls, other, n)
	}
	calls, flag, err := e.Store.CountCalls(e.T.Context(), caller, at(0), time.Minute)
	if err != nil || calls != n || flag == nil || flag.Calls != n {
		e.T.Fatalf("%d calls counted, flag %+v, %v; want %d and a flag after %d", calls, flag, err, n, n)
	}
	ps, err := e.M.Proposals(e.T.Context(), true)
	if err != nil || len(ps) != 1 || ps[0].Calls != n {
		e.T.Fatalf("proposals %+v %v: want one, after %d calls", ps, err, n)
	}
}
