package sip

import (
	"errors"
	"strings"

	"github.com/emiago/sipgo/sip"
	"github.com/kefu-hotline/kefu/sip/sdp"
)

// Late offers (RFC 3261 13.2.1, RFC 3264): an INVITE without SDP, as PBXes
// and carriers send with delayed offer, is answered with kefu's offer in
// the 200 OK, and the caller's side answers in its ACK. Until then the
// call has an RTP port but no media: the media and the flow start with the
// answer. An ACK without an answer, or with one kefu cannot use, ends the
// call with a BYE that says why (Reason, RFC 3326). A re-INVITE without
// SDP works the same way inside the dialog (dialog.go: reinvite).

// Causes of a call whose late offer got no usable answer.
var (
	errNoAnswerSDP = error(lineFault("no SDP answer in the ACK"))
	errAnswerSDP   = error(lineFault("the SDP answer in the ACK is not usable"))
)

// takeAck takes an ACK in the caller's dialog (owner goroutine): the
// answer to kefu's offer, when the 200 it ACKs carried one.
func (c *call) takeAck(ack *sip.Request) {
	cseq := ack.CSeq()
	if cseq == nil {
		return
	}
	switch {
	case c.late && c.ok != nil && cseq.SeqNo == c.invite.CSeq().SeqNo:
		c.lateAnswer(ack)
	case c.reoffer != 0 && cseq.SeqNo == c.reoffer:
		c.reoffer = 0
		if len(ack.Body()) == 0 {
			c.log.Warn("ACK without the SDP answer to kefu's offer in a re-INVITE; media unchanged")
			return
		}
		ans, err := sdp.ParseAnswer(ack.Body())
		if err != nil {
			c.log.Warn("SDP answer in the ACK not usable; media unchanged", "error", err)
			return
		}
		c.answer = ans
		c.m.update(ans)
		c.log.Info("re-INVITE answered in the ACK", "direction", ans.Direction.String(), "hold", ans.Hold, "remote", ans.Remote.String())
	}
}

// lateAnswer takes the answer to the offer in kefu's 200 OK from the ACK
// and starts the media and the flow, or ends the call when there is no
// usable answer.
func (c *call) lateAnswer(ack *sip.Request) {
	body := ack.Body()
	if len(body) == 0 {
		c.log.Warn("ACK without the SDP answer to kefu's offer; hanging up")
		c.byeReason = `SIP;cause=400;text="No SDP answer in the ACK"`
		c.cancel(errNoAnswerSDP)
		return
	}
	if ct := ack.ContentType(); ct != nil && !strings.EqualFold(mediaType(ct.Value()), "application/sdp") {
		c.log.Warn("ACK with a body that is not SDP; hanging up", "content_type", ct.Value())
		c.byeReason = `SIP;cause=415;text="The answer in the ACK is not SDP"`
		c.cancel(errNoAnswerSDP)
		return
	}
	ans, err := sdp.ParseAnswer(body)
	if err == nil {
		ans, err = c.local.Accept(ans)
	}
	if err != nil {
		c.log.Warn("SDP answer in the ACK not usable; hanging up", "error", err)
		if errors.Is(err, sdp.ErrNoCommonCodec) {
			c.byeReason = `SIP;cause=488;text="No common codec in the SDP answer"`
		} else {
			c.byeReason = `SIP;cause=400;text="Malformed SDP answer"`
		}
		c.cancel(errAnswerSDP)
		return
	}
	c.answer = ans
	if at := c.live.answered.Load(); at != nil {
		c.live.answered.Store(&answered{at: at.at, codec: ans.Codec.String()})
	}
	c.late = false
	c.m.connect(ans)
	c.m.update(ans) // a caller's side that answers on hold is heard as such
	c.logAnswered(true)
	c.startFlow()
}
