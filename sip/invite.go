package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/flows/callerid"
	"github.com/kefu-hotline/kefu/flows/screen"
	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/sip/sdp"
)

// onInvite takes a new INVITE (or passes a re-INVITE to its call). For a new
// call it checks the request, allocates media, and hands the call to its
// owner goroutine; the handler returns once the final response is out, so
// sipgo keeps the transaction alive through the ringing.
func (a *Agent) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if h := missingHeader(req); h != "" {
		a.reject(req, tx, 400, "Bad Request", warning("missing "+h+" header"))
		return
	}
	if to := req.To(); to != nil && to.Params.Has("tag") {
		a.inDialog(req, tx)
		return
	}
	if !a.admit(req, tx) {
		return
	}
	received := time.Now()
	if a.draining.Load() {
		a.reject(req, tx, 503, "Service Unavailable", sip.NewHeader("Retry-After", "30"))
		return
	}
	snap := a.cfg.Current()
	called := req.Recipient.User
	info := flows.CallInfo{Caller: fromUser(req), Called: called, Anonymous: anonymous(req), At: a.now(), CallID: callID(req)}
	routeFrom := info.Caller
	if info.Anonymous {
		routeFrom = "anonymous"
	}
	flow, ok := snap.Config.Route(called, routeFrom)
	if v, screened := a.screen(req, snap, info); screened {
		switch v.Kind {
		case screen.Reject:
			a.reject(req, tx, v.Code, reasonPhrase(v.Code), warning("refused: "+string(v.Reason)))
			return
		case screen.Route:
			flow, ok = snap.Config.Flow(snap.Config.NuisanceFlow())
		}
	}
	if !ok {
		a.reject(req, tx, 404, "Not Found")
		return
	}
	start, err := snap.Config.Start(flow, info)
	if err != nil {
		a.log.Error("flow cannot start", "flow", flow.Name(), "error", err)
		a.reject(req, tx, 500, "Server Internal Error")
		return
	}
	if start.Reject != 0 {
		a.reject(req, tx, start.Reject, reasonPhrase(start.Reject), warning("rejected by flow "+flow.Name()+" ("+start.Reason+")"))
		return
	}
	if len(req.Body()) == 0 {
		a.reject(req, tx, 488, "Not Acceptable Here", warning("an SDP offer is required in the INVITE"))
		return
	}
	if ct := req.ContentType(); ct != nil && !strings.EqualFold(strings.TrimSpace(strings.Split(ct.Value(), ";")[0]), "application/sdp") {
		a.reject(req, tx, 415, "Unsupported Media Type", sip.NewHeader("Accept", "application/sdp"))
		return
	}
	offer, err := sdp.ParseOffer(req.Body())
	if err != nil {
		a.reject(req, tx, 400, "Bad Request", warning(err.Error()))
		return
	}
	conn, err := a.listenRTP()
	if err != nil {
		a.log.Error("no RTP port for a call", "error", err)
		a.reject(req, tx, 503, "Service Unavailable", warning("no media port free"))
		return
	}
	local := sdp.Local{
		Addr:           a.adv,
		Port:           conn.LocalAddr().(*net.UDPAddr).Port,
		Codecs:         []media.Codec{media.CodecPCMU, media.CodecPCMA},
		SessionID:      uint64(received.UnixNano() & 0x7fffffffffff),
		SessionVersion: 1,
		Username:       "kefu",
	}
	ans, body, err := sdp.Negotiate(offer, local)
	if err != nil {
		a.releaseRTP(conn)
		if errors.Is(err, sdp.ErrNoCommonCodec) {
			a.reject(req, tx, 488, "Not Acceptable Here", warning("kefu speaks PCMU and PCMA only"))
			return
		}
		a.reject(req, tx, 500, "Server Internal Error")
		return
	}
	c := a.newCall(req, tx, snap, flow, conn, ans, body, local, received)
	info.Version = snap.Version
	c.callInfo, c.start = info, start.Step
	a.addCall(c)
	a.wg.Add(1)
	go c.run()
	<-c.finalSent
}

