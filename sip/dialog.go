package sip

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/sip/sdp"
)

// callFor finds the call an in-dialog request belongs to.
func (a *Agent) callFor(req *sip.Request) *call {
	key, ok := requestDialogKey(req)
	if !ok {
		return nil
	}
	return a.findCall(key)
}

// requestDialogKey is the dialog key of an in-dialog request: Call-ID, our
// tag (To) and the peer's tag (From); ok is false when one is missing.
func requestDialogKey(req *sip.Request) (key string, ok bool) {
	to, from, id := req.To(), req.From(), req.CallID()
	if to == nil || from == nil || id == nil {
		return "", false
	}
	tag, ok := to.Params.Get("tag")
	if !ok {
		return "", false
	}
	return dialogKey(id.Value(), tag, from.Params), true
}

// inDialog passes BYE, INFO, NOTIFY, REFER and re-INVITE to the call's
// owner goroutine (or to a bridged leg) and waits until it answered;
// unknown dialogs get 481.
func (a *Agent) inDialog(req *sip.Request, tx sip.ServerTransaction) {
	if l := a.legFor(req); l != nil {
		l.take(req, tx) // the destination's side of a bridged transfer
		return
	}
	c := a.callFor(req)
	if c == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	r := inReq{req: req, tx: tx, done: make(chan struct{})}
	select {
	case c.reqs <- r:
		<-r.done
	case <-c.ctx.Done():
		if req.Method == sip.BYE {
			// The call is ending anyway: the BYE is welcome.
			_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
			return
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
	}
}

// onAck takes the ACK for a 200 OK (ACKs for error responses stay in their
// transaction inside sipgo).
func (a *Agent) onAck(req *sip.Request, _ sip.ServerTransaction) {
	if c := a.callFor(req); c != nil {
		select {
		case c.acks <- req:
		default:
		}
	}
}

// onCancel answers a CANCEL that matched no pending INVITE.
func (a *Agent) onCancel(req *sip.Request, tx sip.ServerTransaction) {
	_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
}

// onOptions answers capability queries and load-balancer pings: 200 with
// what we speak, or 503 while draining.
func (a *Agent) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") && a.callFor(req) == nil && a.legFor(req) == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	if !a.admit(req, tx) {
		return
	}
	code, reason := 200, "OK"
	if a.draining.Load() {
		code, reason = 503, "Service Unavailable"
	}
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	res.AppendHeader(sip.NewHeader("Allow", Allowed))
	res.AppendHeader(sip.NewHeader("Accept", "application/sdp, application/dtmf-relay"))
	res.AppendHeader(sip.NewHeader("Accept-Language", "zh-CN, en"))
	res.AppendHeader(sip.NewHeader("Supported", Supported))
	_ = tx.Respond(res)
}

// onNoRoute answers methods kefu does not serve.
func (a *Agent) onNoRoute(req *sip.Request, tx sip.ServerTransaction) {
	if req.IsAck() {
		return
	}
	if to := req.To(); to != nil && to.Params.Has("tag") && a.callFor(req) == nil && a.legFor(req) == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	if !a.admit(req, tx) {
		return // REGISTER floods and scanners among them
	}
	res := sip.NewResponseFromRequest(req, 405, "Method Not Allowed", nil)
	res.AppendHeader(sip.NewHeader("Allow", Allowed))
	_ = tx.Respond(res)
}

// serveInDialog runs on the owner goroutine.
func (c *call) serveInDialog(r inReq) {
	req := r.req
	switch req.Method {
	case sip.BYE:
		_ = r.tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		c.log.Info("caller hung up")
		c.cancel(flows.ErrCallerHangup)
	case sip.INFO:
		c.info(r)
	case sip.INVITE, sip.UPDATE:
		c.reinvite(r)
	case sip.NOTIFY:
		c.notify(r)
	case sip.REFER:
		// Transfers go only to configured destinations (CS-NOT-OURS).
		res := sip.NewResponseFromRequest(req, 403, "Forbidden", nil)
		res.AppendHeader(warning("kefu transfers calls only to its configured destinations"))
		_ = r.tx.Respond(res)
	default:
		res := sip.NewResponseFromRequest(req, 405, "Method Not Allowed", nil)
		res.AppendHeader(sip.NewHeader("Allow", Allowed))
		_ = r.tx.Respond(res)
	}
}

