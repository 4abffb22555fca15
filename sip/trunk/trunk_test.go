package trunk

import (
	"context"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/kefu-hotline/kefu/sip/registrar"
)

// fakeTrunk is a trunk's registrar in memory: kefu's own registrar
// (digest, nonces, bindings) behind a switch that can take the trunk
// down or make it answer with a fixed response.
type fakeTrunk struct {
	t   *testing.T
	reg *registrar.Registrar

	mu       sync.Mutex
	down     bool          // Send fails as a dead transport would
	fixed    *sip.Response // answered instead of the registrar's
	requests []*sip.Request
}

func newFakeTrunk(t *testing.T, password string, opts ...func(*registrar.Config)) *fakeTrunk {
	cfg := registrar.Config{
		Realm: "trunk.example",
		Lookup: func(id string) (registrar.Secret, bool) {
			return registrar.Secret{Password: password}, id == "02112345678"
		},
		Algorithms: []registrar.Algorithm{registrar.MD5},
	}
	for _, o := range opts {
		o(&cfg)
	}
	reg, err := registrar.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &fakeTrunk{t: t, reg: reg}
}

// send implements Config.Send.
func (f *fakeTrunk) send(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	f.mu.Lock()
	f.requests = append(f.requests, req)
	down, fixed := f.down, f.fixed
	f.mu.Unlock()
	if down {
		<-ctx.Done() // no answer: the transaction times out
		return nil, ctx.Err()
	}
	if fixed != nil {
		res := sip.NewResponseFromRequest(req, fixed.StatusCode, fixed.Reason, nil)
		for _, h := range fixed.Headers() {
			res.AppendHeader(h)
		}
		return res, nil
	}
	in := registrar.Request{
		User: req.To().Address.User, Domain: req.To().Address.Host, Method: string(req.Method),
		CallID: req.CallID().Value(), CSeq: req.CSeq().SeqNo, Expires: registrar.NoExpires,
		Source: netip.MustParseAddrPort("192.0.2.10:5060"), Transport: req.Transport(),
	}
	for _, h := range req.GetHeaders("Authorization") {
		in.Authorization = append(in.Authorization, h.Value())
	}
	if h := req.GetHeader("Expires"); h != nil {
		in.Expires, _ = strconv.Atoi(h.Value())
	}
	for _, h := range req.GetHeaders("Contact") {
		c := h.(*sip.ContactHeader)
		in.Contacts = append(in.Contacts, registrar.Contact{URI: c.Address, Params: c.Params})
	}
	out := f.reg.Handle(in)
	res := sip.NewResponseFromRequest(req, out.Code, out.Reason, nil)
	for _, c := range out.Challenges {
		res.AppendHeader(sip.NewHeader("WWW-Authenticate", c))
	}
	if out.MinExpires > 0 {
		res.AppendHeader(sip.NewHeader("Min-Expires", strconv.Itoa(out.MinExpires)))
	}
	for _, b := range out.Bindings {
		p := b.Params.Clone()
		p.Add("expires", strconv.Itoa(out.ExpiresIn(b)))
		res.AppendHeader(&sip.ContactHeader{Address: b.URI, Params: p})
	}
	return res, nil
}

func (f *fakeTrunk) set(down bool, fixed *sip.Response) {
	f.mu.Lock()
	f.down, f.fixed = down, fixed
	f.mu.Unlock()
}

// sent returns the Expires and whether it carried credentials, of every
// REGISTER so far.
func (f *fakeTrunk) sent() (expires []string, authed []bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.requests {
		expires = append(expires, r.GetHeader("Expires").Value())
		authed = append(authed, r.GetHeader("Authorization") != nil)
	}
	return expires, authed
}

func (f *fakeTrunk) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

// states collects the states OnChange reports.
type states struct {
	mu  sync.Mutex
	all []State
}

func (s *states) add(st Status) {
	s.mu.Lock()
	s.all = append(s.all, st.State)
	s.mu.Unlock()
}

func (s *states) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, st := range s.all {
		out = append(out, st.String())
	}
	return strings.Join(out, " ")
}

func newReg(t *testing.T, f *fakeTrunk, password string, ch *states, edit ...func(*Config)) *Registration {
	cfg := Config{
		Name: "carrier", Registrar: sip.Uri{Scheme: "sip", Host: "trunk.example", Port: 5060},
		User: "02112345678", Password: password,
		Contact: sip.Uri{Scheme: "sip", User: "02112345678", Host: "192.0.2.10", Port: 5060},
		Expires: 10 * time.Minute, Send: f.send, OnChange: ch.add,
	}
	for _, e := range edit {
		e(&cfg)
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRegisterAndRefresh: the first REGISTER is challenged and answered
// with the digest; the binding is refreshed before it expires (halfway
// through a short one, a minute before a long one), and removed when Run
// ends.
func TestRegisterAndRefresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeTrunk(t, "secret")
		ch := &states{}
		r := newReg(t, f, "secret", ch)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { r.Run(ctx); close(done) }()
		synctest.Wait()
		if st := r.Status(); st.State != Registered || !r.Up() || time.Until(st.Expires) != 10*time.Minute {
			t.Fatalf("after the first registration: %+v", st)
		}
		if n := f.count(); n != 2 {
			t.Errorf("%d REGISTERs for the first registration, want 2 (challenge, then credentials)", n)
		}
		time.Sleep(9*time.Minute - time.Second)
		synctest.Wait()
		if n := f.count(); n != 2 {
			t.Errorf("refreshed before 9 minutes of 10: %d REGISTERs", n)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		// The nonce is older than the registrar's 5 minutes: stale=true,
		// answered at once with the new one.
		if n := f.count(); n != 4 {
			t.Errorf("%d REGISTERs after the refresh at 9 minutes, want 4", n)
		}
		if !r.Up() {
			t.Error("down after the refresh")
		}
		cancel()
		<-done
		exp, _ := f.sent()
		if last := exp[len(exp)-1]; last != "0" {
			t.Errorf("the last REGISTER asks for %s s, want 0 (un-register)", last)
		}
		if r.Status().State != Unregistered || ch.String() != "registered unregistered" {
			t.Errorf("states %q, now %v", ch, r.Status().State)
		}
	})
}

