package sip

import (
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
