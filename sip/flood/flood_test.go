package flood

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 2, 17, 9, 0, 0, 0, time.UTC) // Spring Festival morning

func newGuard(t testing.TB, cfg Config) *Guard {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return g
}

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

var (
	trunk    = ip("10.0.0.5")
	trunkNet = netip.MustParsePrefix("10.0.0.0/24")
	outsider = ip("203.0.113.7")
	other    = ip("198.51.100.9")
)

func invite(src netip.Addr, caller string) Request {
	return Request{Method: "INVITE", Source: src, Caller: caller, UserAgent: "Asterisk PBX 20.5.0"}
}

func want(t *testing.T, got Verdict, action Action, code int, reason Reason) {
	t.Helper()
	if got.Action != action || got.Code != code || got.Reason != reason {
		t.Fatalf("verdict = %+v, want %v %d %q", got, action, code, reason)
	}
}

func TestScannerUserAgents(t *testing.T) {
	g := newGuard(t, Config{Trusted: []netip.Prefix{trunkNet}, BanStrikes: -1})
	tests := []struct {
		ua      string
		scanner bool
	}{
		{"friendly-scanner", true},
		{"FRIENDLY-SCANNER", true},
		{"sipvicious 0.3.4", true},
		{"SIPVicious", true},
		{"sipcli/v1.8", true},
		{"SIPScan", true},
		{"sip-scan", true},
		{"VaxSIPUserAgent/3.1", true},
		{"iWar", true},
		{"sundayddr", true},
		{"pplsip", true},
		{"Mozilla/5.0 friendly-Scanner", true},
		{"", false},
		{"Asterisk PBX 20.5.0", false},
		{"sipsak 0.9.8", false},
		{"Cisco-SIPGateway/IOS-15.x", false},
		{"Linphone/5.2.0 (belle-sip/5.2.0)", false},
		{"FreeSWITCH-mod_sofia/1.10.11", false},
		{"华为 eSpace U1981", false},
	}
	methods := []string{"INVITE", "REGISTER", "OPTIONS", "ACK", "MESSAGE"}
	for _, tt := range tests {
		t.Run(tt.ua, func(t *testing.T) {
			for _, m := range methods {
				r := Request{Method: m, Source: outsider, UserAgent: tt.ua}
				v := g.Check(r, t0)
				if tt.scanner {
					want(t, v, Drop, 0, ReasonScannerUA)
				} else {
					want(t, v, Allow, 0, ReasonNone)
				}
			}
			// From a trunk (a proxy passes the User-Agent through), an
			// INVITE still gets a final response; anything else is dropped.
			v := g.Check(Request{Method: "INVITE", Source: trunk, UserAgent: tt.ua}, t0)
			if tt.scanner {
				want(t, v, Reject, 403, ReasonScannerUA)
				if v.RetryAfter != 0 {
					t.Errorf("403 with Retry-After %v", v.RetryAfter)
				}
				want(t, g.Check(Request{Method: "OPTIONS", Source: trunk, UserAgent: tt.ua}, t0), Drop, 0, ReasonScannerUA)
			} else {
				want(t, v, Allow, 0, ReasonNone)
			}
		})
	}
}

func TestScannersConfigurable(t *testing.T) {
	g := newGuard(t, Config{Scanners: append(DefaultScanners(), "EvilDialer")})
	want(t, g.Check(Request{Method: "OPTIONS", Source: outsider, UserAgent: "evildialer 2"}, t0), Drop, 0, ReasonScannerUA)
	want(t, g.Check(Request{Method: "OPTIONS", Source: outsider, UserAgent: "friendly-scanner"}, t0), Drop, 0, ReasonScannerUA)

	off := newGuard(t, Config{Scanners: []string{}})
	want(t, off.Check(Request{Method: "OPTIONS", Source: outsider, UserAgent: "friendly-scanner"}, t0), Allow, 0, ReasonNone)
}

func TestLongUserAgent(t *testing.T) {
	g := newGuard(t, Config{})
	pad := strings.Repeat("s", scanMax-len("SipVicious"))
	want(t, g.Check(Request{Method: "OPTIONS", Source: outsider, UserAgent: pad + "SipVicious"}, t0), Drop, 0, ReasonScannerUA)
	// Past the first scanMax bytes nothing is searched.
	want(t, g.Check(Request{Method: "OPTIONS", Source: other, UserAgent: pad + "xSipVicious"}, t0), Allow, 0, ReasonNone)
}

