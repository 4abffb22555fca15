package screentest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/screen"
)

// Store runs the scenarios of the screen.Store methods themselves, on
// stores that open makes (a new, empty one each): counting concurrent
// calls, the list's matching and replacing, deciding a proposal once.
// Memory passes them; so must every store.
func Store(t *testing.T, open func(t *testing.T) screen.Store) {
	for _, sc := range []struct {
		name string
		run  func(t *testing.T, st screen.Store)
	}{
		{"attempts counted atomically", attemptsAtomic},
		{"entries", entries},
		{"a proposal is decided once", decideOnce},
	} {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, open(t)) })
	}
}

// attemptsAtomic: many goroutines recording calls from one number at one
// instant get every count from 1 to n exactly once.
func attemptsAtomic(t *testing.T, st screen.Store) {
	const workers, each = 16, 25
	counts := recordConcurrently(t, []screen.Store{st}, workers, each)
	for i, n := range counts {
		if n != i+1 {
			t.Fatalf("counts %v: want 1..%d once each", counts, workers*each)
		}
	}
	if len(counts) != workers*each {
		t.Fatalf("%d counts", len(counts))
	}
}

// recordConcurrently records workers×each calls from caller at T0, the
// workers spread over stores, and returns the counts, sorted.
func recordConcurrently(t *testing.T, stores []screen.Store, workers, each int) []int {
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		counts []int
	)
	for w := range workers {
		st := stores[w%len(stores)]
		wg.Go(func() {
			for range each {
				n, _, err := st.RecordAttempt(t.Context(), caller, T0, time.Hour)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				counts = append(counts, n)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(counts)
	return counts
}

// entries: entries are stored with their times and actions, matched by
// pattern while active, replaced by pattern keeping their ID, deleted.
func entries(t *testing.T, s screen.Store) {
	ctx := t.Context()
	exp := T0.Add(time.Hour + 123*time.Microsecond)
	a, err := s.PutEntry(ctx, screen.Entry{Pattern: "13812345678", Reason: "r1", AddedBy: "ops", AddedAt: T0,
		ExpiresAt: &exp, Action: screen.Action{Kind: screen.Reject, Code: 486}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.PutEntry(ctx, screen.Entry{Pattern: "400*", Reason: "r2", AddedBy: "ops", AddedAt: T0,
		Action: screen.Action{Kind: screen.Route, Target: "nuisance"}})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == b.ID || a.ID == 0 {
		t.Fatalf("ids %d %d", a.ID, b.ID)
	}
	es, err := s.Entries(ctx)
	if err != nil || len(es) != 2 {
		t.Fatalf("entries %v %v", es, err)
	}
	got := es[0] // "13812345678" < "400*"
	if got.ID != a.ID || got.Reason != "r1" || !got.AddedAt.Equal(T0) || !got.ExpiresAt.Equal(exp) ||
		got.Action != (screen.Action{Kind: screen.Reject, Code: 486}) || es[1].ExpiresAt != nil || es[1].Action.Target != "nuisance" {
		t.Fatalf("stored %+v %+v", got, es[1])
	}
	for _, tc := range []struct {
		at   time.Time
		want int
	}{{T0, 2}, {exp.Add(-time.Microsecond), 2}, {exp, 1}} {
		m, err := s.MatchEntries(ctx, []string{"13812345678", "400*", "138*"}, tc.at)
		if err != nil || len(m) != tc.want {
			t.Errorf("match at %v: %d entries, %v; want %d", tc.at, len(m), err, tc.want)
		}
	}
	if m, err := s.MatchEntries(ctx, nil, T0); err != nil || len(m) != 0 {
		t.Errorf("match nothing: %v %v", m, err)
	}
	a2, err := s.PutEntry(ctx, screen.Entry{Pattern: "13812345678", Reason: "r3", AddedBy: "li", AddedAt: T0,
		Action: screen.Action{Kind: screen.Reject, Code: 603}})
	if err != nil || a2.ID != a.ID {
		t.Fatalf("replace: %+v %v", a2, err)
	}
	if err := s.DeleteEntry(ctx, "400*"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteEntry(ctx, "400*"); !errors.Is(err, screen.ErrNotFound) {
		t.Fatalf("delete again: %v", err)
	}
	es, err = s.Entries(ctx)
	if err != nil || len(es) != 1 || es[0].Reason != "r3" || es[0].ExpiresAt != nil {
		t.Fatalf("after replace and delete: %+v %v", es, err)
	}
}

// decideOnce: people deciding one proposal at once: exactly one decision
// wins, the others get ErrDecided, and a confirmation's entry is on the
// list.
func decideOnce(t *testing.T, s screen.Store) {
	decideRace(t, []screen.Store{s})
}

// decideRace proposes a number, has eight people decide it at once
// through stores, and checks that one won.
func decideRace(t *testing.T, stores []screen.Store) {
	s := stores[0]
	p, err := s.Propose(t.Context(), screen.Proposal{Number: caller, Reason: "r", Calls: 11, Since: T0, Until: T0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	again, err := stores[len(stores)-1].Propose(t.Context(), screen.Proposal{Number: caller, Reason: "r2", Calls: 12, Since: T0.Add(time.Second), Until: T0.Add(2 * time.Hour)})
	if err != nil || again.ID != p.ID || again.Calls != 12 || !again.Until.Equal(T0.Add(2*time.Hour)) || again.Reason != "r" || !again.Since.Equal(T0) {
		t.Fatalf("merged proposal %+v %v", again, err)
	}
	const people = 8
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		won  int
		lost int
	)
	for i := range people {
		wg.Go(func() {
			d := screen.Decision{Status: screen.Rejected, By: "ops", At: T0}
			if i%2 == 0 {
				d = screen.Decision{Status: screen.Confirmed, By: "ops", At: T0, Entry: &screen.Entry{Pattern: caller,
					Reason: "r", AddedBy: "ops", AddedAt: T0, Action: screen.DefaultAction}}
			}
			_, err := stores[i%len(stores)].DecideProposal(t.Context(), p.ID, d)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.Is(err, screen.ErrDecided):
				lost++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if won != 1 || lost != people-1 {
		t.Fatalf("%d decisions won, %d lost; want 1 and %d", won, lost, people-1)
	}
	got, err := s.Proposal(t.Context(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	es, err := s.Entries(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if confirmed := got.Status == screen.Confirmed; confirmed != (len(es) == 1) || confirmed != (got.EntryID != 0) {
		t.Fatalf("proposal %+v with %d entries", got, len(es))
	}
	if _, err := s.Proposal(t.Context(), p.ID+99); !errors.Is(err, screen.ErrNotFound) {
		t.Errorf("unknown proposal: %v", err)
	}
	if _, err := s.DecideProposal(t.Context(), p.ID+99, screen.Decision{Status: screen.Rejected, By: "ops"}); !errors.Is(err, screen.ErrNotFound) {
		t.Errorf("decide an unknown proposal: %v", err)
	}
	if _, err := s.DecideProposal(t.Context(), p.ID, screen.Decision{Status: screen.Confirmed, By: "ops"}); !errors.Is(err, screen.ErrInvalid) {
		t.Errorf("confirm without an entry: %v", err)
	}
}

// Cancelled: a cancelled context stops a call with an error that says so,
// and the store is usable afterwards. For the stores on a database
// (Memory does not look at contexts).
func Cancelled(t *testing.T, s screen.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := s.RecordAttempt(ctx, "1", T0, time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("record: %v", err)
	}
	if _, err := s.Entries(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("entries: %v", err)
	}
	if _, err := s.PutEntry(ctx, screen.Entry{Pattern: "1", Reason: "r", AddedBy: "o", Action: screen.Action{Kind: screen.Reject, Code: 603}}); !errors.Is(err, context.Canceled) {
		t.Errorf("put: %v", err)
	}
	if _, _, err := s.RecordAttempt(t.Context(), "1", T0, time.Minute); err != nil {
		t.Errorf("record after a cancelled one: %v", err)
	}
}

// Shared runs the scenarios of several kefu nodes on one database: open
// returns two handles on the same new, empty store (two nodes). A list
// entry added through one is in force through the other; the repeat-call
// rule counts the calls of both; calls from one number through both at
// once get distinct counts; a proposal is decided once whichever node
// people use.
func Shared(t *testing.T, open func(t *testing.T) (a, b screen.Store)) {
	for _, sc := range []struct {
		name string
		run  func(t *testing.T, a, b screen.Store)
	}{
		{"a list entry is in force on every node", sharedList},
		{"the repeat rule counts every node's calls", sharedRepeat},
		{"simultaneous calls on two nodes all count", sharedAtomic},
		{"a proposal is decided once on any node", func(t *testing.T, a, b screen.Store) { decideRace(t, []screen.Store{a, b}) }},
	} {
		t.Run(sc.name, func(t *testing.T) {
			a, b := open(t)
			sc.run(t, a, b)
		})
	}
}

func sharedList(t *testing.T, a, b screen.Store) {
	ea, eb := NewEnv(t, a, screen.Config{}), NewEnv(t, b, screen.Config{})
	eb.Want(caller, T0, screen.Allow, screen.ReasonNone)
	ea.Add(screen.AddRequest{Pattern: caller, TTL: "1h"})
	eb.Want(caller, T0.Add(time.Minute), screen.Route, screen.ReasonList)
	if err := eb.M.Remove(t.Context(), caller); err != nil {
		t.Fatal(err)
	}
	ea.Want(caller, T0.Add(2*time.Minute), screen.Allow, screen.ReasonNone)
}

func sharedRepeat(t *testing.T, a, b screen.Store) {
	envs := []*Env{NewEnv(t, a, screen.Config{}), NewEnv(t, b, screen.Config{})}
	limit := screen.DefaultRepeatCalls
	for i := range limit {
		envs[i%2].Want(caller, T0.Add(time.Duration(i)*time.Second), screen.Allow, screen.ReasonNone)
	}
	over := T0.Add(time.Duration(limit) * time.Second)
	v := envs[limit%2].Call(caller, over)
	if v.Reason != screen.ReasonRepeat {
		t.Fatalf("call %d, half of them on each node: %v; want the repeat rule", limit+1, v)
	}
	// The flag it set is in force on the other node too.
	envs[(limit+1)%2].Want(caller, over.Add(time.Second), v.Kind, screen.ReasonRepeat)
}

func sharedAtomic(t *testing.T, a, b screen.Store) {
	const workers, each = 8, 20
	counts := recordConcurrently(t, []screen.Store{a, b}, workers, each)
	for i, n := range counts {
		if n != i+1 {
			t.Fatalf("counts %v: want 1..%d once each", counts, workers*each)
		}
	}
}
