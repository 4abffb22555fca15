package sip

import (
	"context"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/emiago/sipgo/siptest"
	"github.com/icholy/digest"
	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/sip/registrar"
)

// regClock is the registrar's clock in these tests: wall time plus a
// settable offset, so a nonce can be made old without waiting.
type regClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *regClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *regClock) advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// regServer is a kefu agent serving REGISTER on loopback for agent 8001,
// and a sipgo client to talk to it.
type regServer struct {
	t       *testing.T
	agent   *Agent
	reg     *registrar.Registrar
	clock   *regClock
	client  *sipgo.Client
	target  sip.Uri
	changes chan string
}

func newRegServer(t *testing.T, withRegistrar bool) *regServer {
	t.Helper()
	s := &regServer{t: t, clock: &regClock{}, changes: make(chan string, 16)}
	var err error
	if withRegistrar {
		s.reg, err = registrar.New(registrar.Config{
			Lookup: func(id string) (registrar.Secret, bool) {
				return registrar.Secret{Password: "kefu-8001-secret"}, id == "8001"
			},
			Now: s.clock.now,
			OnChange: func(id, contact string, in bool) {
				s.changes <- map[bool]string{true: "in ", false: "out "}[in] + id + " " + contact
			},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	s.agent, err = New(Config{Listen: "127.0.0.1:0", RTPLow: 40000, RTPHigh: 40100, Registrar: s.reg,
		Current: func() *flows.Bundle { return nil }, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { defer close(served); _ = s.agent.Serve(ctx) }()
	quiet := slog.New(slog.DiscardHandler)
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("regtest"),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(quiet)),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(quiet)))
	if err != nil {
		t.Fatal(err)
	}
	s.client, err = sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ua.Close(); cancel(); <-served })
	ap := s.agent.UDPAddr().String()
	if err := sip.ParseUri("sip:"+ap, &s.target); err != nil {
		t.Fatal(err)
	}
	return s
}

// register builds a REGISTER for user with a fixed Call-ID and CSeq.
func (s *regServer) register(user, callID string, cseq uint32, contact string, expires int) *sip.Request {
	req := sip.NewRequest(sip.REGISTER, s.target)
	aor := sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1"}
	req.AppendHeader(&sip.FromHeader{Address: aor, Params: sip.HeaderParams{{K: "tag", V: "t" + callID}}})
	req.AppendHeader(&sip.ToHeader{Address: aor})
	req.AppendHeader(sip.NewHeader("Call-ID", callID))
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: sip.REGISTER})
	if contact != "" {
		req.AppendHeader(sip.NewHeader("Contact", contact))
	}
	if expires >= 0 {
		req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	}
	return req
}

func (s *regServer) do(req *sip.Request) *sip.Response {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := s.client.Do(ctx, req)
	if err != nil {
		s.t.Fatalf("%s: %v", req.Method, err)
	}
	return res
}

// login sends req, answers the first challenge with password, and
// returns the final response.
func (s *regServer) login(req *sip.Request, password string) *sip.Response {
	s.t.Helper()
	res := s.do(req)
	if res.StatusCode != 401 {
		s.t.Fatalf("first REGISTER: %d, want 401", res.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := s.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: req.To().Address.User, Password: password})
	if err != nil {
		s.t.Fatal(err)
	}
	return res
}

func (s *regServer) change(want string) {
	s.t.Helper()
	select {
	case got := <-s.changes:
		if got != want {
			s.t.Errorf("OnChange %q, want %q", got, want)
		}
	case <-time.After(5 * time.Second):
		s.t.Errorf("no OnChange, want %q", want)
	}
}

// shape is what a response shows besides its nonce: the status and the
// header names with the values that do not vary per request.
func shape(res *sip.Response) string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(res.StatusCode) + " " + res.Reason)
	for _, h := range res.Headers() {
		switch strings.ToLower(h.Name()) {
		case "via", "from", "to", "call-id", "cseq", "content-length":
			b.WriteString("|" + h.Name())
		default:
			b.WriteString("|" + h.Name() + ": " + h.Value())
		}
	}
	return b.String()
}