func TestSourceBurstRejectedOthersServed(t *testing.T) {
	g := newGuard(t, Config{})
	for i := range DefaultInviteSourceBurst {
		want(t, g.Check(invite(outsider, fmt.Sprint(13800000000+i)), t0), Allow, 0, ReasonNone)
	}
	v := g.Check(invite(outsider, "13900000000"), t0)
	want(t, v, Reject, 503, ReasonSourceRate)
	if v.RetryAfter != time.Second {
		t.Errorf("Retry-After = %v, want 1s", v.RetryAfter)
	}
	// During the flood, another source and the trunk are answered.
	want(t, g.Check(invite(other, "13900000001"), t0), Allow, 0, ReasonNone)
	want(t, g.Check(invite(trunk, "13900000002"), t0), Allow, 0, ReasonNone)
}

func TestTrunkCallerFlood(t *testing.T) {
	g := newGuard(t, Config{Trusted: []netip.Prefix{trunkNet}, BanStrikes: 3})
	const flooder = "13800138000"
	for range DefaultInviteCallerBurst {
		want(t, g.Check(invite(trunk, flooder), t0), Allow, 0, ReasonNone)
	}
	for i := range 200 {
		now := t0.Add(time.Duration(i) * time.Millisecond)
		v := g.Check(invite(trunk, flooder), now)
		want(t, v, Reject, DefaultCallerRejectCode, ReasonCallerRate)
		if v.RetryAfter < time.Second || v.RetryAfter > 2*time.Second {
			t.Fatalf("Retry-After = %v, want 1s..2s", v.RetryAfter)
		}
		// Other callers through the same trunk keep getting through,
		// far beyond the per-source burst: trunks skip that limit and
		// are never banned.
		want(t, g.Check(invite(trunk, fmt.Sprint(13900000000+i)), now), Allow, 0, ReasonNone)
	}
	// The same number from an untrusted source is over its limit too.
	want(t, g.Check(invite(outsider, flooder), t0), Reject, DefaultCallerRejectCode, ReasonCallerRate)
	// Anonymous callers skip the per-caller limit.
	for range 3 * DefaultInviteCallerBurst {
		want(t, g.Check(invite(trunk, ""), t0), Allow, 0, ReasonNone)
	}
}

func TestRefill(t *testing.T) {
	g := newGuard(t, Config{BanStrikes: -1})
	src := ip("192.0.2.1")
	at := func(d time.Duration, caller string) Verdict { return g.Check(invite(src, caller), t0.Add(d)) }
	for i := range DefaultInviteSourceBurst {
		want(t, at(0, fmt.Sprint(i)), Allow, 0, ReasonNone)
	}
	want(t, at(0, "x1"), Reject, 503, ReasonSourceRate)
	// 20/s: one token every 50 ms.
	want(t, at(49*time.Millisecond, "x2"), Reject, 503, ReasonSourceRate)
	want(t, at(50*time.Millisecond, "x3"), Allow, 0, ReasonNone)
	want(t, at(50*time.Millisecond, "x4"), Reject, 503, ReasonSourceRate)
	// Two seconds refill the whole burst of 40.
	for i := range DefaultInviteSourceBurst {
		want(t, at(2050*time.Millisecond, fmt.Sprint("y", i)), Allow, 0, ReasonNone)
	}
	want(t, at(2050*time.Millisecond, "y"), Reject, 503, ReasonSourceRate)

	// Caller: one a second after a burst of 10.
	for range DefaultInviteCallerBurst {
		want(t, g.Check(invite(other, "555"), t0), Allow, 0, ReasonNone)
	}
	v := g.Check(invite(other, "555"), t0.Add(500*time.Millisecond))
	want(t, v, Reject, 486, ReasonCallerRate)
	if v.RetryAfter != time.Second {
		t.Errorf("Retry-After = %v, want 1s", v.RetryAfter)
	}
	want(t, g.Check(invite(other, "555"), t0.Add(time.Second)), Allow, 0, ReasonNone)
}

