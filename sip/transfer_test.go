package sip

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/emiago/sipgo/siptest"
	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/rtp"
	"github.com/kefu-hotline/kefu/sip/sdp"
	dto "github.com/prometheus/client_model/go"
)

func TestSipfragStatus(t *testing.T) {
	for _, tc := range []struct {
		body string
		code int
		ok   bool
	}{
		{"SIP/2.0 200 OK", 200, true},
		{"SIP/2.0 200 OK\r\nContact: <sip:8001@pbx>\r\n\r\n", 200, true},
		{"SIP/2.0 100 Trying\r\n", 100, true},
		{"SIP/2.0 486 Busy Here\n", 486, true},
		{"sip/2.0 603 Decline", 603, true},
		{"  SIP/2.0   180   Ringing", 180, true},
		{"", 0, false},
		{"SIP/2.0", 0, false},
		{"SIP/2.0 OK 200", 0, false},
		{"SIP/2.0 2000 OK", 0, false},
		{"SIP/2.0 099 Low", 0, false},
		{"SIP/2.0 700 High", 0, false},
		{"HTTP/1.1 200 OK", 0, false},
		{"INVITE sip:8001@pbx SIP/2.0", 0, false},
		{"garbage", 0, false},
	} {
		code, ok := sipfragStatus([]byte(tc.body))
		if code != tc.code || ok != tc.ok {
			t.Errorf("sipfragStatus(%q) = %d, %v; want %d, %v", tc.body, code, ok, tc.code, tc.ok)
		}
	}
}

func TestReferTo(t *testing.T) {
	for _, tc := range []struct{ uri, want string }{
		{"sip:8001@pbx.example.com", "<sip:8001@pbx.example.com>"},
		{"sip:8001@127.0.0.1:5080", "<sip:8001@127.0.0.1:5080>"},
		{"sip:8001@pbx.example.com;transport=tcp", "<sip:8001@pbx.example.com;transport=tcp>"},
		{"sips:supervisors@pbx.example.com", "<sips:supervisors@pbx.example.com>"},
	} {
		u, err := parseTarget(tc.uri)
		if err != nil {
			t.Errorf("parseTarget(%q): %v", tc.uri, err)
			continue
		}
		if got := referTo(u); got != tc.want {
			t.Errorf("referTo(%q) = %q, want %q", tc.uri, got, tc.want)
		}
	}
	for _, bad := range []string{"", "tel:+8610123", "8001", "sip:8001@pbx>\r\nX-Evil: 1", "sip:a b@pbx", `sip:"x"@pbx`} {
		if _, err := parseTarget(bad); err == nil {
			t.Errorf("parseTarget(%q) accepted", bad)
		}
	}
}

func TestReferHeaders(t *testing.T) {
	if !referEvent("refer") || !referEvent("Refer;id=93") || referEvent("presence") || referEvent("") {
		t.Error("referEvent")
	}
	if !subscriptionTerminated("terminated;reason=noresource") || !subscriptionTerminated(" Terminated") ||
		subscriptionTerminated("active;expires=60") || subscriptionTerminated("") {
		t.Error("subscriptionTerminated")
	}
}

// fakeConn gives the agent a SIP address without a socket.
type fakeConn struct{ net.PacketConn }

func (fakeConn) LocalAddr() net.Addr { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5060} }

// peer answers kefu's requests in a test, in place of the network: the
// response to send, or nil for none.
type peer func(req *sip.Request) *sip.Response

// replies is a peer that answers each method with a status (200 for the
// rest; ACK gets nothing).
func replies(codes map[sip.RequestMethod]int) peer {
	return func(req *sip.Request) *sip.Response {
		if req.IsAck() {
			return nil
		}
		code, ok := codes[req.Method]
		if !ok {
			code = 200
		}
		return sip.NewResponseFromRequest(req, code, "Whatever", nil)
	}
}