// missingHeader names a header that RFC 3261 8.1.1 makes mandatory and req
// lacks (sipgo parses such requests; a call needs them all).
func missingHeader(req *sip.Request) string {
	switch {
	case req.Via() == nil:
		return "Via"
	case req.From() == nil:
		return "From"
	case req.To() == nil:
		return "To"
	case req.CallID() == nil:
		return "Call-ID"
	case req.CSeq() == nil:
		return "CSeq"
	}
	return ""
}

// reject sends a final error response to a new INVITE.
func (a *Agent) reject(req *sip.Request, tx sip.ServerTransaction, code int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	if code == 415 || code == 405 {
		res.AppendHeader(sip.NewHeader("Allow", Allowed))
	}
	if err := tx.Respond(res); err != nil {
		a.log.Warn("could not send response", "code", code, "error", err)
	}
	a.met.Rejected.WithLabelValues(fmt.Sprint(code)).Inc()
	a.log.Info("call refused", "code", code, "reason", reason, "from", a.user(fromUser(req)), "src", req.Source())
}

// warning builds a Warning header (RFC 3261 20.43) that tells the caller's
// engineer what was wrong.
func warning(text string) sip.Header {
	text = strings.Map(func(r rune) rune {
		if r == '"' || r < 0x20 {
			return ' '
		}
		return r
	}, text)
	if len(text) > 200 {
		text = text[:200]
	}
	return sip.NewHeader("Warning", `399 kefu "`+text+`"`)
}

// screen runs the nuisance screening on an INVITE (CS-NUISANCE); screened
// is false when the call goes on as any other.
func (a *Agent) screen(req *sip.Request, snap *Snapshot, info flows.CallInfo) (v screen.Verdict, screened bool) {
	if snap.Screener == nil {
		return v, false
	}
	src, _ := netip.ParseAddrPort(req.Source())
	v, err := snap.Screener.Screen(context.Background(), screen.Call{Caller: info.Caller, Anonymous: info.Anonymous, Called: info.Called, Source: src, At: info.At})
	if err != nil {
		a.log.Warn("screening failed; the call goes on", "error", err)
	}
	kind := string(v.Kind)
	if kind == "" {
		kind = string(screen.Allow)
	}
	a.met.Screened.WithLabelValues(kind, string(v.Reason)).Inc()
	if v.Allowed() {
		return v, false
	}
	a.log.Info("nuisance call", "verdict", v, "from", a.user(info.Caller), "to", info.Called)
	return v, true
}

// anonymous reports whether the caller withheld the number (RFC 3323
// Privacy, or an anonymous From).
func anonymous(req *sip.Request) bool {
	if p := req.GetHeader("Privacy"); p != nil {
		v := strings.ToLower(p.Value())
		if strings.Contains(v, "id") || strings.Contains(v, "user") || strings.Contains(v, "header") {
			return true
		}
	}
	u := strings.ToLower(fromUser(req))
	return u == "" || u == "anonymous" || u == "unknown" || u == "restricted"
}

// now is the time flows see.
func (a *Agent) now() time.Time {
	if a.cfg.Clock != nil {
		return a.cfg.Clock.Now()
	}
	return time.Now()
}

// fromUser is the caller's number in its canonical form (callerid): what
// screening, routing and records key on.
func fromUser(req *sip.Request) string {
	if f := req.From(); f != nil {
		return callerid.Normalize(f.Address.User)
	}
	return ""
}

func callID(req *sip.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

// reasonPhrase is the standard reason phrase of the statuses a flow may
// reject with.
func reasonPhrase(code int) string {
	switch code {
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 480:
		return "Temporarily Unavailable"
	case 486:
		return "Busy Here"
	case 488:
		return "Not Acceptable Here"
	case 503:
		return "Service Unavailable"
	case 600:
		return "Busy Everywhere"
	case 603:
		return "Decline"
	default:
		return "Rejected"
	}
}
