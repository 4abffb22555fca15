package flood

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

func addrN(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{100, byte(i >> 16), byte(i >> 8), byte(i)})
}

func TestMaxTrackedBoundsMemory(t *testing.T) {
	const max = 10
	g := newGuard(t, Config{MaxTracked: max, BanStrikes: -1, Invite: Limits{Source: Rate{PerSecond: 1, Burst: 1}}})
	// Each source spends its only token, so no entry is idle: the table
	// has to evict to stay within its bound.
	for i := range 1000 {
		g.Check(invite(addrN(i), fmt.Sprint(i)), t0)
		if s := g.Stats(); s.Sources > max || s.Callers > max {
			t.Fatalf("after %d sources: %d sources, %d callers tracked, bound %d", i+1, s.Sources, s.Callers, max)
		}
	}
	s := g.Stats()
	if s.Sources != max || s.Callers != max {
		t.Errorf("tracked %d sources, %d callers; want %d each", s.Sources, s.Callers, max)
	}
	if want := uint64(2 * (1000 - max)); s.Evicted != want {
		t.Errorf("evicted %d, want %d", s.Evicted, want)
	}
	// The least recently seen went first: the newest sources are still
	// limited, the oldest start afresh.
	want(t, g.Check(invite(addrN(999), ""), t0), Reject, 503, ReasonSourceRate)
	want(t, g.Check(invite(addrN(0), ""), t0), Allow, 0, ReasonNone)
}

func TestIdleEntriesForgotten(t *testing.T) {
	g := newGuard(t, Config{MaxTracked: 10, BanStrikes: -1})
	// One request per source per second: by the next second the previous
	// sources' buckets are full again, so they are forgotten, not evicted.
	for i := range 1000 {
		g.Check(Request{Method: "OPTIONS", Source: addrN(i)}, t0.Add(time.Duration(i)*time.Second))
	}
	s := g.Stats()
	if s.Evicted != 0 || s.Sources > 2 {
		t.Errorf("tracked %d sources, evicted %d; want idle entries forgotten as new ones come", s.Sources, s.Evicted)
	}
}

func TestHotBannedSourceSurvivesChurn(t *testing.T) {
	g := newGuard(t, Config{MaxTracked: 8, BanStrikes: 2, Options: Limits{Source: Rate{PerSecond: 1, Burst: 1}}})
	for range 3 {
		g.Check(Request{Method: "OPTIONS", Source: outsider}, t0)
	}
	// Spoofed sources churn the table; the banned source keeps sending,
	// stays most recently used and stays banned.
	for i := range 1000 {
		g.Check(Request{Method: "OPTIONS", Source: addrN(i)}, t0)
		g.Check(Request{Method: "OPTIONS", Source: addrN(i)}, t0)
		want(t, g.Check(invite(outsider, ""), t0), Drop, 0, ReasonSourceBanned)
	}
}

func TestTableShards(t *testing.T) {
	for _, tt := range []struct{ max, shards, per int }{
		{1, 1, 1},
		{127, 1, 127},
		{128, 2, 64},
		{1000, 8, 125},
		{DefaultMaxTracked, maxShards, DefaultMaxTracked / maxShards},
	} {
		tb := newTable[string](tt.max, time.Second, nil)
		if len(tb.shards) != tt.shards || tb.shards[0].cap != tt.per {
			t.Errorf("max %d: %d shards of %d, want %d of %d", tt.max, len(tb.shards), tb.shards[0].cap, tt.shards, tt.per)
		}
		if len(tb.shards)*tb.shards[0].cap > tt.max {
			t.Errorf("max %d: bound exceeded", tt.max)
		}
	}
}

func TestTableReusesNodes(t *testing.T) {
	tb := newTable[string](4, time.Second, nil)
	sh := tb.shard(0)
	for i := range 100 {
		st := sh.get(tb, fmt.Sprint(i), 0)
		st.tat[0] = 1 // not idle
	}
	if len(sh.nodes) != 4 || len(sh.idx) != 4 {
		t.Errorf("%d nodes, %d keys; want 4 and 4", len(sh.nodes), len(sh.idx))
	}
	// LRU order: a lookup moves a key to the front.
	sh.get(tb, "96", 0)
	sh.get(tb, "100", 0)
	if _, ok := sh.idx["97"]; ok {
		t.Error("97 should have been evicted first")
	}
	if _, ok := sh.idx["96"]; !ok {
		t.Error("96 was used recently and should stay")
	}
}
