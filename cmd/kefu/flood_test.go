package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestIntegrationFloodGuard: sipp floods kefu from one caller number through
// a trusted trunk address (127.0.0.2) and with ever-new numbers from one
// untrusted address (127.0.0.3), while real callers dial in from 127.0.0.1.
// The caller flood gets a final 486 for every INVITE over the limit (the
// trunk is never left waiting), the source flood 503 with Retry-After and
// then silence once the source is banned, and every real caller is
// answered throughout. Screening is pinned to a repeat-call rule of 5 calls
// with a rejection (ops' choice; the default sends flagged numbers to the
// nuisance path), so that its 603s show between the two.
func TestIntegrationFloodGuard(t *testing.T) {
	integration(t)
	t.Parallel()
	a := startAgent(t, "-trusted", "127.0.0.2", "-config", withScreening(t, "screening:\n  repeat_calls: 5\n  repeat_action: reject 603\n"))
	s := newSipp(t, a)

	one := filepath.Join(s.dir, "one.csv")
	many := filepath.Join(s.dir, "many.csv")
	lines := []string{"SEQUENTIAL"}
	for i := range 150 {
		lines = append(lines, fmt.Sprintf("1391%07d;", i)) // none is the caller flood's number
	}
	writeFile(t, one, "SEQUENTIAL\n13900000001;\n")
	writeFile(t, many, strings.Join(lines, "\n")+"\n")

	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var caller, source *sippResult
	wg.Add(2)
	go func() {
		defer wg.Done()
		caller = s.run("uac_flood.xml", 40*time.Second, "-m", "60", "-r", "30", "-i", "127.0.0.2", "-mi", "127.0.0.2",
			"-inf", one, "-recv_timeout", "5000")
	}()
	go func() {
		defer wg.Done()
		source = s.run("uac_flood.xml", 40*time.Second, "-m", "150", "-r", "75", "-i", "127.0.0.3", "-mi", "127.0.0.3",
			"-inf", many, "-recv_timeout", "3000")
	}()
	// Real callers, one after another while the floods run.
	for i := range 4 {
		evs, code, out := dial(t, ctx, a, "-from", fmt.Sprintf("sip:1380000000%d@127.0.0.1", i), "-for", "500ms", "-max", "15s")
		if _, ok := find(evs, "answered"); !ok || code != 0 {
			t.Errorf("real caller %d was not answered during the flood\n%s", i, out)
		}
	}
	wg.Wait()

	// The caller flood through the trunk: every INVITE got a final answer:
	// the first five answered (the repeat-call rule allows 5 calls in 10
	// minutes, those still ringing included), then screening's 603 until
	// the flood guard's 486 takes over after its burst of 10 (plus the
	// tokens that refill at 1/s meanwhile).
	s.expect(caller, 0)
	invites, finals := sippFinals(caller)
	if invites != 60 || finals["200"] != 5 || finals["603"] < 5 || finals["486"] < 40 || finals["200"]+finals["603"]+finals["486"] != 60 {
		t.Errorf("caller flood: %d INVITEs, finals %v; want 60: 5 answered, then 603s, then at least 40 refused 486", invites, finals)
	}
	// The source flood: refused with 503, then banned (no answers).
	invites, finals = sippFinals(source)
	if finals["503"] == 0 || finals["200"] >= invites {
		t.Errorf("source flood: %d INVITEs, finals %v; want 503s", invites, finals)
	}
	for _, m := range source.msgs {
		if !m.sent && strings.HasPrefix(m.start(), "SIP/2.0 503") && m.header("Retry-After") == "" {
			t.Errorf("a 503 without Retry-After:\n%s", m.text)
			break
		}
	}
	m := a.metrics()
	for _, sample := range []string{
		`kefu_flood_denied_total{action="reject",method="INVITE",reason="caller_rate"}`,
		`kefu_flood_denied_total{action="reject",method="INVITE",reason="source_rate"}`,
		`kefu_flood_denied_total{action="drop",method="INVITE",reason="source_banned"}`,
	} {
		if metric(m, sample) == 0 {
			t.Errorf("metrics: %s is 0", sample)
		}
	}
	if n := metric(m, `kefu_invites_rejected_total{status="486"}`); n != float64(finals486(caller)) {
		t.Errorf("kefu counted %v refusals 486, sipp saw %d", n, finals486(caller))
	}
}

// sippFinals counts the INVITEs sipp sent (by Call-ID) and the final
// responses to them by status.
func sippFinals(r *sippResult) (int, map[string]int) {
	calls := map[string]bool{}
	finals := map[string]int{}
	seen := map[string]bool{}
	for _, m := range r.msgs {
		cid := m.header("Call-ID")
		if m.sent && strings.HasPrefix(m.start(), "INVITE ") {
			calls[cid] = true
			continue
		}
		if m.sent || !strings.HasSuffix(m.header("CSeq"), "INVITE") {
			continue
		}
		f := strings.Fields(m.start())
		if len(f) < 2 || f[1] < "200" || seen[cid] {
			continue
		}
		seen[cid] = true // retransmitted finals count once
		finals[f[1]]++
	}
	return len(calls), finals
}

func finals486(r *sippResult) int {
	_, f := sippFinals(r)
	return f["486"]
}
