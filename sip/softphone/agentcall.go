package softphone

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/kefu-hotline/kefu/sip/sdp"
)

// agentCall is one offered call, owned by the goroutine serving its INVITE.
type agentCall struct {
	a         *agent
	req       *sip.Request
	tx        sip.ServerTransaction
	dlg       *sipgo.DialogServerSession
	rec       *AgentCall
	media     *leg
	local     sdp.Local
	reinvites chan reinvite
	over      chan struct{} // closed when the call no longer takes re-INVITEs
}

// reinvite is a re-INVITE handed to the call's owner; done is closed once
// it was answered.
type reinvite struct {
	req  *sip.Request
	tx   sip.ServerTransaction
	done chan struct{}
}

func (c *agentCall) emit(e Event) {
	e.Call = c.rec.N
	c.a.emit(e)
}

func (c *agentCall) since() time.Duration { return c.a.since() }

// run serves the call from the offer to its end.
func (c *agentCall) run() {
	c.over = make(chan struct{})
	defer close(c.over)
	a := c.a
	a.caller(c.req, c.rec)
	a.mu.Lock()
	a.res.Calls = append(a.res.Calls, c.rec)
	a.mu.Unlock()
	c.emit(Event{T: c.since(), Kind: EvOffered, CallID: c.rec.CallID, From: c.rec.From, Display: c.rec.Display,
		Queue: c.rec.Queue, Called: c.rec.Called, Wait: c.rec.Wait})

	var err error
	if c.dlg, err = a.dialogs.ReadInvite(c.req, c.tx); err != nil {
		c.refuse(nil, sip.StatusBadRequest, "Bad Request")
		return
	}
	defer c.dlg.Close()
	offer, err := sdp.ParseOffer(c.req.Body())
	if err != nil || len(c.req.Body()) == 0 {
		c.refuse(c.dlg, sip.StatusBadRequest, "Bad Request") // no offer: kefu always sends one
		return
	}
	c.local = sdp.Local{Addr: a.st.advertise, Port: 9, SessionID: rand.Uint64N(1 << 62), SessionVersion: 1, Username: agentUserAgent}
	if _, _, err := sdp.Negotiate(offer, c.local); err != nil {
		c.refuse(c.dlg, sip.StatusNotAcceptableHere, "Not Acceptable Here")
		return
	}
	if !a.busy.CompareAndSwap(false, true) {
		c.refuse(c.dlg, sip.StatusBusyHere, "Busy Here")
		return
	}
	defer a.busy.Store(false)
	if err := c.dlg.Respond(sip.StatusRinging, "Ringing", nil); err != nil {
		c.ended(c.dlg.Context())
		return
	}
	c.emit(Event{T: c.since(), Kind: EvRinging})
	if !c.ring() {
		return
	}
	if a.cfg.Reject != 0 {
		c.refuse(c.dlg, a.cfg.Reject, reasonPhrase(a.cfg.Reject))
		return
	}
	c.answer(offer)
}

// ring waits for the moment to answer; false when the call ended first
// (cancelled, or refused because the agent stops).
func (c *agentCall) ring() bool {
	var answerC <-chan time.Time
	if !c.a.cfg.NoAnswer {
		t := time.NewTimer(c.a.cfg.AnswerAfter)
		defer t.Stop()
		answerC = t.C
	}
	select {
	case <-answerC:
		return true
	case <-c.dlg.Context().Done():
		c.ended(c.dlg.Context())
	case <-c.a.callsCtx.Done():
		c.refuse(c.dlg, sip.StatusTemporarilyUnavailable, "Temporarily Unavailable")
	}
	return false
}

// ended reports a dialog that ended before the answer: a CANCEL (the
// transaction layer sent 487), or a transaction that died.
func (c *agentCall) ended(dctx context.Context) {
	if errors.Is(context.Cause(dctx), sip.ErrTransactionCanceled) {
		c.rec.Outcome, c.rec.Code = EvCancelled, sip.StatusRequestTerminated
		c.emit(Event{T: c.since(), Kind: EvCancelled})
		return
	}
	c.fail(fmt.Errorf("the INVITE transaction ended before the answer: %v", context.Cause(dctx)))
}