// info takes SIP INFO DTMF (application/dtmf-relay: "Signal=5").
func (c *call) info(r inReq) {
	keys, ok := infoKeys(r.req)
	if !ok {
		_ = r.tx.Respond(sip.NewResponseFromRequest(r.req, 415, "Unsupported Media Type", nil))
		return
	}
	_ = r.tx.Respond(sip.NewResponseFromRequest(r.req, 200, "OK", nil))
	if c.late {
		return // no flow listens before the answer
	}
	for _, k := range keys {
		c.m.line.Digit(k)
	}
}

// infoKeys reads the keys of a SIP INFO DTMF body; ok is false for
// another content type.
func infoKeys(req *sip.Request) (keys []rune, ok bool) {
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = strings.ToLower(h.Value())
	}
	if !strings.HasPrefix(ct, "application/dtmf-relay") && !strings.HasPrefix(ct, "application/dtmf") {
		return nil, false
	}
	for _, line := range strings.Split(string(req.Body()), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "Signal") {
			continue
		}
		if v = strings.TrimSpace(v); len(v) == 1 && strings.Contains("0123456789*#ABCDabcd", v) {
			keys = append(keys, rune(strings.ToUpper(v)[0]))
		}
	}
	return keys, true
}

// keyInfo is a SIP INFO carrying one key (application/dtmf-relay, as
// PBXes and phones send it), to pass a key on to the other side of a
// bridge.
func keyInfo(target sip.Uri, key rune) *sip.Request {
	req := sip.NewRequest(sip.INFO, target)
	setKeyBody(req, key)
	return req
}

// setKeyBody makes req carry one key as application/dtmf-relay.
func setKeyBody(req *sip.Request, key rune) {
	req.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf-relay"))
	req.SetBody([]byte("Signal=" + string(key) + "\r\nDuration=160\r\n"))
}

// reinvite answers a re-INVITE or an UPDATE from the caller's side: a
// session refresh (RFC 4028: its Session-Expires is negotiated again), a
// new offer (hold, unhold, a new address: the media follows), or a
// re-INVITE without an offer (kefu's offer goes in the 200, the answer
// comes in the ACK: takeAck). While an offer of either side is pending,
// another offer gets 491 (RFC 3261 14.2, RFC 3311 5.2).
func (c *call) reinvite(r inReq) {
	req := r.req
	th, err := readTimerHeaders(req)
	if err != nil {
		res := sip.NewResponseFromRequest(req, 400, "Bad Request", nil)
		res.AppendHeader(warning(err.Error()))
		_ = r.tx.Respond(res)
		return
	}
	offers := req.IsInvite() || len(req.Body()) > 0
	if offers && (c.late || c.reoffer != 0 || c.inviting) {
		_ = r.tx.Respond(sip.NewResponseFromRequest(req, 491, "Request Pending", nil))
		return
	}
	prev := c.st
	if se := c.st.asUAS(th); se != nil {
		c.st = prev
		res := sip.NewResponseFromRequest(req, se.code, reasonPhrase(se.code), nil)
		for _, h := range se.hdrs {
			res.AppendHeader(h)
		}
		_ = r.tx.Respond(res)
		return
	}
	ok := false
	switch {
	case len(req.Body()) > 0:
		var ans sdp.Answer
		ans, ok = c.a.answerOffer(r, func() *sdp.Local { c.local.SessionVersion++; return &c.local }, func(res *sip.Response) {
			c.dialogHeaders(res, false)
			c.lastSDP = res.Body()
		})
		if ok {
			c.answer = ans
			c.m.update(ans)
			what := "re-INVITE"
			if !req.IsInvite() {
				what = "UPDATE"
			}
			c.log.Info(what, "direction", ans.Direction.String(), "hold", ans.Hold, "remote", ans.Remote.String())
		}
	case req.IsInvite():
		// No offer: ours is the current SDP; the answer comes in the ACK.
		c.local.SessionVersion++
		body := sdp.BuildOffer(c.local, true, sdp.SendRecv)
		if ok = r.tx.Respond(c.dialogResponse(req, 200, "OK", body)) == nil; ok {
			c.reoffer = req.CSeq().SeqNo
			c.lastSDP = body
		}
	default:
		ok = r.tx.Respond(c.dialogResponse(req, 200, "OK", nil)) == nil // an UPDATE refreshing the session
	}
	if !ok {
		c.st = prev
		return
	}
	c.st.refreshed(time.Now())
	if c.st.active() {
		c.log.Debug("session refreshed by the caller's side", "method", string(req.Method), "session_expires", c.st.interval.Seconds(), "kefu_refreshes", c.st.refresher)
	}
}

