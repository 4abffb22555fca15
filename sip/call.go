package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"
	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/sip/sdp"
)

// Causes a call can end with besides the flows.Err* ones.
var (
	errCanceled    = errors.New("caller cancelled before answer")
	errNoAck       = error(lineFault("no ACK for 200 OK"))
	errAgentHangup = errors.New("agent hung up")
	errFlowEnded   = errors.New("flow ended")
	errTransferred = errors.New("call transferred")
)

// lineFault is a cause that is a line fault (flows.ErrLineFault): kefu cut
// the call short, and the repeat-call rule spares its number.
type lineFault string

func (e lineFault) Error() string { return string(e) }

func (e lineFault) Unwrap() error { return flows.ErrLineFault }

// call is one call. Its state belongs to the goroutine running run; SIP
// handlers, the flow and the media reach it only through channels.
type call struct {
	poorLine atomic.Bool // the flow hung up for a weak or noisy line
	a        *Agent
	key      string
	localTag string
	invite   *sip.Request
	tx       sip.ServerTransaction
	snap     *flows.Bundle
	adm      flows.Admission // the call's flow and where it starts
	log      *slog.Logger
	received time.Time

	ctx       context.Context
	cancel    context.CancelCauseFunc
	finalSent chan struct{}

	reqs    chan inReq
	acks    chan *sip.Request
	hangups chan chan error
	ops     chan func() // work the flow hands to the owner (transfer.go)
	events  chan flows.Event

	m       *callMedia // its audio is connected once the answer is known (a late offer's comes in the ACK)
	answer  sdp.Answer
	local   sdp.Local
	lastSDP []byte        // the session description kefu sent last in the dialog
	late    bool          // a late offer whose answer (in the ACK) has not come yet
	reoffer uint32        // CSeq of a re-INVITE answered with kefu's offer: its ACK brings the answer
	ok      *sip.Response // our 200 OK to the INVITE
	cseq    uint32        // our in-dialog CSeq
	byeSent bool
	// byeReason is the Reason header (RFC 3326) of kefu's BYE, "" for none.
	byeReason string
	refer     *referSub // the REFER subscription of a transfer in progress

	st        sessionTimer       // RFC 4028 (timer.go, timer_call.go)
	refreshes chan refreshResult // how kefu's refreshes went
	noUpdate  bool               // the caller's side refused UPDATE: refresh by re-INVITE
	inviting  bool               // kefu's refresh re-INVITE awaits its final response

	wg   sync.WaitGroup // media and flow goroutines
	live callLive       // what ops see of the call (calls.go)
}

// inReq is an in-dialog request handed to the owner goroutine; done closes
// when it has been answered.
type inReq struct {
	req  *sip.Request
	tx   sip.ServerTransaction
	done chan struct{}
}

// newCall prepares a call answered with body: the SDP answer to the
// INVITE's offer (ans), or for a late offer (an INVITE without SDP) kefu's
// offer, whose answer comes in the ACK (lateoffer.go).
func (a *Agent) newCall(req *sip.Request, tx sip.ServerTransaction, snap *flows.Bundle, adm flows.Admission, conn net.PacketConn, ans sdp.Answer, body []byte, local sdp.Local, received time.Time, late bool) *call {
	localTag := uuid.NewString()[:18]
	c := &call{
		a: a, localTag: localTag, invite: req, tx: tx, snap: snap, adm: adm, received: received,
		finalSent: make(chan struct{}),
		reqs:      make(chan inReq),
		acks:      make(chan *sip.Request, 4),
		hangups:   make(chan chan error),
		ops:       make(chan func()),
		events:    make(chan flows.Event, 32),
		refreshes: make(chan refreshResult, 1),
		answer:    ans, local: local, lastSDP: body,
		cseq: 1,
	}
	c.key = dialogKey(req.CallID().Value(), localTag, req.From().Params)
	c.ctx, c.cancel = context.WithCancelCause(context.Background())
	c.log = a.log.With("call", req.CallID().Value(), "from", a.user(a.fromUser(req)), "to", req.Recipient.User,
		"flow", adm.Flow.Name(), "version", snap.Version)
	if late {
		c.late = true
		c.m = newPendingMedia(c, conn, body)
	} else {
		c.m = newCallMedia(c, conn, ans, body)
	}
	return c
}