// refuse answers the offer with a final error status.
func (c *agentCall) refuse(dlg *sipgo.DialogServerSession, code int, reason string) {
	var err error
	if dlg != nil {
		err = dlg.Respond(code, reason, nil)
	} else {
		err = c.tx.Respond(sip.NewResponseFromRequest(c.req, code, reason, nil))
	}
	if err != nil && dlg != nil && dlg.Context().Err() != nil {
		c.ended(dlg.Context()) // cancelled meanwhile
		return
	}
	c.rec.Outcome, c.rec.Code = EvRejected, code
	c.emit(Event{T: c.since(), Kind: EvRejected, Code: code, Reason: reason})
}

// fail reports a call that broke.
func (c *agentCall) fail(err error) {
	c.rec.Outcome, c.rec.Err = EvFinal, err
	c.emit(Event{T: c.since(), Kind: EvFinal, Error: err.Error()})
}

// answer sends the 200 with the SDP answer, waits for the ACK, and runs
// the call until one side hangs up.
func (c *agentCall) answer(offer *sdp.Offer) {
	a := c.a
	rec, path, err := c.recording()
	if err != nil {
		c.refuse(c.dlg, sip.StatusInternalServerError, "Server Internal Error")
		c.rec.Err = err
		return
	}
	var sink io.WriteSeeker // not a typed nil
	if rec != nil {
		sink = rec
	}
	m, err := openLeg(a.callsCtx, a.st.bind, c.since, c.emit, sink, a.cfg.Detector)
	if err != nil {
		closeRecording(rec, path, false)
		c.refuse(c.dlg, sip.StatusInternalServerError, "Server Internal Error")
		c.rec.Err = err
		return
	}
	c.media = m
	c.local.Port = m.port()
	ans, body, err := sdp.Negotiate(offer, c.local)
	if err == nil {
		answered := c.since()
		if err = c.dlg.RespondSDP(body); err == nil {
			c.rec.Answered, c.rec.Codec = answered, ans.Codec.String()
			c.rec.Code = sip.StatusOK
			c.emit(Event{T: answered, Kind: EvAnswered, Code: sip.StatusOK, Reason: "OK", Codec: ans.Codec.String()})
		}
	}
	if err != nil {
		if c.dlg.Context().Err() != nil {
			c.ended(c.dlg.Context())
		} else {
			c.fail(fmt.Errorf("answer: %w", err))
		}
	} else {
		c.talk(ans)
	}
	st, werr := m.close()
	closeRecording(rec, path, c.rec.Answered > 0)
	if werr != nil && c.rec.Err == nil {
		c.rec.Err = werr
	}
	if c.rec.Answered == 0 {
		return
	}
	c.rec.Packets, c.rec.Lost, c.rec.Sent, c.rec.Stretches = st.Packets, st.Lost, st.Sent, st.Stretches
	if rec != nil {
		c.rec.Recording = path
	}
	c.emit(Event{T: c.since(), Kind: EvCallEnd, Dur: c.rec.Ended - c.rec.Answered, Packets: st.Packets, Lost: st.Lost,
		Sent: st.Sent, File: c.rec.Recording})
}

// talk runs the answered call: media, keys, re-INVITEs, until a BYE.
func (c *agentCall) talk(ans sdp.Answer) {
	a := c.a
	var press keyFunc
	if ans.DTMFPT == 0 || a.cfg.Send == SendNone {
		press = infoKeys(c.dlg, c.dlg.InviteRequest.Contact().Address)
	}
	c.media.startSending(ans, a.cfg.Playback, c.rec.Answered, press)
	id := c.dlg.ID
	a.mu.Lock()
	a.calls[id] = c
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.calls, id)
		a.mu.Unlock()
	}()
	held := ans.Hold

	var hangupC <-chan time.Time
	if a.cfg.HangupAfter > 0 {
		t := time.NewTimer(c.rec.Answered + a.cfg.HangupAfter - c.since())
		defer t.Stop()
		hangupC = t.C
	}
	for {
		select {
		case <-c.dlg.Context().Done():
			c.rec.Ended, c.rec.Outcome = c.since(), EvByeReceived
			c.emit(Event{T: c.rec.Ended, Kind: EvByeReceived})
			return
		case <-hangupC:
			c.hangup()
			return
		case <-a.callsCtx.Done():
			c.hangup()
			return
		case err := <-c.media.failed():
			c.hangup()
			if err != nil {
				c.rec.Err = err
			}
			return
		case ri := <-c.reinvites:
			if next, ok := c.reanswer(ri); ok && next.Hold != held {
				held = next.Hold
				kind := EvResume
				if held {
					kind = EvHold
				}
				c.emit(Event{T: c.since(), Kind: kind, Direction: next.Direction.String()})
			}
		}
	}
}