func TestMethodClasses(t *testing.T) {
	tests := []struct {
		method string
		burst  int
		action Action
		code   int
	}{
		{"INVITE", DefaultInviteSourceBurst, Reject, 503},
		{"REGISTER", DefaultRegisterSourceBurst, Reject, 503},
		{"OPTIONS", DefaultOptionsSourceBurst, Drop, 0},
		{"SUBSCRIBE", DefaultOtherSourceBurst, Drop, 0},
		{"MESSAGE", DefaultOtherSourceBurst, Drop, 0},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			g := newGuard(t, Config{BanStrikes: -1, Trusted: []netip.Prefix{trunkNet}})
			for range tt.burst {
				want(t, g.Check(Request{Method: tt.method, Source: outsider}, t0), Allow, 0, ReasonNone)
			}
			for range 100 {
				v := g.Check(Request{Method: tt.method, Source: outsider}, t0)
				want(t, v, tt.action, tt.code, ReasonSourceRate)
				if (v.RetryAfter > 0) != (tt.action == Reject) {
					t.Fatalf("Retry-After = %v for %v", v.RetryAfter, v.Action)
				}
			}
			// Classes have separate buckets: the flood of one method
			// leaves the others alone.
			if tt.method != "INVITE" {
				want(t, g.Check(invite(outsider, ""), t0), Allow, 0, ReasonNone)
			}
			// A trusted source (the load balancer's health checks) is
			// never limited per source.
			for range 10 * tt.burst {
				want(t, g.Check(Request{Method: tt.method, Source: trunk}, t0), Allow, 0, ReasonNone)
			}
		})
	}
}

func TestAckAndCancelNeverLimited(t *testing.T) {
	g := newGuard(t, Config{BanStrikes: 2})
	for _, m := range []string{"ACK", "CANCEL"} {
		for range 1000 {
			want(t, g.Check(Request{Method: m, Source: outsider, Caller: "123"}, t0), Allow, 0, ReasonNone)
		}
	}
}

func TestRegisterCallerLimit(t *testing.T) {
	g := newGuard(t, Config{BanStrikes: -1})
	// Password guessing on one extension from many addresses.
	for i := range DefaultRegisterCallerBurst {
		src := netip.AddrFrom4([4]byte{192, 0, 2, byte(i)})
		want(t, g.Check(Request{Method: "REGISTER", Source: src, Caller: "8001"}, t0), Allow, 0, ReasonNone)
	}
	v := g.Check(Request{Method: "REGISTER", Source: ip("192.0.2.200"), Caller: "8001"}, t0)
	want(t, v, Reject, 503, ReasonCallerRate)
	if v.RetryAfter != time.Second {
		t.Errorf("Retry-After = %v, want 1s", v.RetryAfter)
	}
	// The caller buckets are per class: the same user may still call.
	want(t, g.Check(invite(trunk, "8001"), t0), Allow, 0, ReasonNone)
}

func TestRejectCodes(t *testing.T) {
	tests := []struct {
		code, callerCode int
		retry            bool
	}{
		{403, 403, false},
		{603, 603, true},
		{486, 480, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.code), func(t *testing.T) {
			g := newGuard(t, Config{
				RejectCode: tt.code, CallerRejectCode: tt.callerCode, BanStrikes: -1,
				Invite: Limits{Source: Rate{PerSecond: 1, Burst: 1}, Caller: Rate{PerSecond: 1, Burst: 1}},
			})
			g.Check(invite(outsider, "1"), t0)
			v := g.Check(invite(outsider, "2"), t0)
			want(t, v, Reject, tt.code, ReasonSourceRate)
			if (v.RetryAfter > 0) != tt.retry {
				t.Errorf("source: Retry-After = %v", v.RetryAfter)
			}
			v = g.Check(invite(other, "1"), t0)
			want(t, v, Reject, tt.callerCode, ReasonCallerRate)
			if (v.RetryAfter > 0) != tt.retry {
				t.Errorf("caller: Retry-After = %v", v.RetryAfter)
			}
		})
	}
}

func TestUnlimited(t *testing.T) {
	g := newGuard(t, Config{Invite: Limits{Source: Rate{PerSecond: Unlimited}, Caller: Rate{PerSecond: Unlimited}}})
	for range 1000 {
		want(t, g.Check(invite(outsider, "1"), t0), Allow, 0, ReasonNone)
	}
}

func TestRetryAfterRounding(t *testing.T) {
	for _, tt := range []struct {
		wait time.Duration
		want time.Duration
	}{
		{time.Nanosecond, time.Second},
		{time.Second, time.Second},
		{time.Second + 1, 2 * time.Second},
		{90 * time.Second, 90 * time.Second},
	} {
		if got := retryAfter(int64(tt.wait)); got != tt.want {
			t.Errorf("retryAfter(%v) = %v, want %v", tt.wait, got, tt.want)
		}
	}
}

