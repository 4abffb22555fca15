package sip

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/kefu-hotline/kefu/sip/sdp"
)

// The session timer of the caller's dialog (RFC 4028; timer.go has the
// negotiation). The owner goroutine keeps it: the INVITE's terms are taken
// in newInvite and start with the 200 OK; every re-INVITE and UPDATE kefu
// answers 2xx is a refresh; the timer fires in loop. When kefu refreshes,
// the refresh goes out from the owner and a goroutine of the call's waits
// for its response and hands it back over refreshes.

// Causes of a call ended by its session timer.
var (
	errSessionExpired = error(lineFault("session expired: no refresh from the caller's side"))
	errRefreshFailed  = error(lineFault("session refresh failed"))
)

// refreshResult is how a refresh of kefu's went.
type refreshResult struct {
	req *sip.Request
	res *sip.Response // the final response; nil when none came
	err error
}

// peerAllows reports whether the INVITE's Allow lists method.
func (c *call) peerAllows(method sip.RequestMethod) bool {
	for _, v := range headerValues(c.invite, "Allow", "") {
		if strings.EqualFold(v, string(method)) {
			return true
		}
	}
	return false
}

// sessionTimerFired runs on the owner when the session timer fires: the
// session expired (BYE), or it is time for kefu's refresh.
func (c *call) sessionTimerFired() {
	st := &c.st
	if st.expired(time.Now()) {
		if st.refresher {
			c.log.Warn("session expired: kefu's refreshes failed", "session_expires", st.interval.Seconds())
			c.cancel(errRefreshFailed)
			return
		}
		c.log.Warn("session expired: no refresh from the caller's side; hanging up", "session_expires", st.interval.Seconds())
		c.byeReason = `SIP;cause=408;text="Session timer expired"`
		c.cancel(errSessionExpired)
		return
	}
	if st.refresher && !st.inFlight {
		c.sendRefresh()
	}
}

// sendRefresh sends kefu's refresh (owner goroutine): an UPDATE without a
// body when the caller's side allows UPDATE, else a re-INVITE offering the
// session description kefu sent last (unchanged, RFC 4028 7.4).
func (c *call) sendRefresh() {
	method := sip.UPDATE
	if c.noUpdate || !c.peerAllows(sip.UPDATE) {
		method = sip.INVITE
	}
	req := c.inDialogRequest(method)
	req.AppendHeader(c.a.contact(c.invite))
	c.st.addUAC(req)
	if method == sip.INVITE {
		req.AppendHeader(sip.NewHeader("Allow", Allowed))
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		req.SetBody(c.lastSDP)
	}
	c.st.inFlight = true
	c.inviting = method == sip.INVITE
	ctx, cancel := context.WithTimeout(c.ctx, 64*sip.T1)
	tx, err := c.a.client.TransactionRequest(ctx, req, c.a.addVia)
	if err != nil {
		cancel()
		c.refreshDone(refreshResult{req: req, err: fmt.Errorf("send %s: %w", method, err)})
		return
	}
	c.log.Debug("session refresh sent", "method", string(method), "session_expires", c.st.interval.Seconds())
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer cancel()
		defer tx.Terminate()
		r := refreshResult{req: req}
		r.res, r.err = finalResponse(ctx, tx)
		if r.res != nil && r.res.IsSuccess() && req.IsInvite() {
			c.ackRefresh(tx, req, r.res)
			defer func() {
				// The 2xx may come again (our ACK lost): the transaction
				// answers it with the ACK until Timer M.
				select {
				case <-tx.Done():
				case <-ctx.Done():
				}
			}()
		}
		select {
		case c.refreshes <- r:
		case <-c.ctx.Done():
		}
	}()
}

// finalResponse waits for a client transaction's final response; nil with
// the reason when none came.
func finalResponse(ctx context.Context, tx sip.ClientTransaction) (*sip.Response, error) {
	for {
		select {
		case res := <-tx.Responses():
			if !res.IsProvisional() {
				return res, nil
			}
		case <-tx.Done():
			select {
			case res := <-tx.Responses():
				if !res.IsProvisional() {
					return res, nil
				}
			default:
			}
			if err := tx.Err(); err != nil {
				return nil, fmt.Errorf("no response: %w", err)
			}
			return nil, errors.New("no response")
		case <-ctx.Done():
			return nil, fmt.Errorf("no response: %w", context.Cause(ctx))
		}
	}
}

// ackRefresh ACKs the 2xx to kefu's re-INVITE (RFC 3261 13.2.2.4), and
// again each time it is retransmitted.
func (c *call) ackRefresh(tx sip.ClientTransaction, inv *sip.Request, res *sip.Response) {
	ack := ackFor(inv, res)
	send := func() {
		if err := c.a.client.WriteRequest(ack.Clone(), c.a.addVia); err != nil {
			c.log.Warn("could not ACK the 200 to kefu's re-INVITE", "error", err)
		}
	}
	tx.OnRetransmission(func(r *sip.Response) {
		if r.IsSuccess() {
			send()
		}
	})
	send()
}

