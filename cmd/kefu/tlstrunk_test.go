package main

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	pionrtp "github.com/pion/rtp"

	"github.com/kefu-hotline/kefu/media/g711"
	"github.com/kefu-hotline/kefu/media/srtp"
	"github.com/kefu-hotline/kefu/sip/sdp"
)

// tlsTrunk is a carrier's SIP over TLS with SRTP, written for the tests
// on sipgo: it answers kefu's INVITEs with RTP/SAVP and its own key,
// sends its customer's greeting protected, and reads every packet kefu
// sends off the wire: whether it authenticates with the key of kefu's
// offer, and whether its payload on the wire differs from the audio it
// carries (plain PCMU would authenticate with no key and be the same).
type tlsTrunk struct {
	addr, cert string
	greeting   []int16

	mu      sync.Mutex
	offers  []string // the INVITEs' SDP
	invSrc  string   // where the INVITE came from (kefu's end of the connection)
	via     string   // the INVITE's top Via, and its Contact
	contact string
	byes    []string // "TRANSPORT source" of each BYE from kefu
	bye     chan struct{}
	media   chan struct{} // closed when kefu's first call's packets stopped
	good    int           // kefu's packets that authenticated
	bad     int           // and those that did not
	same    int           // authenticated packets whose wire payload was the clear one
	loud    int           // authenticated packets with audio above -40 dBFS
	errs    []error
	stopped chan struct{}
}

// startTLSTrunk serves SIP over TLS on a free loopback port with a
// self-signed certificate for 127.0.0.1 (cert: its PEM file).
func startTLSTrunk(t *testing.T, greeting []int16) *tlsTrunk {
	t.Helper()
	dir := t.TempDir()
	certFile, keyFile := testCert(t, dir, "trunk")
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("tls-trunk"),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(quiet)),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(quiet)))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	tt := &tlsTrunk{addr: ln.Addr().String(), cert: certFile, greeting: greeting, stopped: make(chan struct{}),
		bye: make(chan struct{}, 1), media: make(chan struct{})}
	srv.OnInvite(tt.onInvite)
	srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		tt.mu.Lock()
		tt.byes = append(tt.byes, req.Transport()+" "+req.Source())
		tt.mu.Unlock()
		select {
		case tt.bye <- struct{}{}:
		default:
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	go func() { _ = srv.ServeTLS(ln) }()
	t.Cleanup(func() {
		close(tt.stopped)
		_ = ln.Close()
		_ = ua.Close()
	})
	return tt
}

func (tt *tlsTrunk) fail(err error) {
	tt.mu.Lock()
	tt.errs = append(tt.errs, err)
	tt.mu.Unlock()
}

// onInvite answers with SRTP (the offer's crypto suite, the trunk's own
// key) and starts the media.
func (tt *tlsTrunk) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	tt.mu.Lock()
	tt.offers = append(tt.offers, string(req.Body()))
	tt.invSrc = req.Transport() + " " + req.Source()
	tt.via = req.Via().Value()
	if c := req.Contact(); c != nil {
		tt.contact = c.Value()
	}
	first := len(tt.offers) == 1
	tt.mu.Unlock()
	offer, err := sdp.ParseOffer(req.Body())
	if err != nil {
		tt.fail(err)
		_ = tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad Request", nil))
		return
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tt.fail(err)
		return
	}
	key, err := srtp.NewKey()
	if err != nil {
		tt.fail(err)
		return
	}
	local := sdp.Local{Addr: netip.MustParseAddr("127.0.0.1"), Port: conn.LocalAddr().(*net.UDPAddr).Port, SessionID: 7, SessionVersion: 1,
		SRTP: sdp.SRTPRequired, Key: key}
	ans, body, err := sdp.Negotiate(offer, local)
	if err != nil {
		tt.fail(err)
		_ = tx.Respond(sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil))
		_ = conn.Close()
		return
	}
	sess, err := srtp.NewSession(ans.SRTP.Suite, ans.SRTP.Local, ans.SRTP.Remote)
	if err != nil {
		tt.fail(err)
		return
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", body)
	contact := sip.Uri{Scheme: "sip", User: "trunk", Host: "127.0.0.1", Port: portOf(tt.addr), UriParams: sip.NewParams()}
	contact.UriParams.Add("transport", "tls")
	res.AppendHeader(&sip.ContactHeader{Address: contact})
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	if err := tx.Respond(res); err != nil {
		tt.fail(err)
		_ = conn.Close()
		return
	}
	done := make(chan struct{})
	go tt.send(conn, sess, ans, done)
	go func() {
		tt.receive(conn, sess, ans, done)
		if first {
			close(tt.media)
		}
	}()
}

