package sip

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/emiago/sipgo/siptest"
	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/sip/sdp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// The call state machine's tests run an Agent without sockets, inside a
// testing/synctest bubble: INVITEs and in-dialog requests go straight to
// its handlers with recorded server transactions (siptest), the requests
// kefu sends are taken by a siptest client requester, and each call's RTP
// socket is a fakeRTP whose read deadlines run on the bubble's clock. The
// answer delay, 2xx retransmissions, media timeouts and the flow's waits
// all pass in virtual time.

// sentResponse is a response kefu handed to a server transaction.
type sentResponse struct {
	at  time.Time
	res *sip.Response
}

// recTx is a recorded server transaction that also notes when kefu
// responded. Responses sipgo sends by itself (487 after a CANCEL) show in
// Result, not in responses.
type recTx struct {
	*siptest.ServerTxRecorder
	mu   sync.Mutex
	log  []sentResponse
	more chan struct{} // a token per response
}

func newRecTx(req *sip.Request) *recTx {
	return &recTx{ServerTxRecorder: siptest.NewServerTxRecorder(req), more: make(chan struct{}, 64)}
}

func (r *recTx) Respond(res *sip.Response) error {
	r.mu.Lock()
	r.log = append(r.log, sentResponse{at: time.Now(), res: res.Clone()})
	r.mu.Unlock()
	r.more <- struct{}{}
	return r.ServerTxRecorder.Respond(res)
}

// responses returns kefu's responses so far.
func (r *recTx) responses() []sentResponse {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sentResponse(nil), r.log...)
}

// codes lists the status codes of responses.
func codes(rs []*sip.Response) []int {
	var out []int
	for _, r := range rs {
		out = append(out, r.StatusCode)
	}
	return out
}

// ua is one kefu agent under test with the caller's side of its calls.
type ua struct {
	t     *testing.T
	a     *Agent
	ports *fakePorts
	sent  chan *sip.Request // requests kefu sent
	// reply answers kefu's requests (nil: no response); by default 200
	// OK to all but ACK. Set it before the call starts.
	reply func(*sip.Request) *sip.Response
}

// testFlowYAML is a configuration whose one flow answers and then waits
// for the caller to hang up for hangupWait before hanging up itself.
func testFlowYAML(answerDelay, mediaTimeout, hangupWait string) string {
	return fmt.Sprintf(`answer_delay: %s
media_timeout: %s
routes:
  - to: "*"
    flow: test
flows:
  test:
    steps:
      - name: answer
        answer: {}
      - name: wait
        hangup: {wait: %s}
        exception: a test line that only waits for the caller
`, answerDelay, mediaTimeout, hangupWait)
}