func TestIntegrationRegister(t *testing.T) {
	s := newRegServer(t, true)
	contact := "<sip:8001@127.0.0.1:5099>"

	// The challenge: SHA-256, then MD5.
	res := s.do(s.register("8001", "reg-1", 1, contact, -1))
	chals := res.GetHeaders("WWW-Authenticate")
	if res.StatusCode != 401 || len(chals) != 2 || !strings.Contains(chals[0].Value(), "algorithm=SHA-256") ||
		!strings.Contains(chals[1].Value(), "algorithm=MD5") {
		t.Fatalf("first REGISTER: %d %v, want 401 with SHA-256 and MD5 challenges", res.StatusCode, chals)
	}

	// Register (sipgo answers the first challenge: SHA-256).
	res = s.login(s.register("8001", "reg-1", 1, contact, 600), "kefu-8001-secret")
	if res.StatusCode != 200 {
		t.Fatalf("REGISTER with the password: %d %s", res.StatusCode, res.Reason)
	}
	ct := res.Contact()
	if ct == nil || ct.Address.String() != "sip:8001@127.0.0.1:5099" || ct.Params.GetOr("expires", "") != "600" {
		t.Errorf("200 Contact %v, want the phone's contact with expires=600", ct)
	}
	if d := res.GetHeader("Date"); d == nil || !strings.HasSuffix(d.Value(), " GMT") {
		t.Errorf("200 Date %v", d)
	}
	b, ok := s.reg.Contact("8001")
	if !ok || !b.NATed() || b.Source.Addr() != netip.MustParseAddr("127.0.0.1") || b.Source.Port() == 5099 {
		t.Fatalf("binding %+v: want the request's real source next to the Contact", b)
	}
	target := b.Target()
	s.change("in 8001 " + target.String())

	// A refresh with the MD5 challenge, same Call-ID, higher CSeq.
	req := s.register("8001", "reg-1", 3, contact, 600)
	res = s.do(req)
	md5 := res.GetHeaders("WWW-Authenticate")[1].Value()
	chal, err := digest.ParseChallenge(md5)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: req.Recipient.Addr(), Username: "8001", Password: "kefu-8001-secret"})
	if err != nil {
		t.Fatal(err)
	}
	req = s.register("8001", "reg-1", 4, contact, 600)
	req.AppendHeader(sip.NewHeader("Authorization", cred.String()))
	if res := s.do(req); res.StatusCode != 200 {
		t.Errorf("MD5 refresh: %d", res.StatusCode)
	}
	// The same request again (a replay: same nonce, same nc) is refused.
	req = s.register("8001", "reg-1", 5, contact, 600)
	req.AppendHeader(sip.NewHeader("Authorization", cred.String()))
	if res := s.do(req); res.StatusCode != 401 || !strings.Contains(res.GetHeader("WWW-Authenticate").Value(), "stale=true") {
		t.Errorf("replayed nc: %d, want 401 stale=true", res.StatusCode)
	}
	// An older CSeq for the Call-ID is refused.
	if res := s.login(s.register("8001", "reg-1", 1, contact, 600), "kefu-8001-secret"); res.StatusCode != 400 {
		t.Errorf("old CSeq: %d, want 400", res.StatusCode)
	}

	// A wrong password and an unknown id look the same.
	wrong := s.login(s.register("8001", "reg-2", 1, contact, 600), "guess")
	unknown := s.login(s.register("9999", "reg-3", 1, "<sip:9999@127.0.0.1:5099>", 600), "guess")
	if wrong.StatusCode != 403 || shape(wrong) != shape(unknown) {
		t.Errorf("wrong password %q\nunknown id %q\nwant the same 403", shape(wrong), shape(unknown))
	}

	// 423 for a too brief interval.
	if res := s.login(s.register("8001", "reg-1", 10, contact, 10), "kefu-8001-secret"); res.StatusCode != 423 || res.GetHeader("Min-Expires") == nil || res.GetHeader("Min-Expires").Value() != "60" {
		t.Errorf("Expires 10: %d, want 423 with Min-Expires: 60", res.StatusCode)
	}

	// A stale nonce: the phone re-answers without asking its user.
	req = s.register("8001", "reg-1", 20, contact, 600)
	res = s.do(req)
	s.clock.advance(6 * time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err = s.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: "8001", Password: "kefu-8001-secret"})
	if err != nil || res.StatusCode != 401 || !strings.Contains(res.GetHeader("WWW-Authenticate").Value(), "stale=true") {
		t.Fatalf("expired nonce: %v %v, want 401 stale=true", res, err)
	}
	if res, err = s.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: "8001", Password: "kefu-8001-secret"}); err != nil || res.StatusCode != 200 {
		t.Errorf("after stale: %v %v, want 200", res, err)
	}

	// Un-register.
	if res := s.login(s.register("8001", "reg-1", 30, contact, 0), "kefu-8001-secret"); res.StatusCode != 200 || res.Contact() != nil {
		t.Errorf("un-register: %d, contact %v", res.StatusCode, res.Contact())
	}
	s.change("out 8001 " + target.String())
	if _, ok := s.reg.Contact("8001"); ok {
		t.Errorf("still bound")
	}
}

