package softphone

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows"
	kefusip "github.com/kefu-hotline/kefu/sip"
	"github.com/kefu-hotline/kefu/sip/registrar"
)

// TestIntegrationAgentKefuRegistrar signs kefu agent in to kefu's own SIP
// agent and registrar on loopback: asked for 1 s it gets 423 and retries
// with Min-Expires (2 s), refreshes before expiry with the nonce reused
// and then, once kefu's nonce is older than its TTL, answers the stale
// challenge; at the end it un-registers and kefu signs it out. A wrong
// password and an unknown id get kefu's 403.
func TestIntegrationAgentKefuRegistrar(t *testing.T) {
	changes := make(chan string, 16)
	reg, err := registrar.New(registrar.Config{
		Lookup: func(id string) (registrar.Secret, bool) {
			return registrar.Secret{Password: "kefu-8001-secret"}, id == "8001"
		},
		MinExpires: 2 * time.Second,
		NonceTTL:   1500 * time.Millisecond,
		OnChange: func(id, contact string, in bool) {
			changes <- map[bool]string{true: "in ", false: "out "}[in] + id + " " + contact
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	kefu, err := kefusip.New(kefusip.Config{Listen: "127.0.0.1:0", RTPLow: 42000, RTPHigh: 42100, Registrar: reg,
		Current: func() *flows.Bundle { return nil }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { defer close(served); _ = kefu.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-served })
	uri := "sip:" + kefu.UDPAddr().String()

	port := freePort(t)
	r := startAgent(t, AgentConfig{Registrar: uri, ID: "8001", Password: "kefu-8001-secret", Expires: time.Second,
		For: 3500 * time.Millisecond, Listen: "127.0.0.1:" + strconv.Itoa(port)})
	if e := r.wait(t, EvRegistered); e.Expires != 2*time.Second {
		t.Errorf("registered for %v, want kefu's Min-Expires 2 s", e.Expires)
	}
	select {
	case c := <-changes:
		if want := "in 8001 sip:8001@127.0.0.1:" + strconv.Itoa(port); !strings.HasPrefix(c, want) {
			t.Errorf("kefu saw %q, want %q", c, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("kefu did not sign the agent in")
	}
	if b, ok := reg.Contact("8001"); !ok || b.URI.Port != port {
		t.Errorf("kefu's binding %+v, %v", b, ok)
	}
	evs := r.finish(t)
	if r.err != nil {
		t.Fatalf("agent: %v", r.err)
	}
	if n := len(kinds(evs, EvRefreshed)); n < 2 {
		t.Errorf("%d refreshes in 3.5 s of a 2 s binding, want at least 2", n)
	}
	if len(kinds(evs, EvUnregistered)) != 1 || len(kinds(evs, EvRegisterFailed)) != 0 {
		t.Errorf("want a clean un-registration, got %+v", evs)
	}
	select {
	case c := <-changes:
		if !strings.HasPrefix(c, "out 8001 ") {
			t.Errorf("kefu saw %q, want the sign-out", c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("kefu did not sign the agent out")
	}
	if _, ok := reg.Contact("8001"); ok {
		t.Error("kefu still has a binding after the un-REGISTER")
	}

	for _, tc := range []struct{ id, password string }{{"8001", "wrong"}, {"9999", "kefu-8001-secret"}} {
		rctx, rcancel := context.WithTimeout(t.Context(), 10*time.Second)
		_, err := RunAgent(rctx, AgentConfig{Registrar: uri, ID: tc.id, Password: tc.password})
		rcancel()
		if re, ok := errors.AsType[*RegisterError](err); !ok || re.Code != 403 {
			t.Errorf("id %s, password %s: %v, want kefu's 403", tc.id, tc.password, err)
		}
	}
}
