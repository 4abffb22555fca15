package registrar

import (
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestChallengeOffersSHA256ThenMD5(t *testing.T) {
	h := newHarness(t, Config{})
	res := h.r.Handle(reg("8001", "<sip:8001@192.0.2.10:5060>", phoneSrc))
	if res.Code != 401 || len(res.Challenges) != 2 {
		t.Fatalf("got %+v, want 401 with two challenges", res)
	}
	if !strings.Contains(res.Challenges[0], "algorithm=SHA-256") || !strings.Contains(res.Challenges[1], "algorithm=MD5") {
		t.Errorf("challenges %q: want SHA-256 first, then MD5 (RFC 8760)", res.Challenges)
	}
	for _, c := range res.Challenges {
		if !strings.Contains(c, `realm="kefu"`) || !strings.Contains(c, `qop="auth"`) || strings.Contains(c, "stale") {
			t.Errorf("challenge %q", c)
		}
	}
	if h.lookups != 0 {
		t.Errorf("a REGISTER without credentials looked the user up %d times", h.lookups)
	}
	if n := h.r.nonces.size(); n != 0 {
		t.Errorf("challenging stored %d nonces, want none", n)
	}
}

// Phones that a SHA-256 challenge breaks get MD5 alone, whoever they
// sign in as.
func TestMD5OnlyUserAgents(t *testing.T) {
	for _, tc := range []struct {
		ua   string
		cfg  []string
		want int
	}{
		{"baresip v1.0.0 (x86_64/linux)", nil, 1},
		{"BARESIP v3.10.1 (x86_64/Linux)", nil, 1},
		{"baresip v3.11.0 (x86_64/Linux)", nil, 2},
		{"baresip v1.0.0 (x86_64/linux)", []string{}, 2},
		{"Linphone-Desktop/5.2.6 (belle-sip/5.2.0)", nil, 2},
		{"Yealink SIP-T46U 108.86.0.45", []string{"Yealink"}, 1},
		{"", nil, 2},
	} {
		h := newHarness(t, Config{MD5OnlyUserAgents: tc.cfg})
		for _, user := range []string{"8001", "9999"} {
			req := reg(user, "<sip:x@192.0.2.10>", phoneSrc)
			req.UserAgent = tc.ua
			res := h.r.Handle(req)
			if len(res.Challenges) != tc.want || !strings.Contains(res.Challenges[len(res.Challenges)-1], "algorithm=MD5") {
				t.Errorf("%q (%v) as %s: challenges %q, want %d ending with MD5", tc.ua, tc.cfg, user, res.Challenges, tc.want)
			}
		}
	}
}

func TestRegister(t *testing.T) {
	for _, tc := range []struct {
		name     string
		user     string
		password string
		chal     int // 0: SHA-256, 1: MD5
		nc       int
		code     int
	}{
		{"SHA-256", "8001", "kefu-8001-secret", 0, 1, 200},
		{"MD5", "8001", "kefu-8001-secret", 1, 1, 200},
		{"MD5 without qop (RFC 2069 desk phone)", "8001", "kefu-8001-secret", 1, 0, 200},
		{"HA1 secret with MD5", "8002", "kefu-8002-secret", 1, 1, 200},
		{"HA1 secret with MD5 without qop", "8002", "kefu-8002-secret", 1, 0, 200},
		{"HA1 secret with SHA-256 cannot be verified", "8002", "kefu-8002-secret", 0, 1, 403},
		{"wrong password SHA-256", "8001", "guess", 0, 1, 403},
		{"wrong password MD5", "8001", "guess", 1, 1, 403},
		{"unknown user", "9999", "kefu-8001-secret", 0, 1, 403},
		{"nc above 1 on a fresh nonce", "8001", "kefu-8001-secret", 0, 5, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			req := reg(tc.user, "<sip:"+tc.user+"@192.0.2.10:5060>", phoneSrc)
			req = answer(t, req, h.r.Handle(req), tc.chal, tc.password, tc.nc)
			req.CSeq = 2
			res := h.r.Handle(req)
			if res.Code != tc.code {
				t.Fatalf("got %d %s (%s), want %d", res.Code, res.Reason, res.Outcome, tc.code)
			}
			if tc.code != 200 {
				if _, ok := h.r.Contact(tc.user); ok || len(h.takeChanges()) != 0 {
					t.Errorf("a refused REGISTER bound a contact")
				}
				return
			}
			if res.Outcome != Registered || len(res.Bindings) != 1 || res.ExpiresIn(res.Bindings[0]) != 3600 || !res.Date.Equal(h.clock.Now()) {
				t.Errorf("200 %+v: want one binding for 3600 s and the date", res)
			}
			want := []change{{tc.user, "sip:" + tc.user + "@192.0.2.10:5060", true}}
			if got := h.takeChanges(); !reflect.DeepEqual(got, want) {
				t.Errorf("OnChange %v, want %v", got, want)
			}
			b, ok := h.r.Contact(tc.user)
			if !ok || b.URI.String() != "sip:"+tc.user+"@192.0.2.10:5060" || b.NATed() {
				t.Errorf("Contact = %+v, %v", b, ok)
			}
		})
	}
}

