package sip

import (
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
	"github.com/kefu-hotline/kefu/sip/registrar"
)

// onRegister answers REGISTER. With Config.Registrar kefu is its agents'
// registrar (sip/registrar decides; this turns the request into its input
// and its answer into a response). Without one, REGISTER is a method kefu
// does not serve: 405, as for any other.
func (a *Agent) onRegister(req *sip.Request, tx sip.ServerTransaction) {
	reg := a.cfg.Registrar
	if reg == nil {
		a.onNoRoute(req, tx)
		return
	}
	if !a.admit(req, tx) {
		return
	}
	if names := unsupportedRequire(req); len(names) > 0 {
		// Of the extensions, kefu's registrar has path (RFC 3327) only:
		// not outbound, not gruu.
		res := sip.NewResponseFromRequest(req, 420, "Bad Extension", nil)
		res.AppendHeader(sip.NewHeader("Unsupported", strings.Join(names, ", ")))
		_ = tx.Respond(res)
		return
	}
	in, warn := registerInput(req)
	if o := a.origin(req); o.relayed {
		in.Origin, in.OriginTransport = o.addr, o.transport // the phone behind the proxy
	}
	var out registrar.Response
	if warn != "" {
		out = registrar.Response{Code: 400, Reason: "Bad Request", Warning: warn, Outcome: registrar.Malformed}
	} else {
		out = reg.Handle(in)
	}
	if err := tx.Respond(registerResponse(req, out)); err != nil {
		a.log.Debug("could not answer REGISTER", "code", out.Code, "error", err)
	}
	a.logRegister(in, out)
}

// registerInput is the registrar's view of a REGISTER, or why it is
// malformed.
func registerInput(req *sip.Request) (registrar.Request, string) {
	to, cseq, id := req.To(), req.CSeq(), req.CallID()
	switch {
	case to == nil || req.From() == nil || cseq == nil || id == nil || len(req.GetHeaders("Via")) == 0:
		return registrar.Request{}, "a REGISTER needs To, From, Call-ID, CSeq and Via"
	case cseq.MethodName != sip.REGISTER:
		return registrar.Request{}, "CSeq method is not REGISTER"
	}
	in := registrar.Request{
		User: to.Address.User, Domain: to.Address.Host, Method: string(req.Method),
		CallID: id.Value(), CSeq: cseq.SeqNo, Expires: registrar.NoExpires, Transport: req.Transport(),
	}
	for _, h := range req.GetHeaders("Authorization") {
		in.Authorization = append(in.Authorization, h.Value())
	}
	if h := req.GetHeader("Expires"); h != nil {
		// A malformed value counts as none (RFC 3261 section 20.19).
		if n, err := strconv.ParseUint(strings.TrimSpace(h.Value()), 10, 32); err == nil {
			in.Expires = int(min(n, 1<<31-1))
		}
	}
	for _, h := range req.GetHeaders("Contact") {
		var c registrar.Contact
		if ch, ok := h.(*sip.ContactHeader); ok {
			c = registrar.Contact{URI: ch.Address, Params: ch.Params}
		} else if _, err := sip.ParseAddressValue(h.Value(), &c.URI, &c.Params); err != nil {
			return registrar.Request{}, "malformed Contact"
		}
		in.Contacts = append(in.Contacts, c)
	}
	if src, err := netip.ParseAddrPort(req.Source()); err == nil {
		in.Source = src
	}
	if h := req.GetHeader("User-Agent"); h != nil {
		in.UserAgent = h.Value()
	}
	for _, h := range req.GetHeaders("Path") {
		for _, v := range splitList(h.Value()) {
			var u sip.Uri
			var p sip.HeaderParams
			if _, err := sip.ParseAddressValue(v, &u, &p); err != nil {
				return registrar.Request{}, "malformed Path"
			}
			in.Path = append(in.Path, v)
		}
	}
	return in, ""
}

// unsupportedRequire lists the option tags of req's Require headers that
// kefu's registrar does not have (all but path).
func unsupportedRequire(req *sip.Request) []string {
	var names []string
	for _, h := range req.GetHeaders("Require") {
		for _, tag := range strings.Split(h.Value(), ",") {
			if tag = strings.TrimSpace(tag); tag != "" && !strings.EqualFold(tag, "path") {
				names = append(names, tag)
			}
		}
	}
	return names
}

