package sip

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/emiago/sipgo/sip"
	"github.com/kefu-hotline/kefu/flows"
)

// Behind a proxy (Kamailio's dispatcher, deploy/kamailio): the caller's
// INVITE comes from the proxy over TCP with a Record-Route, and the trunk
// behind it asserts the caller's number.

// proxiedInvite is the caller's INVITE as the proxy passes it on over
// TCP: record-routed, with extra header lines.
func proxiedInvite(t *testing.T, from string, extra ...string) *sip.Request {
	t.Helper()
	body := callerSDP("127.0.0.1", callerRTP.Port, "sendrecv")
	return parseReq(t, "INVITE sip:hotline@127.0.0.1:5060 SIP/2.0\r\n"+
		"Record-Route: <sip:127.0.0.1:5080;transport=tcp;lr;r2=on>\r\n"+
		"Via: SIP/2.0/TCP 127.0.0.1:5080;branch=z9hG4bK-proxy;rport\r\n"+
		"Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK-inv;rport\r\n"+
		"From: "+from+";tag=caller\r\n"+
		"To: <sip:hotline@127.0.0.1:5060>\r\n"+
		"Call-ID: proxied-test\r\n"+
		"CSeq: 1 INVITE\r\n"+
		"Contact: <sip:13812345678@192.0.2.7:5060>\r\n"+
		"Max-Forwards: 69\r\n"+
		strings.Join(extra, "")+
		"Content-Type: application/sdp\r\n"+
		"Content-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body)
}

// trusting sets the agent's ACL to trust the given sources.
func (u *ua) trusting(prefixes ...string) {
	u.t.Helper()
	var cfg ACLConfig
	for _, p := range prefixes {
		cfg.Trusted = append(cfg.Trusted, netip.MustParsePrefix(p))
	}
	acl, err := NewACL(cfg)
	if err != nil {
		u.t.Fatal(err)
	}
	u.a.cfg.ACL = acl
}

// admitted is the call info of the one call in progress.
func (u *ua) admitted() flows.CallInfo {
	u.t.Helper()
	u.a.mu.Lock()
	defer u.a.mu.Unlock()
	for _, c := range u.a.calls {
		return c.adm.Info
	}
	u.t.Fatal("no call in progress")
	return flows.CallInfo{}
}

// TestInDialogRequestsOverTCPBehindProxy: kefu's BYE to a caller who came
// through a record-routing proxy over TCP goes to the caller's Contact by
// way of the proxy (Route, destination), over TCP, with Content-Length
// (without it the proxy cannot frame it). The harness checks
// Content-Length on every request kefu sends (newUA); this is the case a
// proxy in front makes.
func TestInDialogRequestsOverTCPBehindProxy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUA(t, testFlowYAML("500ms", "60s", "3s"))
		inv := proxiedInvite(t, "<sip:13812345678@192.0.2.7>")
		inv.SetSource("127.0.0.1:5080")
		_, ok := u.answered(inv)
		if rr := ok.GetHeader("Record-Route"); rr == nil || rr.Value() != "<sip:127.0.0.1:5080;transport=tcp;lr;r2=on>" {
			t.Errorf("200 OK Record-Route %v, want the proxy's copied", rr)
		}
		u.ack(inv, ok)
		bye, _ := u.nextRequest(sip.BYE)
		if bye.Recipient.String() != "sip:13812345678@192.0.2.7:5060" {
			t.Errorf("BYE to %s, want the caller's Contact", bye.Recipient.String())
		}
		if rt := bye.GetHeader("Route"); rt == nil || rt.Value() != "<sip:127.0.0.1:5080;transport=tcp;lr;r2=on>" {
			t.Errorf("BYE Route %v, want the proxy", rt)
		}
		if bye.Destination() != "127.0.0.1:5080" || bye.Transport() != "TCP" {
			t.Errorf("BYE to %s over %s, want the proxy 127.0.0.1:5080 over TCP", bye.Destination(), bye.Transport())
		}
		if cl := bye.ContentLength(); cl == nil || *cl != 0 {
			t.Errorf("BYE Content-Length %v, want 0", cl)
		}
		if !strings.Contains(bye.String(), "Content-Length: 0\r\n") {
			t.Errorf("BYE on the wire lacks Content-Length:\n%s", bye.String())
		}
	})
}

// TestCallerFromAssertedIdentity: the caller's number is the one a
// trusted source asserts (P-Asserted-Identity), else From's; an
// untrusted source's assertion is ignored. A caller who withheld the
// number (Privacy: id) stays anonymous, screened on the asserted number.
func TestCallerFromAssertedIdentity(t *testing.T) {
	cases := []struct {
		name      string
		trusted   []string
		from, pai string
		privacy   bool
		caller    string
		anonymous bool
	}{
		{"trusted tel", []string{"127.0.0.1/32"}, "<sip:4001234567@trunk>", "<tel:+8613900000001>", false, "13900000001", false},
		{"trusted sip", []string{"127.0.0.0/8"}, "<sip:4001234567@trunk>", `"Li" <sip:13900000002@trunk;user=phone>`, false, "13900000002", false},
		{"second value", []string{"127.0.0.1/32"}, "<sip:4001234567@trunk>", "<sip:anonymous@anonymous.invalid>, <tel:13900000003>", false, "13900000003", false},
		{"withheld", []string{"127.0.0.1/32"}, `"Anonymous" <sip:anonymous@anonymous.invalid>`, "<tel:13900000004>", true, "13900000004", true},
		{"untrusted", []string{"10.0.0.1/32"}, "<sip:13812345678@trunk>", "<tel:13900000005>", false, "13812345678", false},
		{"nothing trusted", nil, "<sip:13812345678@trunk>", "<tel:13900000006>", false, "13812345678", false},
		{"no assertion", []string{"127.0.0.1/32"}, "<sip:13812345678@trunk>", "", false, "13812345678", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				u := newUA(t, testFlowYAML("500ms", "60s", "1s"))
				u.trusting(tc.trusted...)
				var extra []string
				if tc.pai != "" {
					extra = append(extra, "P-Asserted-Identity: "+tc.pai+"\r\n")
				}
				if tc.privacy {
					extra = append(extra, "Privacy: id\r\n")
				}
				inv := proxiedInvite(t, tc.from, extra...)
				inv.SetSource("127.0.0.1:5080")
				_, ok := u.answered(inv)
				info := u.admitted()
				if info.Caller != flows.CallerNumber(tc.caller) || info.Anonymous != tc.anonymous {
					t.Errorf("caller %q anonymous %v, want %q %v", info.Caller, info.Anonymous, tc.caller, tc.anonymous)
				}
				u.ack(inv, ok)
				u.nextRequest(sip.BYE)
			})
		})
	}
}

// TestAssertedUser reads the number out of P-Asserted-Identity values.
func TestAssertedUser(t *testing.T) {
	for v, want := range map[string]string{
		"<tel:+8613912345678>":                         "+8613912345678",
		"<tel:13912345678;phone-context=+86>":          "13912345678",
		`"Wang" <sip:13912345678@10.0.0.5;user=phone>`: "13912345678",
		"sips:13912345678@trunk":                       "13912345678",
		"<sip:+8613912345678;npdi@trunk>":              "+8613912345678",
		"<sip:trunk.example>":                          "",
		"<mailto:x@y>":                                 "",
		"garbage":                                      "",
	} {
		if got := assertedUser(v); got != want {
			t.Errorf("assertedUser(%q) = %q, want %q", v, got, want)
		}
	}
}
