package sip

import (
	"log/slog"
	"testing"

	"github.com/emiago/sipgo/sip"
	"github.com/emiago/sipgo/siptest"
	"github.com/icholy/digest"
	"github.com/kefu-hotline/kefu/sip/flood"
	"github.com/kefu-hotline/kefu/sip/registrar"
)

const proxyHop = "10.0.0.2:5070" // the trusted proxy in these tests

// viaProxy is an out-of-dialog request from user to to, arriving from hop,
// with the given SourceHeader lines (name: value, the name spelt as a
// caller may spell it).
func viaProxy(t *testing.T, method, user, to, hop string, source ...string) *sip.Request {
	t.Helper()
	msg := method + " sip:" + to + "@kefu.example SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + hop + ";branch=z9hG4bK-src-" + user + "\r\n" +
		"From: <sip:" + user + "@kefu.example>;tag=f\r\nTo: <sip:" + to + "@kefu.example>\r\n" +
		"Call-ID: src-" + user + "-" + to + "\r\nCSeq: 1 " + method + "\r\nMax-Forwards: 70\r\n" +
		"Contact: <sip:" + user + "@198.51.100.7:40000>\r\n"
	for _, s := range source {
		msg += s + "\r\n"
	}
	req := parseReq(t, msg+"Content-Length: 0\r\n\r\n")
	req.SetSource(hop)
	return req
}

func sourceAgent(t *testing.T, acl ACLConfig) *Agent {
	t.Helper()
	l, err := NewACL(acl)
	if err != nil {
		t.Fatal(err)
	}
	return &Agent{cfg: Config{ACL: l}, log: slog.New(slog.DiscardHandler), met: NewMetrics(nil)}
}

// TestSourceHeader: a trusted proxy's X-Kefu-Source is the request's
// source (the last one when there are several, the transport its own or
// else the hop's); from anyone else, or malformed, it is ignored.
func TestSourceHeader(t *testing.T) {
	a := sourceAgent(t, ACLConfig{Trusted: prefixes(t, "10.0.0.2")})
	for _, tc := range []struct {
		hop    string
		source []string
		want   string
		tr     string
		relay  bool
	}{
		{proxyHop, []string{"X-Kefu-Source: 198.51.100.7:40000;transport=tcp"}, "198.51.100.7:40000", "TCP", true},
		{proxyHop, []string{"x-kefu-source: 198.51.100.7:40000"}, "198.51.100.7:40000", "UDP", true},
		{proxyHop, []string{"X-Kefu-Source: [2001:db8::7]:5060;transport=TLS"}, "[2001:db8::7]:5060", "TLS", true},
		{proxyHop, []string{"X-Kefu-Source: [::ffff:198.51.100.7]:5060"}, "198.51.100.7:5060", "UDP", true},
		{proxyHop, []string{"X-Kefu-Source: 203.0.113.9:5060", "X-Kefu-Source: 198.51.100.7:40000"}, "198.51.100.7:40000", "UDP", true},
		{proxyHop, nil, proxyHop, "UDP", false},
		{proxyHop, []string{"X-Kefu-Source: somewhere"}, proxyHop, "UDP", false},
		{proxyHop, []string{"X-Kefu-Source: 198.51.100.7"}, proxyHop, "UDP", false},
		{"203.0.113.9:5060", []string{"X-Kefu-Source: 198.51.100.7:40000"}, "203.0.113.9:5060", "UDP", false},
	} {
		o := a.origin(viaProxy(t, "INVITE", "13800000000", "hotline", tc.hop, tc.source...))
		if o.String() != tc.want || o.transport != tc.tr || o.relayed != tc.relay {
			t.Errorf("from %s with %q: origin %v %s relayed %v; want %s %s %v", tc.hop, tc.source, o, o.transport, o.relayed, tc.want, tc.tr, tc.relay)
		}
	}
	// No -trusted at all: no one's header counts.
	if o := sourceAgent(t, ACLConfig{}).origin(viaProxy(t, "INVITE", "1", "hotline", proxyHop, "X-Kefu-Source: 198.51.100.7:40000")); o.relayed {
		t.Errorf("believed with nothing trusted: %v", o)
	}
}

// TestSourceHeaderStripped: from an untrusted source the header is gone
// (every copy, however spelt) before the handler sees the request; from
// the trusted proxy it stays.
func TestSourceHeaderStripped(t *testing.T) {
	a := sourceAgent(t, ACLConfig{Trusted: prefixes(t, "10.0.0.2")})
	var seen *sip.Request
	h := a.untrusted(func(req *sip.Request, _ sip.ServerTransaction) { seen = req })
	spoof := []string{"X-Kefu-Source: 198.51.100.7:40000", "x-kefu-source: 198.51.100.8:40000", "X-KEFU-SOURCE: 198.51.100.9:1"}
	req := viaProxy(t, "INVITE", "8001", "*2", "203.0.113.9:5060", spoof...)
	h(req, siptest.NewServerTxRecorder(req))
	if hs := seen.GetHeaders(SourceHeader); len(hs) != 0 {
		t.Errorf("untrusted request kept %v", hs)
	}
	req = viaProxy(t, "INVITE", "8001", "*2", proxyHop, spoof[0])
	h(req, siptest.NewServerTxRecorder(req))
	if hs := seen.GetHeaders(SourceHeader); len(hs) != 1 {
		t.Errorf("the proxy's request has %v; want its header", hs)
	}
}