// dialogKey identifies a dialog by Call-ID and both tags.
func dialogKey(callID, localTag string, remote sip.HeaderParams) string {
	rt, _ := remote.Get("tag")
	return callID + "|" + localTag + "|" + rt
}

// run is the call's owner goroutine: ringing, answer, then the event loop
// until the call ends, then an ordered teardown.
func (c *call) run() {
	defer c.a.wg.Done()
	defer c.teardown()
	if !c.ring() || !c.answerCall() {
		return
	}
	c.loop()
}

// ring sends 100 and 180 and waits the answer delay, unless the caller
// cancels (sipgo answers the CANCEL 200 and the INVITE 487) or the agent
// shuts down.
func (c *call) ring() (answer bool) {
	defer func() {
		if !answer {
			close(c.finalSent)
		}
	}()
	_ = c.tx.Respond(sip.NewResponseFromRequest(c.invite, 100, "Trying", nil))
	_ = c.tx.Respond(c.response(180, "Ringing", nil))
	// sipgo answers a CANCEL itself (200, then 487 to the INVITE) and keeps
	// the transaction for the ACK, so tx.Done does not tell: listen for it.
	cancelled := make(chan struct{})
	var once sync.Once
	if !c.tx.OnCancel(func(*sip.Request) { once.Do(func() { close(cancelled) }) }) {
		c.cancel(errCanceled) // cancelled or gone already
		return false
	}
	delay := c.snap.Config.AnswerDelay.D()
	if delay <= 0 {
		return true
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-cancelled:
		c.cancel(errCanceled)
		return false
	case <-c.tx.Done():
		c.cancel(errCanceled)
		return false
	case <-c.ctx.Done():
		_ = c.tx.Respond(c.response(480, "Temporarily Unavailable", nil))
		return false
	}
}

// response builds a response to the INVITE carrying our To tag (and for
// a 2xx what dialogResponse adds).
func (c *call) response(code int, reason string, body []byte) *sip.Response {
	return c.dialogResponse(c.invite, code, reason, body)
}

// contact is our Contact for a request that came in (or goes out) on its
// transport. Over TLS it names the TLS port: a sips: request gets a sips:
// Contact (RFC 3261 12.1.1, RFC 5630 3.1.3), a sip: one ;transport=tls.
func (a *Agent) contact(req *sip.Request) *sip.ContactHeader {
	port := a.udp.LocalAddr().(*net.UDPAddr).Port
	uri := sip.Uri{Scheme: "sip", User: "kefu", Host: a.adv.String(), Port: port}
	switch t := req.Transport(); {
	case overTLS(req):
		if a.tls != nil {
			uri.Port = a.tlsPort
		}
		if strings.EqualFold(req.Recipient.Scheme, "sips") {
			uri.Scheme = "sips"
			break
		}
		uri.UriParams = sip.NewParams()
		uri.UriParams.Add("transport", "tls")
	case t != "" && t != "UDP" && t != "udp":
		uri.UriParams = sip.NewParams()
		uri.UriParams.Add("transport", "tcp")
	}
	return &sip.ContactHeader{Address: uri}
}

// answerCall sends the 200 OK and starts media and the flow; it reports
// false, and the call ends unanswered, when the 200 could not be sent (a
// CANCEL that crossed it, a dead transport).
func (c *call) answerCall() bool {
	ok := c.response(200, "OK", c.lastSDP)
	err := c.tx.Respond(ok)
	close(c.finalSent)
	if err != nil {
		c.log.Warn("could not send 200 OK", "error", err)
		if errors.Is(err, sip.ErrTransactionCanceled) {
			err = errCanceled
		}
		c.cancel(fmt.Errorf("send 200 OK: %w", err))
		return false
	}
	c.ok = ok
	c.st.refreshed(time.Now())
	if !c.late {
		c.live.answered.Store(&answered{at: time.Now(), codec: c.answer.Codec.String()})
	} else {
		c.live.answered.Store(&answered{at: time.Now()}) // the codec comes with the answer in the ACK
	}
	c.a.met.Answered.Inc()
	c.a.met.AnswerTime.Observe((time.Since(c.received) - c.snap.Config.AnswerDelay.D()).Seconds())
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.served()
	}()
	if c.late {
		// A late offer: the media and the flow start with the answer.
		c.log.Debug("call answered with kefu's offer; the answer comes in the ACK", "rtp_local", c.local.Port)
		return true
	}
	c.logAnswered(false)
	c.startFlow()
	return true
}