func portOf(addr string) int {
	ap := netip.MustParseAddrPort(addr)
	return int(ap.Port())
}

// send plays the greeting, then quiet, protected, until kefu's media
// stops or the test ends.
func (tt *tlsTrunk) send(conn *net.UDPConn, sess *srtp.Session, ans sdp.Answer, done chan struct{}) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	pcm := append(make([]int16, 2400), tt.greeting...)
	buf := make([]byte, 12+160+sess.Overhead())
	h := pionrtp.Header{Version: 2, PayloadType: ans.PT, SSRC: 0x7e57}
	for i := 0; ; i++ {
		select {
		case <-done:
			return
		case <-tt.stopped:
			return
		case <-tick.C:
		}
		frame := make([]int16, 160)
		if off := i * 160; off < len(pcm) {
			copy(frame, pcm[off:])
		}
		h.SequenceNumber, h.Timestamp = uint16(i), uint32(i*160)
		n, err := h.MarshalTo(buf)
		if err != nil {
			tt.fail(err)
			return
		}
		if err := g711.Encode(ans.Codec, buf[n:n+160], frame); err != nil {
			tt.fail(err)
			return
		}
		m, err := sess.Protect(buf, n+160)
		if err != nil {
			tt.fail(err)
			return
		}
		if _, err := conn.WriteToUDPAddrPort(buf[:m], ans.Remote); err != nil {
			return
		}
	}
}

// receive reads kefu's packets until 3 s pass without one.
func (tt *tlsTrunk) receive(conn *net.UDPConn, sess *srtp.Session, ans sdp.Answer, done chan struct{}) {
	defer close(done)
	defer conn.Close()
	buf := make([]byte, 1500)
	for {
		_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
		n, _, err := conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		wire := bytes.Clone(buf[:n])
		m, err := sess.Unprotect(buf[:n])
		if err != nil {
			tt.mu.Lock()
			tt.bad++
			tt.mu.Unlock()
			continue
		}
		var p pionrtp.Packet
		if err := p.Unmarshal(buf[:m]); err != nil {
			tt.fail(err)
			continue
		}
		hl := m - len(p.Payload)
		pcm := make([]int16, len(p.Payload))
		if err := g711.Decode(ans.Codec, pcm, p.Payload); err != nil {
			tt.fail(err)
			continue
		}
		var sum float64
		for _, s := range pcm {
			sum += float64(s) * float64(s)
		}
		tt.mu.Lock()
		tt.good++
		if bytes.Equal(wire[hl:hl+len(p.Payload)], p.Payload) {
			tt.same++
		}
		if len(pcm) > 0 && sum/float64(len(pcm)) > 32768*32768*1e-4 { // -40 dBFS
			tt.loud++
		}
		tt.mu.Unlock()
	}
}

