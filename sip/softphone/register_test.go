package softphone

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// scriptedRegistrar answers REGISTERs from a script, one function a
// request, and checks the digest answers with icholy/digest as a
// registrar would. It runs inside the test, no sockets.
type scriptedRegistrar struct {
	t        *testing.T
	password string
	script   []func(req *sip.Request) *sip.Response
	reqs     []*sip.Request
	at       []time.Duration
	start    time.Time
}

func (s *scriptedRegistrar) send(_ context.Context, req *sip.Request) (*sip.Response, error) {
	s.reqs = append(s.reqs, req)
	s.at = append(s.at, time.Since(s.start))
	if len(s.script) == 0 {
		s.t.Fatalf("unexpected REGISTER %d", len(s.reqs))
	}
	f := s.script[0]
	s.script = s.script[1:]
	return f(req), nil
}

func challenge(alg, nonce string, stale bool) func(*sip.Request) *sip.Response {
	return func(req *sip.Request) *sip.Response {
		res := sip.NewResponseFromRequest(req, 401, "Unauthorized", nil)
		c := digest.Challenge{Realm: "kefu", Nonce: nonce, Algorithm: alg, QOP: []string{"auth"}, Stale: stale}
		res.AppendHeader(sip.NewHeader("WWW-Authenticate", c.String()))
		return res
	}
}

// accept checks the credentials against the challenge (alg, nonce) and the
// nonce count, and grants expires seconds.
func (s *scriptedRegistrar) accept(alg, nonce string, nc, grant int) func(*sip.Request) *sip.Response {
	return func(req *sip.Request) *sip.Response {
		h := req.GetHeader("Authorization")
		if h == nil {
			s.t.Errorf("REGISTER %d has no credentials", len(s.reqs))
			return sip.NewResponseFromRequest(req, 400, "Bad Request", nil)
		}
		cred, err := digest.ParseCredentials(h.Value())
		if err != nil {
			s.t.Fatal(err)
		}
		chal := &digest.Challenge{Realm: "kefu", Nonce: nonce, Algorithm: alg, QOP: []string{"auth"}}
		want, _ := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: cred.URI, Username: "8001",
			Password: s.password, Cnonce: cred.Cnonce, Count: cred.Nc})
		if cred.Response != want.Response || cred.Nonce != nonce || cred.Nc != nc || cred.Algorithm != alg ||
			cred.QOP != "auth" || cred.URI != req.Recipient.Addr() || cred.Username != "8001" {
			s.t.Errorf("REGISTER %d: credentials %+v, want %s nonce %s nc %d", len(s.reqs), cred, alg, nonce, nc)
		}
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		c := sip.ContactHeader{Address: req.Contact().Address, Params: sip.NewParams()}
		c.Params.Add("expires", strconv.Itoa(grant))
		res.AppendHeader(&c)
		return res
	}
}

func status(code int, reason string, hdrs ...sip.Header) func(*sip.Request) *sip.Response {
	return func(req *sip.Request) *sip.Response {
		res := sip.NewResponseFromRequest(req, code, reason, nil)
		for _, h := range hdrs {
			res.AppendHeader(h)
		}
		return res
	}
}

func newTestRegistration(s *scriptedRegistrar) *registration {
	return &registration{
		send:      s.send,
		registrar: sip.Uri{Scheme: "sip", Host: "kefu.example", Port: 5060},
		aor:       sip.Uri{Scheme: "sip", User: "8001", Host: "kefu.example"},
		contact:   sip.Uri{Scheme: "sip", User: "8001", Host: "192.0.2.7", Port: 40000},
		user:      "8001", password: "secret", userAgent: "test", callID: "cid", fromTag: "ft",
	}
}

func expiresOf(req *sip.Request) string { return req.GetHeader("Expires").Value() }