// An unknown user, another domain, another agent's credentials and a
// wrong password get the same answer, after the same work: svwar and
// svcrack learn nothing about which ids exist.
func TestNoEnumeration(t *testing.T) {
	h := newHarness(t, Config{Domains: []string{"kefu.example", "192.0.2.1"}})
	signed := func(user, authUser, domain, password string) Request {
		req := reg(user, "<sip:"+user+"@192.0.2.10>", phoneSrc)
		req.Domain = domain
		res := h.r.Handle(req)
		areq := req
		areq.User = authUser
		areq = answer(t, areq, res, 0, password, 1)
		req.Authorization = areq.Authorization
		req.CSeq = 2
		return req
	}
	cases := map[string]Request{
		"wrong password":            signed("8001", "8001", "kefu.example", "guess"),
		"unknown user":              signed("9999", "9999", "kefu.example", "guess"),
		"unknown user, right guess": signed("9999", "9999", "kefu.example", "kefu-8001-secret"),
		"other domain":              signed("8001", "8001", "other.example", "kefu-8001-secret"),
		"other agent's credentials": signed("8002", "8001", "kefu.example", "kefu-8001-secret"),
	}
	var first *Response
	for name, req := range cases {
		res := h.r.Handle(req)
		if res.Code != 403 {
			t.Errorf("%s: %d, want 403", name, res.Code)
		}
		res.Outcome, res.ID = "", ""
		if first == nil {
			first = &res
		} else if !reflect.DeepEqual(res, *first) {
			t.Errorf("%s: %+v differs from %+v", name, res, *first)
		}
	}
	// The same work: as many allocations (hashes, hex strings) either way
	// (counted without the race detector, which makes sync.Pool drop
	// buffers at random).
	allocs := func(req Request) float64 { return testing.AllocsPerRun(50, func() { h.r.Handle(req) }) }
	if a, b := allocs(cases["wrong password"]), allocs(cases["unknown user"]); !raceOn && a != b {
		t.Errorf("a wrong password costs %.0f allocations, an unknown user %.0f", a, b)
	}
	// Without credentials the challenge does not depend on the user.
	shape := func(user string) string {
		res := h.r.Handle(reg(user, "<sip:x@192.0.2.10>", phoneSrc))
		n := strings.Index(res.Challenges[0], `nonce="`)
		return fmt.Sprint(res.Code, len(res.Challenges), res.Challenges[0][:n], len(res.Challenges[0]))
	}
	if a, b := shape("8001"), shape("9999"); a != b {
		t.Errorf("challenge for an agent %q, for an unknown id %q", a, b)
	}
}

