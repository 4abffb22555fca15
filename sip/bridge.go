package sip

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/g711"
	"github.com/kefu-hotline/kefu/media/rtp"
	"github.com/kefu-hotline/kefu/sip/sdp"
)

// errNoAnswer ends the wait for the destination after bridgeTimeout.
var errNoAnswer = errors.New("destination did not answer")

// leg is kefu's own call to a transfer destination, bridged to the
// caller's call (B2BUA). The goroutine running Transfer owns it: it dials,
// relays until one side hangs up, and tears both down. In-dialog requests
// from the destination reach it over reqs.
type leg struct {
	c      *call
	key    string // dialog key in Agent.legs
	dlg    *sipgo.DialogClientSession
	conn   net.PacketConn
	local  sdp.Local
	sess   *rtp.Session
	player *media.Player
	reqs   chan inReq
	done   chan struct{} // closed when the bridge is over (finish)
	once   sync.Once
	ended  chan error // the destination's RTP timed out

	fromCaller *relay // the caller's audio, played to the destination
	toCaller   *relay // the destination's audio, played to the caller
}

// bridge calls the destination and, once it answers, relays audio between
// the two calls until either side hangs up; then it hangs up the other
// side and returns {How: "bridge"}.
func (c *call) bridge(ctx context.Context, uri string, target sip.Uri) (flows.TransferResult, error) {
	var ans sdp.Answer
	if err := c.onOwner(ctx, func() error { ans = c.answer; return nil }); err != nil {
		c.transferLog(uri, "bridge", outcomeHangup)
		return flows.TransferResult{}, c.endCause(ctx)
	}
	conn, err := c.a.listenRTP()
	if err != nil {
		c.transferLog(uri, "bridge", outcomeFailed, "error", err.Error())
		return flows.TransferResult{}, fmt.Errorf("%w: no RTP port for the bridge: %w", flows.ErrTransferFailed, err)
	}
	defer c.a.releaseRTP(conn)
	l := &leg{c: c, conn: conn, reqs: make(chan inReq), done: make(chan struct{}), ended: make(chan error, 1)}
	defer c.a.removeLeg(l)
	defer l.finish()
	dans, code, err := l.dial(ctx, target, ans.Codec)
	if err != nil {
		outcome := outcomeFailed
		switch {
		case ctx.Err() != nil:
			outcome = outcomeHangup
		case code >= 300:
			outcome = outcomeRefused
		case errors.Is(err, errNoAnswer):
			outcome = outcomeTimeout
		}
		attrs := []any{"error", err.Error()}
		if code != 0 {
			attrs = append(attrs, "code", code)
		}
		c.transferLog(uri, "bridge", outcome, attrs...)
		if outcome == outcomeHangup {
			return flows.TransferResult{}, c.endCause(ctx)
		}
		return flows.TransferResult{}, fmt.Errorf("%w: %s: %w", flows.ErrTransferFailed, uri, err)
	}
	c.transferLog(uri, "bridge", outcomeOK, "codec", dans.Codec.String(), "rtp_local", l.local.Port, "rtp_remote", dans.Remote.String())
	start := time.Now()
	by := l.run(ctx, dans)
	st := l.sess.Stats()
	c.a.met.RTPSent.Add(float64(st.Sent.Load()))
	c.a.met.RTPRecv.Add(float64(st.Received.Load()))
	c.a.met.RTPLost.Add(float64(st.Lost.Load()))
	c.log.Info("bridge ended", "by", by, "duration", time.Since(start).Round(time.Millisecond),
		"rtp_sent", st.Sent.Load(), "rtp_received", st.Received.Load(), "rtp_lost", st.Lost.Load(),
		"relayed_to_destination", l.fromCaller.relayed.Load(), "relayed_to_caller", l.toCaller.relayed.Load(),
		"relay_dropped", l.fromCaller.dropped.Load()+l.toCaller.dropped.Load())
	return flows.TransferResult{How: "bridge"}, nil
}

