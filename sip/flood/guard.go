// Package flood is the SIP flood guard's policy: for each incoming
// out-of-dialog request it decides whether to allow it, drop it silently
// or reject it with a final response. It is pure logic: no sockets, no
// goroutines, and no clock reads (the time is passed in), so every
// decision can be tested in virtual time.
//
// The rules, in the order they are applied:
//
//  1. A source that is banned (see below) is dropped: ReasonSourceBanned.
//  2. A User-Agent containing a scanner pattern is dropped: scanners look
//     for any response at all. The one exception is an INVITE from a
//     Trusted source, which gets 403: a proxy in front passes the
//     scanner's User-Agent through, and it must get a final response or
//     it holds the transaction for 32 s and may mark kefu as down.
//  3. ACK and CANCEL pass: they belong to an INVITE already judged, and
//     a lost CANCEL would leave kefu ringing for a caller who hung up.
//  4. The source address (per /64 for IPv6) is rate-limited per method
//     class, unless it is Trusted: ReasonSourceRate.
//  5. The caller (From user) is rate-limited per method class, whatever
//     the source: ReasonCallerRate. A trunk carries many callers, so one
//     caller redialling in a loop is refused while the others get
//     through the same trunk.
//
// A request over a limit gets, by method class:
//
//   - INVITE: Reject with Config.RejectCode (503) over the source limit or
//     Config.CallerRejectCode (486) over the caller limit, with a
//     Retry-After. Never silence: a real caller must not be left ringing.
//   - REGISTER: Reject 503 with Retry-After. A legitimate phone behind a
//     busy NAT backs off and registers later; a 403 would make many
//     phones give up until someone reboots them, and no challenge (401)
//     is sent, so a password guesser learns nothing.
//   - OPTIONS and other methods: Drop. Nobody is waiting on a call, and
//     answering a flood of spoofed UDP requests turns kefu into a
//     reflector aimed at the spoofed address.
//
// Escalation: an untrusted source denied Config.BanStrikes times within
// Config.BanWindow (rate limits and scanner matches count, and so do the
// refusals the SIP layer reports with Strike, such as the source ACL's) is
// banned for Config.BanFor: everything it sends is dropped. Ban bans at
// once (the registrar's repeated digest failures). Trusted sources are never
// banned, so an INVITE from a trunk always gets a final response.
//
// Call Check after the transaction layer has absorbed retransmissions
// (sipgo's request handlers see each transaction once); otherwise every
// retransmitted INVITE costs a token.
package flood

import (
	"hash/maphash"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"
)

// maxCallerLen is how much of Request.Caller counts; E.164 numbers are 15
// digits, and a longer key only costs memory.
const maxCallerLen = 64

// Guard applies the flood policy. Its methods are safe for concurrent use.
type Guard struct {
	limits           [numClasses]struct{ source, caller limit }
	scanners         *scanners
	trusted          []netip.Prefix
	rejectCode       int
	callerRejectCode int
	banStrikes       int32
	banWindow        int64
	banFor           int64

	seed    maphash.Seed
	sources *table[netip.Addr]
	callers *table[string]

	allowed atomic.Uint64
	denied  [len(reasonIndex)]atomic.Uint64
}

// New returns a Guard for cfg, whose zero fields take the defaults. The
// error lists every problem found, each wrapping ErrInvalidConfig.
func New(cfg Config) (*Guard, error) {
	c := cfg.withDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	g := &Guard{
		scanners:         newScanners(c.Scanners),
		rejectCode:       c.RejectCode,
		callerRejectCode: c.CallerRejectCode,
		banStrikes:       int32(min(c.BanStrikes, 1<<30)),
		banWindow:        int64(c.BanWindow),
		banFor:           int64(c.BanFor),
		seed:             maphash.MakeSeed(),
		sources:          newTable[netip.Addr](c.MaxTracked, c.BanWindow, nil),
		// A caller is copied before it is stored: the string usually points
		// into the whole SIP message, which must not live on with the entry.
		callers: newTable(c.MaxTracked, c.BanWindow, strings.Clone),
	}
	for i, l := range [numClasses]Limits{c.Invite, c.Register, c.Options, c.Other} {
		g.limits[i].source = l.Source.limit()
		g.limits[i].caller = l.Caller.limit()
	}
	for _, p := range c.Trusted {
		g.trusted = append(g.trusted, normPrefix(p))
	}
	return g, nil
}

