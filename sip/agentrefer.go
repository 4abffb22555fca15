package sip

import (
	"context"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// agentRefer takes an agent's transfer (the phone's transfer key: REFER
// during the bridge). Only a queue of kefu's or a configured destination
// may be named (no arbitrary numbers): those get 202, a NOTIFY that the
// transfer is done (kefu carries it out itself), and the agent's leg ends;
// anything else gets 403 and the call goes on. It returns the target, or
// "" when refused.
func (g *agentLeg) agentRefer(r inReq) string {
	defer close(r.done)
	user := referUser(headerValue(r.req, "Refer-To"))
	if user == "" || !g.c.snap.Config.AgentTransferTarget(user) {
		res := sip.NewResponseFromRequest(r.req, 403, "Forbidden", nil)
		res.AppendHeader(sip.NewHeader("Warning", `399 kefu "transfer to a queue or a configured destination only"`))
		_ = r.tx.Respond(res)
		g.c.log.Warn("agent transfer refused", "agent", g.id, "to", user)
		return ""
	}
	_ = r.tx.Respond(sip.NewResponseFromRequest(r.req, 202, "Accepted", nil))
	notify := sip.NewRequest(sip.NOTIFY, g.l.remoteTarget())
	notify.AppendHeader(sip.NewHeader("Event", "refer"))
	notify.AppendHeader(sip.NewHeader("Subscription-State", "terminated;reason=noresource"))
	notify.AppendHeader(sip.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
	notify.SetBody([]byte("SIP/2.0 200 OK\r\n"))
	ctx, cancel := context.WithTimeout(context.Background(), 4*sip.T1)
	defer cancel()
	if _, err := g.l.dlg.Do(ctx, notify); err != nil {
		g.l.log.Debug("NOTIFY after the agent's transfer", "error", err.Error())
	}
	g.c.log.Info("agent transfers the caller", "agent", g.id, "to", user)
	return user
}

// referUser is the user part of a Refer-To value: <sip:supervisors@kefu>
// gives supervisors.
func referUser(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '<'); i >= 0 {
		v = v[i+1:]
		if j := strings.IndexByte(v, '>'); j >= 0 {
			v = v[:j]
		}
	}
	var u sip.Uri
	if err := sip.ParseUri(v, &u); err != nil {
		return ""
	}
	return u.User
}

// remoteTarget is where in-dialog requests to the leg's far end go: its
// Contact, else the Request-URI of our INVITE.
func (l *leg) remoteTarget() sip.Uri {
	if ct := l.dlg.InviteResponse.Contact(); ct != nil {
		return *ct.Address.Clone()
	}
	return l.dlg.InviteRequest.Recipient
}
