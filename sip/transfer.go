package sip

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/kefu-hotline/kefu/flows"
)

// A transfer (CS-ESCALATE, CS-DIALECT) first asks the caller's side to call
// the destination itself: an in-dialog REFER (RFC 3515) with Referred-By
// (RFC 3892), followed through the NOTIFYs of the implicit subscription,
// whose message/sipfrag bodies (RFC 3420) carry the new call's progress.
// When the caller's side refuses the REFER or never answers it, kefu calls
// the destination and bridges the two calls (bridge.go). Once it accepted
// the REFER (202, or any NOTIFY), the call is the caller's side's: a PBX
// has moved the caller, and may report the outcome late (Asterisk sends
// the final NOTIFY only when the transferred channel ends) or report a
// failure after the moved caller hung up. kefu then never bridges (it
// would call the destination for a caller who is gone, a phantom call in
// the PBX): it ends its own dialog and records how the REFER went.
//
// The flow's goroutine runs Transfer; the caller's dialog stays the owner
// goroutine's: requests in it are built and sent there (onOwner), and the
// NOTIFYs are answered there and handed on over the subscription's channel.

const (
	// referTimeout bounds the wait from the REFER to its final NOTIFY.
	referTimeout = 30 * time.Second
)

// Transfer outcomes: the outcome label of kefu_transfers_total.
const (
	outcomeOK          = "ok"                  // transferred
	outcomeUnconfirmed = "unconfirmed"         // REFER accepted, then the caller's side hung up before the final NOTIFY
	outcomeNoFinal     = "no_final"            // REFER accepted, no final NOTIFY in time: kefu left the call to the caller's side
	outcomeFailedLate  = "failed_after_accept" // REFER accepted, then a failing final NOTIFY: kefu left the call, no bridge
	outcomeRefused     = "refused"             // a non-2xx final response to the REFER or the INVITE
	outcomeFailed      = "failed"              // a bad answer, no port, a send error
	outcomeTimeout     = "timeout"             // no response to the REFER, no answer in time
	outcomeHangup      = "hangup"              // the caller hung up while it was tried
)

// errCallGone is returned by onOwner when the call ended first.
var errCallGone = errors.New("call ended")

// Transfer implements flows.Call: REFER first, else a bridged call. A
// REFER the caller's side accepted ends kefu's part whatever its outcome:
// {How: "refer"}. A bridged call is kept up by Transfer itself: it returns
// {How: "bridge"} only when the bridge has ended (either side hung up), so
// that the flow's end does not hang up on the caller. Errors wrapping
// flows.ErrTransferFailed leave the call up, with kefu's player as before.
func (c *call) Transfer(ctx context.Context, uri string, ring time.Duration) (flows.TransferResult, error) {
	target, err := parseTarget(uri)
	if err != nil {
		c.transferLog(uri, "refer", outcomeFailed, "error", err.Error())
		return flows.TransferResult{}, fmt.Errorf("%w: %w", flows.ErrTransferFailed, err)
	}
	res := c.sendRefer(ctx, target)
	c.transferLog(uri, "refer", res.outcome, res.attrs()...)
	switch {
	case res.outcome == outcomeHangup:
		return flows.TransferResult{}, c.endCause(ctx)
	case res.accepted:
		// The caller's side has the call now, however it went: end our
		// dialog, unless the caller's side did already.
		err := c.onOwner(context.WithoutCancel(ctx), func() error {
			err := c.sendBye()
			c.cancel(errTransferred)
			return err
		})
		if err != nil && !errors.Is(err, errCallGone) {
			c.log.Warn("BYE after REFER", "error", err)
		}
		return flows.TransferResult{How: "refer"}, nil
	}
	return c.bridge(ctx, uri, target, ring)
}

// endCause is why ctx or the call ended.
func (c *call) endCause(ctx context.Context) error {
	if err := context.Cause(ctx); err != nil {
		return err
	}
	if err := context.Cause(c.ctx); err != nil {
		return err
	}
	return errCallGone
}

// referResult is how a REFER went.
type referResult struct {
	outcome  string
	code     int  // the REFER's final status, or the final sipfrag's
	accepted bool // the caller's side took the REFER (202 or a NOTIFY)
	err      error
}

func (r referResult) attrs() []any {
	as := []any{"accepted", r.accepted}
	if r.code != 0 {
		as = append(as, "code", r.code)
	}
	if r.err != nil {
		as = append(as, "error", r.err.Error())
	}
	return as
}

// referSub is the implicit subscription of a REFER in progress. The owner
// goroutine answers its NOTIFYs and hands on what they said.
type referSub struct {
	notes chan referNote
}

// referNote is what one NOTIFY said.
type referNote struct {
	code       int  // status code of the sipfrag's status line, 0 if none
	terminated bool // Subscription-State: terminated
}