// ackFor builds the ACK of a 2xx to inv: inv's target, dialog headers and
// route set, the response's To tag, inv's CSeq number (the Via is added
// when it is sent, with a branch of its own).
func ackFor(inv *sip.Request, res *sip.Response) *sip.Request {
	ack := sip.NewRequest(sip.ACK, *inv.Recipient.Clone())
	ack.AppendHeader(sip.HeaderClone(inv.From()))
	ack.AppendHeader(sip.HeaderClone(res.To()))
	ack.AppendHeader(sip.HeaderClone(inv.CallID()))
	ack.AppendHeader(&sip.CSeqHeader{SeqNo: inv.CSeq().SeqNo, MethodName: sip.ACK})
	mf := sip.MaxForwardsHeader(70)
	ack.AppendHeader(&mf)
	for _, r := range inv.GetHeaders("Route") {
		ack.AppendHeader(sip.HeaderClone(r))
	}
	if ua := inv.GetHeader("User-Agent"); ua != nil {
		ack.AppendHeader(sip.HeaderClone(ua))
	}
	ack.SetTransport(inv.Transport())
	ack.SetDestination(inv.Destination())
	ack.SetBody(nil)
	return ack
}

// refreshDone takes the final response to kefu's refresh (owner
// goroutine): a 2xx starts a new interval on the terms it names; a 422
// retries with the larger interval, a 491 after a pause, a 405 to UPDATE
// by re-INVITE; 408, 481 or no response mean the dialog is gone; anything
// else leaves the session to expire unless a later try goes through.
func (c *call) refreshDone(r refreshResult) {
	st := &c.st
	now := time.Now()
	method := r.req.Method
	code := 0
	if r.res != nil {
		code = r.res.StatusCode
	}
	switch {
	case r.res != nil && r.res.IsSuccess():
		if err := st.asUAC(r.res); err != nil {
			c.log.Warn("session refresh answered with a bad Session-Expires; the session timer stops", "error", err)
		}
		if method == sip.INVITE && len(r.res.Body()) > 0 {
			c.refreshAnswer(r.res.Body())
		}
		st.refreshed(now)
		c.log.Debug("session refreshed", "method", string(method), "session_expires", st.interval.Seconds(), "kefu_refreshes", st.refresher)
	case code == 422 && st.retries < 2 && st.tooSmall(r.res):
		st.retries++
		c.log.Info("session refresh: interval too small; retrying", "session_expires", st.interval.Seconds())
		c.sendRefresh()
	case code == 491 && st.retries < 3:
		st.retries++
		st.glare()
	case (code == 405 || code == 501) && method == sip.UPDATE:
		c.noUpdate = true
		c.log.Info("the caller's side refused UPDATE; refreshing by re-INVITE", "code", code)
		c.sendRefresh()
	case r.res == nil || code == 408 || code == 481:
		attrs := []any{"method", string(method)}
		if r.err != nil {
			attrs = append(attrs, "error", r.err.Error())
		} else {
			attrs = append(attrs, "code", code)
		}
		c.log.Warn("session refresh failed: the dialog is gone; hanging up", attrs...)
		c.cancel(errRefreshFailed)
	default:
		c.log.Warn("session refresh refused; trying again before the session expires", "method", string(method), "code", code)
		st.failed(now)
	}
}

// refreshAnswer applies the answer to kefu's refresh re-INVITE; one that
// does not parse leaves the media as it was.
func (c *call) refreshAnswer(body []byte) {
	ans, err := sdp.ParseAnswer(body)
	if err != nil || c.late {
		if err != nil {
			c.log.Warn("SDP answer to kefu's re-INVITE not usable; media unchanged", "error", err)
		}
		return
	}
	c.answer = ans
	c.m.update(ans)
}

// dialogResponse builds kefu's response to req, a request in the caller's
// dialog or its INVITE: our To tag, the Contact of 1xx-2xx, and for a 2xx
// Allow, Supported and the session timer's terms.
func (c *call) dialogResponse(req *sip.Request, code int, reason string, body []byte) *sip.Response {
	res := sip.NewResponseFromRequest(req, code, reason, body)
	c.dialogHeaders(res, true)
	if body != nil {
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	return res
}

// dialogHeaders adds our To tag, our Contact to 180-2xx when contact is
// set, and to a 2xx Allow, Supported and the session timer's terms.
func (c *call) dialogHeaders(res *sip.Response, contact bool) {
	if to := res.To(); to != nil {
		to.Params.Add("tag", c.localTag) // sipgo may have made one up
	}
	if contact && res.StatusCode >= 180 && res.StatusCode < 300 {
		res.AppendHeader(c.a.contact(c.invite))
	}
	if res.IsSuccess() {
		res.AppendHeader(sip.NewHeader("Allow", Allowed))
		res.AppendHeader(sip.NewHeader("Supported", Supported))
		c.st.addUAS(res)
	}
}

// Supported is kefu's Supported header value: session timers only (no
// 100rel: kefu does not do PRACK).
const Supported = timerTag
