package sip

import (
	"context"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// The session timer of a leg kefu placed (RFC 4028; timer.go has the
// negotiation). kefu is the UAC of the leg's INVITE: it says Supported:
// timer, and the far end's 2xx decides the interval and who refreshes
// (startTimer, from connect). The leg's owner answers the far end's
// refreshes (update, from serve); a goroutine of the timer's own, started
// while a session timer is on, sends kefu's refreshes when kefu is the
// refresher (an UPDATE when the far end allows it, else a re-INVITE with
// the SDP kefu sent last) and notices the expiry. When the session is
// over it sends the far end a BYE saying so and closes sessionEnded, which
// the owner's loop watches.

// legTimer is a leg's session timer.
type legTimer struct {
	l       *leg
	mu      sync.Mutex
	st      sessionTimer // guarded by mu
	lastSDP []byte       // guarded by mu: the SDP kefu sent last in the leg
	running bool         // guarded by mu: the refresher goroutine runs
	update  bool         // the far end allows UPDATE (its 2xx's Allow); guarded by mu
	kick    chan struct{}
	ended   chan struct{} // closed when the session is over
	endOnce sync.Once
}

// startTimer takes the session timer's terms from the far end's 2xx to the
// leg's INVITE; the leg has a timer from then on (active or not).
func (l *leg) startTimer() {
	t := &legTimer{l: l, kick: make(chan struct{}, 1), ended: make(chan struct{})}
	res := l.dlg.InviteResponse
	t.lastSDP = l.dlg.InviteRequest.Body()
	t.st.minSE = minSE
	for _, v := range headerValues(res, "Allow", "") {
		t.update = t.update || v == string(sip.UPDATE)
	}
	if err := t.st.asUAC(res); err != nil {
		l.log.Warn("the "+l.peer+"'s Session-Expires is malformed; no session timer", "error", err)
	}
	l.timer = t
	t.mu.Lock()
	defer t.mu.Unlock()
	t.begin()
}

// begin starts a new interval and the goroutine, if the timer is on
// (under mu).
func (t *legTimer) begin() {
	t.st.refreshed(time.Now())
	if !t.st.active() {
		return
	}
	t.l.log.Debug("session timer", "peer", t.l.peer, "session_expires", t.st.interval.Seconds(), "kefu_refreshes", t.st.refresher)
	if !t.running {
		t.running = true
		go t.run()
		return
	}
	select {
	case t.kick <- struct{}{}:
	default:
	}
}

// sessionEnded is closed when the leg's session expired (or kefu's refresh
// found the dialog gone) and kefu hung up the far end; nil without a timer.
func (l *leg) sessionEnded() <-chan struct{} {
	if l.timer == nil {
		return nil
	}
	return l.timer.ended
}

// run waits for the timer until the owner is done with the leg.
func (t *legTimer) run() {
	defer func() {
		t.mu.Lock()
		t.running = false
		t.st.stop()
		t.mu.Unlock()
	}()
	for {
		t.mu.Lock()
		c := t.st.c()
		t.mu.Unlock()
		select {
		case <-t.l.done:
			return
		case <-t.kick:
		case <-c:
			if !t.fire() {
				return
			}
		}
	}
}

// fire acts on the timer: the end, or kefu's refresh. It reports whether
// the session goes on.
func (t *legTimer) fire() bool {
	t.mu.Lock()
	st := &t.st
	if !st.active() {
		t.mu.Unlock()
		return true
	}
	if st.expired(time.Now()) {
		refresher := st.refresher
		t.mu.Unlock()
		if refresher {
			t.end("kefu's refreshes failed", `SIP;cause=408;text="Session refresh failed"`)
		} else {
			t.end("no refresh from the far end", `SIP;cause=408;text="Session timer expired"`)
		}
		return false
	}
	if !st.refresher || st.inFlight {
		t.mu.Unlock()
		return true
	}
	method := sip.INVITE
	if t.update {
		method = sip.UPDATE
	}
	req := sip.NewRequest(method, t.l.remoteTarget())
	st.addUAC(req)
	if method == sip.INVITE {
		req.AppendHeader(sip.NewHeader("Allow", Allowed))
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		req.SetBody(t.lastSDP)
	}
	st.inFlight = true
	t.mu.Unlock()

	res, err := t.send(req)
	if gone := t.refreshed(method, res, err); gone {
		t.end("the refresh found no dialog", "")
		return false
	}
	return true
}

// refreshed takes the final response to kefu's refresh, as the call's
// refreshDone does; it reports whether the dialog is gone.
func (t *legTimer) refreshed(method sip.RequestMethod, res *sip.Response, err error) (gone bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := &t.st
	st.inFlight = false
	code := 0
	if res != nil {
		code = res.StatusCode
	}
	switch {
	case res != nil && res.IsSuccess():
		if err := st.asUAC(res); err != nil {
			t.l.log.Warn("the "+t.l.peer+"'s refresh answer has a bad Session-Expires; the session timer stops", "error", err)
		}
		st.refreshed(time.Now())
	case code == 422 && st.retries < 2 && st.tooSmall(res):
		st.retries++
		st.arm(0)
	case code == 491 && st.retries < 3:
		st.retries++
		st.glare()
	case (code == 405 || code == 501) && method == sip.UPDATE:
		t.update = false
		st.arm(0)
	case res == nil || code == 408 || code == 481:
		attrs := []any{"method", string(method), "code", code}
		if err != nil {
			attrs = append(attrs, "error", err.Error())
		}
		t.l.log.Warn("session refresh to the "+t.l.peer+" failed: the dialog is gone", attrs...)
		return true
	default:
		t.l.log.Warn("session refresh refused by the "+t.l.peer+"; trying again before it expires", "method", string(method), "code", code)
		st.failed(time.Now())
	}
	return false
}

// send sends kefu's refresh in the leg's dialog and returns its final
// response; a 2xx to a re-INVITE is ACKed (again for each retransmission,
// while the transaction lasts).
func (t *legTimer) send(req *sip.Request) (*sip.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 32*sip.T1)
	defer cancel()
	go func() {
		select {
		case <-t.l.done: // the owner is done with the leg
			cancel()
		case <-ctx.Done():
		}
	}()
	if !req.IsInvite() {
		return t.l.dlg.Do(ctx, req)
	}
	tx, err := t.l.dlg.TransactionRequest(ctx, req)
	if err != nil {
		return nil, err
	}
	res, err := finalResponse(ctx, tx)
	if res == nil || !res.IsSuccess() {
		tx.Terminate()
		return res, err
	}
	ack := ackFor(req, res)
	write := func() {
		if err := t.l.a.client.WriteRequest(ack.Clone()); err != nil {
			t.l.log.Warn("could not ACK the "+t.l.peer+"'s 200 to kefu's re-INVITE", "error", err)
		}
	}
	tx.OnRetransmission(func(r *sip.Response) {
		if r.IsSuccess() {
			write()
		}
	})
	write()
	go func() {
		// The transaction answers retransmitted 2xx until Timer M.
		defer tx.Terminate()
		select {
		case <-tx.Done():
		case <-t.l.done:
		}
	}()
	return res, nil
}

