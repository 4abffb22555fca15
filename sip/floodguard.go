package sip

import (
	"fmt"
	"strconv"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/kefu-hotline/kefu/sip/flood"
)

// admit runs the flood guard, then the source ACL (acl.go), on a new
// out-of-dialog request. It returns false when the request was answered (a
// rate-limited INVITE or REGISTER gets its final response, so no real
// caller is left ringing; a source outside the ACL gets 403) or dropped
// (scanners, OPTIONS floods, banned sources: an answer would only help
// them). sipgo hands each transaction over once, so retransmissions use
// no tokens.
func (a *Agent) admit(req *sip.Request, tx sip.ServerTransaction) bool {
	if a.cfg.Flood == nil {
		return a.permit(req, tx) // the source ACL (acl.go)
	}
	src := a.origin(req).addr
	ua := ""
	if h := req.GetHeader("User-Agent"); h != nil {
		ua = h.Value()
	}
	v := a.cfg.Flood.Check(flood.Request{Method: string(req.Method), Source: src.Addr(), Caller: a.fromUser(req), UserAgent: ua}, time.Now())
	if v.Action == flood.Allow {
		return a.permit(req, tx)
	}
	a.met.Flood.WithLabelValues(string(req.Method), v.Action.String(), string(v.Reason)).Inc()
	a.log.Debug("flood guard", "method", string(req.Method), "action", v.Action.String(), "reason", string(v.Reason),
		"code", v.Code, "from", a.user(a.fromUser(req)), "src", src.String())
	if v.Action == flood.Drop {
		return false
	}
	res := sip.NewResponseFromRequest(req, v.Code, reasonPhrase(v.Code), nil)
	if v.RetryAfter > 0 {
		res.AppendHeader(sip.NewHeader("Retry-After", strconv.Itoa(int(v.RetryAfter/time.Second))))
	}
	res.AppendHeader(warning(fmt.Sprintf("kefu flood guard: %s", v.Reason)))
	if err := tx.Respond(res); err != nil {
		a.log.Debug("could not send flood guard response", "code", v.Code, "error", err)
	}
	if req.IsInvite() {
		a.met.Rejected.WithLabelValues(strconv.Itoa(v.Code)).Inc()
		a.logRefusal(req, v.Code, "flood guard: "+string(v.Reason))
	}
	return false
}
