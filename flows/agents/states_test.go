package agents_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
)

// TestSignIn: registration signs in, a refresh keeps the state (an agent
// who paused or signed out from the phone stays so), un-registration
// signs out and forgets the contact.
func TestSignIn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBoard(t, qcfg("q"), []agents.Agent{phone("8001", in("q", 1)), fixed("8002", "q")})
		b.is("8001", agents.Offline, "8002", agents.Available)
		if b.Serving("q") != 1 {
			t.Errorf("serving %d", b.Serving("q"))
		}
		if err := b.Ready("8001"); !errors.Is(err, agents.ErrNoContact) {
			t.Errorf("Ready unregistered: %v", err)
		}
		if err := b.Pause("8001", "x"); !errors.Is(err, agents.ErrNoContact) {
			t.Errorf("Pause unregistered: %v", err)
		}
		if err := b.SignIn("8001", ""); !errors.Is(err, agents.ErrNoContact) {
			t.Errorf("SignIn without contact: %v", err)
		}
		for _, err := range []error{b.SignIn("9999", "sip:x@y"), b.SignOut("9999"), b.Ready("9999"), b.Pause("9999", ""), b.Unregister("9999")} {
			if !errors.Is(err, agents.ErrUnknownAgent) {
				t.Errorf("unknown agent: %v", err)
			}
		}
		step := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Second)
		}
		step(b.SignIn("8001", "sip:8001@192.0.2.1:5060"))
		if s := b.status("8001"); s.State != agents.Available || !s.Registered || s.Contact != "sip:8001@192.0.2.1:5060" || s.Since != time.Now().Add(-time.Second) {
			t.Errorf("registered: %+v", s)
		}
		step(b.Pause("8001", "lunch"))
		step(b.SignIn("8001", "sip:8001@192.0.2.1:6000")) // refresh from a new port
		if s := b.status("8001"); s.State != agents.Paused || s.Reason != "lunch" || s.Contact != "sip:8001@192.0.2.1:6000" {
			t.Errorf("refresh while paused: %+v", s)
		}
		step(b.SignOut("8001"))
		step(b.SignIn("8001", "sip:8001@192.0.2.1:6000"))
		if s := b.status("8001"); s.State != agents.Offline || s.Reason != "" {
			t.Errorf("refresh after *0: %+v", s)
		}
		step(b.Ready("8001")) // *1 from the still registered phone
		b.is("8001", agents.Available)
		step(b.Unregister("8001"))
		if s := b.status("8001"); s.State != agents.Offline || s.Registered || s.Contact != "" {
			t.Errorf("unregistered: %+v", s)
		}
		step(b.Unregister("8001")) // twice: harmless
		step(b.SignIn("8001", "sip:8001@192.0.2.7"))
		b.is("8001", agents.Available)

		// A fixed agent who also registers falls back to the fixed contact.
		step(b.SignIn("8002", "sip:8002@192.0.2.8"))
		step(b.Unregister("8002"))
		if s := b.status("8002"); s.State != agents.Available || s.Contact != "sip:8002@pbx.test" {
			t.Errorf("fixed agent after unregister: %+v", s)
		}
		step(b.SignOut("8002"))
		b.is("8002", agents.Offline)
		step(b.Pause("8002", "training")) // signs in paused
		b.is("8002", agents.Paused)
		if b.Serving("q") != 1 {
			t.Errorf("serving %d", b.Serving("q"))
		}
	})
}

// TestSignOutDuringCall: an agent who signs out while on a call (or
// ringing) finishes it and then goes offline, without wrap-up; a pause
// asked for meanwhile works the same way.
func TestSignOutDuringCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBoard(t, qcfg("q"), []agents.Agent{phone("8001", in("q", 1)), phone("8002", in("q", 1))})
		for _, id := range []string{"8001", "8002"} {
			if err := b.SignIn(id, "sip:"+id+"@192.0.2.1"); err != nil {
				t.Fatal(err)
			}
		}
		b.take(b.join("q", "c1", 0), "8001")
		if err := b.Unregister("8001"); err != nil { // the phone's registration expires mid-call
			t.Fatal(err)
		}
		if s := b.status("8001"); s.State != agents.OnCall || s.Then != "offline" || s.CallID != "c1" {
			t.Errorf("signed out on a call: %+v", s)
		}
		b.Ended("8001")
		b.is("8001", agents.Offline)

		c2 := b.join("q", "c2", 0)
		o := b.offer(c2)
		b.to(o, "8002")
		if err := b.Pause("8002", "break"); err != nil {
			t.Fatal(err)
		}
		if s := b.status("8002"); s.State != agents.Ringing || s.Then != "paused" {
			t.Errorf("paused while ringing: %+v", s)
		}
		b.Missed(o, "8002", agents.NoAnswer)
		if s := b.status("8002"); s.State != agents.Paused || s.Reason != "break" {
			t.Errorf("after the missed offer: %+v", s)
		}
		b.none(c2)
		if err := b.Ready("8002"); err != nil {
			t.Fatal(err)
		}
		o = b.offer(c2)
		if err := b.SignOut("8002"); err != nil {
			t.Fatal(err)
		}
		if err := b.Ready("8002"); err != nil { // changed their mind
			t.Fatal(err)
		}
		b.answer(o, "8002")
		if err := b.SignOut("8002"); err != nil {
			t.Fatal(err)
		}
		b.Ended("8002")
		b.is("8002", agents.Offline)
	})
}

// TestStatusJSON: the ops API's shape.
func TestStatusJSON(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBoard(t, qcfg("q"), []agents.Agent{fixed("8001", "q"), phone("10"), phone("9")})
		if err := b.Pause("8001", "no answer"); err != nil {
			t.Fatal(err)
		}
		all := b.Agents()
		if len(all) != 3 || all[0].ID != "9" || all[1].ID != "10" || all[2].ID != "8001" {
			t.Fatalf("Agents() order %v", all)
		}
		data, err := json.Marshal(all[2])
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`"id":"8001"`, `"state":"paused"`, `"reason":"no answer"`, `"queues":[{"queue":"q","level":1}]`, `"registered":false`} {
			if !strings.Contains(string(data), want) {
				t.Errorf("%s lacks %s", data, want)
			}
		}
		if strings.Contains(string(data), "last_ended") || strings.Contains(string(data), "call_id") {
			t.Errorf("empty fields shown: %s", data)
		}
		if data, _ := json.Marshal(all[0]); !strings.Contains(string(data), `"queues":[]`) {
			t.Errorf("no queues: %s", data)
		}
		var names []string
		for _, s := range agents.States() {
			names = append(names, s.String())
		}
		if got := strings.Join(names, " "); got != "offline available ringing on_call wrap_up paused" {
			t.Errorf("states %s", got)
		}
		if agents.Failed.String() != "failed" || agents.NoAnswer.String() != "no_answer" {
			t.Error("miss names")
		}
	})
}

// TestSubscribe: a change signals the subscribers, coalesced.
func TestSubscribe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBoard(t, qcfg("q"), []agents.Agent{phone("8001", in("q", 1))})
		ch, stop := b.Subscribe()
		if err := b.SignIn("8001", "sip:a@b"); err != nil {
			t.Fatal(err)
		}
		if err := b.Pause("8001", ""); err != nil {
			t.Fatal(err)
		}
		<-ch
		select {
		case <-ch:
			t.Error("signals not coalesced")
		default:
		}
		stop()
		if err := b.Ready("8001"); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ch:
			t.Error("signal after the end of the subscription")
		default:
		}
	})
}