func TestSourceAddresses(t *testing.T) {
	g := newGuard(t, Config{
		BanStrikes: -1,
		Trusted: []netip.Prefix{
			netip.MustParsePrefix("2001:db8:1::10/128"),
			netip.MustParsePrefix("::ffff:172.16.0.0/108"), // IPv4-mapped: 172.16.0.0/12
			netip.MustParsePrefix("fe80::/10"),
		},
		Options: Limits{Source: Rate{PerSecond: 1, Burst: 1}},
	})
	opt := func(a string) Verdict {
		var src netip.Addr
		if a != "" {
			src = ip(a)
		}
		return g.Check(Request{Method: "OPTIONS", Source: src}, t0)
	}
	// One /64 is one source; the next /64 is another.
	want(t, opt("2001:db8:2::1"), Allow, 0, ReasonNone)
	want(t, opt("2001:db8:2::ffff:2"), Drop, 0, ReasonSourceRate)
	want(t, opt("2001:db8:2:1::1"), Allow, 0, ReasonNone)
	// IPv4-mapped IPv6 is the IPv4 address.
	want(t, opt("192.0.2.1"), Allow, 0, ReasonNone)
	want(t, opt("::ffff:192.0.2.1"), Drop, 0, ReasonSourceRate)
	// A trusted /128 is matched before grouping by /64; its neighbours
	// are not trusted.
	for range 5 {
		want(t, opt("2001:db8:1::10"), Allow, 0, ReasonNone)
	}
	want(t, opt("2001:db8:1::11"), Allow, 0, ReasonNone)
	want(t, opt("2001:db8:1::12"), Drop, 0, ReasonSourceRate)
	for range 5 {
		want(t, opt("172.31.1.1"), Allow, 0, ReasonNone)
		want(t, opt("::ffff:172.16.0.1"), Allow, 0, ReasonNone)
		want(t, opt("fe80::1%eth0"), Allow, 0, ReasonNone) // zones are ignored
	}
	// The zero address (the SIP layer could not tell) is one untrusted source.
	want(t, opt(""), Allow, 0, ReasonNone)
	want(t, g.Check(Request{Method: "OPTIONS"}, t0), Drop, 0, ReasonSourceRate)
}

func TestCallerKeyTruncated(t *testing.T) {
	g := newGuard(t, Config{Invite: Limits{Caller: Rate{PerSecond: 1, Burst: 1}}})
	long := string(make([]byte, maxCallerLen))
	want(t, g.Check(invite(trunk, long+"a"), t0), Allow, 0, ReasonNone)
	want(t, g.Check(invite(trunk, long+"b"), t0), Reject, 486, ReasonCallerRate)
}

func TestStats(t *testing.T) {
	g := newGuard(t, Config{Invite: Limits{Source: Rate{PerSecond: 1, Burst: 1}}, BanStrikes: 2})
	g.Check(invite(outsider, "1"), t0)                                                 // allow
	g.Check(invite(outsider, "2"), t0)                                                 // source_rate (strike 1)
	g.Check(Request{Method: "OPTIONS", Source: outsider, UserAgent: "sipvicious"}, t0) // scanner (strike 2: ban)
	g.Check(invite(outsider, "3"), t0)                                                 // banned
	s := g.Stats()
	wantDenied := map[Reason]uint64{ReasonScannerUA: 1, ReasonSourceRate: 1, ReasonCallerRate: 0, ReasonSourceBanned: 1}
	if s.Allowed != 1 || fmt.Sprint(s.Denied) != fmt.Sprint(wantDenied) {
		t.Errorf("stats = %+v, want 1 allowed, denied %v", s, wantDenied)
	}
	if s.Sources != 1 || s.Callers != 1 || s.Evicted != 0 {
		t.Errorf("tracked = %d sources, %d callers, %d evicted; want 1, 1, 0", s.Sources, s.Callers, s.Evicted)
	}
	if len(Reasons()) != len(s.Denied) {
		t.Errorf("Reasons() = %v", Reasons())
	}
}

func TestActionString(t *testing.T) {
	for a, s := range map[Action]string{Allow: "allow", Drop: "drop", Reject: "reject", Action(9): "unknown"} {
		if a.String() != s {
			t.Errorf("%d.String() = %q, want %q", int(a), a.String(), s)
		}
	}
	if (Verdict{}).Action != Allow {
		t.Error("the zero Verdict must allow")
	}
}