// newUA starts an agent on cfgYAML. It must run inside the synctest
// bubble; its cleanup shuts the agent down there.
func newUA(t *testing.T, cfgYAML string) *ua {
	t.Helper()
	cfg, err := flows.Parse("test.yaml", []byte(cfgYAML))
	if err != nil {
		t.Fatal(err)
	}
	snap := &flows.Bundle{Config: cfg, Version: "test"}
	sipua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	client, err := sipgo.NewClient(sipua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	u := &ua{t: t, ports: &fakePorts{inUse: map[net.PacketConn]bool{}}, sent: make(chan *sip.Request, 16)}
	client.TxRequester = &siptest.ClientTxRequesterResponder{OnRequest: func(req *sip.Request, w *siptest.ClientTxResponder) {
		// Every request kefu sends can be framed on a stream (RFC 3261
		// 20.14: Content-Length is required over TCP).
		if cl := req.ContentLength(); cl == nil || int(*cl) != len(req.Body()) {
			t.Errorf("kefu sent %s with Content-Length %v for a %d-byte body", req.Method, cl, len(req.Body()))
		}
		u.sent <- req
		if res := u.reply(req); res != nil {
			w.Receive(res)
		}
	}}
	u.reply = func(req *sip.Request) *sip.Response {
		if req.IsAck() {
			return nil
		}
		return sip.NewResponseFromRequest(req, 200, "OK", nil)
	}
	pctx, stopPacer := context.WithCancel(context.Background())
	u.a = &Agent{cfg: Config{UserAgent: "kefu", Current: func() *flows.Bundle { return snap }},
		log: slog.New(slog.NewTextHandler(t.Output(), nil)), client: client, met: NewMetrics(nil),
		adv: netip.MustParseAddr("127.0.0.1"), udp: fakeConn{}, calls: map[string]*call{}, legs: map[string]*leg{},
		fakePorts: u.ports, pacer: media.NewPacer(pctx, 1)}
	t.Cleanup(func() {
		done, cancel := context.WithCancel(context.Background())
		cancel()
		u.a.Shutdown(done) // hangs up what is left and waits for it
		stopPacer()
		_ = sipua.Close()
	})
	return u
}

// callerSDP is the caller's offer: PCMU, PCMA and telephone-event, from
// addr:port, in the given direction ("sendrecv", "sendonly", ...).
func callerSDP(addr string, port int, direction string) string {
	return "v=0\r\n" +
		"o=caller 1 " + strconv.Itoa(port) + " IN IP4 127.0.0.1\r\n" +
		"s=-\r\n" +
		"c=IN IP4 " + addr + "\r\n" +
		"t=0 0\r\n" +
		"m=audio " + strconv.Itoa(port) + " RTP/AVP 0 8 101\r\n" +
		"a=rtpmap:101 telephone-event/8000\r\n" +
		"a=" + direction + "\r\n"
}

// invite is a caller's INVITE over transport (UDP or TCP) with an offer.
func invite(t *testing.T, transport string) *sip.Request {
	t.Helper()
	body := callerSDP("127.0.0.1", callerRTP.Port, "sendrecv")
	return parseReq(t, "INVITE sip:hotline@127.0.0.1:5060 SIP/2.0\r\n"+
		"Via: SIP/2.0/"+transport+" 127.0.0.1:5070;branch=z9hG4bK-inv;rport\r\n"+
		"From: \"Caller\" <sip:13812345678@127.0.0.1:5070>;tag=caller\r\n"+
		"To: <sip:hotline@127.0.0.1:5060>\r\n"+
		"Call-ID: callstate-test\r\n"+
		"CSeq: 1 INVITE\r\n"+
		"Contact: <sip:13812345678@127.0.0.1:5070>\r\n"+
		"Max-Forwards: 70\r\n"+
		"Content-Type: application/sdp\r\n"+
		"Content-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body)
}

func parseReq(t *testing.T, msg string) *sip.Request {
	t.Helper()
	m, err := sip.ParseMessage([]byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	req := m.(*sip.Request)
	req.SetSource("127.0.0.1:5070")
	return req
}

// cancelOf is the caller's CANCEL of inv (RFC 3261 9.1: same branch,
// Call-ID, From, To and CSeq number).
func cancelOf(t *testing.T, inv *sip.Request) *sip.Request {
	t.Helper()
	return parseReq(t, "CANCEL "+inv.Recipient.String()+" SIP/2.0\r\n"+
		"Via: "+inv.Via().Value()+"\r\n"+
		"From: "+inv.From().Value()+"\r\n"+
		"To: "+inv.To().Value()+"\r\n"+
		"Call-ID: "+inv.CallID().Value()+"\r\n"+
		"CSeq: 1 CANCEL\r\n"+
		"Max-Forwards: 70\r\n"+
		"Content-Length: 0\r\n\r\n")
}

// inDialogReq is a request of the caller's in the dialog that kefu's 200
// OK (ok) to inv set up, with CSeq cseq and an optional SDP body.
func inDialogReq(t *testing.T, inv *sip.Request, ok *sip.Response, method string, cseq int, body string) *sip.Request {
	t.Helper()
	transport := inv.Via().Transport
	var ct string
	if body != "" {
		ct = "Content-Type: application/sdp\r\n"
	}
	return parseReq(t, method+" "+ok.Contact().Address.String()+" SIP/2.0\r\n"+
		"Via: SIP/2.0/"+transport+" 127.0.0.1:5070;branch=z9hG4bK-"+strings.ToLower(method)+strconv.Itoa(cseq)+";rport\r\n"+
		"From: "+inv.From().Value()+"\r\n"+
		"To: "+ok.To().Value()+"\r\n"+
		"Call-ID: "+inv.CallID().Value()+"\r\n"+
		"CSeq: "+strconv.Itoa(cseq)+" "+method+"\r\n"+
		"Contact: <sip:13812345678@127.0.0.1:5070>\r\n"+
		"Max-Forwards: 70\r\n"+ct+
		"Content-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body)
}

// answered sends inv to the agent and returns once kefu's final response
// is out, with the transaction and that response (the 200 OK).
func (u *ua) answered(inv *sip.Request) (*recTx, *sip.Response) {
	u.t.Helper()
	tx := newRecTx(inv)
	u.a.onInvite(inv, tx)
	rs := tx.responses()
	if len(rs) == 0 || rs[len(rs)-1].res.StatusCode != 200 {
		u.t.Fatalf("INVITE answered %v, want 100, 180, 200", codes(tx.Result()))
	}
	return tx, rs[len(rs)-1].res
}

// ack ACKs kefu's 200 OK.
func (u *ua) ack(inv *sip.Request, ok *sip.Response) {
	u.t.Helper()
	u.a.onAck(inDialogReq(u.t, inv, ok, "ACK", 1, ""), nil)
}

// request sends an in-dialog request to the agent (as sipgo's server
// would route it) and returns kefu's one response.
func (u *ua) request(req *sip.Request) *sip.Response {
	u.t.Helper()
	tx := newRecTx(req)
	if req.IsInvite() {
		u.a.onInvite(req, tx)
	} else {
		u.a.inDialog(req, tx)
	}
	res := tx.Result()
	if len(res) != 1 {
		u.t.Fatalf("%s answered %v, want one response", req.Method, codes(res))
	}
	return res[0]
}

// nextRequest returns the next request kefu sent; it blocks until there
// is one, so virtual time runs on until then.
func (u *ua) nextRequest(method sip.RequestMethod) (*sip.Request, time.Time) {
	u.t.Helper()
	req := <-u.sent
	if req.Method != method {
		u.t.Fatalf("kefu sent %s, want %s", req.Method, method)
	}
	return req, time.Now()
}

// noRequest fails if kefu sent a request.
func (u *ua) noRequest() {
	u.t.Helper()
	select {
	case req := <-u.sent:
		u.t.Errorf("kefu sent %s", req.Method)
	default:
	}
}

// ended counts calls that ended with cause label.
func (u *ua) ended(label string) float64 {
	u.t.Helper()
	var m dto.Metric
	if err := u.a.met.Calls.WithLabelValues(label).Write(&m); err != nil {
		u.t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// counterValue reads a counter.
func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// advance lets d pass on the bubble's clock (no real time passes): every
// timer due meanwhile fires, and the goroutines woken run until they
// block again.
func advance(d time.Duration) {
	t := time.NewTimer(d)
	<-t.C
}

// answerOf parses the SDP answer in a response.
func answerOf(t *testing.T, res *sip.Response) sdp.Answer {
	t.Helper()
	if ct := res.ContentType(); ct == nil || ct.Value() != "application/sdp" {
		t.Fatalf("%d without an SDP answer (Content-Type %v)", res.StatusCode, ct)
	}
	ans, err := sdp.ParseAnswer(res.Body())
	if err != nil {
		t.Fatalf("SDP answer: %v\n%s", err, res.Body())
	}
	return ans
}
