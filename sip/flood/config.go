package flood

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"
)

// ErrInvalidConfig is wrapped by every error New returns, so callers can
// tell a bad configuration from anything else with errors.Is.
var ErrInvalidConfig = errors.New("invalid flood guard config")

// Unlimited, as a Rate's PerSecond, switches that limit off. (Zero cannot
// mean "off": a zero field means "use the default".)
const Unlimited = -1.0

// Default limits. The per-source numbers are per source address (per /64
// for IPv6); the per-caller numbers are per From user, whatever source the
// requests come from. Burst is how many requests may arrive at once after
// a quiet period; PerSecond is the sustained rate after that.
const (
	// DefaultInviteSourceRate and DefaultInviteSourceBurst: 20 new calls a
	// second with bursts of 40. A PBX trunk carrying a busy hotline sets up
	// a few calls a second at peak; a softphone makes one every few
	// seconds at most. Trunks listed in Config.Trusted skip this limit.
	DefaultInviteSourceRate  = 20.0
	DefaultInviteSourceBurst = 40
	// DefaultInviteCallerRate and DefaultInviteCallerBurst: one call a
	// second per calling number, bursts of 10. This stops machine-speed
	// floods from one number; it is not the nuisance policy. A person who
	// redials too often (more than 5 calls in 10 minutes by default) is
	// screening's business (flows/screen), which answers with the
	// configured code and a reason in the call record, so this limit must
	// stay above the repeat-call rule. It also leaves room for a company
	// whose outgoing calls all present one main number.
	DefaultInviteCallerRate  = 1.0
	DefaultInviteCallerBurst = 10
	// DefaultRegisterSourceRate and DefaultRegisterSourceBurst: 5 a second,
	// bursts of 10. kefu registers to its trunk; it is no registrar, so
	// inbound REGISTERs are rare and a stream of them is password guessing.
	DefaultRegisterSourceRate  = 5.0
	DefaultRegisterSourceBurst = 10
	// DefaultRegisterCallerRate and DefaultRegisterCallerBurst: one a
	// second per user, bursts of 5, which slows guessing one extension's
	// password from many addresses.
	DefaultRegisterCallerRate  = 1.0
	DefaultRegisterCallerBurst = 5
	// DefaultOptionsSourceRate and DefaultOptionsSourceBurst: 10 a second,
	// bursts of 20. Health checks (Kamailio's dispatcher, a trunk's
	// keep-alive) send one every few seconds. OPTIONS has no per-caller
	// limit by default: monitors use fixed From users ("dispatcher").
	DefaultOptionsSourceRate  = 10.0
	DefaultOptionsSourceBurst = 20
	// DefaultOtherSourceRate and DefaultOtherSourceBurst apply to every
	// other out-of-dialog method (MESSAGE, SUBSCRIBE, INFO, ...), which
	// kefu does not serve; no per-caller limit.
	DefaultOtherSourceRate  = 10.0
	DefaultOtherSourceBurst = 20

	// DefaultRejectCode answers an INVITE over its source's limit: 503
	// Service Unavailable with Retry-After tells a well-behaved peer to
	// back off, and only untrusted sources ever get it.
	DefaultRejectCode = 503
	// DefaultCallerRejectCode answers an INVITE over its caller's limit:
	// 486 Busy Here. The caller hears a busy tone, and a trunk or proxy in
	// front does not take it for kefu being down (a 503 would make many
	// of them fail over or stop sending calls for Retry-After).
	DefaultCallerRejectCode = 486

	// DefaultBanStrikes, DefaultBanWindow and DefaultBanFor: an untrusted
	// source denied 30 times within 10 s is dropped silently for 60 s.
	// A flood at 100 INVITEs/s is banned within a second; a person
	// redialling never gets near it.
	DefaultBanStrikes = 30
	DefaultBanWindow  = 10 * time.Second
	DefaultBanFor     = 60 * time.Second

	// DefaultMaxTracked bounds each of the two tables (sources, callers).
	// A source entry takes about 150 bytes and a caller entry up to about
	// 250, so the default costs at most ~40 MB, reached only under a flood
	// of distinct (spoofed) sources and callers.
	DefaultMaxTracked = 100000
)

// Bounds on a Rate, checked by New.
const (
	maxPerSecond = 1e6
	maxBurst     = 1000000
	// maxFill is the longest a full bucket may take to refill
	// (Burst/PerSecond). A longer memory is not flood control.
	maxFill = 24 * time.Hour
)

