package main

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// The resources one call may hold in kefu, measured from /metrics
// (go_goroutines, process_open_fds) with calls up against kefu idle. A
// call answered by a flow has its owner goroutine, the goroutine that
// serves its in-dialog requests, the RTP receive loop, the flow's runner
// and, while a prompt plays, the player: 4 or 5; the budget leaves one
// spare. Its RTP socket is its one file descriptor (SIP shares kefu's
// sockets; over TCP a connection may carry many calls).
const (
	budgetGoroutinesPerCall = 6
	budgetFDsPerCall        = 1
	// fdSlack is what may open in kefu besides the calls while they are
	// up, bounded whatever the number of calls: the ops API's side of the
	// test's HTTP connections (the client may open one anew between two
	// reads of /metrics) and the store's pool of readers (up to its bound
	// when calls screen at once). By hand, 8 calls held exactly 8 sockets
	// more; under the test, 2 more FDs showed now and then. A call leaking
	// one FD more shows as 8 over the 8 calls.
	fdSlack = 2
)

// TestIntegrationCallBudget: calls up at once cost no more goroutines and
// file descriptors each than the budget, and once they have ended kefu is
// back where it was: nothing leaks.
func TestIntegrationCallBudget(t *testing.T) {
	integration(t)
	t.Parallel()
	a := startAgent(t)
	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
	defer cancel()

	// First calls open what stays open for good (the data store's journal
	// files, and its pool of readers, which grows to its bound when calls
	// come at once), so that the idle figures are kefu's steady state.
	const n = 8
	var warm sync.WaitGroup
	for i := range n {
		warm.Go(func() {
			if evs, code, out := dial(t, ctx, a, "-from", fmt.Sprintf("sip:1380000000%d@127.0.0.1", i), "-for", "1s", "-max", "20s"); code != 0 || len(evs) == 0 {
				t.Errorf("warm-up call %d failed\n%s", i, out)
			}
		})
	}
	warm.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if !a.waitMetric("kefu_calls_active", func(v float64) bool { return v == 0 }, 10*time.Second) {
		t.Fatal("the first calls did not end")
	}
	idleG, idleFD := settled(a, func(g, fd float64) bool { return true })

	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, code, out := dial(t, ctx, a, "-from", fmt.Sprintf("sip:1370000000%d@127.0.0.1", i), "-for", "12s", "-max", "40s")
			if code != 0 {
				t.Errorf("call %d failed\n%s", i, out)
			}
		})
	}
	// All answered (the warm-up calls too), none ended.
	if !a.waitMetric("kefu_calls_answered_total", func(v float64) bool { return v == 2*n }, 30*time.Second) {
		t.Fatalf("the %d calls were not answered", n)
	}
	m := a.metrics()
	g, fd := metric(m, "go_goroutines"), metric(m, "process_open_fds")
	perG, perFD := (g-idleG)/n, max(fd-idleFD-fdSlack, 0)/n
	t.Logf("idle: %v goroutines, %v FDs; %d calls: %v goroutines, %v FDs; per call %.2f goroutines, %.2f FDs (less %d of slack)", idleG, idleFD, n, g, fd, perG, perFD, fdSlack)
	if perG > budgetGoroutinesPerCall {
		t.Errorf("%.2f goroutines per call, over the budget of %d", perG, budgetGoroutinesPerCall)
	}
	if perFD > budgetFDsPerCall {
		t.Errorf("%.2f FDs per call, over the budget of %d", perFD, budgetFDsPerCall)
	}
	wg.Wait()

	if !a.waitMetric("kefu_calls_active", func(v float64) bool { return v == 0 }, 20*time.Second) {
		t.Fatal("the calls did not end")
	}
	afterG, afterFD := settled(a, func(g, fd float64) bool { return g <= idleG+1 && fd <= idleFD+fdSlack })
	if afterG > idleG+1 || afterFD > idleFD+fdSlack {
		t.Errorf("after the calls: %v goroutines, %v FDs; idle before them: %v, %v", afterG, afterFD, idleG, idleFD)
	}
}

// settled reads goroutines and open FDs until ok holds for them, for at
// most 10 s (teardown finishes a little after a call has ended).
func settled(a *agent, ok func(g, fd float64) bool) (g, fd float64) {
	deadline := time.After(10 * time.Second)
	for {
		m := a.metrics()
		g, fd = metric(m, "go_goroutines"), metric(m, "process_open_fds")
		if ok(g, fd) {
			return g, fd
		}
		select {
		case <-deadline:
			return g, fd
		case <-time.After(100 * time.Millisecond):
		}
	}
}
