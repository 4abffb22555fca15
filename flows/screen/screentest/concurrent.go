package screentest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/kefu-hotline/kefu/flows/screen"
)

// ConcurrentOps has writers adding and removing entries, readers listing,
// and callers screening and being counted, all at once; every listed
// number is then screened by the list.
func ConcurrentOps(t *testing.T, e *Env) {
	ctx := t.Context()
	const workers, rounds = 4, 25
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { // ops: add then remove their own numbers
			for i := range rounds {
				p := fmt.Sprintf("1390%03d%04d", w, i)
				if _, err := e.M.Add(ctx, screen.AddRequest{Pattern: p, Reason: "r", AddedBy: "ops"}); err != nil {
					t.Error(err)
					return
				}
				if i%2 == 0 {
					if err := e.M.Remove(ctx, p); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
		wg.Go(func() { // dashboards
			for range rounds {
				if _, err := e.M.List(ctx, true); err != nil {
					t.Error(err)
					return
				}
			}
		})
		wg.Go(func() { // callers
			for i := range rounds {
				v, err := e.S.Check(ctx, screen.Call{Caller: fmt.Sprintf("1370%03d%04d", w, i), At: T0})
				if err == nil {
					_, err = e.S.Count(ctx, v)
				}
				if err != nil || !v.Allowed() {
					t.Errorf("%v %v", v, err)
					return
				}
			}
		})
	}
	wg.Wait()
	es, err := e.M.List(t.Context(), true)
	if err != nil {
		t.Fatal(err)
	}
	if want := workers * (rounds / 2); len(es) != want {
		t.Errorf("%d entries, want %d", len(es), want)
	}
	for _, en := range es {
		if v := e.Call(en.Pattern, T0); v.Reason != screen.ReasonList {
			t.Errorf("listed number: %v", v)
		}
	}
}
