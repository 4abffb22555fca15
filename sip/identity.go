package sip

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/kefu-hotline/kefu/flows"
)

// identity is the caller a B2BUA leg is placed for, so the far end's phone
// shows who is calling: the caller's number in From and
// P-Asserted-Identity (RFC 3325), the number they dialled in Diversion
// (RFC 5806), and for an agent the queue and the wait.
type identity struct {
	Number  string // the caller's number; "" when withheld
	Display string // the display name; default the number
	Called  string // the number the caller dialled
	Queue   string
	Waited  time.Duration
}

// callerIdentity is the identity of the call's caller.
func (c *call) callerIdentity() *identity {
	info := c.adm.Info
	id := &identity{Called: info.Called}
	if !info.Anonymous {
		id.Number = info.Caller
	}
	return id
}

// apply writes the identity into an INVITE kefu places from host.
func (id *identity) apply(inv *sip.Request, host string) {
	if id == nil {
		return
	}
	from := inv.From()
	if id.Number == "" {
		from.DisplayName = "Anonymous"
		from.Address = sip.Uri{Scheme: "sip", User: "anonymous", Host: "anonymous.invalid"}
		inv.AppendHeader(sip.NewHeader("Privacy", "id"))
	} else {
		from.DisplayName = quoteSafe(orDefault(id.Display, id.Number))
		from.Address = sip.Uri{Scheme: "sip", User: id.Number, Host: host}
		inv.AppendHeader(sip.NewHeader("P-Asserted-Identity", "<sip:"+id.Number+"@"+host+">"))
	}
	if id.Called != "" {
		inv.AppendHeader(sip.NewHeader("Diversion", "<sip:"+id.Called+"@"+host+">;reason=unconditional"))
	}
	if id.Queue != "" {
		inv.AppendHeader(sip.NewHeader("X-Kefu-Queue", id.Queue))
		inv.AppendHeader(sip.NewHeader("X-Kefu-Wait", strconv.Itoa(int(id.Waited.Seconds()))))
	}
}

// forAgent is the identity an agent's phone sees: the queue before the
// number in the display name, since most phones show only that.
func (id identity) forAgent(req flows.RingRequest) *identity {
	id.Queue, id.Waited = req.Queue, req.Waited
	who := id.Number
	if who == "" {
		who = "Anonymous"
	}
	id.Display = req.Queue + " " + who
	return &id
}

// callerUser is the caller's number as the trunk sent it: the first
// number in P-Asserted-Identity (RFC 3325; sip:, sips: or tel: URIs)
// when the INVITE comes from a trusted source (ACL.Trusts: the trunks
// and the proxy in -trusted), else the user part of From. From any other
// source the header is ignored, since anyone can write it; a proxy in
// front must drop it from the sources it does not trust itself
// (deploy/kamailio/kamailio.cfg does).
func (a *Agent) callerUser(req *sip.Request) string {
	from := ""
	if f := req.From(); f != nil {
		from = f.Address.User
	}
	src, err := netip.ParseAddrPort(req.Source())
	if err != nil || !a.cfg.ACL.Trusts(src.Addr()) {
		return from
	}
	for _, h := range req.GetHeaders("P-Asserted-Identity") {
		for v := range strings.SplitSeq(h.Value(), ",") {
			if user := assertedUser(v); !withheld(user) {
				return user
			}
		}
	}
	return from
}

// assertedUser is the number in one P-Asserted-Identity value
// ("Name" <sip:8613912345678@trunk>, <tel:+8613912345678>, or the URI
// bare); "" when it names none.
func assertedUser(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '<'); i >= 0 {
		v = v[i+1:]
		if j := strings.IndexByte(v, '>'); j >= 0 {
			v = v[:j]
		}
	}
	scheme, rest, ok := strings.Cut(v, ":")
	if !ok {
		return ""
	}
	switch strings.ToLower(strings.TrimSpace(scheme)) {
	case "tel":
		num, _, _ := strings.Cut(rest, ";")
		return strings.TrimSpace(num)
	case "sip", "sips":
		user, _, ok := strings.Cut(rest, "@")
		if !ok {
			return ""
		}
		user, _, _ = strings.Cut(user, ";") // user parameters (";phone-context=")
		return strings.TrimSpace(user)
	}
	return ""
}

// quoteSafe drops what cannot stand inside a quoted display name.
func quoteSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 {
			return -1
		}
		return r
	}, s)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
