package flood

// go test -bench . -benchmem -count 3 -run XXX ./sip/flood on the 2-core
// AMD EPYC dev machine (GOMAXPROCS=2, shared with other work, so expect
// ±30%), Go 1.26:
//
//	existing_sources  310-420 ns/op  0 B/op  0 allocs/op
//	hot_source        155-165 ns/op  0 B/op  0 allocs/op
//	trunk_callers     300-370 ns/op  0 B/op  0 allocs/op
//	new_sources       380-500 ns/op  0 B/op  0 allocs/op
//	scanner           125-200 ns/op  0 B/op  0 allocs/op
//
// The table cases are bound by memory latency (random keys over tables of
// thousands of entries): profiles show mutex acquisition, map probes and
// the LRU relinking, no allocation and no lock contention to speak of.
//
// existing_sources: allowed INVITEs from 4096 known sources and callers
// (both tables, bucket updates). hot_source: one untrusted source flooding
// from every goroutine (rejected, then banned and dropped). trunk_callers:
// a trusted trunk with 65536 known callers, most over their limit.
// new_sources: every request from a new address (a spoofed flood): the
// source table is full and evicts its least recently used entry each time.
// scanner: the User-Agent match alone, on a benign 60-byte User-Agent.

import (
	"fmt"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"
)

func BenchmarkCheck(b *testing.B) {
	generous := Limits{Source: Rate{PerSecond: 1e6, Burst: 1e6}, Caller: Rate{PerSecond: 1e6, Burst: 1e6}}
	const known = 4096
	srcs := make([]netip.Addr, 65536)
	callers := make([]string, 65536)
	for i := range srcs {
		srcs[i] = addrN(i)
		callers[i] = fmt.Sprint(13800000000 + i)
	}
	var goroutine atomic.Int64
	// next gives each goroutine its own walk over the keys.
	next := func() func(n int) int {
		i := int(goroutine.Add(1)) * 7919
		return func(n int) int { i++; return i % n }
	}

	b.Run("existing_sources", func(b *testing.B) {
		g := newGuard(b, Config{Invite: generous})
		for i := range known {
			g.Check(invite(srcs[i], callers[i]), t0)
		}
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			k := next()
			for pb.Next() {
				i := k(known)
				if v := g.Check(invite(srcs[i], callers[i]), t0); v.Action != Allow {
					panic(v)
				}
			}
		})
	})
	b.Run("hot_source", func(b *testing.B) {
		g := newGuard(b, Config{})
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				g.Check(invite(outsider, "13800138000"), t0)
			}
		})
	})
	b.Run("trunk_callers", func(b *testing.B) {
		g := newGuard(b, Config{Trusted: []netip.Prefix{trunkNet}})
		for _, c := range callers {
			g.Check(invite(trunk, c), t0)
		}
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			k := next()
			for pb.Next() {
				g.Check(invite(trunk, callers[k(len(callers))]), t0)
			}
		})
	})
	b.Run("new_sources", func(b *testing.B) {
		g := newGuard(b, Config{MaxTracked: 16384})
		for i := range 16384 {
			g.Check(Request{Method: "OPTIONS", Source: srcs[i]}, t0)
		}
		var n atomic.Uint32
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				x := n.Add(1)
				a := netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)})
				g.Check(Request{Method: "OPTIONS", Source: a}, t0)
			}
		})
	})
	b.Run("scanner", func(b *testing.B) {
		s := newScanners(DefaultScanners())
		ua := "Yealink SIP-T54W 96.86.0.100 00:15:65:aa:bb:cc Linphone/5.2"
		b.ReportAllocs()
		for b.Loop() {
			if s.match(ua) {
				b.Fatal("matched")
			}
		}
	})
}

// TestCheckAllocs pins the zero-allocation hot path for existing keys.
func TestCheckAllocs(t *testing.T) {
	g := newGuard(t, Config{Trusted: []netip.Prefix{trunkNet}})
	r := invite(outsider, "13800138000")
	tr := invite(trunk, "13800138001")
	g.Check(r, t0)
	g.Check(tr, t0)
	now := t0
	allocs := testing.AllocsPerRun(1000, func() {
		now = now.Add(time.Second)
		g.Check(r, now)
		g.Check(tr, now)
	})
	if allocs != 0 {
		t.Errorf("Check allocates %v times per call for known keys", allocs)
	}
}