func TestRegisterChallenge(t *testing.T) {
	s := &scriptedRegistrar{t: t, password: "secret"}
	// RFC 8760: offered SHA-256 and MD5, the agent answers SHA-256.
	s.script = []func(*sip.Request) *sip.Response{
		func(req *sip.Request) *sip.Response {
			res := challenge("MD5", "m1", false)(req)
			c := digest.Challenge{Realm: "kefu", Nonce: "s1", Algorithm: "SHA-256", QOP: []string{"auth"}}
			res.AppendHeader(sip.NewHeader("WWW-Authenticate", c.String()))
			return res
		},
		s.accept("SHA-256", "s1", 1, 300),
		// The refresh reuses the challenge with the next nonce count.
		s.accept("SHA-256", "s1", 2, 300),
		// The next one is told the nonce is stale and answers the new one.
		challenge("SHA-256", "s2", true),
		s.accept("SHA-256", "s2", 1, 300),
		// A registrar that forgot the nonce (no stale flag) gets one more try.
		challenge("MD5", "m3", false),
		s.accept("MD5", "m3", 1, 120),
	}
	r := newTestRegistration(s)
	ctx := context.Background()
	for i, want := range []time.Duration{300 * time.Second, 300 * time.Second, 300 * time.Second, 120 * time.Second} {
		got, err := r.register(ctx, 600*time.Second)
		if err != nil || got != want {
			t.Fatalf("registration %d: %v, %v; want %v", i, got, err, want)
		}
	}
	if len(s.reqs) != 7 || len(s.script) != 0 {
		t.Fatalf("%d requests, %d answers left", len(s.reqs), len(s.script))
	}
	for i, req := range s.reqs {
		if req.CSeq().SeqNo != uint32(i+1) || req.CallID().Value() != "cid" || expiresOf(req) != "600" ||
			req.Recipient.User != "" || req.To().Address.User != "8001" || req.Contact().Address.Port != 40000 {
			t.Errorf("REGISTER %d: %s", i, req.String())
		}
	}
	if s.reqs[0].GetHeader("Authorization") != nil {
		t.Error("the first REGISTER has no credentials")
	}
}

func TestRegisterRefusals(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		script func(s *scriptedRegistrar) []func(*sip.Request) *sip.Response
		code   int
		why    string
		n      int
	}{
		{"wrong password", func(s *scriptedRegistrar) []func(*sip.Request) *sip.Response {
			return []func(*sip.Request) *sip.Response{challenge("MD5", "a", false), challenge("MD5", "b", false)}
		}, 401, "wrong id or password", 2},
		{"forbidden", func(s *scriptedRegistrar) []func(*sip.Request) *sip.Response {
			return []func(*sip.Request) *sip.Response{challenge("MD5", "a", false), status(403, "Forbidden")}
		}, 403, "unknown id or wrong password", 2},
		{"proxy auth, then wrong", func(s *scriptedRegistrar) []func(*sip.Request) *sip.Response {
			p := func(req *sip.Request) *sip.Response {
				res := sip.NewResponseFromRequest(req, 407, "Proxy Authentication Required", nil)
				res.AppendHeader(sip.NewHeader("Proxy-Authenticate", `Digest realm="kefu", nonce="p", algorithm=MD5, qop="auth"`))
				if req.GetHeader("Proxy-Authorization") == nil && len(s.reqs) > 1 {
					s.t.Error("no Proxy-Authorization after a 407")
				}
				return res
			}
			return []func(*sip.Request) *sip.Response{p, p}
		}, 407, "wrong id or password", 2},
		{"423 without Min-Expires", func(s *scriptedRegistrar) []func(*sip.Request) *sip.Response {
			return []func(*sip.Request) *sip.Response{status(423, "Interval Too Brief")}
		}, 423, "Min-Expires", 1},
		{"unsupported algorithm", func(s *scriptedRegistrar) []func(*sip.Request) *sip.Response {
			return []func(*sip.Request) *sip.Response{challenge("SHA-512", "x", false)}
		}, 0, "no digest challenge", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &scriptedRegistrar{t: t, password: "secret"}
			s.script = tc.script(s)
			_, err := newTestRegistration(s).register(ctx, time.Minute)
			if !errors.Is(err, ErrRegister) || !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("err = %v, want ErrRegister saying %q", err, tc.why)
			}
			if re, ok := errors.AsType[*RegisterError](err); tc.code != 0 && (!ok || re.Code != tc.code) {
				t.Errorf("err = %v, want a %d", err, tc.code)
			}
			if len(s.reqs) != tc.n {
				t.Errorf("%d requests, want %d", len(s.reqs), tc.n)
			}
		})
	}
}

func TestRegisterIntervalTooBrief(t *testing.T) {
	s := &scriptedRegistrar{t: t, password: "secret"}
	s.script = []func(*sip.Request) *sip.Response{
		challenge("MD5", "a", false),
		status(423, "Interval Too Brief", sip.NewHeader("Min-Expires", "120")),
		s.accept("MD5", "a", 2, 120),
	}
	r := newTestRegistration(s)
	got, err := r.register(context.Background(), 60*time.Second)
	if err != nil || got != 120*time.Second {
		t.Fatalf("got %v, %v; want 120 s", got, err)
	}
	if e := expiresOf(s.reqs[2]); e != "120" {
		t.Errorf("retry asked for %s s, want Min-Expires 120", e)
	}
	// The refresh asks for Min-Expires at once; the un-REGISTER for 0.
	s.script = append(s.script, s.accept("MD5", "a", 3, 120), s.accept("MD5", "a", 4, 0))
	if _, err := r.register(context.Background(), 60*time.Second); err != nil || expiresOf(s.reqs[3]) != "120" {
		t.Errorf("refresh: %v, asked for %s s", err, expiresOf(s.reqs[3]))
	}
	if _, err := r.register(context.Background(), 0); err != nil || expiresOf(s.reqs[4]) != "0" {
		t.Errorf("un-register: %v, asked for %s s", err, expiresOf(s.reqs[4]))
	}
}