func TestStaleNonce(t *testing.T) {
	h := newHarness(t, Config{})
	req := reg("8001", "<sip:8001@192.0.2.10>", phoneSrc)
	signed := answer(t, req, h.r.Handle(req), 0, "kefu-8001-secret", 1)
	wrong := answer(t, req, h.r.Handle(req), 0, "guess", 1)
	h.clock.Advance(DefaultNonceTTL)

	res := h.r.Handle(signed)
	if res.Code != 401 || res.Outcome != Stale || len(res.Challenges) != 2 {
		t.Fatalf("expired nonce, right password: %+v, want 401 stale", res)
	}
	for _, c := range res.Challenges {
		if !strings.HasSuffix(c, "stale=true") {
			t.Errorf("challenge %q lacks stale=true", c)
		}
	}
	if res := h.r.Handle(wrong); res.Code != 403 {
		t.Errorf("expired nonce, wrong password: %d, want 403 (stale only for a right response)", res.Code)
	}
	// The phone answers the fresh challenge without asking its user.
	again := answer(t, signed, res, 0, "kefu-8001-secret", 1)
	again.CSeq++
	if res := h.r.Handle(again); res.Code != 200 {
		t.Errorf("after stale: %d, want 200", res.Code)
	}

	// A nonce of another process (kefu restarted) is stale too.
	other := newHarness(t, Config{})
	req = reg("8001", "<sip:8001@192.0.2.10>", phoneSrc)
	old := answer(t, req, other.r.Handle(req), 0, "kefu-8001-secret", 1)
	if res := h.r.Handle(old); res.Code != 401 || res.Outcome != Stale {
		t.Errorf("nonce of an earlier process: %d %s, want 401 stale", res.Code, res.Outcome)
	}
}

func TestReplay(t *testing.T) {
	h := newHarness(t, Config{})
	req := reg("8001", "<sip:8001@192.0.2.10>", phoneSrc)
	chal := h.r.Handle(req)
	steps := []struct {
		nc, cseq int
		code     int
	}{
		{1, 2, 200},
		{1, 3, 401}, // nc reused
		{3, 4, 200}, // nc may skip
		{2, 5, 401}, // nc went back
		{4, 6, 200},
	}
	for _, s := range steps {
		r := answer(t, req, chal, 0, "kefu-8001-secret", s.nc)
		r.CSeq = uint32(s.cseq)
		if res := h.r.Handle(r); res.Code != s.code {
			t.Errorf("nc %d: %d, want %d", s.nc, res.Code, s.code)
		} else if s.code == 401 && res.Outcome != Stale {
			t.Errorf("nc %d: outcome %s, want a fresh challenge with stale=true", s.nc, res.Outcome)
		}
	}
	// Without qop (no nc) a nonce is good once.
	r := answer(t, req, chal, 1, "kefu-8001-secret", 0)
	fresh := answer(t, req, h.r.Handle(req), 1, "kefu-8001-secret", 0)
	for i, want := range []int{401, 200, 401} { // chal's nonce was used with qop already
		x := []Request{r, fresh, fresh}[i]
		x.CSeq = uint32(10 + i)
		if res := h.r.Handle(x); res.Code != want {
			t.Errorf("no-qop use %d: %d, want %d", i, res.Code, want)
		}
	}
}

func TestExpiryLimits(t *testing.T) {
	for _, tc := range []struct {
		name    string
		contact string
		expires int
		code    int
		want    int // seconds bound, for a 200
	}{
		{"default", "<sip:8001@192.0.2.10>", NoExpires, 200, 3600},
		{"header", "<sip:8001@192.0.2.10>", 300, 200, 300},
		{"param over header", "<sip:8001@192.0.2.10>;expires=120", 300, 200, 120},
		{"minimum", "<sip:8001@192.0.2.10>", 60, 200, 60},
		{"too brief", "<sip:8001@192.0.2.10>", 30, 423, 0},
		{"too brief param", "<sip:8001@192.0.2.10>;expires=59", 3600, 423, 0},
		{"capped", "<sip:8001@192.0.2.10>", 86400, 200, 3600},
		{"malformed param is the default", "<sip:8001@192.0.2.10>;expires=soon", NoExpires, 200, 3600},
		{"not a sip contact", "<tel:+861012345678>", NoExpires, 400, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			req := reg("8001", tc.contact, phoneSrc)
			req.Expires = tc.expires
			res, _ := h.login(req, "kefu-8001-secret")
			if res.Code != tc.code {
				t.Fatalf("got %d %s, want %d", res.Code, res.Reason, tc.code)
			}
			switch tc.code {
			case 200:
				if len(res.Bindings) != 1 || res.ExpiresIn(res.Bindings[0]) != tc.want {
					t.Errorf("bindings %+v, want one for %d s", res.Bindings, tc.want)
				}
			case 423:
				if res.MinExpires != 60 || res.Reason != "Interval Too Brief" {
					t.Errorf("423 %+v, want Min-Expires 60", res)
				}
			}
		})
	}
}

