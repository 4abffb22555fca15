package sip

import (
	"context"
	"log/slog"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/sip/registrar"
)

// TestAgentRoute: an agent whose phone registered through a proxy (Path,
// RFC 3327) is rung with the Path as the INVITE's route set and its own
// contact as the Request-URI; a contact the registrar no longer has for
// the agent is rung directly.
func TestAgentRoute(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUA(t, longCall)
		path := []string{"<sip:127.0.0.1:5070;lr>", "<sip:edge.example;lr>"}
		var contact sip.Uri
		if err := sip.ParseUri("sip:8001@10.9.8.7:5060", &contact); err != nil {
			t.Fatal(err)
		}
		st := registrar.NewMemory()
		if err := st.Update(t.Context(), "8001", func([]registrar.Binding) ([]registrar.Binding, error) {
			return []registrar.Binding{{ID: "8001", URI: contact, Path: path, Source: netip.MustParseAddrPort("127.0.0.1:5070"),
				Transport: "UDP", CallID: "c", CSeq: 2, Since: time.Now(), Expires: time.Now().Add(time.Hour)}}, nil
		}); err != nil {
			t.Fatal(err)
		}
		reg, err := registrar.New(registrar.Config{Store: st, Lookup: func(string) (registrar.Secret, bool) { return registrar.Secret{}, false }})
		if err != nil {
			t.Fatal(err)
		}
		u.a.cfg.Registrar = reg
		if r := u.a.agentRoute(flows.RingTarget{ID: "8001", Contact: "sip:8001@10.9.8.9:5060"}); r != nil {
			t.Errorf("route %q for a contact the registrar does not have", r)
		}
		route := u.a.agentRoute(flows.RingTarget{ID: "8001", Contact: contact.String()})
		if len(route) != 2 || route[0] != path[0] {
			t.Fatalf("route %q, want the Path", route)
		}
		u.reply = func(req *sip.Request) *sip.Response {
			if req.Method == sip.INVITE {
				return sip.NewResponseFromRequest(req, 486, "Busy Here", nil)
			}
			return nil
		}
		l, err := u.a.newLeg(legOptions{Log: slog.New(slog.DiscardHandler), Peer: "agent 8001", Kind: "agent", Route: route})
		if err != nil {
			t.Fatal(err)
		}
		defer l.close()
		if _, code, _ := l.dial(context.Background(), contact, media.CodecPCMU, 10*time.Second); code != 486 {
			t.Errorf("dial: %d, want the fake's 486", code)
		}
		inv, _ := u.nextRequest(sip.INVITE)
		var routes []string
		for _, h := range inv.GetHeaders("Route") {
			routes = append(routes, h.Value())
		}
		if len(routes) != 2 || routes[0] != "<sip:127.0.0.1:5070;lr>" || routes[1] != "<sip:edge.example;lr>" ||
			inv.Recipient.String() != contact.String() || inv.Destination() != "127.0.0.1:5070" {
			t.Errorf("INVITE to %s via %s with Route %q", inv.Recipient.String(), inv.Destination(), routes)
		}
	})
}