func TestRefreshAfter(t *testing.T) {
	for _, tc := range []struct{ granted, want time.Duration }{
		{3600 * time.Second, 3570 * time.Second},
		{60 * time.Second, 30 * time.Second},
		{10 * time.Second, 5 * time.Second},
		{time.Second, time.Second},
	} {
		if got := refreshAfter(tc.granted); got != tc.want {
			t.Errorf("refreshAfter(%v) = %v, want %v", tc.granted, got, tc.want)
		}
	}
}

// newTestAgent is an agent without sockets whose REGISTERs go to s: its
// registration loop runs in virtual time.
func newTestAgent(s *scriptedRegistrar, cfg AgentConfig) *agent {
	a := &agent{cfg: cfg, reg: newTestRegistration(s), res: &AgentResult{}, ended: make(chan struct{})}
	a.eventLog = eventLog{start: time.Now(), events: &a.res.Events}
	a.callsCtx, a.stopCalls = context.WithCancelCause(context.Background())
	return a
}

// TestAgentRefreshTiming runs the agent's registration loop in virtual
// time against the scripted registrar: register at once, refresh 30 s
// before each expiry of the 600 s granted, un-register when -for ends.
func TestAgentRefreshTiming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scriptedRegistrar{t: t, password: "secret", start: time.Now()}
		s.script = []func(*sip.Request) *sip.Response{
			challenge("MD5", "a", false),
			s.accept("MD5", "a", 1, 600),
			s.accept("MD5", "a", 2, 600),
			s.accept("MD5", "a", 3, 600),
			s.accept("MD5", "a", 4, 0),
		}
		a := newTestAgent(s, AgentConfig{Expires: 600 * time.Second, For: 25 * time.Minute})
		if err := a.run(context.Background()); err != nil {
			t.Fatal(err)
		}
		want := []time.Duration{0, 0, 570 * time.Second, 1140 * time.Second, 25 * time.Minute}
		if len(s.at) != len(want) {
			t.Fatalf("REGISTERs at %v, want %v", s.at, want)
		}
		for i := range want {
			if s.at[i] != want[i] {
				t.Errorf("REGISTER %d at %v, want %v", i, s.at[i], want[i])
			}
		}
		if e := expiresOf(s.reqs[4]); e != "0" {
			t.Errorf("the last REGISTER asks for %s s, want 0", e)
		}
		var names []Kind
		for _, e := range a.res.Events {
			names = append(names, e.Kind)
		}
		wantKinds := []Kind{EvRegistered, EvRefreshed, EvRefreshed, EvUnregistered, EvDone}
		if len(names) != len(wantKinds) {
			t.Fatalf("events %v, want %v", names, wantKinds)
		}
		for i := range wantKinds {
			if names[i] != wantKinds[i] {
				t.Errorf("event %d is %s, want %s", i, names[i], wantKinds[i])
			}
		}
	})
}

// TestAgentRefreshRefused: a refresh the registrar refuses ends the run
// with the error and no un-REGISTER.
func TestAgentRefreshRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scriptedRegistrar{t: t, password: "secret", start: time.Now()}
		s.script = []func(*sip.Request) *sip.Response{
			challenge("MD5", "a", false),
			s.accept("MD5", "a", 1, 60),
			status(403, "Forbidden"),
		}
		a := newTestAgent(s, AgentConfig{Expires: 60 * time.Second})
		err := a.run(context.Background())
		evs := a.res.Events
		if re, ok := errors.AsType[*RegisterError](err); !ok || re.Code != 403 {
			t.Fatalf("err = %v, want the 403", err)
		}
		if s.at[2] != 30*time.Second {
			t.Errorf("refresh at %v, want 30 s", s.at[2])
		}
		if f := kinds(evs, EvRegisterFailed); len(f) != 1 || f[0].Code != 403 || evs[len(evs)-1].Kind != EvDone {
			t.Errorf("events %+v", evs)
		}
	})
}
