package registrar

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Binding is one registered contact of an agent.
type Binding struct {
	// ID is the agent id (the user of the registered address).
	ID string
	// URI is the Contact as the phone sent it; Params are the Contact's
	// header parameters but expires (+sip.instance, q, ...). The 200
	// echoes both, since phones look for their own Contact in it.
	URI    sip.Uri
	Params sip.HeaderParams
	// Path is the REGISTER's Path (RFC 3327): the proxies between kefu
	// and the phone, each a name-addr ("<sip:10.0.0.1;lr>"), nearest to
	// kefu first. Requests to the agent carry them as their route set,
	// so they reach the phone from any node, through the proxy that
	// holds its connection or NAT binding.
	Path []string
	// Source and Transport are where the REGISTER came from: the phone's
	// address as seen by kefu (after any NAT), or the proxy's, and the
	// transport in upper case ("UDP", "TCP", "TLS", "WS").
	Source    netip.AddrPort
	Transport string
	// Origin and OriginTransport are where the phone itself sent the
	// REGISTER from (Request.Origin): the same as Source for a phone that
	// registers directly, the phone's own address behind a proxy. A call
	// from the agent's phone (its feature codes) must come from there.
	// Zero in bindings stored before kefu kept it.
	Origin          netip.AddrPort
	OriginTransport string
	// CallID and CSeq order refreshes (RFC 3261 section 10.3 step 7).
	CallID string
	CSeq   uint32
	// UserAgent is the phone's User-Agent header.
	UserAgent string
	// Since is when the contact was first registered, Expires when it
	// lapses unless refreshed.
	Since, Expires time.Time
}

// NATed reports whether the phone's Contact names another address, port
// or transport than the one its REGISTER came from: the phone is behind
// NAT (or lists an address kefu cannot reach), and requests to it must go
// to Source instead. A phone registered through proxies (Path) is not:
// reaching it is the proxies' business.
func (b Binding) NATed() bool {
	if !b.Source.IsValid() || len(b.Path) > 0 {
		return false
	}
	host := strings.Trim(b.URI.Host, "[]")
	ip, err := netip.ParseAddr(host)
	if err != nil || ip.Unmap() != b.Source.Addr().Unmap() {
		return true
	}
	return uriPort(b.URI) != b.Source.Port() || uriTransport(b.URI) != b.Transport
}

// Target is the URI to reach the agent at: the Contact, with its host,
// port and transport replaced by the REGISTER's source when the phone is
// NATed (as rport does for responses, RFC 3581).
func (b Binding) Target() sip.Uri {
	u := *b.URI.Clone()
	if !b.NATed() {
		return u
	}
	ip := b.Source.Addr().Unmap()
	u.Host = ip.String()
	if ip.Is6() {
		u.Host = "[" + u.Host + "]"
	}
	u.Port = int(b.Source.Port())
	u.UriParams = u.UriParams.Clone()
	u.UriParams.Remove("transport")
	if t := strings.ToLower(b.Transport); t != "" && t != "udp" && !(t == "tls" && u.Scheme == "sips") {
		u.UriParams.Add("transport", t)
	}
	return u
}

// Destination is the host:port requests to the agent are sent to: the
// first proxy of the Path, else the REGISTER's source (over a
// connection-oriented transport, the connection the phone opened), or the
// Contact's own address when there is no source.
func (b Binding) Destination() string {
	if len(b.Path) > 0 {
		var u sip.Uri
		var p sip.HeaderParams
		if _, err := sip.ParseAddressValue(b.Path[0], &u, &p); err == nil {
			return u.Host + ":" + strconv.Itoa(int(uriPort(u)))
		}
	}
	if b.Source.IsValid() {
		return netip.AddrPortFrom(b.Source.Addr().Unmap(), b.Source.Port()).String()
	}
	return b.URI.Host + ":" + strconv.Itoa(int(uriPort(b.URI)))
}

// From reports whether a request from src over transport (where it
// really came from, as Request.Origin) comes from this binding's phone:
// the address, port and transport its REGISTER came from. A binding
// stored without its origin matches on Source unless it came through a
// proxy (Path), whose address is every caller's.
func (b Binding) From(src netip.AddrPort, transport string) bool {
	at, tr := b.Origin, b.OriginTransport
	if !at.IsValid() {
		if len(b.Path) > 0 {
			return false
		}
		at, tr = b.Source, b.Transport
	}
	return at.IsValid() && src.IsValid() && at.Addr().Unmap() == src.Addr().Unmap() && at.Port() == src.Port() &&
		strings.EqualFold(tr, transport)
}

// clone returns b with its own copies of the URI's and params' slices.
func (b Binding) clone() Binding {
	b.URI = *b.URI.Clone()
	b.Params = b.Params.Clone()
	b.Path = slices.Clone(b.Path)
	return b
}

// uriPort is the URI's port, or the scheme's default.
func uriPort(u sip.Uri) uint16 {
	if u.Port > 0 {
		return uint16(u.Port)
	}
	if u.Scheme == "sips" || strings.EqualFold(param(u.UriParams, "transport"), "tls") {
		return 5061
	}
	return 5060
}

// uriTransport is the transport a URI asks for, in upper case.
func uriTransport(u sip.Uri) string {
	if t := param(u.UriParams, "transport"); t != "" {
		t = strings.ToUpper(t)
		if t == "TCP" && u.Scheme == "sips" {
			return "TLS"
		}
		return t
	}
	if u.Scheme == "sips" {
		return "TLS"
	}
	return "UDP"
}

// uriKey identifies a contact for matching refreshes: scheme, user, host
// (case-insensitively), port and transport, a simplification of RFC 3261
// section 19.1.4 that real phones' refreshes satisfy.
func uriKey(u sip.Uri) string {
	scheme := strings.ToLower(u.Scheme)
	if scheme == "" {
		scheme = "sip"
	}
	return scheme + ":" + u.User + "@" + strings.ToLower(u.Host) + ":" + strconv.Itoa(int(uriPort(u))) + ";" + uriTransport(u)
}

// param gets a parameter by case-insensitive name.
func param(p sip.HeaderParams, name string) string {
	for _, kv := range p {
		if strings.EqualFold(kv.K, name) {
			return kv.V
		}
	}
	return ""
}

// hasParam reports whether p has the parameter, case-insensitively.
func hasParam(p sip.HeaderParams, name string) bool {
	for _, kv := range p {
		if strings.EqualFold(kv.K, name) {
			return true
		}
	}
	return false
}

// withoutParam returns a copy of p without the parameter.
func withoutParam(p sip.HeaderParams, name string) sip.HeaderParams {
	var out sip.HeaderParams
	for _, kv := range p {
		if !strings.EqualFold(kv.K, name) {
			out = append(out, kv)
		}
	}
	return out
}