// logAnswered logs the answered call's media.
func (c *call) logAnswered(late bool) {
	attrs := []any{"codec", c.answer.Codec.String(), "ptime", c.answer.Ptime, "rtp_local", c.local.Port, "rtp_remote", c.answer.Remote.String()}
	if late {
		attrs = append(attrs, "late_offer", true)
	}
	if c.answer.SRTP.On() {
		attrs = append(attrs, "srtp", c.answer.SRTP.Suite.String()) // the suite, never the keys
	}
	if c.st.active() {
		attrs = append(attrs, "session_expires", c.st.interval.Seconds(), "kefu_refreshes", c.st.refresher)
	}
	c.log.Info("call answered", attrs...)
}

// startFlow starts the media and the flow of the answered call.
func (c *call) startFlow() {
	c.m.start()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		r := c.snap.Runner(c.adm, c, flows.Options{Logger: c.log, Waited: time.Since(c.received), Clock: c.a.cfg.Clock, Trace: c.live.trace})
		err := r.Run(c.ctx)
		res := r.Result
		c.log.Info("flow finished", "steps", res.Steps, "attempts", res.Attempts, "heard", res.Heard, "hung_up_by", res.HungUpBy,
			"condition", res.Condition, "level_db", round1(res.LevelDB), "floor_db", round1(res.FloorDB), "gain_db", res.GainDB,
			"transferred", res.Transferred, "callback", res.Callback, "complaint", res.Complaint, "survey", res.Survey,
			"queue", res.Queue, "queue_wait_s", round1(res.QueueWait.Seconds()), "ring_s", round1(res.RingTime.Seconds()),
			"agent", res.Agent, "talk_s", round1(res.TalkTime.Seconds()), "agent_ended_by", res.AgentEndedBy, flowEnd(c.ctx, err))
		// kefu ended the call for the line (too weak, too noisy: "please
		// call from another phone"): the caller who calls again is a
		// customer, not a nuisance (CS-ANGRY).
		c.poorLine.Store(res.HungUpBy == "agent" && (res.Condition == "weak" || res.Condition == "noise"))
		c.cancel(errFlowEnded) // no-op when the call already ended
	}()
}

// loop serves the call until its context ends.
func (c *call) loop() {
	reliable := sip.IsReliable(c.invite.Transport())
	interval := sip.T1
	retx := time.NewTimer(interval)
	defer retx.Stop()
	if reliable {
		retx.Stop()
	}
	noAck := time.NewTimer(64 * sip.T1)
	defer noAck.Stop()
	defer c.st.stop()
	for {
		select {
		case <-retx.C:
			// RFC 3261 13.3.1.4 / RFC 6026: the TU retransmits its 2xx
			// until the ACK comes, at T1 doubling up to T2.
			_ = c.tx.Respond(c.ok)
			interval = min(2*interval, sip.T2)
			retx.Reset(interval)
		case <-noAck.C:
			c.log.Warn("no ACK for 200 OK; hanging up")
			c.cancel(errNoAck)
		case ack := <-c.acks:
			retx.Stop()
			noAck.Stop()
			c.takeAck(ack)
		case r := <-c.reqs:
			c.serveInDialog(r)
			close(r.done)
		case op := <-c.ops:
			op()
		case reply := <-c.hangups:
			err := c.sendBye()
			c.cancel(errAgentHangup)
			reply <- err
		case <-c.st.c():
			c.sessionTimerFired()
		case r := <-c.refreshes:
			c.inviting = false
			c.refreshDone(r)
		case err := <-c.m.ended: // nil until the audio is connected
			if errors.Is(err, errMediaTimeout) {
				c.log.Warn("media timeout: no RTP from the caller", "timeout", c.snap.Config.MediaTimeout.D())
				c.cancel(flows.ErrMediaTimeout)
			}
		case <-c.ctx.Done():
			return
		}
	}
}

