package sip

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/kefu-hotline/kefu/flows/screen"
	"github.com/kefu-hotline/kefu/flows/screen/screentest"
)

// screened gives the agent's configuration nuisance screening over a store
// in memory, on the bubble's clock.
func (u *ua) screened() *screentest.Memory {
	u.t.Helper()
	st := &screentest.Memory{}
	if err := u.a.cfg.Current().Screen(st, time.Now, nil); err != nil {
		u.t.Fatal(err)
	}
	return st
}

// counted is how many calls from the test caller the repeat-call rule
// counted.
func counted(t *testing.T, st *screentest.Memory) int {
	t.Helper()
	n, _, err := st.CountCalls(t.Context(), "13812345678", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCallCountedWhenServed (CS-ANGRY): a call kefu refuses because its
// RTP ports are full (503), or that the caller cancels while it rings,
// is screened but not counted by the repeat-call rule; a call kefu
// answers is, once, and ending normally spares nothing.
func TestCallCountedWhenServed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUA(t, testFlowYAML("500ms", "60s", "2s"))
		st := u.screened()

		u.ports.full = true
		tx := newRecTx(invite(t, "UDP"))
		u.a.onInvite(tx.Origin(), tx)
		if got := codes(tx.Result()); len(got) != 1 || got[0] != 503 {
			t.Fatalf("INVITE with the ports full answered %v, want [503]", got)
		}
		u.ports.full = false

		inv := invite(t, "UDP")
		tx = newRecTx(inv)
		done := make(chan struct{})
		go func() { defer close(done); u.a.onInvite(inv, tx) }()
		advance(100 * time.Millisecond)
		if err := tx.Receive(cancelOf(t, inv)); err != nil {
			t.Fatal(err)
		}
		<-done
		synctest.Wait()
		if n := counted(t, st); n != 0 {
			t.Fatalf("%d refused or cancelled calls counted", n)
		}

		inv = invite(t, "UDP")
		_, ok := u.answered(inv)
		u.ack(inv, ok)
		u.nextRequest(sip.BYE) // the flow hangs up after 2 s
		synctest.Wait()
		if n := counted(t, st); n != 1 {
			t.Fatalf("%d calls counted after one served, want 1", n)
		}
		if ex, err := st.Exemption(t.Context(), "13812345678", time.Now().Add(-time.Hour)); err != nil || ex != screen.ExemptNone {
			t.Errorf("a call that ended normally spares its number: %q %v", ex, err)
		}
	})
}

// TestCallCutShortSpares (CS-ANGRY): a call kefu ends for want of media
// (a dropped call) spares its number from the repeat-call rule.
func TestCallCutShortSpares(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUA(t, testFlowYAML("500ms", "5s", "1h"))
		st := u.screened()
		inv := invite(t, "UDP")
		_, ok := u.answered(inv)
		u.ack(inv, ok)
		u.nextRequest(sip.BYE) // no RTP from the caller: media timeout
		synctest.Wait()
		if u.ended("media_timeout") != 1 || counted(t, st) != 1 {
			t.Fatalf("ended by media timeout %v, counted %d", u.ended("media_timeout"), counted(t, st))
		}
		if ex, err := st.Exemption(t.Context(), "13812345678", time.Now().Add(-time.Hour)); err != nil || ex != screen.ExemptCutShort {
			t.Errorf("the dropped call's number: %q %v, want spared", ex, err)
		}
	})
}