// sendRefer sends the REFER and follows its subscription until a final
// sipfrag, a refusal, the timeout or the call's end.
func (c *call) sendRefer(ctx context.Context, target sip.Uri) referResult {
	sub := &referSub{notes: make(chan referNote, 16)}
	var tx sip.ClientTransaction
	err := c.onOwner(ctx, func() error {
		req := c.inDialogRequest(sip.REFER)
		contact := c.a.contact(c.invite)
		req.AppendHeader(sip.NewHeader("Refer-To", referTo(target)))
		by := sip.Uri{Scheme: "sip", User: contact.Address.User, Host: contact.Address.Host, Port: contact.Address.Port}
		req.AppendHeader(sip.NewHeader("Referred-By", "<"+by.String()+">"))
		req.AppendHeader(contact)
		req.SetBody(nil)
		sctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), 32*sip.T1)
		defer cancel()
		var err error
		if tx, err = c.a.client.TransactionRequest(sctx, req, c.a.addVia); err != nil {
			return fmt.Errorf("send REFER: %w", err)
		}
		c.refer = sub
		return nil
	})
	switch {
	case errors.Is(err, errCallGone) || err != nil && ctx.Err() != nil:
		return referResult{outcome: outcomeHangup}
	case err != nil:
		return referResult{outcome: outcomeFailed, err: err}
	}
	defer tx.Terminate()
	defer func() {
		_ = c.onOwner(context.WithoutCancel(ctx), func() error {
			if c.refer == sub {
				c.refer = nil
			}
			return nil
		})
	}()
	timer := time.NewTimer(referTimeout)
	defer timer.Stop()
	responses, done := tx.Responses(), tx.Done()
	accepted := false
	// response takes the REFER's response: finished when it was refused
	// (a refusal after a NOTIFY said otherwise does not count).
	response := func(res *sip.Response) (referResult, bool) {
		switch {
		case res.IsProvisional():
		case res.IsSuccess() || accepted:
			accepted = true
			responses, done = nil, nil // the transaction has done its part
		default:
			return referResult{outcome: outcomeRefused, code: res.StatusCode}, true
		}
		return referResult{}, false
	}
	for {
		select {
		case res := <-responses:
			if r, ok := response(res); ok {
				return r
			}
		case <-done:
			select {
			case res := <-responses:
				if r, ok := response(res); ok {
					return r
				}
				continue
			default:
			}
			if accepted {
				responses, done = nil, nil // a NOTIFY came: no 202 needed
				continue
			}
			err := errors.New("no response to REFER")
			if tx.Err() != nil {
				err = fmt.Errorf("%w: %w", err, tx.Err())
			}
			return referResult{outcome: outcomeTimeout, err: err}
		case n := <-sub.notes:
			accepted = true // a NOTIFY says so, even before the 202
			if r, ok := noteResult(n); ok {
				return r
			}
		case <-timer.C:
			if accepted {
				return referResult{outcome: outcomeNoFinal, accepted: true, err: fmt.Errorf("no final NOTIFY within %v", referTimeout)}
			}
			return referResult{outcome: outcomeTimeout, err: errors.New("no response to REFER")}
		case <-ctx.Done():
			// What came before the caller's BYE: a final NOTIFY, or any
			// NOTIFY or the 202 saying the caller's side took the REFER.
			r, final, notified := sub.queued()
			if final {
				return r
			}
			select {
			case res := <-responses:
				accepted = accepted || res.IsSuccess()
			default:
			}
			if accepted || notified {
				return referResult{outcome: outcomeUnconfirmed, accepted: true}
			}
			return referResult{outcome: outcomeHangup}
		case <-c.events: // the flow does not listen meanwhile
		}
	}
}

// queued takes the NOTIFYs already handed on: the result of a final one,
// and whether there were any.
func (s *referSub) queued() (r referResult, final, notified bool) {
	for {
		select {
		case n := <-s.notes:
			notified = true
			if r, ok := noteResult(n); ok {
				return r, true, true
			}
		default:
			return referResult{}, false, notified
		}
	}
}

// noteResult judges one NOTIFY (the REFER was accepted: a NOTIFY came):
// finished on a final sipfrag, or when the subscription ended without one.
func noteResult(n referNote) (referResult, bool) {
	switch {
	case n.code >= 200 && n.code < 300:
		return referResult{outcome: outcomeOK, code: n.code, accepted: true}, true
	case n.code >= 300:
		return referResult{outcome: outcomeFailedLate, code: n.code, accepted: true}, true
	case n.terminated:
		return referResult{outcome: outcomeFailedLate, accepted: true, err: errors.New("subscription terminated without a final status")}, true
	}
	return referResult{}, false
}