const testInvite = "INVITE sip:hotline@127.0.0.1:5060 SIP/2.0\r\n" +
	"Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK-1;rport\r\n" +
	"Record-Route: <sip:proxy.example.com;lr>\r\n" +
	"From: \"Test\" <sip:13812345678@127.0.0.1:5070>;tag=caller\r\n" +
	"To: <sip:hotline@127.0.0.1:5060>\r\n" +
	"Call-ID: transfer-test\r\n" +
	"CSeq: 1 INVITE\r\n" +
	"Contact: <sip:13812345678@127.0.0.1:5070;transport=tcp>\r\n" +
	"Content-Length: 0\r\n\r\n"

// newTestCall returns an answered call whose owner loop runs, with the
// caller's side played by p; sent receives every request kefu sends. setup
// runs before the loop starts.
func newTestCall(t *testing.T, p peer, setup ...func(*call)) (c *call, sent chan *sip.Request) {
	t.Helper()
	ua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ua.Close() })
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	sent = make(chan *sip.Request, 16)
	client.TxRequester = &siptest.ClientTxRequesterResponder{OnRequest: func(req *sip.Request, w *siptest.ClientTxResponder) {
		sent <- req
		if res := p(req); res != nil {
			w.Receive(res)
		}
	}}
	a := &Agent{cfg: Config{UserAgent: "kefu"}, log: slog.New(slog.DiscardHandler), client: client, met: NewMetrics(nil),
		adv: netip.MustParseAddr("127.0.0.1"), udp: fakeConn{}, calls: map[string]*call{}, legs: map[string]*leg{}}
	inv, err := sip.ParseMessage([]byte(testInvite))
	if err != nil {
		t.Fatal(err)
	}
	c = &call{a: a, localTag: "kefutag", invite: inv.(*sip.Request), log: a.log,
		reqs: make(chan inReq), acks: make(chan *sip.Request, 1), hangups: make(chan chan error), ops: make(chan func()),
		events: make(chan flows.Event, 32), m: &callMedia{ended: make(chan error)}, cseq: 1,
		answer: sdp.Answer{Codec: media.CodecPCMA, PT: 8}, adm: flows.Admission{Info: flows.CallInfo{Caller: "13812345678", Called: "4008001234"}}}
	c.ctx, c.cancel = context.WithCancelCause(context.Background())
	c.ok = c.response(200, "OK", nil)
	c.acks <- c.invite // as if ACKed
	for _, f := range setup {
		f(c)
	}
	done := make(chan struct{})
	go func() { defer close(done); c.loop() }()
	t.Cleanup(func() { c.cancel(context.Canceled); <-done })
	return c, sent
}

