package sip

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"
)

// Who may call: the source ACL. kefu serves a hotline behind PBX or
// carrier trunks, and anyone else who reaches its SIP port is at best a
// misrouted call and at worst a scanner or a fraudster. Ops list the
// trunks (ACLConfig.Calls); a new call (an out-of-dialog INVITE) from any
// other source gets 403 with a Warning that tells the peer's engineer
// why. Everything else is as without an ACL:
//
//   - OPTIONS is answered whoever asks (monitoring, load balancers, a
//     trunk's keep-alive from an address it does not call from).
//   - Requests within a dialog belong to a call already admitted.
//   - An agent's registered phone may call from wherever it registered
//     (its feature codes: pause, ready; sip.Agent.agentPhone), since
//     agents usually sit on another network than the trunk.
//   - REGISTER (agents' phones signing in) is open to every source unless
//     ACLConfig.Agents lists the agents' networks: the registrar's digest
//     authenticates the phones, and a source that keeps failing it is
//     banned by the flood guard.
//
// The ACL runs after the flood guard: scanners and banned sources are
// dropped before it, and each refusal counts as a strike of the guard
// (flood.Guard.Strike), so a source that keeps knocking is banned and then
// no longer answered at all. The guard's trusted sources (-trusted) may
// always call: listing a trunk there is enough. An empty Calls list lets
// everyone call, as kefu does with no configuration (its quick start).

// ACLConfig lists the sources allowed in.
type ACLConfig struct {
	// Calls are the addresses and prefixes that may place calls: the PBX
	// and carrier trunks, the load balancer. Empty: any source may call.
	Calls []netip.Prefix
	// Trusted are the flood guard's trusted sources. When Calls is not
	// empty they may call too. They are kefu's trust domain (RFC 3325):
	// the caller's number in their P-Asserted-Identity is believed
	// (Agent.callerUser), and so is a request's real source in their
	// SourceHeader (origin.go); from any other source both are ignored.
	Trusted []netip.Prefix
	// Agents are the networks agents' phones may register from. Empty:
	// any (the digest authenticates them).
	Agents []netip.Prefix
}

// ACL decides which sources may place calls and register phones. A nil
// *ACL lets everyone in. Its methods are safe for concurrent use; it is a
// prometheus.Collector of its refusals (kefu_acl_denied_total{method}).
type ACL struct {
	calls   []netip.Prefix // nil: anyone
	agents  []netip.Prefix // nil: anyone
	trusted []netip.Prefix // nil: no one
	denied  *prometheus.CounterVec
}

// NewACL returns the ACL for cfg. IPv4-mapped IPv6 prefixes are unmapped
// (so are sources) and host bits cleared.
func NewACL(cfg ACLConfig) (*ACL, error) {
	l := &ACL{denied: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kefu_acl_denied_total",
		Help: "Requests refused with 403 because their source is not in the ACL (-allow, -allow-agents), by method.",
	}, []string{"method"})}
	for _, m := range []string{"INVITE", "REGISTER"} {
		l.denied.WithLabelValues(m)
	}
	norm := func(name string, ps []netip.Prefix) ([]netip.Prefix, error) {
		var out []netip.Prefix
		for _, p := range ps {
			if !p.IsValid() {
				return nil, fmt.Errorf("sip: ACL %s: invalid prefix %q", name, p)
			}
			if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
				p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
			}
			out = append(out, p.Masked())
		}
		return out, nil
	}
	var err error
	if l.calls, err = norm("calls", cfg.Calls); err != nil {
		return nil, err
	}
	if l.trusted, err = norm("trusted", cfg.Trusted); err != nil {
		return nil, err
	}
	if len(l.calls) > 0 {
		l.calls = append(l.calls, l.trusted...)
	}
	if l.agents, err = norm("agents", cfg.Agents); err != nil {
		return nil, err
	}
	return l, nil
}

// ParsePrefixes reads a comma-separated list of addresses and CIDRs
// ("10.0.0.5, 192.0.2.0/24, 2001:db8::/32"); an address stands for itself
// alone. Blank items are skipped, so "" is an empty list.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if p, err := netip.ParsePrefix(item); err == nil {
			out = append(out, p)
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("%q: want an address or CIDR such as 10.0.0.5 or 10.0.0.0/24", item)
		}
		a = a.WithZone("")
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// CallsFrom reports whether src may place calls.
func (l *ACL) CallsFrom(src netip.Addr) bool { return l == nil || within(l.calls, src) }

// Trusts reports whether src is a trusted source (ACLConfig.Trusted),
// whose P-Asserted-Identity names the caller. Nothing is trusted when the
// list is empty.
func (l *ACL) Trusts(src netip.Addr) bool {
	return l != nil && len(l.trusted) > 0 && within(l.trusted, src)
}

// RegistersFrom reports whether an agent's phone may register from src.
func (l *ACL) RegistersFrom(src netip.Addr) bool { return l == nil || within(l.agents, src) }

// within reports whether an empty list or one of its prefixes holds a.
func within(ps []netip.Prefix, a netip.Addr) bool {
	if len(ps) == 0 {
		return true
	}
	a = a.Unmap().WithZone("")
	return slices.ContainsFunc(ps, func(p netip.Prefix) bool { return p.Contains(a) })
}

// Describe implements prometheus.Collector.
func (l *ACL) Describe(ch chan<- *prometheus.Desc) { l.denied.Describe(ch) }

// Collect implements prometheus.Collector.
func (l *ACL) Collect(ch chan<- prometheus.Metric) { l.denied.Collect(ch) }

// permit applies the source ACL to a new out-of-dialog request the flood
// guard let through. It returns false when it refused the request with
// 403 (INVITE from a source that may not call, REGISTER from outside the
// agents' networks); the refusal is a strike of the flood guard.
func (a *Agent) permit(req *sip.Request, tx sip.ServerTransaction) bool {
	l := a.cfg.ACL
	if l == nil {
		return true
	}
	o := a.origin(req) // behind a trusted proxy, the caller's own address
	src := o.addr
	var why string
	switch req.Method {
	case sip.INVITE:
		if l.CallsFrom(src.Addr()) || (req.From() != nil && a.agentPhone(req, o) != "") {
			return true
		}
		why = "this source may not place calls"
	case sip.REGISTER:
		if l.RegistersFrom(src.Addr()) {
			return true
		}
		why = "agents' phones may not register from this source"
	default:
		return true
	}
	l.denied.WithLabelValues(string(req.Method)).Inc()
	if a.cfg.Flood != nil {
		a.cfg.Flood.Strike(src.Addr(), time.Now())
	}
	res := sip.NewResponseFromRequest(req, 403, "Forbidden", nil)
	res.AppendHeader(warning("kefu: " + why))
	if err := tx.Respond(res); err != nil {
		a.log.Debug("could not send the ACL's 403", "error", err)
	}
	if req.IsInvite() {
		a.met.Rejected.WithLabelValues("403").Inc()
	}
	a.log.Debug("source not in the ACL", "method", string(req.Method), "src", o.String(), "from", a.user(a.fromUser(req)))
	return false
}