func TestRefreshAndUnregister(t *testing.T) {
	h := newHarness(t, Config{})
	contact := "<sip:8001@192.0.2.10>;+sip.instance=\"<urn:uuid:1>\""
	res, req := h.login(reg("8001", contact, phoneSrc), "kefu-8001-secret")
	if res.Code != 200 {
		t.Fatal(res)
	}
	since := res.Bindings[0].Since
	if got := res.Bindings[0].Params; len(got) != 1 || got[0].K != "+sip.instance" {
		t.Errorf("params %v, want the instance kept", got)
	}
	h.takeChanges()

	// A refresh keeps the binding, moves its expiry, and says nothing.
	h.clock.Advance(30 * time.Minute)
	req = answer(t, req, h.r.Handle(req), 0, "kefu-8001-secret", 1)
	req.CSeq = 10
	if res := h.r.Handle(req); res.Code != 200 || res.Outcome != Refreshed || len(res.Bindings) != 1 || !res.Bindings[0].Since.Equal(since) || res.ExpiresIn(res.Bindings[0]) != 3600 {
		t.Fatalf("refresh: %+v", res)
	}
	if c := h.takeChanges(); len(c) != 0 {
		t.Errorf("a refresh called OnChange %v", c)
	}

	// Expires: 0 removes it and signs the agent out.
	un := req
	un.Expires = 0
	un.CSeq = 11
	un.Authorization = answer(t, un, h.r.Handle(un), 0, "kefu-8001-secret", 1).Authorization
	if res := h.r.Handle(un); res.Code != 200 || len(res.Bindings) != 0 || res.Outcome != Unregistered {
		t.Errorf("un-register: %+v", res)
	}
	if c := h.takeChanges(); !reflect.DeepEqual(c, []change{{"8001", "sip:8001@192.0.2.10", false}}) {
		t.Errorf("OnChange %v, want a sign-out", c)
	}
	if _, ok := h.r.Contact("8001"); ok {
		t.Errorf("still bound after un-register")
	}
}

func TestWildcard(t *testing.T) {
	h := newHarness(t, Config{})
	res, req := h.login(reg("8001", "<sip:8001@192.0.2.10>", phoneSrc), "kefu-8001-secret")
	second := reg("8001", "<sip:8001@192.0.2.11>", netip.MustParseAddrPort("192.0.2.11:5060"))
	second.CallID = "other-phone"
	if r2, _ := h.login(second, "kefu-8001-secret"); r2.Code != 200 || len(r2.Bindings) != 2 || res.Code != 200 {
		t.Fatalf("two phones: %+v", r2)
	}
	h.takeChanges()

	star := req
	star.Contacts = []Contact{parseContact("*")}
	for _, bad := range []int{NoExpires, 60} {
		star.Expires = bad
		if res := h.r.Handle(star); res.Code != 400 {
			t.Errorf("Contact: * with Expires %d: %d, want 400", bad, res.Code)
		}
	}
	star.Expires = 0
	star.CSeq = 20
	star = answer(t, star, h.r.Handle(star), 0, "kefu-8001-secret", 1)
	if res := h.r.Handle(star); res.Code != 200 || len(res.Bindings) != 0 {
		t.Errorf("Contact: *: %+v", res)
	}
	if c := h.takeChanges(); !reflect.DeepEqual(c, []change{{"8001", "sip:8001@192.0.2.11", false}}) {
		t.Errorf("OnChange %v, want one sign-out", c)
	}
}

