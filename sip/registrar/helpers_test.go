package registrar

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// change is a recorded OnChange call.
type change struct {
	id, contact string
	in          bool
}

// harness is a Registrar on a fake clock (unless Config.Now is set) with
// two agents: 8001 with a
// password, 8002 with an HA1.
type harness struct {
	t        *testing.T
	r        *Registrar
	clock    *fakeClock
	mu       sync.Mutex
	changes  []change
	failures []netip.Addr
	lookups  int
}

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	h := &harness{t: t, clock: &fakeClock{t: time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)}}
	agents := map[string]Secret{
		"8001": {Password: "kefu-8001-secret"},
		"8002": {HA1: md5hex("8002:kefu:kefu-8002-secret")},
	}
	if cfg.Now == nil {
		cfg.Now = h.clock.Now
	}
	cfg.Lookup = func(id string) (Secret, bool) {
		h.mu.Lock()
		h.lookups++
		h.mu.Unlock()
		s, ok := agents[id]
		return s, ok
	}
	cfg.OnChange = func(id, contact string, in bool) {
		h.mu.Lock()
		h.changes = append(h.changes, change{id, contact, in})
		h.mu.Unlock()
	}
	cfg.OnFailure = func(src netip.Addr) {
		h.mu.Lock()
		h.failures = append(h.failures, src)
		h.mu.Unlock()
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.r = r
	return h
}

// takeChanges returns and forgets the OnChange calls so far.
func (h *harness) takeChanges() []change {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.changes
	h.changes = nil
	return c
}

var phoneSrc = netip.MustParseAddrPort("192.0.2.10:5060")

// reg is a REGISTER from user at src with one contact (none for "").
func reg(user, contact string, src netip.AddrPort) Request {
	req := Request{User: user, Domain: "kefu.example", Method: "REGISTER",
		CallID: "call-" + user, CSeq: 1, Expires: NoExpires, Source: src, Transport: "UDP", UserAgent: "test"}
	if contact != "" {
		req.Contacts = []Contact{parseContact(contact)}
	}
	return req
}

// parseContact parses a Contact header value.
func parseContact(v string) Contact {
	var c Contact
	if v == "*" {
		c.URI.Wildcard = true
		return c
	}
	if _, err := sip.ParseAddressValue(v, &c.URI, &c.Params); err != nil {
		panic(fmt.Sprintf("contact %q: %v", v, err))
	}
	return c
}

// answer signs req against challenge number i of a 401 with the given
// password and nc (0: the challenge's qop is dropped, as RFC 2069 phones
// do).
func answer(t *testing.T, req Request, res Response, i int, password string, nc int) Request {
	t.Helper()
	if res.Code != 401 || len(res.Challenges) <= i {
		t.Fatalf("want a 401 with challenge %d, got %+v", i, res)
	}
	chal, err := digest.ParseChallenge(res.Challenges[i])
	if err != nil {
		t.Fatal(err)
	}
	if nc == 0 {
		chal.QOP = nil
	}
	cred, err := digest.Digest(chal, digest.Options{Method: req.Method, URI: "sip:kefu.example", Username: req.User, Password: password, Count: nc})
	if err != nil {
		t.Fatal(err)
	}
	req.Authorization = []string{cred.String()}
	return req
}

// login registers req (challenge, then the answer with nc 1) and returns
// the final response and the request that got it.
func (h *harness) login(req Request, password string) (Response, Request) {
	h.t.Helper()
	res := h.r.Handle(req)
	req = answer(h.t, req, res, 0, password, 1)
	req.CSeq++
	return h.r.Handle(req), req
}
