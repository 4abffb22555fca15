package flood

import (
	"net/netip"
	"time"
)

// Request is what the guard looks at in an incoming out-of-dialog request.
type Request struct {
	// Method is the SIP method as on the request line ("INVITE"); methods
	// are case-sensitive (RFC 3261 7.1).
	Method string
	// Source is the address the packet came from (not Via, which the
	// sender writes). IPv4-mapped IPv6 addresses count as IPv4, and IPv6
	// sources are grouped by /64, the block one host usually gets.
	Source netip.Addr
	// Caller is the From user part, normalised by the SIP layer; "" for
	// none or anonymous, which skips the per-caller limit. Only the first
	// 64 bytes count.
	Caller string
	// UserAgent is the User-Agent header, "" if absent. Only its first 256
	// bytes are searched for scanner patterns.
	UserAgent string
}

// Action is what the SIP layer does with a request.
type Action int

const (
	// Allow: handle the request as usual. The zero Verdict allows.
	Allow Action = iota
	// Drop: send nothing. Scanners look for responses, and answering a
	// flood over UDP with spoofed sources reflects traffic at a victim.
	Drop
	// Reject: send the final response Verdict.Code, with a Retry-After
	// header when Verdict.RetryAfter > 0.
	Reject
)

// String returns "allow", "drop" or "reject", for logs and metric labels.
func (a Action) String() string {
	switch a {
	case Allow:
		return "allow"
	case Drop:
		return "drop"
	case Reject:
		return "reject"
	}
	return "unknown"
}

// Reason is a stable code saying why a request was not allowed, for logs
// and Prometheus labels. Values never change once released.
type Reason string

const (
	// ReasonNone goes with Allow.
	ReasonNone Reason = ""
	// ReasonScannerUA: the User-Agent matched a scanner pattern.
	ReasonScannerUA Reason = "scanner_ua"
	// ReasonSourceRate: the source address is over its limit.
	ReasonSourceRate Reason = "source_rate"
	// ReasonCallerRate: the caller is over its limit.
	ReasonCallerRate Reason = "caller_rate"
	// ReasonSourceBanned: the source was denied too often recently and is
	// dropped until its ban ends.
	ReasonSourceBanned Reason = "source_banned"
)

// Reasons lists every Reason but ReasonNone, so metrics can create their
// label values up front.
func Reasons() []Reason {
	return append([]Reason(nil), reasonIndex[:]...)
}

// reasonIndex numbers the reasons for the Guard's counters.
var reasonIndex = [...]Reason{ReasonScannerUA, ReasonSourceRate, ReasonCallerRate, ReasonSourceBanned}

// Verdict is the guard's decision on one request.
type Verdict struct {
	// Action is what to do.
	Action Action
	// Code is the SIP status for Reject, 0 otherwise.
	Code int
	// Reason says why the request was not allowed; ReasonNone for Allow.
	Reason Reason
	// RetryAfter, when positive, goes into a Retry-After header (whole
	// seconds, at least one). It is 0 for a 403, which may not carry one
	// (RFC 3261 20.33).
	RetryAfter time.Duration
}

// allow is the Verdict for an allowed request.
var allow = Verdict{}
