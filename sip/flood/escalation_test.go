package flood

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestBanAndExpiry(t *testing.T) {
	g := newGuard(t, Config{
		BanStrikes: 5, BanWindow: 10 * time.Second, BanFor: time.Minute,
		Invite: Limits{Source: Rate{PerSecond: 1, Burst: 1}},
	})
	want(t, g.Check(invite(outsider, ""), t0), Allow, 0, ReasonNone)
	for range 5 { // the fifth denial bans; it is itself still answered
		want(t, g.Check(invite(outsider, ""), t0), Reject, 503, ReasonSourceRate)
	}
	// Banned: everything is dropped, ACK and a fresh bucket's OPTIONS too.
	for _, m := range []string{"INVITE", "OPTIONS", "ACK", "REGISTER"} {
		want(t, g.Check(Request{Method: m, Source: outsider}, t0.Add(time.Second)), Drop, 0, ReasonSourceBanned)
	}
	want(t, g.Check(invite(outsider, ""), t0.Add(time.Minute-1)), Drop, 0, ReasonSourceBanned)
	// Others are unaffected.
	want(t, g.Check(invite(other, ""), t0), Allow, 0, ReasonNone)
	// The ban ends after BanFor.
	want(t, g.Check(invite(outsider, ""), t0.Add(time.Minute)), Allow, 0, ReasonNone)
}

func TestStrikesOutsideWindowDoNotBan(t *testing.T) {
	g := newGuard(t, Config{
		BanStrikes: 3, BanWindow: 10 * time.Second,
		Invite: Limits{Source: Rate{PerSecond: 1, Burst: 1}},
	})
	// Two denials every 11 s: never three within one window.
	for i := range 10 {
		now := t0.Add(time.Duration(i) * 11 * time.Second)
		want(t, g.Check(invite(outsider, ""), now), Allow, 0, ReasonNone)
		want(t, g.Check(invite(outsider, ""), now), Reject, 503, ReasonSourceRate)
		want(t, g.Check(invite(outsider, ""), now), Reject, 503, ReasonSourceRate)
	}
}

func TestScannerAndCallerStrikesBan(t *testing.T) {
	g := newGuard(t, Config{BanStrikes: 3})
	// A scanner that then changes its User-Agent stays dropped.
	for range 3 {
		want(t, g.Check(Request{Method: "OPTIONS", Source: outsider, UserAgent: "friendly-scanner"}, t0), Drop, 0, ReasonScannerUA)
	}
	want(t, g.Check(invite(outsider, ""), t0), Drop, 0, ReasonSourceBanned)

	// Caller-limit denials count against an untrusted source too...
	for range DefaultInviteCallerBurst {
		g.Check(invite(other, "777"), t0)
	}
	for range 3 {
		want(t, g.Check(invite(other, "777"), t0), Reject, 486, ReasonCallerRate)
	}
	want(t, g.Check(invite(other, "778"), t0), Drop, 0, ReasonSourceBanned)
}

// TestTrustedInviteNeverDropped: whatever a trunk sends, each INVITE from
// it gets Allow or a final response, never silence.
func TestTrustedInviteNeverDropped(t *testing.T) {
	g := newGuard(t, Config{
		Trusted:    []netip.Prefix{trunkNet},
		BanStrikes: 1, // the harshest escalation
		Invite:     Limits{Source: Rate{PerSecond: 1, Burst: 1}, Caller: Rate{PerSecond: 0.1, Burst: 1}},
	})
	uas := []string{"", "Asterisk PBX", "friendly-scanner", "sipvicious"}
	callers := []string{"", "1", "1", "1", "2"}
	for i := range 5000 {
		now := t0.Add(time.Duration(i) * time.Millisecond)
		m := []string{"INVITE", "OPTIONS", "REGISTER", "INVITE", "ACK"}[i%5]
		r := Request{Method: m, Source: trunk, Caller: callers[i%len(callers)], UserAgent: uas[i%len(uas)]}
		v := g.Check(r, now)
		if m == "INVITE" && (v.Action == Drop || (v.Action == Reject && v.Code == 0)) {
			t.Fatalf("request %d %+v: %+v", i, r, v)
		}
		if v.Reason == ReasonSourceBanned {
			t.Fatalf("trusted source banned: %+v", v)
		}
	}
}

