package sip

import (
	"net/netip"
	"strings"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// SourceHeader is where a proxy in front of kefu names a request's real
// source: "203.0.113.7:5060;transport=udp" (an IPv6 address in brackets).
// Behind a proxy (Kamailio's dispatcher: deploy/kamailio/kamailio.cfg)
// every request comes from the proxy's address, so kefu would see one
// source for all callers and phones. The proxy removes any such header a
// caller sent and adds its own to every request it relays to a node.
//
// kefu believes it only from a trusted source (-trusted: ACL.Trusts), and
// then takes it as the request's source everywhere a source matters:
// recognising an agent's phone (its feature codes), the source ACL
// (-allow, -allow-agents), the flood guard's per-source limits and bans,
// the registrar's digest-failure bans, the trunk a call comes from, and
// the logs. From any other source the header is removed on arrival
// (untrusted), so nothing believes or logs it.
const SourceHeader = "X-Kefu-Source"

// origin is where a request really came from.
type origin struct {
	addr      netip.AddrPort
	transport string // upper case: "UDP", "TCP", "TLS", ...
	relayed   bool   // named by a trusted proxy (SourceHeader)
}

// String is the address as logs show it.
func (o origin) String() string {
	if !o.addr.IsValid() {
		return ""
	}
	return o.addr.String()
}

// origin is where req really came from: its SourceHeader when a trusted
// proxy sent it and it is well formed, else the address and transport it
// arrived from.
func (a *Agent) origin(req *sip.Request) origin {
	hop, _ := netip.ParseAddrPort(req.Source())
	o := origin{addr: hop, transport: strings.ToUpper(req.Transport())}
	if !hop.IsValid() || !a.cfg.ACL.Trusts(hop.Addr()) {
		return o
	}
	hs := req.GetHeaders(SourceHeader)
	if len(hs) == 0 {
		return o
	}
	// The last one is the nearest proxy's: it is the one kefu trusts.
	if src, tr, ok := parseSource(hs[len(hs)-1].Value()); ok {
		if tr == "" {
			tr = o.transport
		}
		return origin{addr: src, transport: tr, relayed: true}
	}
	return o
}

// parseSource reads a SourceHeader value: host:port, then optional
// parameters of which transport counts.
func parseSource(v string) (netip.AddrPort, string, bool) {
	hostport, params, _ := strings.Cut(strings.TrimSpace(v), ";")
	src, err := netip.ParseAddrPort(strings.TrimSpace(hostport))
	if err != nil || src.Port() == 0 {
		return netip.AddrPort{}, "", false
	}
	src = netip.AddrPortFrom(src.Addr().Unmap().WithZone(""), src.Port())
	tr := ""
	for p := range strings.SplitSeq(params, ";") {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(k, "transport") {
			tr = strings.ToUpper(strings.TrimSpace(val))
		}
	}
	return src, tr, true
}

// untrusted wraps a handler so that a request from a source kefu does not
// trust arrives without SourceHeader: anyone can write it, so it is
// neither believed nor logged nor passed on.
func (a *Agent) untrusted(h sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		if req.GetHeader(SourceHeader) != nil {
			if hop, err := netip.ParseAddrPort(req.Source()); err != nil || !a.cfg.ACL.Trusts(hop.Addr()) {
				stripSource(req)
			}
		}
		h(req, tx)
	}
}

// stripSource removes every SourceHeader of req, however its name is
// spelt.
func stripSource(req *sip.Request) {
	for h := req.GetHeader(SourceHeader); h != nil; h = req.GetHeader(SourceHeader) {
		if !req.RemoveHeader(h.Name()) {
			return
		}
	}
}
