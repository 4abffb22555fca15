package agents_test

import (
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/flows/queue"
)

// TestReload: a reload during calls keeps the states, contacts and counts
// of the agents that stay and the offers in progress; an agent removed on
// a call finishes it, then is gone; the waiting callers stay (the same
// queue Manager, reconfigured) and go to the new agents.
func TestReload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBoard(t, qcfg("q", "r"), []agents.Agent{
			fixed("8001", "q"), fixed("8002", "q"), phone("8003", in("q", 1)), fixed("8004", "r"), phone("8006", in("q", 1)),
		})
		b.take(b.join("q", "c1", 0), "8001")
		ringing := b.offer(b.join("q", "c2", 0))
		b.to(ringing, "8002")
		if err := b.SignIn("8003", "sip:8003@192.0.2.3"); err != nil {
			t.Fatal(err)
		}
		if err := b.Pause("8003", "lunch"); err != nil {
			t.Fatal(err)
		}
		c3 := b.join("q", "c3", 0)
		b.none(c3)
		ringing6 := b.offer(b.join("r", "r1", 0))
		b.to(ringing6, "8004")

		if err := b.qm.Reconfigure([]queue.Config{{Name: "q", MaxWait: time.Hour}, {Name: "s"}}); err != nil {
			t.Fatal(err)
		}
		kept := []agents.Agent{
			{ID: "8002", Name: "王芳", Contact: "sip:8002@pbx.test", Queues: []agents.Membership{{Queue: "q"}, {Queue: "s", Level: 2}}},
			phone("8003", in("q", 1)),
		}
		if err := b.Reconfigure(b.qm, kept, []agents.Rules{{Queue: "q", WrapUp: -1}}); err != nil {
			t.Fatal(err)
		}
		if s := b.status("8001"); s.State != agents.OnCall || !s.Removed || s.CallID != "c1" {
			t.Errorf("removed on a call: %+v", s)
		}
		if s := b.status("8004"); s.State != agents.Ringing || !s.Removed {
			t.Errorf("removed while ringing: %+v", s)
		}
		if s := b.status("8002"); s.State != agents.Ringing || s.Name != "王芳" || s.CallID != "c2" {
			t.Errorf("kept while ringing: %+v", s)
		}
		if s := b.status("8003"); s.State != agents.Paused || s.Reason != "lunch" || s.Contact != "sip:8003@192.0.2.3" {
			t.Errorf("kept while paused: %+v", s)
		}
		if _, ok := b.Agent("8006"); ok {
			t.Error("a removed offline agent is still there")
		}
		if err := b.SignOut("8001"); !errors.Is(err, agents.ErrUnknownAgent) {
			t.Errorf("sign out a removed agent: %v", err)
		}
		if n := b.Serving("q"); n != 1 {
			t.Errorf("serving q: %d; want 1 (8002; 8001 is no longer q's)", n)
		}
		if !b.Answered(ringing, "8002") {
			t.Fatal("an offer made before the reload lost its answer")
		}
		b.Ended("8002") // no wrap-up under the new rules: takes c3 at once
		b.to(b.offer(c3), "8002")

		b.Ended("8001")
		if _, ok := b.Agent("8001"); ok {
			t.Error("the removed agent is still there after its call")
		}
		b.Missed(ringing6, "8004", agents.NoAnswer)
		if _, ok := b.Agent("8004"); ok {
			t.Error("the removed agent is still there after its offer")
		}
		if len(b.Agents()) != 2 {
			t.Errorf("agents %v", b.Agents())
		}

		// Added back: a new fixed agent starts available.
		if err := b.Reconfigure(b.qm, append(kept, fixed("8001", "q")), nil); err != nil {
			t.Fatal(err)
		}
		if s := b.status("8001"); s.State != agents.Available || s.Removed || s.CallsToday != 0 {
			t.Errorf("added again: %+v", s)
		}
	})
}

// TestReloadRemovesContact: an agent whose fixed contact is taken away
// signs out, after the call in progress.
func TestReloadRemovesContact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBoard(t, qcfg("q"), []agents.Agent{fixed("8001", "q"), fixed("8002", "q")})
		b.take(b.join("q", "c1", 0), "8001")
		if err := b.Reconfigure(b.qm, []agents.Agent{phone("8001", in("q", 1)), phone("8002", in("q", 1))}, nil); err != nil {
			t.Fatal(err)
		}
		b.is("8001", agents.OnCall, "8002", agents.Offline)
		b.Ended("8001")
		b.is("8001", agents.Offline)
	})
}

// TestValidation: NewBoard and Reconfigure refuse a bad configuration
// with every problem named; a refused reload changes nothing.
func TestValidation(t *testing.T) {
	qm, err := queue.NewManager(qcfg("q", "r"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		agents []agents.Agent
		rules  []agents.Rules
		want   []string
		is     error
	}{
		{"empty id", []agents.Agent{{Name: "x"}}, nil, []string{"agent 1 has no id"}, agents.ErrInvalid},
		{"non-digit id", []agents.Agent{{ID: "80a1"}}, nil, []string{`"80a1" is not all digits`}, agents.ErrInvalid},
		{"duplicate id", []agents.Agent{{ID: "8001"}, {ID: "8001"}}, nil, []string{`"8001" is given twice`}, agents.ErrInvalid},
		{"unknown queue", []agents.Agent{phone("8001", in("nope", 1))}, nil, []string{`agent 8001: queue "nope"`}, queue.ErrUnknownQueue},
		{"queue twice", []agents.Agent{phone("8001", in("q", 1), in("q", 2))}, nil, []string{`queue "q" is listed twice`}, agents.ErrInvalid},
		{"negative level", []agents.Agent{phone("8001", in("q", -1))}, nil, []string{"level -1 is negative"}, agents.ErrInvalid},
		{"strategy", nil, []agents.Rules{{Queue: "q", Strategy: "random"}}, []string{`unknown strategy "random"`}, agents.ErrInvalid},
		{"ring timeout", nil, []agents.Rules{{Queue: "q", RingTimeout: -time.Second}}, []string{"ring timeout -1s is negative"}, agents.ErrInvalid},
		{"rules twice", nil, []agents.Rules{{Queue: "q"}, {Queue: "q"}}, []string{`"q" has rules twice`}, agents.ErrInvalid},
		{"rules of unknown queue", nil, []agents.Rules{{Queue: "x"}}, []string{`rules for queue "x"`}, queue.ErrUnknownQueue},
		{"all at once", []agents.Agent{{ID: "x"}, phone("8001", in("nope", 0))}, nil, []string{`"x" is not all digits`, `queue "nope"`}, agents.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := agents.NewBoard(qm, tc.agents, tc.rules, nil)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%v; want it to say %s", err, w)
				}
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("%v is not %v", err, tc.is)
			}
		})
	}
	if _, err := agents.NewBoard(nil, nil, nil, nil); !errors.Is(err, agents.ErrInvalid) {
		t.Errorf("no manager: %v", err)
	}
	b, err := agents.NewBoard(qm, []agents.Agent{fixed("8001", "q")}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Reconfigure(qm, []agents.Agent{fixed("8001", "q"), {ID: "8001"}}, nil); err == nil {
		t.Fatal("a bad reload accepted")
	}
	if all := b.Agents(); len(all) != 1 || all[0].State != agents.Available {
		t.Errorf("a refused reload changed the board: %+v", all)
	}
}