func TestConcurrentCheck(t *testing.T) {
	g := newGuard(t, Config{BanStrikes: -1, Trusted: []netip.Prefix{trunkNet}, MaxTracked: 1000})
	const workers, each = 8, 2000
	var wg sync.WaitGroup
	var mu sync.Mutex
	hotAllowed := 0
	for w := range workers {
		wg.Go(func() {
			allowed := 0
			for i := range each {
				// All workers share one hot source at one instant: exactly
				// one burst may pass, however the checks interleave.
				if v := g.Check(invite(outsider, ""), t0); v.Action == Allow {
					allowed++
				}
				src := netip.AddrFrom4([4]byte{192, 0, byte(w), byte(i)})
				now := t0.Add(time.Duration(i) * time.Millisecond)
				g.Check(Request{Method: "OPTIONS", Source: src, Caller: fmt.Sprint(i), UserAgent: "x"}, now)
				g.Check(invite(trunk, fmt.Sprint(w*each+i)), now)
			}
			mu.Lock()
			hotAllowed += allowed
			mu.Unlock()
		})
	}
	wg.Wait()
	if hotAllowed != DefaultInviteSourceBurst {
		t.Errorf("hot source: %d allowed, want exactly %d", hotAllowed, DefaultInviteSourceBurst)
	}
	s := g.Stats()
	var denied uint64
	for _, n := range s.Denied {
		denied += n
	}
	if total := s.Allowed + denied; total != 3*workers*each {
		t.Errorf("stats count %d checks, want %d", total, 3*workers*each)
	}
	if s.Sources > 1000 || s.Callers > 1000 {
		t.Errorf("tracked %d sources, %d callers; bound is 1000", s.Sources, s.Callers)
	}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		msg  string // "" = valid
	}{
		{"zero", Config{}, ""},
		{"defaults", DefaultConfig(), ""},
		{"unlimited", Config{Options: Limits{Source: Rate{PerSecond: Unlimited}}}, ""},
		{"tiny table", Config{MaxTracked: 1}, ""},
		{"negative rate", Config{Invite: Limits{Source: Rate{PerSecond: -2}}}, "invite.source: rate -2/s"},
		{"NaN rate", Config{Register: Limits{Caller: Rate{PerSecond: nan()}}}, "register.caller: rate NaN/s"},
		{"huge rate", Config{Options: Limits{Source: Rate{PerSecond: 1e7}}}, "options.source: rate"},
		{"negative burst", Config{Other: Limits{Source: Rate{Burst: -1}}}, "other.source: burst -1"},
		{"day-long refill", Config{Invite: Limits{Caller: Rate{PerSecond: 0.001, Burst: 100}}}, "longer than 24h0m0s"},
		{"empty scanner", Config{Scanners: []string{"sipvicious", ""}}, `scanners[1]: "" is shorter than 3 bytes`},
		{"short scanner", Config{Scanners: []string{"sv"}}, `scanners[0]: "sv" is shorter`},
		{"control char", Config{Scanners: []string{"a\r\nb"}}, "control character"},
		{"reject 404", Config{RejectCode: 404}, "reject code 404"},
		{"caller reject 200", Config{CallerRejectCode: 200}, "caller reject code 200"},
		{"bad prefix", Config{Trusted: []netip.Prefix{{}}}, "trusted[0]: invalid prefix"},
		{"negative window", Config{BanWindow: -time.Second}, "ban window -1s"},
		{"negative ban", Config{BanFor: -time.Second}, "ban duration -1s"},
		{"negative ban off", Config{BanStrikes: -1, BanFor: -time.Second}, ""},
		{"negative max", Config{MaxTracked: -1}, "max tracked -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := New(tt.cfg)
			if tt.msg == "" {
				if err != nil || g == nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("New error = %v, want ErrInvalidConfig containing %q", err, tt.msg)
			}
		})
	}
	// Every problem is reported at once.
	_, err := New(Config{RejectCode: 1, CallerRejectCode: 2, MaxTracked: -1})
	if n := strings.Count(err.Error(), ErrInvalidConfig.Error()); n != 3 {
		t.Errorf("%d problems reported, want 3:\n%v", n, err)
	}
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}

// TestBanFromOutside: the registrar bans a source that keeps failing its
// digest authentication; a trusted trunk is never banned.
func TestBanFromOutside(t *testing.T) {
	g := newGuard(t, Config{BanFor: time.Minute, Trusted: []netip.Prefix{trunkNet}})
	g.Ban(outsider, t0)
	g.Ban(trunk, t0)
	want(t, g.Check(Request{Method: "REGISTER", Source: outsider}, t0.Add(time.Second)), Drop, 0, ReasonSourceBanned)
	want(t, g.Check(invite(trunk, ""), t0.Add(time.Second)), Allow, 0, ReasonNone)
	want(t, g.Check(invite(outsider, ""), t0.Add(time.Minute)), Allow, 0, ReasonNone)
}

// TestStrikeFromOutside: refusals decided outside the guard (the source
// ACL's 403s) count towards a ban like its own; a trusted trunk is never
// struck, and an invalid address is ignored.
func TestStrikeFromOutside(t *testing.T) {
	g := newGuard(t, Config{BanStrikes: 3, BanFor: time.Minute, Trusted: []netip.Prefix{trunkNet}})
	for range 2 {
		g.Strike(outsider, t0)
		g.Strike(trunk, t0)
		g.Strike(netip.Addr{}, t0)
	}
	want(t, g.Check(invite(outsider, ""), t0), Allow, 0, ReasonNone)
	g.Strike(netip.AddrFrom16(outsider.As16()), t0) // IPv4-mapped: the same source
	want(t, g.Check(invite(outsider, ""), t0), Drop, 0, ReasonSourceBanned)
	for range 5 {
		g.Strike(trunk, t0)
	}
	want(t, g.Check(invite(trunk, ""), t0), Allow, 0, ReasonNone)
	want(t, g.Check(invite(outsider, ""), t0.Add(time.Minute)), Allow, 0, ReasonNone)
}