// TestSourceBehindProxy: behind the trusted proxy, the agent's phone is
// recognised by its own address (registered through the proxy), not by
// From: a caller whose From says 8001 is not the agent's phone, and may
// not call past -allow; -allow applies to the caller's own address. The
// flood guard counts and bans each real source, not the proxy.
func TestSourceBehindProxy(t *testing.T) {
	reg, err := registrar.New(registrar.Config{Lookup: func(id string) (registrar.Secret, bool) {
		return registrar.Secret{Password: "pw-" + id}, id == "8001"
	}})
	if err != nil {
		t.Fatal(err)
	}
	a := sourceAgent(t, ACLConfig{Trusted: prefixes(t, "10.0.0.2"), Calls: prefixes(t, "192.0.2.1"), Agents: prefixes(t, "198.51.100.0/24")})
	a.cfg.Registrar = reg

	// The phone registers through the proxy: the REGISTER as the proxy
	// relays it (Path, and the phone's address in the header).
	rq := viaProxy(t, "REGISTER", "8001", "8001", proxyHop, "X-Kefu-Source: 198.51.100.7:40000;transport=udp",
		"Path: <sip:10.0.0.2:5070;lr;received=sip:198.51.100.7:40000>")
	if !a.permit(rq, siptest.NewServerTxRecorder(rq)) {
		t.Fatal("REGISTER from the agents' network through the proxy refused")
	}
	in, warn := registerInput(rq)
	if warn != "" {
		t.Fatal(warn)
	}
	o := a.origin(rq)
	in.Origin, in.OriginTransport = o.addr, o.transport
	res := reg.Handle(in)
	in = answerRegister(t, in, res)
	if res := reg.Handle(in); res.Code != 200 {
		t.Fatalf("REGISTER: %d %s", res.Code, res.Reason)
	}
	rogue := viaProxy(t, "REGISTER", "8001", "8001", proxyHop, "X-Kefu-Source: 203.0.113.9:5060")
	if a.permit(rogue, siptest.NewServerTxRecorder(rogue)) {
		t.Error("REGISTER from outside the agents' networks through the proxy permitted")
	}

	for _, tc := range []struct {
		name, from, source string
		phone, ok          bool
	}{
		{"the agent's phone", "8001", "198.51.100.7:40000", true, true},
		{"a caller with From 8001", "8001", "203.0.113.9:5060", false, false},
		{"the phone's host, another port", "8001", "198.51.100.7:40002", false, false},
		{"the trunk", "13800000000", "192.0.2.1:5060", false, true},
		{"the trunk, From 8001", "8001", "192.0.2.1:5060", false, true},
	} {
		req := viaProxy(t, "INVITE", tc.from, "*2", proxyHop, "X-Kefu-Source: "+tc.source)
		if got := a.agentPhone(req, a.origin(req)) != ""; got != tc.phone {
			t.Errorf("%s: the agent's phone %v, want %v", tc.name, got, tc.phone)
		}
		rec := siptest.NewServerTxRecorder(req)
		if got := a.permit(req, rec); got != tc.ok {
			t.Errorf("%s: permitted %v, want %v (%v)", tc.name, got, tc.ok, codes(rec.Result()))
		}
	}
	// Without the header the proxy itself is trusted, as before.
	req := viaProxy(t, "INVITE", "13800000000", "hotline", proxyHop)
	if !a.permit(req, siptest.NewServerTxRecorder(req)) {
		t.Error("the proxy's own INVITE refused")
	}
	if req := viaProxy(t, "INVITE", "8001", "*2", proxyHop); a.agentPhone(req, a.origin(req)) != "" {
		t.Error("an INVITE from the proxy with no source header taken as the agent's phone")
	}

	// The flood guard: one INVITE per source, then 503; the proxy is
	// trusted but its callers are not.
	guard, err := flood.New(flood.Config{Trusted: prefixes(t, "10.0.0.2"), BanStrikes: -1,
		Invite: flood.Limits{Source: flood.Rate{PerSecond: 0.001, Burst: 1}, Caller: flood.Rate{PerSecond: flood.Unlimited}}})
	if err != nil {
		t.Fatal(err)
	}
	a.cfg.Flood = guard
	a.cfg.ACL, _ = NewACL(ACLConfig{Trusted: prefixes(t, "10.0.0.2")}) // anyone may call
	for i, tc := range []struct {
		source string
		code   int // 0: admitted
	}{{"203.0.113.9:5060", 0}, {"203.0.113.9:5062", 503}, {"203.0.113.10:5060", 0}} {
		req := viaProxy(t, "INVITE", "1380000000"+string(rune('0'+i)), "hotline", proxyHop, "X-Kefu-Source: "+tc.source)
		rec := siptest.NewServerTxRecorder(req)
		ok := a.admit(req, rec)
		if got := codes(rec.Result()); ok != (tc.code == 0) || (tc.code != 0 && (len(got) != 1 || got[0] != tc.code)) {
			t.Errorf("INVITE %d from %s: admitted %v, responses %v; want %d", i, tc.source, ok, got, tc.code)
		}
	}
}

// answerRegister answers the registrar's challenge res to in with the
// password pw-<user>.
func answerRegister(t *testing.T, in registrar.Request, res registrar.Response) registrar.Request {
	t.Helper()
	if res.Code != 401 || len(res.Challenges) == 0 {
		t.Fatalf("want a challenge, got %+v", res)
	}
	chal, err := digest.ParseChallenge(res.Challenges[0])
	if err != nil {
		t.Fatal(err)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sip:kefu.example", Username: in.User, Password: "pw-" + in.User, Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	in.Authorization, in.CSeq = []string{cred.String()}, in.CSeq+1
	return in
}
