package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/sip/sdp"
)

// onInvite takes a new INVITE (or passes a re-INVITE to its call). For a new
// call it checks the request, admits it (flows.Bundle.Admit: route,
// screening, the steps before the answer), allocates media, and hands the
// call to its owner goroutine; the handler returns once the final response
// is out, so sipgo keeps the transaction alive through the ringing. Every
// refusal is a *statusError carrying its SIP status.
func (a *Agent) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if h := missingHeader(req); h != "" {
		a.reject(req, tx, refuse(400, "missing "+h+" header"))
		return
	}
	if to := req.To(); to != nil && to.Params.Has("tag") {
		a.inDialog(req, tx)
		return
	}
	if !a.admit(req, tx) {
		return
	}
	c, err := a.newInvite(req, tx, time.Now())
	if err != nil {
		a.reject(req, tx, err)
		return
	}
	a.addCall(c)
	a.wg.Add(1)
	go c.run()
	<-c.finalSent
}

// newInvite admits a new call and prepares its media: the call, or the
// error to refuse it with. A call refused after its admission gives up
// its place in the repeat-call count (flows.Bundle.Release): only calls
// kefu answers count (CS-ANGRY).
func (a *Agent) newInvite(req *sip.Request, tx sip.ServerTransaction, received time.Time) (c *call, err error) {
	if a.draining.Load() {
		se := refuse(503, "", sip.NewHeader("Retry-After", "30"))
		se.err = errDraining
		return nil, se
	}
	// The session timer's terms (RFC 4028): 422 before anything is
	// counted, so the caller's retry is a fresh attempt.
	th, err := readTimerHeaders(req)
	if err != nil {
		return nil, refuse(400, err.Error())
	}
	var st sessionTimer
	if se := st.asUAS(th); se != nil {
		return nil, se
	}
	snap := a.cfg.Current()
	o := a.origin(req) // behind a trusted proxy, the caller's own address
	src := o.addr
	adm, ref, err := snap.Admit(context.Background(), flows.Invite{From: a.callerUser(req), To: req.Recipient.User,
		Anonymous: a.anonymous(req), CallID: callID(req), Source: src, At: a.now(), Agent: a.agentPhone(req, o)})
	a.screened(adm)
	defer func() {
		if c == nil {
			snap.Release(adm)
		}
	}()
	if err != nil {
		a.log.Error("flow cannot start", "flow", adm.Flow.Name(), "error", err)
		return nil, refuse(500, "")
	}
	if ref != nil {
		se := &statusError{code: ref.Code, warning: ref.Warning(), err: ref}
		if ref.By == flows.RefusedByScreening {
			se.log = []any{"verdict", adm.Screening.Log} // the list entry's id, the rule
		}
		return nil, se
	}
	// No SDP: a late offer. kefu offers in the 200; the answer comes in
	// the ACK (lateoffer.go).
	late := len(req.Body()) == 0
	var offer *sdp.Offer
	if !late {
		if ct := req.ContentType(); ct != nil && !strings.EqualFold(strings.TrimSpace(strings.Split(ct.Value(), ";")[0]), "application/sdp") {
			return nil, refuse(415, "", sip.NewHeader("Accept", "application/sdp"))
		}
		if offer, err = sdp.ParseOffer(req.Body()); err != nil {
			return nil, refuse(400, err.Error())
		}
	}
	conn, err := a.listenRTP()
	if err != nil {
		se := refuse(503, "no media port free", sip.NewHeader("Retry-After", "10")) // a port frees when any call ends
		se.err, se.log = err, []any{"active_calls", a.ActiveCalls()}
		return nil, se
	}
	local := sdp.Local{
		Addr:           a.adv,
		Port:           conn.LocalAddr().(*net.UDPAddr).Port,
		Codecs:         []media.Codec{media.CodecPCMU, media.CodecPCMA},
		SessionID:      uint64(received.UnixNano() & 0x7fffffffffff),
		SessionVersion: 1,
		Username:       "kefu",
	}
	if err := withKey(&local, a.inboundSRTP(snap, src)); err != nil {
		a.releaseRTP(conn)
		return nil, &statusError{code: 500, err: err}
	}
	if late {
		c = a.newCall(req, tx, snap, adm, conn, sdp.Answer{}, sdp.BuildOffer(local, true, sdp.SendRecv), local, received, true)
		c.st = st
		return c, nil
	}
	ans, body, err := sdp.Negotiate(offer, local)
	if err != nil {
		a.releaseRTP(conn)
		if errors.Is(err, sdp.ErrSRTPRequired) {
			se := refuse(488, srtpRefused)
			se.err = err
			return nil, se
		}
		if errors.Is(err, sdp.ErrNoCommonCodec) {
			se := refuse(488, "kefu speaks PCMU and PCMA only")
			se.err = err // the formats offered
			return nil, se
		}
		return nil, &statusError{code: 500, err: err}
	}
	settle(&local, ans)
	c = a.newCall(req, tx, snap, adm, conn, ans, body, local, received, false)
	c.st = st
	return c, nil
}