// splitList splits a header's comma-separated values, leaving the commas
// inside <...> and quotes alone.
func splitList(v string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"' && (i == 0 || v[i-1] != '\\'):
			quoted = !quoted
		case quoted:
		case c == '<':
			depth++
		case c == '>' && depth > 0:
			depth--
		case c == ',' && depth == 0:
			if s := strings.TrimSpace(v[start:i]); s != "" {
				out = append(out, s)
			}
			start = i + 1
		}
	}
	if s := strings.TrimSpace(v[start:]); s != "" {
		out = append(out, s)
	}
	return out
}

// registerResponse builds the SIP response for the registrar's answer.
func registerResponse(req *sip.Request, out registrar.Response) *sip.Response {
	res := sip.NewResponseFromRequest(req, out.Code, out.Reason, nil)
	for _, c := range out.Challenges {
		res.AppendHeader(sip.NewHeader("WWW-Authenticate", c))
	}
	if out.MinExpires > 0 {
		res.AppendHeader(sip.NewHeader("Min-Expires", strconv.Itoa(out.MinExpires)))
	}
	if out.Warning != "" {
		res.AppendHeader(warning(out.Warning))
	}
	if out.Code == 200 {
		for _, b := range out.Bindings {
			params := b.Params.Clone()
			params.Add("expires", strconv.Itoa(out.ExpiresIn(b)))
			res.AppendHeader(&sip.ContactHeader{Address: b.URI, Params: params})
		}
		res.AppendHeader(sip.NewHeader("Date", out.Date.UTC().Format(http.TimeFormat)))
		if len(out.Path) > 0 {
			// RFC 3327 section 5.3: the path stored, and that kefu
			// stored it.
			for _, p := range out.Path {
				res.AppendHeader(sip.NewHeader("Path", p))
			}
			res.AppendHeader(sip.NewHeader("Supported", "path"))
		}
	}
	return res
}

// logRegister logs what became of a REGISTER: sign-ins, moves and
// sign-outs at info, a wrong password for an agent at info (ops want to hear of a
// misconfigured phone), the rest at debug. Ids that are no agent's are
// masked like numbers: a scanner's guesses may be anyone's.
func (a *Agent) logRegister(in registrar.Request, out registrar.Response) {
	attrs := []any{"outcome", string(out.Outcome), "code", out.Code, "src", in.Source.String(), "user_agent", in.UserAgent}
	if in.Origin.IsValid() {
		// Through a trusted proxy: the phone's own address, and the proxy's.
		attrs = append(attrs, "via", in.Source.String())
		attrs[5] = in.Origin.String()
	}
	switch out.Outcome {
	case registrar.Registered:
		b := out.Bindings[0]
		t := b.Target()
		a.log.Info("agent registered", append(attrs, "agent", out.ID, "contact", t.String(), "bindings", len(out.Bindings),
			"expires", out.ExpiresIn(b))...)
	case registrar.Refreshed:
		a.log.Debug("agent registration refreshed", append(attrs, "agent", out.ID)...)
	case registrar.Unregistered:
		a.log.Info("agent unregistered", append(attrs, "agent", out.ID)...)
	case registrar.BadPassword:
		a.log.Info("agent registration refused", append(attrs, "agent", in.User)...)
	case registrar.Failed:
		a.log.Warn("agent registration not stored", append(attrs, "agent", out.ID, "error", fmt.Sprint(out.Err))...)
	default:
		a.log.Debug("REGISTER", append(attrs, "user", a.user(in.User))...)
	}
}

// agentPhone returns the agent id whose registered phone sent req (the From
// user is an agent with a binding made from the very address and
// transport req comes from: o, behind a trusted proxy the phone's own), or
// "": such a call may dial only feature codes.
func (a *Agent) agentPhone(req *sip.Request, o origin) string {
	reg := a.cfg.Registrar
	if reg == nil || !o.addr.IsValid() {
		return ""
	}
	id := req.From().Address.User
	for _, b := range reg.Bindings(id) {
		if b.From(o.addr, o.transport) {
			return id
		}
	}
	return ""
}