// end is the session's end: a BYE to the far end (with reason, when
// given), then sessionEnded closes for the owner.
func (t *legTimer) end(why, reason string) {
	t.endOnce.Do(func() {
		t.l.log.Warn("session with the "+t.l.peer+" is over: "+why+"; hanging up", "peer", t.l.peer)
		bye := sip.NewRequest(sip.BYE, t.l.remoteTarget())
		if reason != "" {
			bye.AppendHeader(sip.NewHeader("Reason", reason))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 32*sip.T1)
		defer cancel()
		if err := t.l.dlg.WriteBye(ctx, bye); err != nil {
			t.l.log.Warn("could not end the call to the "+t.l.peer, "error", err)
		}
		close(t.ended)
	})
}

// timerTx is a server transaction whose 2xx responses get the session
// timer's headers (and are noted), so that the leg's re-INVITE answering
// (leg.go) need not know of timers.
type timerTx struct {
	sip.ServerTransaction
	add  func(*sip.Response)
	sent *sip.Response // the 2xx sent
}

func (x *timerTx) Respond(res *sip.Response) error {
	if res.IsSuccess() {
		x.add(res)
	}
	err := x.ServerTransaction.Respond(res)
	if err == nil && res.IsSuccess() {
		x.sent = res
	}
	return err
}

// update answers the far end's re-INVITE or UPDATE in a leg kefu placed
// (its owner goroutine, through serve): the session timer's terms are
// negotiated again (422 below Min-SE), an offer is answered as leg.go's
// reinvite does, an UPDATE without one refreshes the session (RFC 3311,
// RFC 4028) and gets a 200 without a body; every 2xx carries the terms and
// starts a new interval.
func (l *leg) update(r inReq) {
	th, err := readTimerHeaders(r.req)
	if err != nil {
		res := sip.NewResponseFromRequest(r.req, 400, "Bad Request", nil)
		res.AppendHeader(warning(err.Error()))
		_ = r.tx.Respond(res)
		return
	}
	t := l.timer
	var next sessionTimer
	if t != nil {
		t.mu.Lock()
		next.minSE, next.peer = t.st.minSE, t.st.peer
		t.mu.Unlock()
	}
	if se := next.asUAS(th); se != nil {
		res := sip.NewResponseFromRequest(r.req, se.code, reasonPhrase(se.code), nil)
		for _, h := range se.hdrs {
			res.AppendHeader(h)
		}
		_ = r.tx.Respond(res)
		return
	}
	tx := &timerTx{ServerTransaction: r.tx, add: func(res *sip.Response) {
		res.AppendHeader(sip.NewHeader("Supported", Supported))
		next.addUAS(res)
	}}
	r.tx = tx
	switch {
	case r.req.IsInvite() || len(r.req.Body()) > 0:
		l.reinvite(r)
	default:
		res := sip.NewResponseFromRequest(r.req, 200, "OK", nil)
		res.AppendHeader(l.a.contact(r.req))
		_ = tx.Respond(res)
	}
	if tx.sent == nil || t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.st.interval, t.st.refresher, t.st.peer, t.st.minSE = next.interval, next.refresher, next.peer, next.minSE
	if len(tx.sent.Body()) > 0 {
		t.lastSDP = tx.sent.Body()
	}
	t.begin()
}