// RFC 3261 section 10.3 step 7: for the same Call-ID, a REGISTER with a
// CSeq not above the binding's is refused and changes nothing; another
// Call-ID (a phone that restarted) replaces the binding whatever its CSeq.
func TestCSeqOrder(t *testing.T) {
	h := newHarness(t, Config{})
	res, req := h.login(reg("8001", "<sip:8001@192.0.2.10>", phoneSrc), "kefu-8001-secret")
	if res.Code != 200 || req.CSeq != 2 {
		t.Fatal(res)
	}
	for _, tc := range []struct {
		callID  string
		cseq    uint32
		expires int
		code    int
	}{
		{"call-8001", 2, 0, 400}, // the same CSeq: a delayed copy
		{"call-8001", 1, 0, 400},
		{"restarted", 1, 600, 200},
		{"restarted", 1, 0, 400},
		{"restarted", 2, 0, 200},
	} {
		r := req
		r.CallID, r.CSeq, r.Expires = tc.callID, tc.cseq, tc.expires
		r = answer(t, r, h.r.Handle(r), 0, "kefu-8001-secret", 1)
		res := h.r.Handle(r)
		if res.Code != tc.code {
			t.Errorf("%s CSeq %d: %d, want %d", tc.callID, tc.cseq, res.Code, tc.code)
		}
		if tc.code == 400 && (res.Outcome != OutOfOrder || len(h.r.Bindings("8001")) != 1) {
			t.Errorf("%s CSeq %d: %s, bindings %d: want out of order and nothing removed", tc.callID, tc.cseq, res.Outcome, len(h.r.Bindings("8001")))
		}
	}
}

func TestNATRewrite(t *testing.T) {
	for _, tc := range []struct {
		name, contact string
		src           string
		transport     string
		nated         bool
		target, dest  string
	}{
		{"private address behind NAT", "<sip:8001@192.168.1.20:5060>", "203.0.113.7:40000", "UDP", true, "sip:8001@203.0.113.7:40000", "203.0.113.7:40000"},
		{"same address, other port (rport)", "<sip:8001@203.0.113.7:5060>", "203.0.113.7:40000", "UDP", true, "sip:8001@203.0.113.7:40000", "203.0.113.7:40000"},
		{"reachable as it says", "<sip:8001@203.0.113.7>", "203.0.113.7:5060", "UDP", false, "sip:8001@203.0.113.7", "203.0.113.7:5060"},
		{"TCP connection", "<sip:8001@10.0.0.5:5060;transport=tcp>", "203.0.113.7:51000", "TCP", true, "sip:8001@203.0.113.7:51000;transport=tcp", "203.0.113.7:51000"},
		{"UDP contact, TCP request", "<sip:8001@203.0.113.7:5060>", "203.0.113.7:5060", "TCP", true, "sip:8001@203.0.113.7:5060;transport=tcp", "203.0.113.7:5060"},
		{"IPv6", "<sip:8001@[fd00::5]:5060>", "[2001:db8::7]:40000", "UDP", true, "sip:8001@[2001:db8::7]:40000", "[2001:db8::7]:40000"},
		{"host name", "<sip:8001@phone.example;ob>", "203.0.113.7:5060", "UDP", true, "sip:8001@203.0.113.7:5060;ob", "203.0.113.7:5060"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			req := reg("8001", tc.contact, netip.MustParseAddrPort(tc.src))
			req.Transport = tc.transport
			res, _ := h.login(req, "kefu-8001-secret")
			if res.Code != 200 {
				t.Fatal(res)
			}
			b, _ := h.r.Contact("8001")
			orig := parseContact(tc.contact).URI
			if b.NATed() != tc.nated || b.URI.String() != orig.String() {
				t.Errorf("NATed %v URI %s, want %v and the original %s", b.NATed(), b.URI.String(), tc.nated, orig.String())
			}
			if got := b.Target(); got.String() != tc.target || b.Destination() != tc.dest {
				t.Errorf("Target %s Destination %s, want %s %s", got.String(), b.Destination(), tc.target, tc.dest)
			}
			if b.URI.String() != orig.String() {
				t.Errorf("Target changed the stored URI")
			}
			if c := h.takeChanges(); len(c) != 1 || c[0].contact != tc.target {
				t.Errorf("OnChange %v, want the target %s", c, tc.target)
			}
		})
	}
}