// Check decides what to do with r, received at now. It does not read the
// clock; now may go slightly backwards between concurrent callers.
func (g *Guard) Check(r Request, now time.Time) Verdict {
	t := now.UnixNano()
	cls, exempt := classify(r.Method)
	src := r.Source.Unmap().WithZone("") // a zoned address matches no prefix
	scanner := g.scanners.match(r.UserAgent)
	trusted := g.isTrusted(src)

	var v Verdict
	switch {
	case trusted && scanner && cls == classInvite:
		v = Verdict{Action: Reject, Code: 403, Reason: ReasonScannerUA}
	case trusted && scanner:
		v = Verdict{Action: Drop, Reason: ReasonScannerUA}
	case !trusted:
		v = g.checkSource(sourceKey(src), cls, exempt, scanner, t)
	}
	if v.Action == Allow && !exempt && r.Caller != "" {
		v = g.checkCaller(r.Caller, cls, t)
		if v.Action != Allow && !trusted {
			g.strikeSource(sourceKey(src), t)
		}
	}
	if v.Action == Allow {
		g.allowed.Add(1)
	} else {
		g.denied[reasonSlot(v.Reason)].Add(1)
	}
	return v
}

// checkSource applies the ban, scanner and per-source rules.
func (g *Guard) checkSource(src netip.Addr, cls int, exempt, scanner bool, t int64) Verdict {
	sh := g.sources.shard(g.hashAddr(src))
	sh.mu.Lock()
	defer sh.mu.Unlock()
	st := sh.get(g.sources, src, t)
	switch {
	case st.bannedUntil > t:
		return Verdict{Action: Drop, Reason: ReasonSourceBanned}
	case scanner:
		g.strike(st, t)
		return Verdict{Action: Drop, Reason: ReasonScannerUA}
	case exempt:
		return allow
	}
	if wait, ok := g.limits[cls].source.take(&st.tat[cls], t); !ok {
		g.strike(st, t)
		return g.deny(cls, ReasonSourceRate, g.rejectCode, wait)
	}
	return allow
}

// checkCaller applies the per-caller rule.
func (g *Guard) checkCaller(caller string, cls int, t int64) Verdict {
	lim := g.limits[cls].caller
	if lim.interval == 0 {
		return allow
	}
	if len(caller) > maxCallerLen {
		caller = caller[:maxCallerLen]
	}
	sh := g.callers.shard(maphash.String(g.seed, caller))
	sh.mu.Lock()
	st := sh.get(g.callers, caller, t)
	wait, ok := lim.take(&st.tat[cls], t)
	sh.mu.Unlock()
	if !ok {
		return g.deny(cls, ReasonCallerRate, g.callerRejectCode, wait)
	}
	return allow
}

// strikeSource counts a denial decided outside checkSource against src.
func (g *Guard) strikeSource(src netip.Addr, t int64) {
	sh := g.sources.shard(g.hashAddr(src))
	sh.mu.Lock()
	g.strike(sh.get(g.sources, src, t), t)
	sh.mu.Unlock()
}

// strike counts one denial against a source and bans it at BanStrikes.
func (g *Guard) strike(st *state, t int64) {
	if g.banStrikes <= 0 {
		return
	}
	if st.strikes == 0 || t-st.strikeStart > g.banWindow {
		st.strikeStart, st.strikes = t, 0
	}
	st.strikes++
	if st.strikes >= g.banStrikes {
		st.bannedUntil, st.strikes = t+g.banFor, 0
	}
}

// deny is the verdict for a request of class cls over a limit; inviteCode
// answers an INVITE, and wait is how long until it would have passed.
func (g *Guard) deny(cls int, reason Reason, inviteCode int, wait int64) Verdict {
	code := 503
	switch cls {
	case classInvite:
		code = inviteCode
	case classRegister:
	default:
		return Verdict{Action: Drop, Reason: reason}
	}
	v := Verdict{Action: Reject, Code: code, Reason: reason}
	if code != 403 {
		v.RetryAfter = retryAfter(wait)
	}
	return v
}

