package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// byeConfig is a flow that says goodbye and hangs up at once.
const byeConfig = `
routes:
  - to: "*"
    flow: f
flows:
  f:
    steps:
      - name: bye
        say: {prompt: close.bye}
      - name: end
        hangup: {}
`

// TestIntegrationTLSKefuHangsUp (issue 14): on a call that came over TLS
// (a sipgo caller in the test, trusting kefu's certificate), the flow ends
// in a hang-up: kefu's BYE arrives over the caller's TLS connection (from
// kefu's TLS port, not a new connection to the caller's Contact), names
// TLS in its Via, and the caller's 200 reaches kefu: no retransmission,
// no warning.
func TestIntegrationTLSKefuHangsUp(t *testing.T) {
	integration(t)
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile := testCert(t, dir, "kefu")
	tlsAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	a := startAgent(t, "-config", configFile(t, byeConfig), "-tls-listen", tlsAddr, "-tls-cert", certFile, "-tls-key", keyFile)

	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	quiet := slog.New(slog.DiscardHandler)
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("tls-caller"), sipgo.WithUserAgenTLSConfig(&tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(quiet)),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(quiet)))
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	byes := make(chan *sip.Request, 4)
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		byes <- req
	})
	rtp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rtp.Close()
	offer := fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\na=sendrecv\r\n",
		rtp.LocalAddr().(*net.UDPAddr).Port)

	contact := sip.Uri{Scheme: "sip", User: "caller", Host: "127.0.0.1", Port: freePort(t), UriParams: sip.NewParams()}
	contact.UriParams.Add("transport", "tls")
	target := sip.Uri{Scheme: "sip", User: "4001234567", Host: "127.0.0.1", Port: portOf(tlsAddr), UriParams: sip.NewParams()}
	target.UriParams.Add("transport", "tls")
	inv := sip.NewRequest(sip.INVITE, target)
	inv.SetTransport("TLS")
	inv.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	inv.SetBody([]byte(offer))
	dc := sipgo.NewDialogClientCache(client, sip.ContactHeader{Address: contact})
	ctx := t.Context()
	dlg, err := dc.WriteInvite(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	if err := dlg.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatalf("kefu did not answer: %v", err)
	}
	if err := dlg.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	var bye *sip.Request
	select {
	case bye = <-byes:
	case <-time.After(30 * time.Second):
		t.Fatalf("no BYE from kefu\n%s", a.log.String())
	}
	if bye.Transport() != "TLS" || bye.Source() != tlsAddr || !strings.HasPrefix(bye.Via().Value(), "SIP/2.0/TLS ") {
		t.Errorf("kefu's BYE came over %s from %s with Via %s; want TLS from %s, over the caller's connection",
			bye.Transport(), bye.Source(), bye.Via().Value(), tlsAddr)
	}
	ended := a.waitEntry(t, "call ended", 10*time.Second)
	sent := a.entries("BYE sent")
	if len(sent) != 1 {
		t.Fatalf("kefu logged %d BYEs sent", len(sent))
	}
	// kefu's teardown waits for the BYE's answer (up to 32 s without one)
	// before the call ends.
	t0, _ := time.Parse(time.RFC3339Nano, sent[0].str("time"))
	t1, _ := time.Parse(time.RFC3339Nano, ended.str("time"))
	if d := t1.Sub(t0); d > time.Second {
		t.Errorf("the call ended %v after kefu's BYE: our 200 did not reach kefu", d)
	}
	if n := len(byes); n > 0 {
		t.Errorf("kefu sent %d more BYEs", n)
	}
}