// answerOffer answers a re-INVITE that carries an offer: 400 when it does
// not parse, 488 when no codec is shared, else 200 with our answer from the
// SDP local returns (called once the offer parsed); dialog adds the
// dialog's own headers to the 200. It reports the answer the media must
// follow, and whether there is one.
func (a *Agent) answerOffer(r inReq, local func() *sdp.Local, dialog func(*sip.Response)) (sdp.Answer, bool) {
	offer, err := sdp.ParseOffer(r.req.Body())
	if err != nil {
		_ = r.tx.Respond(sip.NewResponseFromRequest(r.req, 400, "Bad Request", nil))
		return sdp.Answer{}, false
	}
	ans, body, err := sdp.Negotiate(offer, *local())
	if err != nil {
		res := sip.NewResponseFromRequest(r.req, 488, "Not Acceptable Here", nil)
		res.AppendHeader(warning(err.Error()))
		_ = r.tx.Respond(res)
		return sdp.Answer{}, false
	}
	res := sip.NewResponseFromRequest(r.req, 200, "OK", body)
	dialog(res)
	res.AppendHeader(a.contact(r.req))
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	_ = r.tx.Respond(res)
	return ans, true
}

// inDialogRequest builds a request of ours in the caller's dialog (RFC 3261
// 12.2.1.1): to the caller's Contact, through the route set of the INVITE,
// with our next CSeq and a Content-Length. It runs on the owner goroutine.
func (c *call) inDialogRequest(method sip.RequestMethod) *sip.Request {
	inv := c.invite
	target := inv.Recipient
	if ct := inv.Contact(); ct != nil {
		target = *ct.Address.Clone()
	}
	req := sip.NewRequest(method, target)
	from := c.ok.To().AsFrom()
	to := inv.From().AsTo()
	req.AppendHeader(&from)
	req.AppendHeader(&to)
	req.AppendHeader(sip.HeaderClone(inv.CallID()))
	c.cseq++
	req.AppendHeader(&sip.CSeqHeader{SeqNo: c.cseq, MethodName: method})
	mf := sip.MaxForwardsHeader(70)
	req.AppendHeader(&mf)
	rrs := inv.GetHeaders("Record-Route")
	for _, rr := range rrs {
		req.AppendHeader(sip.NewHeader("Route", rr.Value()))
	}
	req.AppendHeader(sip.NewHeader("User-Agent", c.a.cfg.UserAgent))
	// Content-Length: 0 until a body is set (SetBody replaces it): over
	// TCP a message without it cannot be framed (RFC 3261 20.14), and a
	// proxy in between refuses it.
	req.SetBody(nil)
	req.SetTransport(inv.Transport())
	if len(rrs) == 0 {
		// Symmetric signalling: the caller's NAT lets in what comes back to
		// where its INVITE came from.
		req.SetDestination(inv.Source())
	} else if rt := req.Route(); rt != nil {
		req.SetDestination(rt.Address.HostPort())
	}
	return req
}

// sendBye ends the dialog from our side. It runs on the owner goroutine
// under a context that the call's end does not cancel.
func (c *call) sendBye() error {
	if c.byeSent {
		return nil
	}
	c.byeSent = true
	bye := c.inDialogRequest(sip.BYE)
	if c.byeReason != "" {
		bye.AppendHeader(sip.NewHeader("Reason", c.byeReason))
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), 32*sip.T1)
	defer cancel()
	tx, err := c.a.client.TransactionRequest(ctx, bye, c.a.addVia)
	if err != nil {
		c.log.Warn("could not send BYE", "error", err)
		return fmt.Errorf("send BYE: %w", err)
	}
	defer tx.Terminate()
	c.log.Info("BYE sent")
	select {
	case res := <-tx.Responses():
		if res.StatusCode >= 300 {
			c.log.Warn("BYE refused", "code", res.StatusCode)
		}
		return nil
	case <-tx.Done():
		return fmt.Errorf("BYE: %w", tx.Err())
	case <-ctx.Done():
		return errors.New("BYE: no response")
	}
}

// waitTimeout is how long the flow waits for the owner to take a hang-up.
const waitTimeout = 40 * time.Second

// Hangup implements flows.Call: the owner goroutine sends the BYE.
func (c *call) Hangup(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case c.hangups <- reply:
	case <-c.ctx.Done():
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	select {
	case err := <-reply:
		return err
	case <-time.After(waitTimeout):
		return errors.New("hang-up not confirmed")
	}
}

// Events implements flows.Call.
func (c *call) Events() <-chan flows.Event { return c.events }
