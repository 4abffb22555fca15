package sip

import (
	"testing"
	"testing/synctest"
)

// TestNoPortsRetryAfter: an INVITE that finds every RTP port taken gets
// 503 at once with a Retry-After, so a trunk tries again or elsewhere
// rather than taking kefu for dead.
func TestNoPortsRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUA(t, testFlowYAML("0s", "60s", "2s"))
		u.ports.full = true
		tx := newRecTx(invite(t, "UDP"))
		u.a.onInvite(tx.Origin(), tx)
		res := tx.Result()
		if got := codes(res); len(got) != 1 || got[0] != 503 {
			t.Fatalf("INVITE with the ports full: %v, want [503]", got)
		}
		if h := res[0].GetHeader("Retry-After"); h == nil || h.Value() != "10" {
			t.Errorf("Retry-After %v, want 10", h)
		}
	})
}