// statusError is a refused INVITE: its SIP status, the text of a Warning
// header for the caller's engineer, and the headers the status needs.
type statusError struct {
	code    int
	warning string
	hdrs    []sip.Header
	err     error // the cause, when there is one
	log     []any // more about the cause, for the refusal's log line
}

// errDraining is why a call is refused while kefu drains.
var errDraining = errors.New("draining: kefu is stopping or out of service")

// refuse builds the error for status code with a warning ("" for none)
// and extra headers.
func refuse(code int, warning string, hdrs ...sip.Header) *statusError {
	return &statusError{code: code, warning: warning, hdrs: hdrs}
}

func (e *statusError) Error() string {
	if e.warning == "" {
		return fmt.Sprintf("%d %s", e.code, reasonPhrase(e.code))
	}
	return fmt.Sprintf("%d %s: %s", e.code, reasonPhrase(e.code), e.warning)
}

func (e *statusError) Unwrap() error { return e.err }

// screened counts and logs the screening verdict of an admitted call.
func (a *Agent) screened(adm flows.Admission) {
	sc := adm.Screening
	if !sc.Done {
		return
	}
	if sc.Err != nil {
		a.log.Warn("screening failed; the call goes on", "error", sc.Err)
	}
	a.met.Screened.WithLabelValues(sc.Kind, sc.Reason).Inc()
	switch {
	case sc.Nuisance():
		a.log.Info("nuisance call", "verdict", sc.Log, "from", a.user(adm.Info.Caller), "to", adm.Info.Called)
	case sc.Spared != "":
		a.log.Info("repeat caller spared", "verdict", sc.Log, "from", a.user(adm.Info.Caller), "to", adm.Info.Called)
	}
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

// reject sends a final error response to a new INVITE: err's status
// (500 for an error without one), its Warning and headers.
func (a *Agent) reject(req *sip.Request, tx sip.ServerTransaction, err error) {
	se, ok := err.(*statusError)
	if !ok {
		se = &statusError{code: 500, err: err}
	}
	code, reason := se.code, reasonPhrase(se.code)
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	if se.warning != "" {
		res.AppendHeader(warning(se.warning))
	}
	for _, h := range se.hdrs {
		res.AppendHeader(h)
	}
	if code == 415 || code == 405 {
		res.AppendHeader(sip.NewHeader("Allow", Allowed))
	}
	if err := tx.Respond(res); err != nil {
		a.log.Warn("could not send response", "code", code, "error", err)
	}
	a.met.Rejected.WithLabelValues(fmt.Sprint(code)).Inc()
	a.logRefusal(req, code, se.cause(), se.log...)
}

// logRefusal logs a refused INVITE: its Call-ID, status and cause, and
// what more there is to say about it.
func (a *Agent) logRefusal(req *sip.Request, code int, cause string, more ...any) {
	args := append([]any{"call", callID(req), "code", code, "reason", reasonPhrase(code), "cause", cause,
		"from", a.user(a.fromUser(req)), "src", a.origin(req).String()}, more...)
	a.log.Info("call refused", args...)
}

// cause says why the call was refused, in words for the log.
func (e *statusError) cause() string {
	var ref *flows.Refusal
	switch {
	case errors.As(e.err, &ref) && (ref.By == flows.RefusedByScreening || ref.By == flows.RefusedByRoutes):
		return "by " + ref.By + ": " + ref.Reason
	case errors.As(e.err, &ref):
		return "by flow " + ref.By + ": " + ref.Reason
	case e.err != nil && e.warning != "":
		return e.warning + ": " + e.err.Error()
	case e.err != nil:
		return e.err.Error()
	case e.warning != "":
		return e.warning
	}
	return reasonPhrase(e.code)
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

// anonymous reports whether the caller withheld the number (RFC 3323
// Privacy, or no number: an anonymous From with no P-Asserted-Identity
// kefu believes). A trusted trunk may assert the number of a caller who
// withheld it: screening and records key on it, and kefu passes it on to
// no one (identity.go).
func (a *Agent) anonymous(req *sip.Request) bool {
	if p := req.GetHeader("Privacy"); p != nil {
		v := strings.ToLower(p.Value())
		if strings.Contains(v, "id") || strings.Contains(v, "user") || strings.Contains(v, "header") {
			return true
		}
	}
	return withheld(a.fromUser(req))
}

// withheld reports whether a user part names no number.
func withheld(user string) bool {
	u := strings.ToLower(user)
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
func (a *Agent) fromUser(req *sip.Request) string {
	return flows.CallerNumber(a.callerUser(req))
}

func callID(req *sip.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

// reasonPhrase is the standard reason phrase of the statuses kefu refuses
// an INVITE with.
func reasonPhrase(code int) string {
	switch code {
	case 400:
		return "Bad Request"
	case 415:
		return "Unsupported Media Type"
	case 422:
		return "Session Interval Too Small"
	case 500:
		return "Server Internal Error"
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