// TestBackoff: a trunk that does not answer is retried after 5 s, 10 s,
// 20 s ... up to 5 min; once it answers, kefu registers and the back-off
// starts again from 5 s at the next failure.
func TestBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeTrunk(t, "secret")
		f.set(true, nil)
		ch := &states{}
		r := newReg(t, f, "secret", ch, func(c *Config) { c.Timeout = 2 * time.Second })
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		start := time.Now()
		go r.Run(ctx)
		var at []time.Duration
		for len(at) < 9 {
			synctest.Wait()
			if f.count() > len(at) {
				at = append(at, time.Since(start))
				continue
			}
			time.Sleep(time.Second)
		}
		// Each try waits 2 s for an answer, then the back-off.
		want := []time.Duration{0, 7, 19, 41, 83, 165, 327, 629, 931}
		for i, w := range want {
			if at[i] != w*time.Second {
				t.Errorf("try %d at %v, want %v (all: %v)", i+1, at[i], w*time.Second, at)
				break
			}
		}
		time.Sleep(2 * time.Second) // the ninth times out too
		synctest.Wait()
		st := r.Status()
		if st.State != Failed || st.Failures != 9 || r.Up() || !strings.Contains(st.Err, "deadline") {
			t.Errorf("while down: %+v", st)
		}
		f.set(false, nil)
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		if !r.Up() {
			t.Fatalf("the trunk is back, still %+v", r.Status())
		}
		f.set(true, nil)
		time.Sleep(9*time.Minute + 2*time.Second) // the refresh fails
		synctest.Wait()
		n := f.count()
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if f.count() != n+1 {
			t.Errorf("after a failed refresh, no retry 5 s later (back-off not reset)")
		}
		if got := ch.String(); got != "failed registered failed" {
			t.Errorf("state changes %q", got)
		}
	})
}

// TestRefused: a wrong password is refused (403 after the digest) and
// retried with back-off; a 503 with Retry-After waits that long; a 423
// makes kefu ask for the trunk's Min-Expires.
func TestRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeTrunk(t, "secret")
		r := newReg(t, f, "wrong", &states{})
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go r.Run(ctx)
		synctest.Wait()
		st := r.Status()
		if st.State != Failed || !strings.Contains(st.Err, "403") || !strings.Contains(st.Err, "wrong username or password") {
			t.Errorf("wrong password: %+v", st)
		}
		cancel()
		synctest.Wait()

		busy := sip.NewResponse(503, "Service Unavailable")
		busy.AppendHeader(sip.NewHeader("Retry-After", "120 (maintenance)"))
		f2 := newFakeTrunk(t, "secret")
		f2.set(false, busy)
		r2 := newReg(t, f2, "secret", &states{})
		ctx2, cancel2 := context.WithCancel(t.Context())
		defer cancel2()
		go r2.Run(ctx2)
		synctest.Wait()
		time.Sleep(119 * time.Second)
		synctest.Wait()
		if f2.count() != 1 {
			t.Errorf("retried before the trunk's Retry-After: %d REGISTERs", f2.count())
		}
		f2.set(false, nil)
		time.Sleep(time.Second)
		synctest.Wait()
		if !r2.Up() {
			t.Errorf("after Retry-After: %+v", r2.Status())
		}
		cancel2()
		synctest.Wait()

		f3 := newFakeTrunk(t, "secret", func(c *registrar.Config) { c.MinExpires = 20 * time.Minute; c.MaxExpires = time.Hour })
		r3 := newReg(t, f3, "secret", &states{})
		granted, err := r3.b.register(t.Context(), 10*time.Minute)
		if err != nil || granted != 20*time.Minute {
			t.Errorf("after 423: granted %v, %v", granted, err)
		}
		exp, authed := f3.sent()
		if strings.Join(exp, ",") != "600,600,1200" || !authed[1] || !authed[2] {
			t.Errorf("REGISTERs asked for %v (credentials %v); want 600 challenged, 600 with credentials, 1200", exp, authed)
		}
	})
}

// TestNoPassword: a trunk that trusts kefu's address registers without a
// challenge; one that challenges a kefu with no password is refused with
// a reason that says what to set.
func TestNoPassword(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ok := sip.NewResponse(200, "OK")
		f := newFakeTrunk(t, "secret")
		f.set(false, ok)
		r := newReg(t, f, "", &states{})
		if _, err := r.b.register(t.Context(), time.Hour); err != nil {
			t.Errorf("a trunk that trusts kefu: %v", err)
		}
		f2 := newFakeTrunk(t, "secret")
		r2 := newReg(t, f2, "", &states{})
		_, err := r2.b.register(t.Context(), time.Hour)
		var re *RefusedError
		if !errors.As(err, &re) || re.Code != 401 || !strings.Contains(err.Error(), "set username and password") {
			t.Errorf("challenged without a password: %v", err)
		}
	})
}