// notifyReq builds the caller's NOTIFY in c's dialog.
func notifyReq(t *testing.T, cseq int, event, state, frag string) *sip.Request {
	t.Helper()
	msg := "NOTIFY sip:kefu@127.0.0.1:5060 SIP/2.0\r\n" +
		"Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK-n" + strconv.Itoa(cseq) + ";rport\r\n" +
		"From: <sip:13812345678@127.0.0.1:5070>;tag=caller\r\n" +
		"To: <sip:hotline@127.0.0.1:5060>;tag=kefutag\r\n" +
		"Call-ID: transfer-test\r\n" +
		"CSeq: " + strconv.Itoa(cseq) + " NOTIFY\r\n" +
		"Event: " + event + "\r\n" +
		"Subscription-State: " + state + "\r\n" +
		"Content-Type: message/sipfrag;version=2.0\r\n" +
		"Content-Length: " + strconv.Itoa(len(frag)) + "\r\n\r\n" + frag
	m, err := sip.ParseMessage([]byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	return m.(*sip.Request)
}

// deliver hands req to the call's owner as the server would and returns
// the status it was answered with.
func deliver(t *testing.T, c *call, req *sip.Request) int {
	t.Helper()
	tx := siptest.NewServerTxRecorder(req)
	r := inReq{req: req, tx: tx, done: make(chan struct{})}
	c.reqs <- r
	<-r.done
	res := tx.Result()
	if len(res) != 1 {
		t.Fatalf("%s answered %d times", req.Method, len(res))
	}
	return res[0].StatusCode
}

func counter(t *testing.T, a *Agent, how, outcome string) float64 {
	t.Helper()
	var m dto.Metric
	if err := a.met.Transfers.WithLabelValues(how, outcome).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func next(t *testing.T, sent chan *sip.Request, method sip.RequestMethod) *sip.Request {
	t.Helper()
	select {
	case req := <-sent:
		if req.Method != method {
			t.Fatalf("kefu sent %s, want %s", req.Method, method)
		}
		return req
	case <-time.After(5 * time.Second):
		t.Fatalf("kefu sent no %s", method)
		return nil
	}
}

// TestTransferRefer: the REFER goes to the caller's Contact through the
// route set, with Refer-To and Referred-By; after the 202 each NOTIFY is
// answered 200 and the final sipfrag 200 makes kefu hang up its dialog.
func TestTransferRefer(t *testing.T) {
	c, sent := newTestCall(t, replies(map[sip.RequestMethod]int{sip.REFER: 202}))
	type result struct {
		res flows.TransferResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := c.Transfer(c.ctx, "sip:8001@pbx.example.com", 20*time.Second)
		done <- result{res, err}
	}()
	refer := next(t, sent, sip.REFER)
	for name, want := range map[string]string{
		"Refer-To":    "<sip:8001@pbx.example.com>",
		"Referred-By": "<sip:kefu@127.0.0.1:5060>",
		"Route":       "<sip:proxy.example.com;lr>",
		"CSeq":        "2 REFER",
		"Call-ID":     "transfer-test",
	} {
		if got := headerValue(refer, name); got != want {
			t.Errorf("REFER %s: %q, want %q", name, got, want)
		}
	}
	if refer.Recipient.String() != "sip:13812345678@127.0.0.1:5070;transport=tcp" || refer.Contact() == nil {
		t.Errorf("REFER to %s, contact %v", refer.Recipient.String(), refer.Contact())
	}
	if to, _ := refer.From().Params.Get("tag"); to != "kefutag" {
		t.Errorf("REFER From tag %q", to)
	}
	if code := deliver(t, c, notifyReq(t, 2, "refer", "active;expires=60", "SIP/2.0 100 Trying\r\n")); code != 200 {
		t.Errorf("NOTIFY 100 answered %d", code)
	}
	if code := deliver(t, c, notifyReq(t, 3, "refer", "terminated;reason=noresource", "SIP/2.0 200 OK\r\n")); code != 200 {
		t.Errorf("final NOTIFY answered %d", code)
	}
	if bye := next(t, sent, sip.BYE); headerValue(bye, "CSeq") != "3 BYE" {
		t.Errorf("BYE CSeq %q", headerValue(bye, "CSeq"))
	}
	r := <-done
	if r.err != nil || r.res.How != "refer" {
		t.Errorf("Transfer = %+v, %v; want refer", r.res, r.err)
	}
	if cause := context.Cause(c.ctx); !errors.Is(cause, errTransferred) || causeLabel(cause) != "transferred" {
		t.Errorf("call ended with %v", cause)
	}
	if n := counter(t, c.a, "refer", outcomeOK); n != 1 {
		t.Errorf("refer ok counted %v", n)
	}
}

// TestReferOutcomes runs the REFER part alone against callers that refuse
// it, report failure, end the subscription early, or hang up.
func TestReferOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		answer  int
		notes   [][2]string // Subscription-State, sipfrag
		hangup  bool
		outcome string
		code    int
	}{
		{name: "declined 603", answer: 603, outcome: outcomeRefused, code: 603},
		{name: "phone without REFER support (501)", answer: 501, outcome: outcomeRefused, code: 501},
		{name: "busy", answer: 202, notes: [][2]string{{"active", "SIP/2.0 100 Trying"}, {"terminated", "SIP/2.0 486 Busy Here"}}, outcome: outcomeFailedLate, code: 486},
		{name: "terminated early", answer: 202, notes: [][2]string{{"active", "SIP/2.0 180 Ringing"}, {"terminated;reason=timeout", "SIP/2.0 180 Ringing"}}, outcome: outcomeFailedLate},
		{name: "malformed then ok", answer: 202, notes: [][2]string{{"active", "garbage"}, {"terminated", "SIP/2.0 200 OK"}}, outcome: outcomeOK, code: 200},
		{name: "caller hangs up", answer: 202, notes: [][2]string{{"active", "SIP/2.0 100 Trying"}}, hangup: true, outcome: outcomeUnconfirmed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, sent := newTestCall(t, replies(map[sip.RequestMethod]int{sip.REFER: tc.answer}))
			done := make(chan referResult, 1)
			go func() { done <- c.sendRefer(c.ctx, sip.Uri{Scheme: "sip", User: "8001", Host: "pbx"}) }()
			next(t, sent, sip.REFER)
			for i, n := range tc.notes {
				if code := deliver(t, c, notifyReq(t, 2+i, "refer;id=2", n[0], n[1])); code != 200 {
					t.Errorf("NOTIFY %d answered %d", i, code)
				}
			}
			if tc.hangup {
				c.cancel(flows.ErrCallerHangup)
			}
			r := <-done
			if r.outcome != tc.outcome || r.code != tc.code || r.accepted != (tc.answer == 202) {
				t.Errorf("REFER: %+v; want %s, code %d, accepted %v", r, tc.outcome, tc.code, tc.answer == 202)
			}
		})
	}
}

