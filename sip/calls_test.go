package sip

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/emiago/sipgo/sip"
)

// TestCallsSnapshot: a ringing call shows as ringing, masked; once
// answered, with its codec and the step its flow runs; ops' hang-up sends
// BYE and ends the call with the cause ops_hangup.
func TestCallsSnapshot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUA(t, testFlowYAML("2s", "60s", "1h"))
		if got := u.a.Calls(); len(got) != 0 {
			t.Fatalf("calls before any: %+v", got)
		}
		inv := invite(t, "UDP")
		start := time.Now()
		answered := make(chan *sip.Response, 1)
		go func() {
			_, ok := u.answered(inv)
			answered <- ok
		}()
		advance(time.Second)
		calls := u.a.Calls()
		if len(calls) != 1 {
			t.Fatalf("calls while ringing: %+v", calls)
		}
		c := calls[0]
		if c.CallID != "callstate-test" || c.Caller != "138******78" || c.Called != "hotline" || c.Flow != "test" || c.Version != "test" ||
			c.State != "ringing" || !c.Started.Equal(start) || c.Seconds != 1 || c.Codec != "" || !c.Answered.IsZero() || c.Source != "127.0.0.1:5070" {
			t.Errorf("ringing call %+v", c)
		}
		ok := <-answered
		u.ack(inv, ok)
		advance(time.Second)
		c = u.a.Calls()[0]
		if c.State != "answered" || !c.Answered.Equal(start.Add(2*time.Second)) || c.Codec != "PCMU" || c.Step != "wait (hangup)" || c.Held {
			t.Errorf("answered call %+v", c)
		}
		if u.a.Hangup("no-such-call") {
			t.Error("hung up a call that is not there")
		}
		if !u.a.Hangup("callstate-test") {
			t.Fatal("no call to hang up")
		}
		bye, _ := u.nextRequest(sip.BYE)
		checkBye(t, bye, inv, ok, 2)
		synctest.Wait()
		if len(u.a.Calls()) != 0 || u.ended("ops_hangup") != 1 || u.ports.held() != 0 {
			t.Errorf("after the hang-up: %d calls, %v ended ops_hangup, %d ports", len(u.a.Calls()), u.ended("ops_hangup"), u.ports.held())
		}
	})
}

// TestCallsHangupRinging: a call ops end while it rings gets 480.
func TestCallsHangupRinging(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUA(t, testFlowYAML("5s", "60s", "1h"))
		inv := invite(t, "UDP")
		tx := newRecTx(inv)
		done := make(chan struct{})
		go func() {
			u.a.onInvite(inv, tx)
			close(done)
		}()
		advance(time.Second)
		if !u.a.Hangup("callstate-test") {
			t.Fatal("no ringing call to hang up")
		}
		<-done
		synctest.Wait()
		if got := codes(tx.Result()); len(got) != 3 || got[2] != 480 {
			t.Errorf("INVITE answered %v, want 100 180 480", got)
		}
		if u.a.ActiveCalls() != 0 || u.ports.held() != 0 {
			t.Errorf("after the hang-up: %d calls, %d ports", u.a.ActiveCalls(), u.ports.held())
		}
	})
}
