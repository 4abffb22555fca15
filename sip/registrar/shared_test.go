package registrar

import (
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/store/pg"
	"github.com/kefu-hotline/kefu/flows/store/pg/pgtest"
)

// cluster is the PostgreSQL the shared-store tests share, a new schema
// each.
var cluster pgtest.Shared

func TestMain(m *testing.M) { os.Exit(cluster.Main(m)) }

// pgStore is a shared store on a new PostgreSQL schema; each call opens
// its own handle (a node's).
func pgStore(t *testing.T) func() Store {
	dsn := cluster.DSN(t)
	return func() Store {
		s, err := pg.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return Shared(s)
	}
}

// TestSharedStore: two registrars on one store are one registrar, on
// memory (one process) and on PostgreSQL (two handles: two nodes).
func TestSharedStore(t *testing.T) {
	for name, open := range map[string]func(t *testing.T) (Store, Store){
		"memory": func(*testing.T) (Store, Store) { m := NewMemory(); return m, m },
		"postgres": func(t *testing.T) (Store, Store) {
			o := pgStore(t)
			return o(), o()
		},
	} {
		t.Run(name, func(t *testing.T) {
			for _, sc := range []struct {
				name string
				run  func(t *testing.T, a, b *harness)
			}{
				{"a nonce from one node is good on the other", sharedNonce},
				{"refresh, replay and un-register across nodes", sharedRefresh},
				{"a sweep keeps what another node refreshed", sharedSweep},
				{"the path is stored and routes", sharedPath},
			} {
				t.Run(sc.name, func(t *testing.T) {
					sa, sb := open(t)
					a := newHarness(t, Config{Store: sa})
					b := newHarness(t, Config{Store: sb, Now: a.clock.Now})
					sc.run(t, a, b)
				})
			}
		})
	}
}

// sharedNonce: challenged by A, the phone's credentials go to B (a proxy
// that spreads REGISTERs over the nodes), which takes them; B then knows
// the binding, and so does A.
func sharedNonce(t *testing.T, a, b *harness) {
	req := reg("8001", "<sip:8001@192.0.2.10:5060>", phoneSrc)
	res := a.r.Handle(req)
	req = answer(t, req, res, 0, "kefu-8001-secret", 1)
	req.CSeq++
	if res := b.r.Handle(req); res.Code != 200 || res.Outcome != Registered {
		t.Fatalf("B, with A's nonce: %d %s %v", res.Code, res.Outcome, res.Err)
	}
	for n, h := range map[string]*harness{"A": a, "B": b} {
		if bd, ok := h.r.Contact("8001"); !ok || bd.Source != phoneSrc {
			t.Errorf("%s: contact %+v %v", n, bd, ok)
		}
	}
	if c := b.takeChanges(); len(c) != 1 || !c[0].in {
		t.Errorf("B's sign-ins %+v", c)
	}
	if c := a.takeChanges(); len(c) != 0 {
		t.Errorf("A signed in %+v: the node that bound it does", c)
	}
}

// sharedRefresh: the REGISTER that bound a contact on A, replayed to B
// (which has not seen its nonce), is refused as out of order; a refresh
// through B moves the binding's expiry for A too; an un-register through
// A leaves B without it.
func sharedRefresh(t *testing.T, a, b *harness) {
	first, req := a.login(reg("8001", "<sip:8001@192.0.2.10:5060>", phoneSrc), "kefu-8001-secret")
	if first.Code != 200 {
		t.Fatalf("login on A: %+v", first)
	}
	if res := b.r.Handle(req); res.Code != 400 || res.Outcome != OutOfOrder {
		t.Errorf("A's REGISTER replayed to B: %d %s", res.Code, res.Outcome)
	}
	a.clock.Advance(30 * time.Minute)
	again := func(h *harness, r Request) Request {
		r.CSeq++
		r.Authorization = nil
		r = answer(t, r, h.r.Handle(r), 0, "kefu-8001-secret", 1)
		r.CSeq++
		return r
	}
	refresh := again(b, req)
	if res := b.r.Handle(refresh); res.Code != 200 || res.Outcome != Refreshed {
		t.Fatalf("refresh on B: %d %s", res.Code, res.Outcome)
	}
	bd, ok := a.r.Contact("8001")
	if want := a.clock.Now().Add(DefaultExpires); !ok || !bd.Expires.Equal(want) {
		t.Errorf("A sees expiry %v %v, want %v", bd.Expires, ok, want)
	}
	refresh.Expires = 0
	bye := again(a, refresh)
	if res := a.r.Handle(bye); res.Code != 200 || res.Outcome != Unregistered {
		t.Fatalf("un-register on A: %d %s", res.Code, res.Outcome)
	}
	if bd, ok := b.r.Contact("8001"); ok {
		t.Errorf("B still has %+v", bd)
	}
}

// sharedSweep: A's sweep after the first expiry keeps the binding B
// refreshed; once it has expired, B's sweep signs the agent out, and A's
// finds nothing left to do.
func sharedSweep(t *testing.T, a, b *harness) {
	_, req := a.login(reg("8001", "<sip:8001@192.0.2.10:5060>", phoneSrc), "kefu-8001-secret")
	a.takeChanges()
	a.clock.Advance(DefaultExpires - time.Minute)
	req.CSeq++
	req = answer(t, req, b.r.Handle(req), 0, "kefu-8001-secret", 1)
	req.CSeq++
	if res := b.r.Handle(req); res.Code != 200 {
		t.Fatalf("refresh on B: %+v", res)
	}
	a.clock.Advance(2 * time.Minute)
	a.r.Sweep()
	if _, ok := b.r.Contact("8001"); !ok || len(a.takeChanges()) != 0 {
		t.Fatal("A's sweep removed the binding B refreshed")
	}
	a.clock.Advance(DefaultExpires)
	b.r.Sweep()
	if c := b.takeChanges(); len(c) != 1 || c[0].in {
		t.Errorf("B's sweep: %+v; want the sign-out", c)
	}
	a.r.Sweep()
	if c := a.takeChanges(); len(c) != 0 {
		t.Errorf("A's sweep after B's: %+v", c)
	}
	if all := a.r.All(); len(all) != 0 {
		t.Errorf("bindings left %+v", all)
	}
}

// sharedPath: a REGISTER through a proxy that added Path (Kamailio's
// add_path_received) is answered with the Path; the binding keeps it on
// every node, its target stays the phone's own contact and requests go
// to the proxy.
func sharedPath(t *testing.T, a, b *harness) {
	proxy := netip.MustParseAddrPort("192.0.2.1:5060")
	path := []string{"<sip:192.0.2.1;lr;received=sip:198.51.100.7:41234>"}
	req := reg("8001", "<sip:8001@10.1.2.3:5060>", proxy)
	req.Path = path
	res, _ := a.login(req, "kefu-8001-secret")
	if res.Code != 200 || !slices.Equal(res.Path, path) {
		t.Fatalf("login through the proxy: %d %v", res.Code, res.Path)
	}
	bd, ok := b.r.Contact("8001")
	if !ok || !slices.Equal(bd.Path, path) {
		t.Fatalf("B's binding %+v %v", bd, ok)
	}
	if got := bd.Target(); got.String() != "sip:8001@10.1.2.3:5060" {
		t.Errorf("target %s; want the phone's contact as it is", got.String())
	}
	if d := bd.Destination(); d != "192.0.2.1:5060" {
		t.Errorf("destination %s; want the proxy", d)
	}
}
