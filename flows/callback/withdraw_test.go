package callback_test

import (
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
)

// TestWithdrawnWhileDown: a callback waiting in its queue for an agent
// is taken out of it when the service goes down (CS-SYSTEM-DOWN: the
// settings say no), stays open without being dialled, and goes back in
// at its place (ahead of a caller who joined after its caller) when the
// service returns; then it is made.
func TestWithdrawnWhileDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, []agents.Agent{fixed("8001", "customers")}, defaults)
		w.phone.agentAnswer["8001"] = time.Second
		if err := w.board.Pause("8001", "meeting"); err != nil {
			t.Fatal(err)
		}
		w.start()
		t0 := time.Now()
		cb := w.leave("13800000001", "customers", 0, t0)
		synctest.Wait()
		if st := w.s.Stats(); st.Queued != 1 {
			t.Fatalf("stats %+v: want the callback in its queue", st)
		}
		w.down.Store(true)
		w.s.Poke()
		synctest.Wait()
		if st := w.s.Stats(); st.Queued != 0 || st.Ready != 1 {
			t.Fatalf("stats %+v while down: want it out of the queue, ready", st)
		}
		if f := w.qm.Figures(time.Now())[0]; f.Waiting != 0 {
			t.Errorf("the queue holds %d while down", f.Waiting)
		}
		time.Sleep(time.Minute)
		w.call("customers", "later", 0, time.Minute)
		if err := w.board.Ready("8001"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		got := filter(w.phone.events(), "caller", "ring", "dial")
		if !slices.Equal(got, []string{"caller later talks to 8001"}) {
			t.Fatalf("while down: %q; want only the caller served", got)
		}
		w.down.Store(false)
		w.s.Poke()
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		got = filter(w.phone.events(), "caller", "ring", "dial")
		if !slices.Equal(got, []string{"ring 8001 for 1", "dial 13800000001 via carrier"}) {
			t.Errorf("after the service returned: %s", strings.Join(got, "; "))
		}
		if a := w.attempts(cb.ID); a != "answered" {
			t.Errorf("attempts %q", a)
		}
	})
}
