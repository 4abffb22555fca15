package sip

import (
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/emiago/sipgo/sip"
	"github.com/emiago/sipgo/siptest"
	"github.com/icholy/digest"
	"github.com/kefu-hotline/kefu/sip/flood"
	"github.com/kefu-hotline/kefu/sip/registrar"
)

func prefixes(t *testing.T, s string) []netip.Prefix {
	t.Helper()
	ps, err := ParsePrefixes(s)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func TestParsePrefixes(t *testing.T) {
	got := prefixes(t, " 10.0.0.5, 192.0.2.0/24,,2001:db8::/32 , fe80::1%eth0 ")
	want := []string{"10.0.0.5/32", "192.0.2.0/24", "2001:db8::/32", "fe80::1/128"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range got {
		if got[i].String() != want[i] {
			t.Errorf("item %d: %v, want %s", i, got[i], want[i])
		}
	}
	if ps := prefixes(t, ""); len(ps) != 0 {
		t.Errorf("empty list: %v", ps)
	}
	for _, bad := range []string{"10.0.0", "example.com", "10.0.0.0/33", "10.0.0.1-10.0.0.9"} {
		if _, err := ParsePrefixes("10.0.0.1," + bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("%q: error %v, want one naming it", bad, err)
		}
	}
}

// TestACLDecisions: an empty list lets everyone in; the trusted sources
// may call once there is a list (and only then); IPv4-mapped sources and
// prefixes count as IPv4; agents' networks are a list of their own.
func TestACLDecisions(t *testing.T) {
	var none *ACL
	if !none.CallsFrom(netip.MustParseAddr("203.0.113.7")) || !none.RegistersFrom(netip.MustParseAddr("203.0.113.7")) {
		t.Error("a nil ACL refuses")
	}
	open, err := NewACL(ACLConfig{Trusted: prefixes(t, "10.0.0.5")})
	if err != nil {
		t.Fatal(err)
	}
	if !open.CallsFrom(netip.MustParseAddr("203.0.113.7")) {
		t.Error("-trusted alone restricts who may call; it must not (the quick start)")
	}
	l, err := NewACL(ACLConfig{
		Calls:   prefixes(t, "192.0.2.0/24, ::ffff:198.51.100.0/120"),
		Trusted: prefixes(t, "10.0.0.5"),
		Agents:  prefixes(t, "172.16.0.0/12, 2001:db8:1::/48"),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		src          string
		call, agents bool
	}{
		{"192.0.2.77", true, false},
		{"::ffff:192.0.2.77", true, false},
		{"198.51.100.9", true, false}, // from a mapped prefix
		{"10.0.0.5", true, false},     // trusted
		{"10.0.0.6", false, false},
		{"203.0.113.7", false, false},
		{"172.20.1.2", false, true},
		{"2001:db8:1::42", false, true},
		{"2001:db8:2::42", false, false},
	} {
		a := netip.MustParseAddr(tc.src)
		if got := l.CallsFrom(a); got != tc.call {
			t.Errorf("CallsFrom(%s) = %v, want %v", tc.src, got, tc.call)
		}
		if got := l.RegistersFrom(a); got != tc.agents {
			t.Errorf("RegistersFrom(%s) = %v, want %v", tc.src, got, tc.agents)
		}
	}
	if _, err := NewACL(ACLConfig{Calls: []netip.Prefix{{}}}); err == nil {
		t.Error("an invalid prefix is accepted")
	}
}

// TestACLRefusesOutsiders: with a list of trunks, an INVITE from another
// source gets 403 with a Warning, OPTIONS is still answered, the refusals
// are counted and strike the flood guard, which bans the source after
// its strikes (then silence); a listed trunk's call is answered.
func TestACLRefusesOutsiders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUA(t, testFlowYAML("0s", "60s", "2s"))
		acl, err := NewACL(ACLConfig{Calls: prefixes(t, "10.0.0.0/24")})
		if err != nil {
			t.Fatal(err)
		}
		guard, err := flood.New(flood.Config{BanStrikes: 3})
		if err != nil {
			t.Fatal(err)
		}
		u.a.cfg.ACL, u.a.cfg.Flood = acl, guard

		opt := parseReq(t, "OPTIONS sip:hotline@127.0.0.1:5060 SIP/2.0\r\n"+
			"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-opt\r\n"+
			"From: <sip:monitor@127.0.0.1>;tag=m\r\nTo: <sip:hotline@127.0.0.1>\r\n"+
			"Call-ID: acl-options\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
		otx := newRecTx(opt)
		u.a.onOptions(opt, otx)
		if got := codes(otx.Result()); !slices.Equal(got, []int{200}) {
			t.Errorf("OPTIONS from outside the ACL: %v, want [200]", got)
		}

		for i := range 2 {
			tx := newRecTx(invite(t, "UDP"))
			u.a.onInvite(tx.Origin(), tx)
			res := tx.Result()
			if got := codes(res); !slices.Equal(got, []int{403}) {
				t.Fatalf("INVITE %d from outside the ACL: %v, want [403]", i, got)
			}
			if w := res[0].GetHeader("Warning"); w == nil || !strings.Contains(w.Value(), "may not place calls") {
				t.Errorf("403 without the ACL's Warning: %v", w)
			}
		}
		if n := counterValue(t, acl.denied.WithLabelValues("INVITE")); n != 2 {
			t.Errorf("kefu_acl_denied_total{method=INVITE} = %v, want 2", n)
		}
		if n := counterValue(t, u.a.met.Rejected.WithLabelValues("403")); n != 2 {
			t.Errorf("kefu_invites_rejected_total{status=403} = %v, want 2", n)
		}
		tx := newRecTx(invite(t, "UDP"))
		u.a.onInvite(tx.Origin(), tx) // the third strike: refused, and banned
		tx = newRecTx(invite(t, "UDP"))
		u.a.onInvite(tx.Origin(), tx)
		if got := codes(tx.Result()); len(got) != 0 {
			t.Errorf("INVITE from a banned source: %v, want silence", got)
		}

		// The caller's address is a listed trunk now.
		u.a.cfg.ACL, err = NewACL(ACLConfig{Calls: prefixes(t, "10.0.0.0/24, 127.0.0.1")})
		if err != nil {
			t.Fatal(err)
		}
		u.a.cfg.Flood = nil
		inv := invite(t, "UDP")
		_, ok := u.answered(inv)
		u.ack(inv, ok)
		u.nextRequest(sip.BYE)
	})
}

// TestACLAgentsPhones: REGISTER is refused 403 outside the agents'
// networks whoever the user; an agent's registered phone may call (its
// feature codes) from an address that is not a trunk, and no one else
// may from that address.
func TestACLAgentsPhones(t *testing.T) {
	reg, err := registrar.New(registrar.Config{Lookup: func(id string) (registrar.Secret, bool) {
		return registrar.Secret{Password: "pw-" + id}, id == "8001"
	}})
	if err != nil {
		t.Fatal(err)
	}
	phone := netip.MustParseAddrPort("192.0.2.10:5062")
	signIn(t, reg, "8001", phone)

	acl, err := NewACL(ACLConfig{Calls: prefixes(t, "10.0.0.5"), Agents: prefixes(t, "192.0.2.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	a := &Agent{cfg: Config{Registrar: reg, ACL: acl}, log: slog.New(slog.DiscardHandler), met: NewMetrics(nil)}
	for _, tc := range []struct {
		method, from, src string
		ok                bool
	}{
		{"REGISTER", "8001", "192.0.2.10:5062", true},
		{"REGISTER", "8001", "203.0.113.7:5060", false},
		{"REGISTER", "9999", "203.0.113.7:5060", false},
		{"INVITE", "8001", "192.0.2.10:5062", true},  // the agent's phone
		{"INVITE", "8001", "192.0.2.10:5064", false}, // not where it registered
		{"INVITE", "13800000000", "192.0.2.10:5062", false},
		{"INVITE", "13800000000", "10.0.0.5:5060", true}, // the trunk
		{"OPTIONS", "scanner", "203.0.113.7:5060", true},
	} {
		req := parseReq(t, tc.method+" sip:hotline@kefu.example SIP/2.0\r\n"+
			"Via: SIP/2.0/UDP "+tc.src+";branch=z9hG4bK-acl\r\n"+
			"From: <sip:"+tc.from+"@kefu.example>;tag=f\r\nTo: <sip:"+tc.from+"@kefu.example>\r\n"+
			"Call-ID: acl-agents\r\nCSeq: 1 "+tc.method+"\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
		req.SetSource(tc.src)
		rec := siptest.NewServerTxRecorder(req)
		if got := a.permit(req, rec); got != tc.ok {
			t.Errorf("%s from %s at %s: permitted %v, want %v", tc.method, tc.from, tc.src, got, tc.ok)
		}
		res := rec.Result()
		if want := map[bool]int{true: 0, false: 1}[tc.ok]; len(res) != want || (!tc.ok && res[0].StatusCode != 403) {
			t.Errorf("%s from %s at %s: responses %v", tc.method, tc.from, tc.src, codes(res))
		}
	}
	if n := counterValue(t, acl.denied.WithLabelValues("REGISTER")); n != 2 {
		t.Errorf("kefu_acl_denied_total{method=REGISTER} = %v, want 2", n)
	}
}

// signIn registers agent id's phone at src with the registrar (challenge,
// then the digest answer).
func signIn(t *testing.T, reg *registrar.Registrar, id string, src netip.AddrPort) {
	t.Helper()
	var contact registrar.Contact
	if _, err := sip.ParseAddressValue("<sip:"+id+"@"+src.String()+">", &contact.URI, &contact.Params); err != nil {
		t.Fatal(err)
	}
	req := registrar.Request{User: id, Domain: "kefu.example", Method: "REGISTER", CallID: "signin-" + id, CSeq: 1,
		Expires: 3600, Contacts: []registrar.Contact{contact}, Source: src, Transport: "UDP"}
	res := reg.Handle(req)
	if res.Code != 401 || len(res.Challenges) == 0 {
		t.Fatalf("first REGISTER: %+v", res)
	}
	chal, err := digest.ParseChallenge(res.Challenges[0])
	if err != nil {
		t.Fatal(err)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sip:kefu.example", Username: id, Password: "pw-" + id, Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	req.Authorization, req.CSeq = []string{cred.String()}, 2
	if res := reg.Handle(req); res.Code != 200 {
		t.Fatalf("REGISTER with the password: %d %s", res.Code, res.Reason)
	}
}