// dial INVITEs the destination from kefu's own address, offering the codec
// of the caller's leg first, waits for the answer (ringing meanwhile) up to
// bridgeTimeout, and ACKs it. code is the refusing status, if any.
func (l *leg) dial(ctx context.Context, target sip.Uri, codec media.Codec) (sdp.Answer, int, error) {
	a := l.c.a
	other := media.CodecPCMA
	if codec == media.CodecPCMA {
		other = media.CodecPCMU
	}
	now := time.Now()
	l.local = sdp.Local{Addr: a.adv, Port: l.conn.LocalAddr().(*net.UDPAddr).Port, Codecs: []media.Codec{codec, other},
		SessionID: uint64(now.UnixNano() & 0x7fffffffffff), SessionVersion: 1, Username: "kefu"}
	inv := sip.NewRequest(sip.INVITE, target)
	if tr, ok := target.UriParams.Get("transport"); ok {
		inv.SetTransport(strings.ToUpper(tr))
	}
	from := &sip.FromHeader{DisplayName: "kefu", Address: sip.Uri{Scheme: "sip", User: "kefu", Host: a.adv.String()}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	inv.AppendHeader(from)
	inv.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: target.Scheme, User: target.User, Host: target.Host, Port: target.Port}})
	contact := a.contact(inv)
	inv.AppendHeader(contact)
	inv.AppendHeader(sip.NewHeader("User-Agent", a.cfg.UserAgent))
	inv.AppendHeader(sip.NewHeader("Allow", Allowed))
	inv.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	inv.SetBody(sdp.BuildOffer(l.local, false, sdp.SendRecv))

	dctx, cancel := context.WithTimeoutCause(ctx, bridgeTimeout, errNoAnswer)
	defer cancel()
	ua := &sipgo.DialogUA{Client: a.client, ContactHDR: *contact}
	dlg, err := ua.WriteInvite(dctx, inv)
	if err != nil {
		return sdp.Answer{}, 0, fmt.Errorf("send INVITE: %w", err)
	}
	l.dlg = dlg
	err = dlg.WaitAnswer(dctx, sipgo.AnswerOptions{OnResponse: func(res *sip.Response) error {
		if res.IsProvisional() {
			l.c.log.Debug("transfer destination", "code", res.StatusCode)
		}
		return nil
	}})
	if err != nil {
		var refused *sipgo.ErrDialogResponse
		switch {
		case errors.As(err, &refused):
			return sdp.Answer{}, refused.Res.StatusCode, fmt.Errorf("destination answered %d %s", refused.Res.StatusCode, refused.Res.Reason)
		case dlg.InviteResponse != nil && dlg.InviteResponse.IsSuccess():
			// The answer crossed our CANCEL: take the call and end it.
			_ = dlg.Ack(context.WithoutCancel(ctx))
			l.bye()
		}
		if cause := context.Cause(dctx); errors.Is(cause, errNoAnswer) {
			return sdp.Answer{}, 0, fmt.Errorf("%w within %v", errNoAnswer, bridgeTimeout)
		}
		return sdp.Answer{}, 0, fmt.Errorf("INVITE: %w", err)
	}
	res := dlg.InviteResponse
	ourTag, _ := inv.From().Params.Get("tag")
	l.key = dialogKey(inv.CallID().Value(), ourTag, res.To().Params)
	a.addLeg(l)
	if err := dlg.Ack(context.WithoutCancel(ctx)); err != nil {
		l.bye()
		return sdp.Answer{}, 0, fmt.Errorf("ACK: %w", err)
	}
	ans, err := sdp.ParseAnswer(res.Body())
	if err == nil && ans.Codec != codec && ans.Codec != other {
		err = fmt.Errorf("answer chose %v, which was not offered", ans.Codec)
	}
	if err != nil {
		l.bye()
		return sdp.Answer{}, 0, fmt.Errorf("destination's SDP: %w", err)
	}
	l.local.Codecs = []media.Codec{ans.Codec}
	return ans, 0, nil
}

// run relays audio until either side hangs up or the destination's RTP
// times out, then hangs up the other side; it returns what ended it:
// "destination", "destination_media_timeout", or the label of the call's
// end (caller_hangup, shutdown, media_timeout, ...).
func (l *leg) run(ctx context.Context, ans sdp.Answer) string {
	c := l.c
	l.fromCaller, l.toCaller = newRelay("caller"), newRelay("destination")
	l.sess = rtp.NewSession(rtp.Config{
		Conn: l.conn, Remote: ans.Remote, Codec: ans.Codec, PT: ans.PT, DTMFPT: ans.DTMFPT, CNPT: ans.CNPT,
		SSRC: rand.Uint32(), Timeout: c.snap.Config.MediaTimeout.D(), Ptime: ans.Ptime, Logger: c.log.With("leg", "bridge"),
	})
	l.player = media.NewPlayer(l.sess, ans.Codec, g711.Silence(ans.Codec), media.WithPacer(c.a.pacer))
	l.update(ans)
	mctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(4)
	go func() { defer wg.Done(); _ = l.player.Run(mctx) }()
	go func() { defer wg.Done(); _ = l.player.Play(mctx, l.fromCaller) }()
	go func() {
		defer wg.Done()
		if err := l.sess.Receive(mctx, l); errors.Is(err, rtp.ErrMediaTimeout) {
			l.ended <- err
		}
	}()
	// The caller's audio now goes to the destination, and the caller's
	// player plays the destination instead of kefu's silence.
	c.m.tap.Store(l.fromCaller)
	go func() { defer wg.Done(); _ = c.m.player.Play(mctx, l.toCaller) }()

	by := ""
	for by == "" {
		select {
		case r := <-l.reqs:
			if l.serve(r) {
				by = "destination"
			}
		case <-l.ended:
			c.log.Warn("media timeout: no RTP from the transfer destination", "timeout", c.snap.Config.MediaTimeout.D())
			by = "destination_media_timeout"
		case <-ctx.Done():
			by = causeLabel(context.Cause(ctx)) // caller_hangup, shutdown, media_timeout ...
		case <-c.events: // the flow does not listen while bridged
		}
	}
	c.m.tap.Store(nil)
	l.finish() // requests from the destination are answered by take now
	if by != "destination" {
		l.bye()
	}
	if ctx.Err() == nil {
		err := c.onOwner(context.WithoutCancel(ctx), func() error {
			err := c.sendBye()
			c.cancel(errTransferred)
			return err
		})
		if err != nil && !errors.Is(err, errCallGone) {
			c.log.Warn("BYE after the bridge", "error", err)
		}
	}
	stop()
	wg.Wait()
	return by
}