// scannerDefaults are User-Agent substrings of SIP scanning and
// password-guessing tools (SIPVicious svmap/svwar/svcrack and their
// forks, sipcli, sip-scan, iWar, SiVuS, smap, ...). Legitimate tools such
// as sipsak and real products (Cisco-SIPGateway, Asterisk, PortSIP) are
// left out on purpose even though scanners sometimes borrow their names.
var scannerDefaults = []string{
	"friendly-scanner",
	"friendly-request",
	"sipvicious",
	"sipcli",
	"sip-scan",
	"sipscan",
	"iwar",
	"sundayddr",
	"vaxsipuseragent",
	"vaxipuseragent",
	"pplsip",
	"siparmyknife",
	"sivus",
	"smap",
}

// DefaultScanners returns a copy of the default scanner User-Agent list,
// so a configuration can extend it: append(flood.DefaultScanners(), "x").
func DefaultScanners() []string {
	return append([]string(nil), scannerDefaults...)
}

// Rate is a token bucket: Burst requests at once, refilled at PerSecond.
// A zero field takes the default for its place; PerSecond = Unlimited
// switches the limit off.
type Rate struct {
	// PerSecond is the sustained rate (0.5 means one every two seconds).
	PerSecond float64
	// Burst is how many requests may arrive back to back.
	Burst int
}

// Limits are the rates for one method class.
type Limits struct {
	// Source limits each source address (IPv6: each /64), except the
	// Trusted ones.
	Source Rate
	// Caller limits each From user, whichever source it arrives from.
	// Requests with no caller (anonymous) skip it.
	Caller Rate
}

// Config configures a Guard. Its zero value is the documented defaults.
type Config struct {
	// Invite, Register, Options and Other are the limits per method class.
	// Other covers out-of-dialog methods not named; ACK and CANCEL are
	// never rate-limited (they belong to an INVITE already judged, and a
	// lost CANCEL would leave a call ringing).
	Invite, Register, Options, Other Limits
	// Scanners are User-Agent substrings of at least 3 bytes, matched
	// ignoring ASCII case, whose requests are dropped silently. nil means DefaultScanners();
	// an empty non-nil slice turns scanner matching off.
	Scanners []string
	// RejectCode answers an INVITE over its source's limit: 503 (default),
	// 480, 486, 403 or 603.
	RejectCode int
	// CallerRejectCode answers an INVITE over its caller's limit: 486
	// (default), 480, 503, 403 or 603.
	CallerRejectCode int
	// Trusted sources (the PBX trunks, the load balancer) skip the
	// per-source limit and are never banned. Their callers are still
	// limited, since one trunk carries many callers. IPv4-mapped IPv6
	// prefixes are unmapped.
	Trusted []netip.Prefix
	// BanStrikes is how many denials (rate limits or scanner matches)
	// within BanWindow ban an untrusted source for BanFor: everything it
	// sends is then dropped. A negative BanStrikes turns bans off.
	BanStrikes int
	// BanWindow is the window strikes are counted in.
	BanWindow time.Duration
	// BanFor is how long a ban lasts.
	BanFor time.Duration
	// MaxTracked bounds the number of sources and of callers tracked
	// (each table separately). Entries whose buckets have refilled are
	// forgotten as new ones arrive; when a table is full anyway, its least
	// recently seen entry is evicted. Tables are sharded, so a shard may
	// evict a little before the whole table holds MaxTracked keys.
	MaxTracked int
}

// DefaultConfig returns the configuration a zero Config stands for, with
// every default filled in.
func DefaultConfig() Config {
	return Config{
		Invite: Limits{
			Source: Rate{DefaultInviteSourceRate, DefaultInviteSourceBurst},
			Caller: Rate{DefaultInviteCallerRate, DefaultInviteCallerBurst},
		},
		Register: Limits{
			Source: Rate{DefaultRegisterSourceRate, DefaultRegisterSourceBurst},
			Caller: Rate{DefaultRegisterCallerRate, DefaultRegisterCallerBurst},
		},
		Options: Limits{
			Source: Rate{DefaultOptionsSourceRate, DefaultOptionsSourceBurst},
			Caller: Rate{PerSecond: Unlimited},
		},
		Other: Limits{
			Source: Rate{DefaultOtherSourceRate, DefaultOtherSourceBurst},
			Caller: Rate{PerSecond: Unlimited},
		},
		Scanners:         DefaultScanners(),
		RejectCode:       DefaultRejectCode,
		CallerRejectCode: DefaultCallerRejectCode,
		BanStrikes:       DefaultBanStrikes,
		BanWindow:        DefaultBanWindow,
		BanFor:           DefaultBanFor,
		MaxTracked:       DefaultMaxTracked,
	}
}