// notify answers a NOTIFY in the caller's dialog (owner goroutine): one of
// the REFER subscription's is taken, any other gets 481.
func (c *call) notify(r inReq) {
	req := r.req
	if c.refer == nil || !referEvent(headerValue(req, "Event")) {
		_ = r.tx.Respond(sip.NewResponseFromRequest(req, 481, "Subscription Does Not Exist", nil))
		return
	}
	_ = r.tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	n := referNote{terminated: subscriptionTerminated(headerValue(req, "Subscription-State"))}
	ct := strings.ToLower(headerValue(req, "Content-Type"))
	if ct == "" || strings.HasPrefix(ct, "message/sipfrag") {
		n.code, _ = sipfragStatus(req.Body())
	}
	c.log.Debug("refer NOTIFY", "code", n.code, "terminated", n.terminated)
	select {
	case c.refer.notes <- n:
	default:
		c.log.Warn("refer NOTIFY dropped: transfer not listening")
	}
	if n.terminated {
		c.refer = nil
	}
}

// onOwner runs f on the call's owner goroutine and returns its error, or
// errCallGone when the call ended first.
func (c *call) onOwner(ctx context.Context, f func() error) error {
	done := make(chan error, 1)
	select {
	case c.ops <- func() { done <- f() }:
		return <-done
	case <-c.ctx.Done():
		return fmt.Errorf("%w: %w", errCallGone, context.Cause(c.ctx))
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// transferLog counts and logs one transfer attempt. The destination is
// configuration, not a caller's number; it is not logged as "to", which
// the call's logger uses for the called number.
func (c *call) transferLog(uri, how, outcome string, attrs ...any) {
	c.a.met.Transfers.WithLabelValues(how, outcome).Inc()
	c.log.Info("transfer", append([]any{"destination", uri, "how", how, "outcome", outcome}, attrs...)...)
}

// onReferOrNotify routes REFER and NOTIFY: in a dialog to its call (or
// bridged leg); outside one, past the flood guard, NOTIFY gets 481 (no
// such subscription) and REFER 403 (kefu transfers only to configured
// destinations, on its own initiative).
func (a *Agent) onReferOrNotify(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		a.inDialog(req, tx)
		return
	}
	if !a.admit(req, tx) {
		return
	}
	if req.Method == sip.REFER {
		res := sip.NewResponseFromRequest(req, 403, "Forbidden", nil)
		res.AppendHeader(warning("kefu transfers calls only to its configured destinations"))
		_ = tx.Respond(res)
		return
	}
	_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Subscription Does Not Exist", nil))
}

// parseTarget reads a destination URI from the configuration: a SIP or SIPS
// URI with a host, nothing that could break out of a header.
func parseTarget(uri string) (sip.Uri, error) {
	var u sip.Uri
	if strings.ContainsAny(uri, "<>\"\r\n\t ") {
		return u, fmt.Errorf("destination %q: not a plain SIP URI", uri)
	}
	if err := sip.ParseUri(uri, &u); err != nil {
		return u, fmt.Errorf("destination %q: %w", uri, err)
	}
	if s := strings.ToLower(u.Scheme); s != "sip" && s != "sips" || u.Host == "" {
		return u, fmt.Errorf("destination %q: want sip:USER@HOST", uri)
	}
	return u, nil
}

// referTo is the Refer-To header value for target (RFC 3515 2.1: in angle
// brackets, as the URI may carry parameters).
func referTo(target sip.Uri) string { return "<" + target.String() + ">" }

// sipfragStatus reads the status line of a message/sipfrag body (RFC
// 3420), such as "SIP/2.0 200 OK"; ok is false when there is none.
func sipfragStatus(body []byte) (code int, ok bool) {
	line, _, _ := strings.Cut(string(body), "\n")
	f := strings.Fields(line)
	if len(f) < 2 || !strings.EqualFold(f[0], "SIP/2.0") || len(f[1]) != 3 {
		return 0, false
	}
	code, err := strconv.Atoi(f[1])
	if err != nil || code < 100 || code > 699 {
		return 0, false
	}
	return code, true
}

// referEvent reports whether an Event header names the refer package
// (RFC 3515 2.4.4), with or without an id parameter.
func referEvent(v string) bool {
	pkg, _, _ := strings.Cut(v, ";")
	return strings.EqualFold(strings.TrimSpace(pkg), "refer")
}

// subscriptionTerminated reports whether a Subscription-State header says
// the subscription is over (RFC 6665 8.2.3).
func subscriptionTerminated(v string) bool {
	state, _, _ := strings.Cut(v, ";")
	return strings.EqualFold(strings.TrimSpace(state), "terminated")
}

// headerValue returns the value of req's first header called name, or "".
func headerValue(req *sip.Request, name string) string {
	if h := req.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}