// update applies the destination's media direction, as callMedia.update
// does for the caller.
func (l *leg) update(ans sdp.Answer) {
	l.sess.SetRemote(ans.Remote)
	l.player.SetMuted(!ans.Direction.Sends() || ans.Hold && !ans.Remote.Addr().IsValid())
	l.sess.SetSuspended(!ans.Direction.Receives() || ans.Hold)
}

// serve answers an in-dialog request from the destination; it reports
// whether it was the BYE.
func (l *leg) serve(r inReq) (bye bool) {
	defer close(r.done)
	req := r.req
	switch req.Method {
	case sip.BYE:
		_ = l.dlg.ReadBye(req, r.tx)
		l.c.log.Info("transfer destination hung up")
		return true
	case sip.INVITE:
		l.reinvite(r)
	case sip.INFO, sip.OPTIONS:
		_ = r.tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	default:
		res := sip.NewResponseFromRequest(req, 405, "Method Not Allowed", nil)
		res.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO"))
		_ = r.tx.Respond(res)
	}
	return false
}

// reinvite answers the destination's re-INVITE (hold, a new address) in
// the leg's codec.
func (l *leg) reinvite(r inReq) {
	l.local.SessionVersion++
	if len(r.req.Body()) == 0 {
		res := sip.NewResponseFromRequest(r.req, 200, "OK", sdp.BuildOffer(l.local, false, sdp.SendRecv))
		res.AppendHeader(l.c.a.contact(r.req))
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		_ = r.tx.Respond(res)
		return
	}
	ans, ok := l.c.a.answerOffer(r, func() *sdp.Local { return &l.local }, func(*sip.Response) {})
	if !ok {
		return
	}
	l.update(ans)
	l.c.log.Info("re-INVITE from the transfer destination", "direction", ans.Direction.String(), "hold", ans.Hold)
}

// bye ends the call to the destination, under a context the call's end
// does not cancel.
func (l *leg) bye() {
	ctx, cancel := context.WithTimeout(context.Background(), 32*sip.T1)
	defer cancel()
	if err := l.dlg.Bye(ctx); err != nil {
		l.c.log.Warn("could not end the call to the transfer destination", "error", err)
		return
	}
	l.c.log.Info("BYE sent to the transfer destination")
}

// finish marks the bridge over.
func (l *leg) finish() { l.once.Do(func() { close(l.done) }) }

// take hands an in-dialog request from the destination to the leg's owner
// and waits until it is answered; after the bridge it answers itself.
func (l *leg) take(req *sip.Request, tx sip.ServerTransaction) {
	r := inReq{req: req, tx: tx, done: make(chan struct{})}
	select {
	case l.reqs <- r:
		<-r.done
	case <-l.done:
		if req.Method == sip.BYE {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
			return
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
	}
}

// Audio implements rtp.Handler: the destination's audio goes to the caller.
func (l *leg) Audio(pcm []int16) { l.toCaller.push(pcm) }

// ComfortNoise implements rtp.Handler; the relay fills gaps with silence.
func (l *leg) ComfortNoise(uint8) {}

// Digit implements rtp.Handler; digits from the destination are not relayed.
func (l *leg) Digit(rune) {}

// Silence implements rtp.Handler; the relay fills gaps with silence.
func (l *leg) Silence(time.Duration) {}

// legFor finds the bridged leg an in-dialog request belongs to.
func (a *Agent) legFor(req *sip.Request) *leg {
	to, from, id := req.To(), req.From(), req.CallID()
	if to == nil || from == nil || id == nil {
		return nil
	}
	tag, ok := to.Params.Get("tag")
	if !ok {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.legs[dialogKey(id.Value(), tag, from.Params)]
}

func (a *Agent) addLeg(l *leg) {
	a.mu.Lock()
	a.legs[l.key] = l
	a.mu.Unlock()
}

func (a *Agent) removeLeg(l *leg) {
	a.mu.Lock()
	if a.legs[l.key] == l {
		delete(a.legs, l.key)
	}
	a.mu.Unlock()
}