// TestIntegrationCallbackTLSTrunk (issue 14): a callback goes out through
// a trunk with transport: tls (its self-signed certificate as ca_file)
// and srtp: required. kefu's INVITE reaches the trunk over TLS, names TLS
// in its Via and Contact and offers RTP/SAVP; the customer answers with
// SRTP and says 「喂,你好,哪位?」; kefu takes them for a person and puts
// them through to the agent. Every packet kefu sends authenticates with
// the key of its offer, none carries its audio in the clear (the wire
// check: plain PCMU under the SRTP answer would fail both), and kefu's
// BYE after the agent hangs up comes over the TLS connection.
func TestIntegrationCallbackTLSTrunk(t *testing.T) {
	integration(t)
	t.Parallel()
	greeting := readAudio(t, filepath.Join("..", "..", "media", "amd", "testdata", "h-zh-wei-nihao-nawei.wav"))
	trunk := startTLSTrunk(t, greeting)
	dir := t.TempDir()
	certFile, keyFile := testCert(t, dir, "kefu")
	cfg := strings.Replace(amdConfig(portOf(trunk.addr)), "    caller_id:",
		"    transport: tls\n    ca_file: "+trunk.cert+"\n    srtp: required\n    caller_id:", 1)
	data := t.TempDir()
	storeCallback(t, data, "13800000007")
	a := startAgent(t, "-config", configFile(t, cfg), "-data", data,
		"-tls-listen", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "-tls-cert", certFile, "-tls-key", keyFile)
	ph := startPhone(t, a, "-id", "8001", "-password", "secret-8001", "-answer-after", "500ms", "-hangup-after", "25s", "-for", "2m")
	ph.wait(t, "registered", 10*time.Second)

	attempt := a.waitEntry(t, "callback attempt", 60*time.Second)
	if attempt.str("result") != "answered" || attempt.str("outcome") != "done" {
		t.Errorf("callback attempt %v; want answered, done", attempt)
	}
	for _, w := range []struct {
		what string
		ch   <-chan struct{}
	}{{"kefu's BYE", trunk.bye}, {"the end of kefu's packets", trunk.media}} {
		select {
		case <-w.ch:
		case <-time.After(10 * time.Second):
			t.Errorf("the trunk saw no %s", w.what)
		}
	}
	trunk.mu.Lock()
	defer trunk.mu.Unlock()
	byes := trunk.byes
	if len(trunk.offers) != 1 {
		t.Fatalf("the trunk got %d INVITEs", len(trunk.offers))
	}
	offer := trunk.offers[0]
	if !strings.Contains(offer, "m=audio ") || !strings.Contains(offer, " RTP/SAVP ") || !strings.Contains(offer, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:") {
		t.Errorf("kefu's offer is not RTP/SAVP with a key:\n%s", offer)
	}
	if !strings.HasPrefix(trunk.invSrc, "TLS ") || !strings.HasPrefix(trunk.via, "SIP/2.0/TLS ") || !strings.Contains(trunk.contact, ";transport=tls") {
		t.Errorf("the INVITE came over %s, Via %s, Contact %s; want TLS in all three", trunk.invSrc, trunk.via, trunk.contact)
	}
	if len(byes) != 1 || byes[0] != trunk.invSrc {
		t.Errorf("BYEs from kefu %q; want one, over the INVITE's connection %s", byes, trunk.invSrc)
	}
	t.Logf("kefu's packets at the trunk: %d authenticated (%d with audio above -40 dBFS), %d did not, %d in the clear",
		trunk.good, trunk.loud, trunk.bad, trunk.same)
	if trunk.good < 200 || trunk.bad != 0 || trunk.same != 0 || trunk.loud < 25 {
		t.Errorf("kefu's packets: %d authenticated (%d with audio), %d did not, %d in the clear; want 200+ (25+), 0, 0",
			trunk.good, trunk.loud, trunk.bad, trunk.same)
	}
	if len(trunk.errs) > 0 {
		t.Errorf("the trunk: %v", errors.Join(trunk.errs...))
	}
	if !a.waitLog(`"srtp":"AES_CM_128_HMAC_SHA1_80"`, time.Second) {
		t.Errorf("kefu did not log the customer's SRTP")
	}
	if got := metric(a.metrics(), `kefu_srtp_dropped_total{reason="auth"}`); got > 0 {
		t.Errorf("%v of the trunk's packets failed authentication at kefu", got)
	}
}

// TestIntegrationTLSTrunkWrongCA (issue 14): a trunk whose certificate
// does not chain to its ca_file (here kefu's own certificate) gets no
// INVITE: kefu drops the connection in the handshake and the attempt
// fails.
func TestIntegrationTLSTrunkWrongCA(t *testing.T) {
	integration(t)
	t.Parallel()
	trunk := startTLSTrunk(t, nil)
	dir := t.TempDir()
	other, _ := testCert(t, dir, "other")
	cfg := strings.Replace(amdConfig(portOf(trunk.addr)), "    caller_id:",
		"    transport: tls\n    ca_file: "+other+"\n    caller_id:", 1)
	data := t.TempDir()
	storeCallback(t, data, "13800000008")
	a := startAgent(t, "-config", configFile(t, cfg), "-data", data)
	ph := startPhone(t, a, "-id", "8001", "-password", "secret-8001", "-answer-after", "500ms", "-for", "2m")
	ph.wait(t, "registered", 10*time.Second)
	attempt := a.waitEntry(t, "callback attempt", 60*time.Second)
	if attempt.str("result") != "failed" {
		t.Errorf("callback attempt %v; want failed", attempt)
	}
	if !a.waitLog("certificate signed by unknown authority", time.Second) {
		t.Errorf("kefu did not say why the trunk's certificate was refused")
	}
	trunk.mu.Lock()
	defer trunk.mu.Unlock()
	if len(trunk.offers) != 0 {
		t.Errorf("the trunk got %d INVITEs through an unchecked connection", len(trunk.offers))
	}
}