// A phone that moves (new NAT mapping) is followed: OnChange gives the new
// contact.
func TestMoveCallsOnChange(t *testing.T) {
	h := newHarness(t, Config{})
	_, req := h.login(reg("8001", "<sip:8001@192.168.1.20>", netip.MustParseAddrPort("203.0.113.7:40000")), "kefu-8001-secret")
	req.Source = netip.MustParseAddrPort("203.0.113.7:40100")
	req.CSeq++
	req = answer(t, req, h.r.Handle(req), 0, "kefu-8001-secret", 1)
	if res := h.r.Handle(req); res.Code != 200 {
		t.Fatal(res)
	}
	want := []change{{"8001", "sip:8001@203.0.113.7:40000", true}, {"8001", "sip:8001@203.0.113.7:40100", true}}
	if c := h.takeChanges(); !reflect.DeepEqual(c, want) {
		t.Errorf("OnChange %v, want %v", c, want)
	}
}

func TestMaxBindings(t *testing.T) {
	h := newHarness(t, Config{MaxBindings: 2})
	for i := range 3 {
		req := reg("8001", fmt.Sprintf("<sip:8001@192.0.2.%d>", 20+i), phoneSrc)
		req.CallID = fmt.Sprint("phone-", i)
		h.clock.Advance(time.Minute)
		if res, _ := h.login(req, "kefu-8001-secret"); res.Code != 200 || len(res.Bindings) != min(i+1, 2) {
			t.Fatalf("phone %d: %+v", i, res)
		}
	}
	var got []string
	for _, b := range h.r.Bindings("8001") {
		got = append(got, b.URI.Host)
	}
	if !slices.Equal(got, []string{"192.0.2.22", "192.0.2.21"}) {
		t.Errorf("bindings %v, want the two newest, newest first", got)
	}
}

func TestQuery(t *testing.T) {
	h := newHarness(t, Config{})
	_, req := h.login(reg("8001", "<sip:8001@192.0.2.10>", phoneSrc), "kefu-8001-secret")
	q := req
	q.Contacts = nil
	q.CSeq = 10
	q = answer(t, q, h.r.Handle(q), 0, "kefu-8001-secret", 1)
	if res := h.r.Handle(q); res.Code != 200 || res.Outcome != Queried || len(res.Bindings) != 1 {
		t.Errorf("query: %+v", res)
	}
	if res := h.r.Handle(Request{User: "8001"}); res.Code != 400 {
		t.Errorf("no Call-ID: %d, want 400", res.Code)
	}
}

func TestMalformedAuthorization(t *testing.T) {
	h := newHarness(t, Config{})
	req := reg("8001", "<sip:8001@192.0.2.10>", phoneSrc)
	for _, a := range []string{
		`Digest username="8001", realm="kefu"`,
		`Digest username="8001, realm="kefu"`,
	} {
		req.Authorization = []string{a}
		if res := h.r.Handle(req); res.Code != 400 || res.Outcome != Malformed {
			t.Errorf("%s: %d, want 400", a, res.Code)
		}
	}
	// Credentials for another realm, or another scheme, are not ours: a
	// challenge.
	for _, a := range []string{`Digest username="8001", realm="pbx", nonce="x", uri="sip:x", response="00"`, `Basic eDp5`} {
		req.Authorization = []string{a}
		if res := h.r.Handle(req); res.Code != 401 {
			t.Errorf("%s: %d, want 401", a, res.Code)
		}
	}
	if h.lookups != 0 {
		t.Errorf("malformed credentials looked the user up")
	}
}