// retryAfter rounds a wait up to whole seconds, at least one.
func retryAfter(wait int64) time.Duration {
	s := max((wait+int64(time.Second)-1)/int64(time.Second), 1)
	return time.Duration(s) * time.Second
}

// take is the GCRA form of a token bucket: tat is when the bucket will be
// full again if nothing more arrives. A request is allowed if taking its
// token keeps tat within tolerance of now; otherwise wait says how long
// until it would be.
func (l limit) take(tat *int64, now int64) (wait int64, ok bool) {
	if l.interval == 0 {
		return 0, true
	}
	next := max(*tat, now) + l.interval
	if over := next - now - l.tolerance; over > 0 {
		return over, false
	}
	*tat = next
	return 0, true
}

// classify maps a method to its class; ACK and CANCEL are exempt from
// rate limits.
func classify(method string) (cls int, exempt bool) {
	switch method {
	case "INVITE":
		return classInvite, false
	case "REGISTER":
		return classRegister, false
	case "OPTIONS":
		return classOptions, false
	case "ACK", "CANCEL":
		return classOther, true
	}
	return classOther, false
}

func (g *Guard) isTrusted(a netip.Addr) bool {
	for _, p := range g.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// sourceKey is the address a source is counted under: IPv6 addresses are
// grouped by /64, since one host usually gets a whole /64 and could
// otherwise dodge the limit by changing its interface identifier.
func sourceKey(a netip.Addr) netip.Addr {
	if a.Is6() {
		p, _ := a.WithZone("").Prefix(64)
		return p.Addr()
	}
	return a
}

func (g *Guard) hashAddr(a netip.Addr) uint64 {
	b := a.As16()
	return maphash.Bytes(g.seed, b[:])
}

func reasonSlot(r Reason) int {
	for i, x := range reasonIndex {
		if x == r {
			return i
		}
	}
	panic("flood: unknown reason " + string(r))
}

// Stats are counters for metrics, since New.
type Stats struct {
	// Allowed counts allowed requests.
	Allowed uint64
	// Denied counts dropped and rejected requests by reason; every Reason
	// from Reasons is present.
	Denied map[Reason]uint64
	// Sources and Callers are how many keys are tracked now.
	Sources, Callers int
	// Evicted counts entries forgotten while they still held state because
	// a table was full: a sign MaxTracked is too small or of a flood of
	// spoofed sources.
	Evicted uint64
}

// Stats returns the current counters.
func (g *Guard) Stats() Stats {
	s := Stats{Allowed: g.allowed.Load(), Denied: make(map[Reason]uint64, len(reasonIndex))}
	for i, r := range reasonIndex {
		s.Denied[r] = g.denied[i].Load()
	}
	var ev1, ev2 uint64
	s.Sources, ev1 = g.sources.counts()
	s.Callers, ev2 = g.callers.counts()
	s.Evicted = ev1 + ev2
	return s
}

// Ban bans src now for Config.BanFor, as if it had reached BanStrikes: for
// what the guard cannot see itself, such as a source that keeps failing the
// registrar's digest authentication (password guessing). A trusted source
// is never banned.
func (g *Guard) Ban(src netip.Addr, now time.Time) {
	src = src.Unmap().WithZone("")
	if g.isTrusted(src) || g.banFor <= 0 {
		return
	}
	t := now.UnixNano()
	sh := g.sources.shard(g.hashAddr(sourceKey(src)))
	sh.mu.Lock()
	sh.get(g.sources, sourceKey(src), t).bannedUntil = t + g.banFor
	sh.mu.Unlock()
}

// Strike counts one denial decided outside the guard against src, as its
// own rate limits and scanner matches count: for refusals such as the
// source ACL's, so that a source that keeps knocking is banned after
// BanStrikes like any flood. A trusted source is never struck.
func (g *Guard) Strike(src netip.Addr, now time.Time) {
	src = src.Unmap().WithZone("")
	if !src.IsValid() || g.isTrusted(src) {
		return
	}
	g.strikeSource(sourceKey(src), now.UnixNano())
}