// withDefaults returns c with every zero field replaced by its default.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	c.Invite = c.Invite.withDefaults(d.Invite)
	c.Register = c.Register.withDefaults(d.Register)
	c.Options = c.Options.withDefaults(d.Options)
	c.Other = c.Other.withDefaults(d.Other)
	if c.Scanners == nil {
		c.Scanners = d.Scanners
	}
	if c.RejectCode == 0 {
		c.RejectCode = d.RejectCode
	}
	if c.CallerRejectCode == 0 {
		c.CallerRejectCode = d.CallerRejectCode
	}
	if c.BanStrikes == 0 {
		c.BanStrikes = d.BanStrikes
	}
	if c.BanWindow == 0 {
		c.BanWindow = d.BanWindow
	}
	if c.BanFor == 0 {
		c.BanFor = d.BanFor
	}
	if c.MaxTracked == 0 {
		c.MaxTracked = d.MaxTracked
	}
	return c
}

func (l Limits) withDefaults(d Limits) Limits {
	return Limits{Source: l.Source.withDefaults(d.Source), Caller: l.Caller.withDefaults(d.Caller)}
}

func (r Rate) withDefaults(d Rate) Rate {
	if r.PerSecond == 0 {
		r.PerSecond = d.PerSecond
	}
	if r.Burst == 0 {
		r.Burst = d.Burst
	}
	return r
}

// validate reports every problem in c (after defaults), joined.
func (c Config) validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}
	for _, l := range []struct {
		name string
		lim  Limits
	}{{"invite", c.Invite}, {"register", c.Register}, {"options", c.Options}, {"other", c.Other}} {
		for _, r := range []struct {
			name string
			rate Rate
		}{{"source", l.lim.Source}, {"caller", l.lim.Caller}} {
			if msg := r.rate.problem(); msg != "" {
				bad("%s.%s: %s", l.name, r.name, msg)
			}
		}
	}
	for i, s := range c.Scanners {
		switch {
		case len(s) < minPattern:
			bad("scanners[%d]: %q is shorter than %d bytes and would match real User-Agents", i, s, minPattern)
		case strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0:
			bad("scanners[%d]: %q contains a control character", i, s)
		}
	}
	if !rejectCodes[c.RejectCode] {
		bad("reject code %d: want one of 403, 480, 486, 503, 603", c.RejectCode)
	}
	if !rejectCodes[c.CallerRejectCode] {
		bad("caller reject code %d: want one of 403, 480, 486, 503, 603", c.CallerRejectCode)
	}
	for i, p := range c.Trusted {
		if !p.IsValid() {
			bad("trusted[%d]: invalid prefix %q", i, p)
		}
	}
	if c.BanStrikes > 0 {
		if c.BanWindow < 0 || c.BanWindow > maxFill {
			bad("ban window %v: want 0 < window <= %v", c.BanWindow, maxFill)
		}
		if c.BanFor < 0 || c.BanFor > maxFill {
			bad("ban duration %v: want 0 < duration <= %v", c.BanFor, maxFill)
		}
	}
	if c.MaxTracked < 0 {
		bad("max tracked %d: want > 0 (0 means %d)", c.MaxTracked, DefaultMaxTracked)
	}
	return errors.Join(errs...)
}

// rejectCodes are the final responses a rate-limited INVITE may get: all
// tell the caller to stop without suggesting kefu moved or needs auth.
var rejectCodes = map[int]bool{403: true, 480: true, 486: true, 503: true, 603: true}

// problem describes what is wrong with r (after defaults), or "".
func (r Rate) problem() string {
	switch {
	case r.PerSecond == Unlimited:
		return ""
	case math.IsNaN(r.PerSecond) || r.PerSecond <= 0 || r.PerSecond > maxPerSecond:
		return fmt.Sprintf("rate %v/s: want 0 < rate <= %g, or Unlimited", r.PerSecond, maxPerSecond)
	case r.Burst < 1 || r.Burst > maxBurst:
		return fmt.Sprintf("burst %d: want 1..%d", r.Burst, maxBurst)
	case float64(r.Burst)/r.PerSecond > maxFill.Seconds():
		return fmt.Sprintf("burst %d at %v/s takes longer than %v to refill", r.Burst, r.PerSecond, maxFill)
	}
	return ""
}

// limit is a validated Rate in the form the GCRA needs; interval 0 means
// no limit.
type limit struct {
	interval  int64 // ns between requests at the sustained rate
	tolerance int64 // interval × burst
}

func (r Rate) limit() limit {
	if r.PerSecond == Unlimited {
		return limit{}
	}
	iv := max(int64(math.Round(1e9/r.PerSecond)), 1)
	return limit{interval: iv, tolerance: iv * int64(r.Burst)}
}

// normPrefix unmaps IPv4-mapped IPv6 prefixes (sources are unmapped too)
// and clears host bits.
func normPrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked()
}