// Over TCP the binding is the connection the phone opened.
func TestIntegrationRegisterTCP(t *testing.T) {
	s := newRegServer(t, true)
	s.target.UriParams = sip.HeaderParams{{K: "transport", V: "tcp"}}
	req := s.register("8001", "tcp-1", 1, "<sip:8001@127.0.0.1:5099;transport=tcp>", -1)
	if res := s.login(req, "kefu-8001-secret"); res.StatusCode != 200 {
		t.Fatalf("REGISTER over TCP: %d", res.StatusCode)
	}
	b, ok := s.reg.Contact("8001")
	if tg := b.Target(); !ok || b.Transport != "TCP" || tg.UriParams.GetOr("transport", "") != "tcp" || b.Source.Port() == 5099 {
		t.Errorf("binding %+v target %s: want the TCP connection's source", b, tg.String())
	}
}

// Without a registrar REGISTER is a method kefu does not serve.
func TestIntegrationRegisterWithoutRegistrar(t *testing.T) {
	s := newRegServer(t, false)
	if res := s.do(s.register("8001", "x", 1, "<sip:8001@127.0.0.1:5099>", -1)); res.StatusCode != 405 {
		t.Errorf("%d, want 405", res.StatusCode)
	}
}

// Requests the registrar never sees: 420 for a required extension other
// than path, 400 when the CSeq names another method or the Path is
// malformed.
func TestRegisterRefusedBeforeRegistrar(t *testing.T) {
	reg, err := registrar.New(registrar.Config{Lookup: func(string) (registrar.Secret, bool) { return registrar.Secret{}, false }})
	if err != nil {
		t.Fatal(err)
	}
	a := &Agent{cfg: Config{Registrar: reg}, log: slog.New(slog.DiscardHandler), met: NewMetrics(nil)}
	for _, tc := range []struct {
		edit func(*sip.Request)
		code int
	}{
		{func(r *sip.Request) { r.AppendHeader(sip.NewHeader("Require", "outbound")) }, 420},
		{func(r *sip.Request) { r.AppendHeader(sip.NewHeader("Require", "path, gruu")) }, 420},
		{func(r *sip.Request) { r.AppendHeader(sip.NewHeader("Require", "path")) }, 401},
		{func(r *sip.Request) { r.AppendHeader(sip.NewHeader("Path", "<sip:10.0.0.1;lr")) }, 400},
		{func(r *sip.Request) { r.CSeq().MethodName = sip.INVITE }, 400},
		{func(r *sip.Request) { r.RemoveHeader("Call-ID") }, 400},
		{func(*sip.Request) {}, 401},
	} {
		var s regServer
		if err := sip.ParseUri("sip:127.0.0.1", &s.target); err != nil {
			t.Fatal(err)
		}
		req := s.register("8001", "c", 1, "<sip:8001@127.0.0.1>", -1)
		req.AppendHeader(sip.NewHeader("Via", "SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK1"))
		tc.edit(req)
		rec := siptest.NewServerTxRecorder(req)
		a.onRegister(req, rec)
		if got := rec.Result(); len(got) != 1 || got[0].StatusCode != tc.code {
			t.Errorf("want %d, got %v", tc.code, got)
		}
	}
}

// TestIntegrationRegisterPath: a REGISTER through a proxy that adds Path
// (RFC 3327; Kamailio's add_path_received) and requires it is taken; the
// 200 echoes the Path with Supported: path, and the binding keeps it,
// with the phone's own contact as the target and the proxy as where
// requests go.
func TestIntegrationRegisterPath(t *testing.T) {
	s := newRegServer(t, true)
	req := s.register("8001", "reg-path", 1, "<sip:8001@10.9.8.7:5060>", 600)
	req.AppendHeader(sip.NewHeader("Require", "path"))
	req.AppendHeader(sip.NewHeader("Path", `<sip:127.0.0.1:5070;lr;received="sip:10.9.8.7:41234">, <sip:edge.example;lr>`))
	res := s.login(req, "kefu-8001-secret")
	if res.StatusCode != 200 {
		t.Fatalf("REGISTER through the proxy: %d %s", res.StatusCode, res.Reason)
	}
	var paths []string
	for _, h := range res.GetHeaders("Path") {
		paths = append(paths, h.Value())
	}
	want := []string{`<sip:127.0.0.1:5070;lr;received="sip:10.9.8.7:41234">`, "<sip:edge.example;lr>"}
	if strings.Join(paths, "|") != strings.Join(want, "|") {
		t.Errorf("200 Path %q, want %q", paths, want)
	}
	if h := res.GetHeader("Supported"); h == nil || h.Value() != "path" {
		t.Errorf("200 Supported %v, want path", h)
	}
	b, ok := s.reg.Contact("8001")
	if !ok || strings.Join(b.Path, "|") != strings.Join(want, "|") {
		t.Fatalf("binding %+v", b)
	}
	if tg := b.Target(); tg.String() != "sip:8001@10.9.8.7:5060" || b.Destination() != "127.0.0.1:5070" {
		t.Errorf("target %s, destination %s: want the phone's contact, through the proxy", tg.String(), b.Destination())
	}
	s.change("in 8001 sip:8001@10.9.8.7:5060")
}