// reanswer answers a re-INVITE (hold, resume, a new address) with the
// mirrored direction and follows it.
func (c *agentCall) reanswer(ri reinvite) (sdp.Answer, bool) {
	defer close(ri.done)
	offer, err := sdp.ParseOffer(ri.req.Body())
	if err != nil || len(ri.req.Body()) == 0 {
		respond(ri.tx, ri.req, sip.StatusNotAcceptableHere, "Not Acceptable Here")
		return sdp.Answer{}, false
	}
	c.local.SessionVersion++
	ans, body, err := sdp.Negotiate(offer, c.local)
	if err != nil {
		c.local.SessionVersion--
		respond(ri.tx, ri.req, sip.StatusNotAcceptableHere, "Not Acceptable Here")
		return sdp.Answer{}, false
	}
	if err := c.dlg.ReadRequest(ri.req, ri.tx); err != nil {
		respond(ri.tx, ri.req, sip.StatusInternalServerError, "Server Internal Error")
		return sdp.Answer{}, false
	}
	res := sip.NewSDPResponseFromRequest(ri.req, body)
	res.AppendHeader(&sip.ContactHeader{Address: c.a.contact})
	_ = ri.tx.Respond(res)
	c.media.redirect(ans)
	return ans, true
}

// hangup sends our BYE, bounded, and reports it.
func (c *agentCall) hangup() {
	ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	defer cancel()
	at := c.since()
	code := 0
	err := c.dlg.Bye(ctx)
	if err == nil {
		code = sip.StatusOK
	} else if res, ok := responseOf(err); ok {
		code = res.StatusCode
	} else {
		c.a.log.Warn("BYE got no response", "call", c.rec.N, "error", err)
	}
	c.rec.Ended, c.rec.Outcome = at, EvByeSent
	c.emit(Event{T: at, Kind: EvByeSent, Code: code})
}

// recording creates DIR/<n>-<call-id>.wav, or returns nil without -record.
func (c *agentCall) recording() (*os.File, string, error) {
	if c.a.cfg.RecordDir == "" {
		return nil, "", nil
	}
	name := fmt.Sprintf("%d-%s.wav", c.rec.N, fileSafe(c.rec.CallID))
	path := filepath.Join(c.a.cfg.RecordDir, name)
	f, err := os.Create(path)
	if err != nil {
		return nil, "", fmt.Errorf("softphone: recording: %w", err)
	}
	return f, path, nil
}

// closeRecording closes the file, and removes it if nothing was recorded.
func closeRecording(f *os.File, path string, keep bool) {
	if f == nil {
		return
	}
	_ = f.Close()
	if !keep {
		_ = os.Remove(path)
	}
}

// fileSafe maps a Call-ID to a file name: letters, digits and -._@ stay.
func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("-._@", r):
			return r
		}
		return '_'
	}, s)
}

// reasonPhrase returns the usual reason phrase of the final statuses an
// agent's phone sends when it declines.
func reasonPhrase(code int) string {
	switch code {
	case 480:
		return "Temporarily Unavailable"
	case 486:
		return "Busy Here"
	case 487:
		return "Request Terminated"
	case 488:
		return "Not Acceptable Here"
	case 600:
		return "Busy Everywhere"
	case 603:
		return "Decline"
	}
	return "Declined"
}
