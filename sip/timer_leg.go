package sip

import "github.com/emiago/sipgo/sip"

// update answers the far end's UPDATE in a leg kefu placed (its owner
// goroutine, through serve): an offer is answered as a re-INVITE's; an
// UPDATE without one refreshes the session (RFC 3311, RFC 4028) and gets
// a 200 without a body.
func (l *leg) update(r inReq) {
	if len(r.req.Body()) > 0 {
		l.reinvite(r)
		return
	}
	res := sip.NewResponseFromRequest(r.req, 200, "OK", nil)
	res.AppendHeader(l.a.contact(r.req))
	_ = r.tx.Respond(res)
}