// TestNotifyNoSubscription: NOTIFYs outside a REFER subscription get 481.
func TestNotifyNoSubscription(t *testing.T) {
	c, _ := newTestCall(t, replies(nil))
	if code := deliver(t, c, notifyReq(t, 2, "refer", "active", "SIP/2.0 100 Trying")); code != 481 {
		t.Errorf("NOTIFY without a REFER answered %d, want 481", code)
	}
	if code := deliver(t, c, notifyReq(t, 3, "presence", "active", "")); code != 481 {
		t.Errorf("NOTIFY of another package answered %d, want 481", code)
	}
}

// newTestPool is an RTP port pool for the tests.
func newTestPool() (*rtp.PortPool, error) {
	return rtp.NewPortPool(netip.MustParseAddr("127.0.0.1"), 42000, 42998)
}

// TestTransferBridgeRefused: REFER refused, so kefu INVITEs the destination
// itself from its own address, offering the caller's codec first; a 486
// leaves the call up and fails the transfer with the status.
func TestTransferBridgeRefused(t *testing.T) {
	c, sent := newTestCall(t, replies(map[sip.RequestMethod]int{sip.REFER: 405, sip.INVITE: 486}))
	pool, err := newTestPool()
	if err != nil {
		t.Fatal(err)
	}
	c.a.ports = pool
	done := make(chan error, 1)
	go func() {
		_, err := c.Transfer(c.ctx, "sip:8001@pbx.example.com", 20*time.Second)
		done <- err
	}()
	next(t, sent, sip.REFER)
	inv := next(t, sent, sip.INVITE)
	// The destination sees who is calling (issue 12: every B2BUA leg
	// carries the caller's identity) and the number they dialled.
	if from := inv.From(); from.DisplayName != "13812345678" || from.Address.User != "13812345678" || !from.Params.Has("tag") {
		t.Errorf("INVITE From %s", from.Value())
	}
	if pai, div := headerValue(inv, "P-Asserted-Identity"), headerValue(inv, "Diversion"); pai != "<sip:13812345678@127.0.0.1>" || div != "<sip:4008001234@127.0.0.1>;reason=unconditional" {
		t.Errorf("P-Asserted-Identity %q, Diversion %q", pai, div)
	}
	if inv.Recipient.String() != "sip:8001@pbx.example.com" || !strings.Contains(string(inv.Body()), "m=audio ") ||
		!strings.Contains(string(inv.Body()), " RTP/AVP 8 0") {
		t.Errorf("INVITE to %s with SDP:\n%s", inv.Recipient.String(), inv.Body())
	}
	err = <-done
	if !errors.Is(err, flows.ErrTransferFailed) || !strings.Contains(err.Error(), "486") {
		t.Errorf("Transfer: %v; want ErrTransferFailed with 486", err)
	}
	if c.ctx.Err() != nil {
		t.Errorf("the call ended: %v", context.Cause(c.ctx))
	}
	if counter(t, c.a, "refer", outcomeRefused) != 1 || counter(t, c.a, "bridge", outcomeRefused) != 1 {
		t.Error("transfers not counted as refer refused, bridge refused")
	}
	if pool.InUse() != 0 {
		t.Errorf("%d RTP ports still in use", pool.InUse())
	}
}