// teardown runs once when run ends: BYE first when we end an answered call,
// then media, then the goroutines, then the dialog's entry.
func (c *call) teardown() {
	cause := context.Cause(c.ctx)
	if cause == nil {
		c.cancel(errFlowEnded)
		cause = errFlowEnded
	}
	if c.ok != nil && !c.byeSent && !errors.Is(cause, flows.ErrCallerHangup) {
		_ = c.sendBye()
	}
	c.m.stop()
	c.wg.Wait()
	if c.ok != nil {
		ended := cause
		if c.poorLine.Load() {
			ended = errors.Join(cause, lineFault("the line was too weak or too noisy"))
		}
		c.ended(ended)
	} else {
		c.snap.Release(c.adm) // never answered: not counted
	}
	var sent, received, lost uint64
	if c.m.connected() {
		st := c.m.audio.sess.Stats()
		sent, received, lost = st.Sent.Load(), st.Received.Load(), st.Lost.Load()
	}
	c.m.release()
	c.a.removeCall(c)
	c.a.met.Calls.WithLabelValues(causeLabel(cause)).Inc()
	c.log.Info("call ended", "cause", cause.Error(), "duration", time.Since(c.received).Round(time.Millisecond),
		"rtp_sent", sent, "rtp_received", received, "rtp_lost", lost)
}

// screenTimeout bounds a screening write after the answer or at the end,
// so a stuck store never holds a call's teardown.
const screenTimeout = 5 * time.Second

// served counts the answered call for the repeat-call rule (CS-ANGRY: only
// calls kefu answered count) and logs a number it flagged.
func (c *call) served() {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), screenTimeout)
	defer cancel()
	counted, err := c.snap.Served(ctx, c.adm)
	switch {
	case err != nil:
		c.log.Warn("screening could not count the call", "error", err)
	case counted.Flag != nil && counted.Proposal != nil:
		c.log.Info("repeat caller flagged", "calls", counted.Calls, "until", counted.Flag.Until, "proposal", counted.Proposal.ID)
	case counted.Spared != "":
		c.log.Info("repeat caller spared", "calls", counted.Calls, "spared", string(counted.Spared))
	}
}

// ended tells screening how the answered call ended: a call kefu cut
// short spares its number.
func (c *call) ended(cause error) {
	ctx, cancel := context.WithTimeout(context.Background(), screenTimeout)
	defer cancel()
	cut, err := c.snap.Ended(ctx, c.adm, cause, c.a.now())
	if err != nil {
		c.log.Warn("screening could not record the call cut short", "error", err)
	} else if cut {
		c.log.Debug("call cut short: its number is spared by the repeat-call rule", "cause", cause.Error())
	}
}

func causeLabel(err error) string {
	switch {
	case errors.Is(err, flows.ErrCallerHangup):
		return "caller_hangup"
	case errors.Is(err, errAgentHangup):
		return "agent_hangup"
	case errors.Is(err, errTransferred):
		return "transferred"
	case errors.Is(err, errCanceled):
		return "cancelled"
	case errors.Is(err, errNoAck):
		return "no_ack"
	case errors.Is(err, flows.ErrMediaTimeout):
		return "media_timeout"
	case errors.Is(err, flows.ErrShutdown):
		return "shutdown"
	case errors.Is(err, errOpsHangup):
		return "ops_hangup"
	case errors.Is(err, errSessionExpired):
		return "session_expired"
	case errors.Is(err, errRefreshFailed):
		return "refresh_failed"
	case errors.Is(err, errNoAnswerSDP), errors.Is(err, errAnswerSDP):
		return "bad_sdp_answer"
	default:
		return "flow_ended"
	}
}

// round1 rounds a level to 0.1 dB for the call record.
func round1(v float64) float64 { return math.Round(v*10) / 10 }
