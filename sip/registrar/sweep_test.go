package registrar

import (
	"fmt"
	"net/netip"
	"reflect"
	"testing"
	"testing/synctest"
	"time"
)

// Expiry signs the agent out: Run's sweep finds the lapsed binding within
// a SweepInterval, in virtual time.
func TestExpirySignsOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Config{Now: time.Now})
		go h.r.Run(t.Context())
		req := reg("8001", "<sip:8001@192.0.2.10>", phoneSrc)
		req.Expires = 120
		if res, _ := h.login(req, "kefu-8001-secret"); res.Code != 200 {
			t.Fatal(res)
		}
		h.takeChanges()
		time.Sleep(119 * time.Second)
		synctest.Wait()
		if c := h.takeChanges(); len(c) != 0 {
			t.Fatalf("signed out early: %v", c)
		}
		time.Sleep(time.Second) // expires now; Run sweeps on its next tick
		synctest.Wait()
		if c := h.takeChanges(); !reflect.DeepEqual(c, []change{{"8001", "sip:8001@192.0.2.10", false}}) {
			t.Errorf("OnChange %v, want a sign-out at expiry", c)
		}
		if _, ok := h.r.Contact("8001"); ok {
			t.Errorf("expired binding still returned")
		}
	})
}

// Lookups never return an expired binding, even before a sweep.
func TestLookupIgnoresExpired(t *testing.T) {
	h := newHarness(t, Config{})
	req := reg("8001", "<sip:8001@192.0.2.10>", phoneSrc)
	req.Expires = 60
	h.login(req, "kefu-8001-secret")
	h.clock.Advance(60 * time.Second)
	if _, ok := h.r.Contact("8001"); ok || len(h.r.Bindings("8001")) != 0 || len(h.r.All()) != 0 {
		t.Errorf("expired binding returned before the sweep")
	}
	h.takeChanges()
	h.r.Sweep()
	if c := h.takeChanges(); len(c) != 1 || c[0].in {
		t.Errorf("sweep: %v, want a sign-out", c)
	}
}

func TestRemove(t *testing.T) {
	h := newHarness(t, Config{})
	h.login(reg("8001", "<sip:8001@192.0.2.10>", phoneSrc), "kefu-8001-secret")
	h.takeChanges()
	h.r.Remove("8001")
	h.r.Remove("8001")
	if c := h.takeChanges(); !reflect.DeepEqual(c, []change{{"8001", "sip:8001@192.0.2.10", false}}) {
		t.Errorf("OnChange %v, want one sign-out", c)
	}
}

// OnChange may call back into the Registrar, even to change it.
func TestOnChangeReentrant(t *testing.T) {
	var r *Registrar
	var seen []string
	h := newHarness(t, Config{})
	h.r.cfg.OnChange = func(id, contact string, in bool) {
		b, ok := r.Contact(id)
		seen = append(seen, fmt.Sprintf("%v %v %s", in, ok, b.URI.Host))
		if in {
			r.Remove(id) // delivered after this call returns
		}
	}
	r = h.r
	h.login(reg("8001", "<sip:8001@192.0.2.10>", phoneSrc), "kefu-8001-secret")
	if want := []string{"true true 192.0.2.10", "false false "}; !reflect.DeepEqual(seen, want) {
		t.Errorf("seen %q, want %q", seen, want)
	}
}

// Repeated failures from one source are reported once per FailureLimit
// within FailureWindow; other sources and old failures do not count.
func TestFailuresReported(t *testing.T) {
	h := newHarness(t, Config{FailureLimit: 3, FailureWindow: time.Minute})
	bad := func(src string) {
		req := reg("8001", "<sip:8001@192.0.2.10>", netip.MustParseAddrPort(src))
		req = answer(t, req, h.r.Handle(req), 0, "guess", 1)
		if res := h.r.Handle(req); res.Code != 403 {
			t.Fatalf("%d, want 403", res.Code)
		}
	}
	bad("198.51.100.1:5060")
	bad("198.51.100.1:5061")
	bad("198.51.100.2:5060")
	h.clock.Advance(2 * time.Minute) // the first two are forgotten
	bad("198.51.100.1:5060")
	bad("198.51.100.1:5060")
	if len(h.failures) != 0 {
		t.Fatalf("reported %v early", h.failures)
	}
	bad("198.51.100.1:5060")
	if want := []netip.Addr{netip.MustParseAddr("198.51.100.1")}; !reflect.DeepEqual(h.failures, want) {
		t.Errorf("reported %v, want %v", h.failures, want)
	}
	// Malformed credentials count; a plain challenge does not.
	req := reg("8001", "<sip:8001@192.0.2.10>", netip.MustParseAddrPort("[::ffff:198.51.100.2]:5060"))
	for range 3 {
		req.Authorization = nil
		h.r.Handle(req)
		req.Authorization = []string{`Digest username="x", realm="kefu"`}
		h.r.Handle(req)
	}
	if len(h.failures) != 2 || h.failures[1] != netip.MustParseAddr("198.51.100.2") {
		t.Errorf("reported %v, want 198.51.100.2 second", h.failures)
	}
}

// A flood costs bounded memory: challenges store nothing, failures from
// many sources are capped at MaxSources, and used nonces at MaxNonces.
func TestFloodBounded(t *testing.T) {
	h := newHarness(t, Config{MaxSources: 100, MaxNonces: 8})
	req := reg("8001", "<sip:8001@192.0.2.10>", phoneSrc)
	chal := h.r.Handle(req)
	bad := answer(t, req, chal, 0, "guess", 1)
	for i := range 10000 {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 5060)
		req.Source, bad.Source = src, src
		h.r.Handle(req)
		h.r.Handle(bad)
	}
	if n := h.r.failures.size(); n > 100 {
		t.Errorf("%d sources tracked, want at most 100", n)
	}
	if n := h.r.nonces.size(); n != 0 {
		t.Errorf("%d nonces stored by unauthenticated requests", n)
	}
	// Correct responses fill the used-nonce table up to its bound; then it
	// starts over and every earlier nonce is stale.
	var olds []Request
	for i := range 12 {
		r := answer(t, req, h.r.Handle(req), 0, "kefu-8001-secret", 1)
		r.CSeq = uint32(10 + i)
		olds = append(olds, r)
		res := h.r.Handle(r)
		if want := map[bool]int{true: 401, false: 200}[i == 8]; res.Code != want {
			t.Errorf("login %d: %d, want %d", i, res.Code, want)
		}
		if n := h.r.nonces.size(); n > 8 {
			t.Errorf("%d nonces remembered, want at most 8", n)
		}
	}
	r := olds[3]
	r.Authorization = answer(t, r, h.r.Handle(r), 0, "kefu-8001-secret", 2).Authorization
	r.CSeq = 100
	if res := h.r.Handle(r); res.Code != 200 {
		t.Errorf("fresh nonce after the reset: %d", res.Code)
	}
}
