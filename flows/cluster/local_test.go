package cluster_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/flows/cluster"
	"github.com/kefu-hotline/kefu/flows/queue"
)

// TestLocal runs the local implementation in virtual time: a caller
// offered to the agent, answered, the call ended, wrap-up, and the next
// caller offered when it ends; states as the desk sets them.
func TestLocal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		qm, err := queue.NewManager([]queue.Config{{Name: "sales"}})
		if err != nil {
			t.Fatal(err)
		}
		as := []agents.Agent{{ID: "101", Name: "Li", Contact: "sip:101@pbx", Queues: []agents.Membership{{Queue: "sales"}}}}
		rs := []agents.Rules{{Queue: "sales", WrapUp: 10 * time.Second}}
		var ag cluster.Agents
		if ag, err = cluster.Local(qm, as, rs, time.Now, nil); err != nil {
			t.Fatal(err)
		}
		t1, _ := qm.Join("sales", "c1", 0, time.Now())
		t2, _ := qm.Join("sales", "c2", 0, time.Now())
		o := <-ag.Wait(t1)
		offers2 := ag.Wait(t2)
		if !ag.Answered(o, "101") {
			t.Fatal("c1 not answered")
		}
		if t2.Position() != 1 {
			t.Errorf("c2 at %d", t2.Position())
		}
		time.Sleep(time.Minute) // the call, in virtual time
		ag.Ended("101")
		if s, _ := ag.Agent("101"); s.State != agents.WrapUp {
			t.Fatalf("after the call: %v", s.State)
		}
		start := time.Now()
		o2 := <-offers2
		if w := time.Since(start); w != 10*time.Second {
			t.Errorf("c2 offered %v after the call ended, want the wrap-up, 10s", w)
		}
		t2.Leave(time.Now(), queue.Abandoned)
		ag.Released(o2, "101")
		if err := ag.Pause("101", "lunch"); err != nil {
			t.Fatal(err)
		}
		if ag.Serving("sales") != 0 {
			t.Error("a paused agent serves")
		}
		if s := ag.Agents(); len(s) != 1 || s[0].State != agents.Paused || s[0].CallsToday != 1 {
			t.Errorf("agents: %+v", s)
		}
	})
}