// TestTransferReferAcceptedNeverBridges: once the caller's side accepted
// the REFER (a PBX that moved the caller), kefu never calls the
// destination itself: a final NOTIFY that reports failure (sent after the
// moved caller hung up), or none at all in time (Asterisk sends it when
// the transferred channel ends), ends kefu's dialog with a BYE, and the
// outcome is counted.
func TestTransferReferAcceptedNeverBridges(t *testing.T) {
	for _, tc := range []struct {
		name    string
		notes   [][2]string // Subscription-State, sipfrag
		outcome string
		code    int
		wait    time.Duration // from the REFER to kefu's BYE
		silent  bool          // no response to the REFER: the NOTIFY says it was accepted
	}{
		{name: "failure after the caller hung up", notes: [][2]string{{"active;expires=60", "SIP/2.0 100 Trying"}, {"terminated;reason=noresource", "SIP/2.0 503 Service Unavailable"}},
			outcome: outcomeFailedLate, code: 503},
		{name: "final NOTIFY late", notes: [][2]string{{"active;expires=60", "SIP/2.0 100 Trying"}}, outcome: outcomeNoFinal, wait: referTimeout},
		{name: "NOTIFY without a 202", notes: [][2]string{{"terminated", "SIP/2.0 486 Busy Here"}}, outcome: outcomeFailedLate, code: 486, silent: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := replies(map[sip.RequestMethod]int{sip.REFER: 202})
				if tc.silent {
					p = func(req *sip.Request) *sip.Response {
						if req.Method == sip.REFER {
							return nil
						}
						return replies(nil)(req)
					}
				}
				c, sent := newTestCall(t, p)
				type result struct {
					res flows.TransferResult
					err error
				}
				done := make(chan result, 1)
				go func() {
					res, err := c.Transfer(c.ctx, "sip:8001@pbx.example.com", 20*time.Second)
					done <- result{res, err}
				}()
				next(t, sent, sip.REFER)
				referred := time.Now()
				for i, n := range tc.notes {
					if code := deliver(t, c, notifyReq(t, 2+i, "refer", n[0], n[1])); code != 200 {
						t.Errorf("NOTIFY %d answered %d", i, code)
					}
				}
				var bye *sip.Request
				select {
				case bye = <-sent:
				case <-time.After(time.Minute):
					t.Fatal("kefu sent no BYE")
				}
				if bye.Method != sip.BYE {
					t.Fatalf("kefu sent %s %s, want BYE", bye.Method, bye.Recipient.String())
				}
				if d := time.Since(referred); d != tc.wait {
					t.Errorf("BYE %v after the REFER, want %v", d, tc.wait)
				}
				if bye.CSeq().SeqNo != 3 {
					t.Errorf("BYE CSeq %s", bye.CSeq().Value())
				}
				r := <-done
				if r.err != nil || r.res.How != "refer" {
					t.Errorf("Transfer = %+v, %v; want refer", r.res, r.err)
				}
				synctest.Wait()
				select {
				case req := <-sent:
					t.Errorf("kefu sent %s %s after the accepted REFER", req.Method, req.Recipient.String())
				default:
				}
				if cause := context.Cause(c.ctx); !errors.Is(cause, errTransferred) {
					t.Errorf("call ended with %v", cause)
				}
				if n := counter(t, c.a, "refer", tc.outcome); n != 1 {
					t.Errorf("refer %s counted %v", tc.outcome, n)
				}
				for _, o := range []string{outcomeOK, outcomeFailed, outcomeRefused, outcomeTimeout, outcomeHangup} {
					if n := counter(t, c.a, "bridge", o); n != 0 {
						t.Errorf("bridge %s counted %v", o, n)
					}
				}
			})
		})
	}
}
