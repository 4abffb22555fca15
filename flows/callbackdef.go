package flows

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-hotline/kefu/prompts"
)

// TrunkDef is a PBX or carrier kefu places its own calls through (issue
// 13): callbacks to customers who asked for one, and follow-up calls. kefu
// dials only numbers from its own records, through a configured trunk:
// there is no open dialling, nothing an outside request can start.
//
//	trunks:
//	  - name: carrier
//	    uri: sip:trunk.example.com:5060
//	    username: "02112345678"
//	    password: trunk-secret
//	    register: true
//	    caller_id: "4001234567"
//	    max_calls: 4
type TrunkDef struct {
	// Name is how queues' callback rules name the trunk.
	Name string `yaml:"name"`
	// URI is where kefu's INVITEs go, sip:HOST[:PORT]; the number
	// dialled becomes the user part of the request URI.
	URI string `yaml:"uri"`
	// Transport is udp (default), tcp or tls. Over TLS kefu checks the
	// trunk's certificate against the system's roots, or CAFile's, for
	// the URI's host, unless Pin names the certificate itself.
	Transport string `yaml:"transport"`
	// CAFile is a PEM file of the certificates that may vouch for the
	// trunk's (its CA, or its self-signed certificate); relative to
	// kefu's working directory. Default: the system's roots.
	CAFile string `yaml:"ca_file"`
	// Pin is the SHA-256 fingerprint of the trunk's certificate (64 hex
	// digits, colons allowed: openssl x509 -noout -fingerprint -sha256):
	// only that certificate is taken, whoever signed it.
	Pin string `yaml:"pin"`
	// Username and Password answer the trunk's digest challenges, to
	// INVITEs and REGISTERs; both or neither.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// Register keeps a registration at the trunk (its URI is the
	// registrar, the username the user registered), refreshed before it
	// expires and retried with back-off while the trunk is down. kefu
	// places no call through a trunk that registers until it is
	// registered.
	Register bool `yaml:"register"`
	// Expires is the registration's lifetime asked for; default 1h.
	Expires *Duration `yaml:"expires"`
	// CallerID is the number the called customer sees (From and
	// P-Asserted-Identity): the hotline's number.
	CallerID string `yaml:"caller_id"`
	// Prefix is dialled before every number (an outside-line digit, a
	// carrier code); default none.
	Prefix string `yaml:"prefix"`
	// MaxCalls bounds kefu's calls through the trunk at once; default 2.
	MaxCalls int `yaml:"max_calls"`
	// RingTimeout is how long a customer's phone may ring before the
	// attempt counts as unanswered; default 30s.
	RingTimeout *Duration `yaml:"ring_timeout"`
	// SRTP is required, optional or off (default: kefu run's -srtp for
	// the calls the trunk sends, plain RTP for those kefu places). It
	// applies to kefu's calls through the trunk and to calls from the
	// trunk's host: required refuses a plain offer with 488 and offers
	// RTP/SAVP; optional answers SRTP when offered and offers it best
	// effort; off is plain RTP only.
	SRTP string `yaml:"srtp"`
}

// CallbackRules are how a queue's callbacks are made (issue 13): through
// which trunk, how many attempts, and how long between them.
type CallbackRules struct {
	// Trunk names the trunk; default the first one configured.
	Trunk string `yaml:"trunk"`
	// Attempts is how many calls kefu makes before it gives up (no
	// answer, busy, failed, an answering machine or a customer who hangs
	// up at once each count); default 3.
	Attempts int `yaml:"attempts"`
	// Retry is the delay after an attempt that did not reach the
	// customer; default 10m.
	Retry *Duration `yaml:"retry"`
	// Off: this queue's callbacks are stored for people to make, as
	// without trunks; kefu does not dial them.
	Off bool `yaml:"off"`
}

// Trunk and callback defaults.
const (
	DefaultTrunkExpires        = time.Hour
	DefaultTrunkMaxCalls       = 2
	DefaultTrunkRingTimeout    = 30 * time.Second
	DefaultCallbackAttempts    = 3
	DefaultCallbackRetry       = 10 * time.Minute
	MaxTrunkCalls              = 1000
	MaxCallbackAttempts        = 10
	minCallbackRetry           = 5 * time.Second
	minTrunkExpires            = time.Minute
	maxTrunkExpires            = 24 * time.Hour
	minTrunkRing, maxTrunkRing = 5 * time.Second, 2 * time.Minute
)

// ExpiresOr is the registration lifetime asked for.
func (t TrunkDef) ExpiresOr() time.Duration { return t.Expires.or(DefaultTrunkExpires) }

// Calls is the trunk's limit of calls at once.
func (t TrunkDef) Calls() int { return orInt(t.MaxCalls, DefaultTrunkMaxCalls) }

// Ring is how long a customer's phone rings.
func (t TrunkDef) Ring() time.Duration { return t.RingTimeout.or(DefaultTrunkRingTimeout) }

// TransportOr is the transport in upper case, as SIP writes it.
func (t TrunkDef) TransportOr() string { return strings.ToUpper(orStr(t.Transport, "udp")) }

// Trunk returns the trunk named name.
func (c *Config) Trunk(name string) (TrunkDef, bool) {
	for _, t := range c.Trunks {
		if t.Name == name {
			return t, true
		}
	}
	return TrunkDef{}, false
}

// CallbackRulesFor is how the named queue's callbacks are made, defaults
// filled in, and whether kefu makes them at all: it does when a trunk is
// configured and the queue does not turn callbacks off. A callback with no
// queue (queue "") takes the defaults.
func (c *Config) CallbackRulesFor(queue string) (CallbackRules, bool) {
	var r CallbackRules
	for _, q := range c.QueueDefs {
		if q.Name == queue && q.Callback != nil {
			r = *q.Callback
		}
	}
	if r.Trunk == "" && len(c.Trunks) > 0 {
		r.Trunk = c.Trunks[0].Name
	}
	r.Attempts = orInt(r.Attempts, DefaultCallbackAttempts)
	d := Duration(r.Retry.or(DefaultCallbackRetry))
	r.Retry = &d
	return r, len(c.Trunks) > 0 && !r.Off
}

// validateTrunks checks the trunks and the queues' callback rules.
func (c *Config) validateTrunks(p *problems) {
	seen := map[string]int{}
	for i, t := range c.Trunks {
		path := fmt.Sprintf("$.trunks[%d]", i)
		switch {
		case t.Name == "":
			p.at(path, "trunk without a name: give it one, e.g. name: carrier")
		case strings.Trim(t.Name, "abcdefghijklmnopqrstuvwxyz0123456789_-") != "":
			p.at(path+".name", "trunk name %q: use a-z, 0-9, _ and -", t.Name)
		}
		if j, dup := seen[t.Name]; dup && t.Name != "" {
			p.at(path+".name", "trunk %q is also trunks[%d]: each trunk once", t.Name, j)
		}
		seen[t.Name] = i
		if err := checkTrunkURI(t.URI); err != nil {
			p.at(path+".uri", "trunk %s: uri %q: %v", t.Name, t.URI, err)
		}
		if v := strings.ToLower(t.SRTP); v != "" && v != "required" && v != "optional" && v != "off" {
			p.at(path+".srtp", "trunk %s: srtp %q: use required, optional or off", t.Name, t.SRTP)
		}
		if tr := strings.ToLower(t.Transport); tr != "" && tr != "udp" && tr != "tcp" && tr != "tls" {
			p.at(path+".transport", "trunk %s: transport %q: use udp, tcp or tls", t.Name, t.Transport)
		}
		t.validateTLS(path, p)
		switch {
		case t.Username != "" && t.Password == "":
			p.at(path+".username", "trunk %s: a username without a password: give both, or neither for a trunk that trusts kefu's address", t.Name)
		case t.Password != "" && t.Username == "":
			p.at(path+".password", "trunk %s: a password without a username: give both", t.Name)
		}
		if strings.ContainsAny(t.Username, "@:;<> \t\"") {
			p.at(path+".username", "trunk %s: username %q: the user part only, no @host", t.Name, t.Username)
		}
		if !t.Register && t.Expires != nil {
			p.at(path+".expires", "trunk %s: expires without register: true does nothing", t.Name)
		}
		if e := t.ExpiresOr(); e < minTrunkExpires || e > maxTrunkExpires {
			p.at(path+".expires", "trunk %s: expires %v: between %v and %v", t.Name, e, minTrunkExpires, maxTrunkExpires)
		}
		if !isDialable(t.CallerID) {
			p.at(path+".caller_id", "trunk %s: caller_id %q: the hotline's number the customer sees, digits with an optional leading +", t.Name, t.CallerID)
		}
		if t.Prefix != "" && strings.Trim(t.Prefix, "0123456789") != "" {
			p.at(path+".prefix", "trunk %s: prefix %q: digits only", t.Name, t.Prefix)
		}
		if t.MaxCalls < 0 || t.MaxCalls > MaxTrunkCalls {
			p.at(path+".max_calls", "trunk %s: max_calls %d: between 1 and %d (0: %d)", t.Name, t.MaxCalls, MaxTrunkCalls, DefaultTrunkMaxCalls)
		}
		if rt := t.Ring(); rt < minTrunkRing || rt > maxTrunkRing {
			p.at(path+".ring_timeout", "trunk %s: ring_timeout %v: between %v and %v", t.Name, rt, minTrunkRing, maxTrunkRing)
		}
	}
	for i, q := range c.QueueDefs {
		r := q.Callback
		if r == nil {
			continue
		}
		path := fmt.Sprintf("$.queues[%d].callback", i)
		if r.Trunk != "" {
			if _, ok := c.Trunk(r.Trunk); !ok {
				p.at(path+".trunk", "queue %s: no trunk named %q (trunks: %s)", q.Name, r.Trunk, strings.Join(c.trunkNames(), ", "))
			}
		}
		if len(c.Trunks) == 0 && !r.Off {
			p.at(path, "queue %s: callback rules, but no trunks: kefu places callbacks through a trunk (add trunks:, or off: true)", q.Name)
		}
		if r.Attempts < 0 || r.Attempts > MaxCallbackAttempts {
			p.at(path+".attempts", "queue %s: attempts %d: between 1 and %d", q.Name, r.Attempts, MaxCallbackAttempts)
		}
		if d := r.Retry.or(DefaultCallbackRetry); d < minCallbackRetry || d > 24*time.Hour {
			p.at(path+".retry", "queue %s: retry %v: between %v and 24h", q.Name, d, minCallbackRetry)
		}
	}
}

// validateTLS checks a trunk's ca_file and pin: only over TLS, a file of
// PEM certificates, a SHA-256 fingerprint.
func (t TrunkDef) validateTLS(path string, p *problems) {
	tls := strings.EqualFold(t.Transport, "tls")
	if t.CAFile != "" {
		switch data, err := os.ReadFile(t.CAFile); {
		case !tls:
			p.at(path+".ca_file", "trunk %s: ca_file without transport: tls does nothing", t.Name)
		case err != nil:
			p.at(path+".ca_file", "trunk %s: ca_file: %v", t.Name, err)
		case !hasPEMCert(data):
			p.at(path+".ca_file", "trunk %s: ca_file %s holds no PEM certificate", t.Name, t.CAFile)
		}
	}
	if t.Pin != "" {
		switch _, ok := ParsePin(t.Pin); {
		case !tls:
			p.at(path+".pin", "trunk %s: pin without transport: tls does nothing", t.Name)
		case !ok:
			p.at(path+".pin", "trunk %s: pin %q: the certificate's SHA-256 fingerprint, 64 hex digits (colons allowed)", t.Name, t.Pin)
		}
	}
}

// hasPEMCert reports whether data holds a PEM CERTIFICATE block.
func hasPEMCert(data []byte) bool {
	for len(data) > 0 {
		var b *pem.Block
		if b, data = pem.Decode(data); b == nil {
			return false
		}
		if b.Type == "CERTIFICATE" {
			return true
		}
	}
	return false
}

// ParsePin reads a trunk's pin: a SHA-256 fingerprint as 64 hex digits,
// in pairs separated by colons or not.
func ParsePin(s string) ([sha256.Size]byte, bool) {
	var pin [sha256.Size]byte
	b, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(s), ":", ""))
	if err != nil || len(b) != len(pin) {
		return pin, false
	}
	copy(pin[:], b)
	return pin, true
}

func (c *Config) trunkNames() []string {
	out := make([]string, 0, len(c.Trunks))
	for _, t := range c.Trunks {
		out = append(out, t.Name)
	}
	return out
}

// checkTrunkURI accepts sip:HOST or sip:HOST:PORT: no user part (the
// number dialled goes there) and no parameters (transport: says it).
func checkTrunkURI(u string) error {
	rest, ok := strings.CutPrefix(u, "sip:")
	switch {
	case !ok:
		return fmt.Errorf("want sip:HOST[:PORT], e.g. sip:trunk.example.com:5060")
	case strings.Contains(rest, "@"):
		return fmt.Errorf("no user part: the number dialled goes there; write sip:HOST[:PORT]")
	case strings.ContainsAny(rest, ";?<> \t"):
		return fmt.Errorf("no parameters: give the transport as transport: tcp (or tls)")
	}
	host, port := rest, ""
	if strings.HasPrefix(rest, "[") { // an IPv6 literal
		end := strings.Index(rest, "]")
		if end < 0 {
			return fmt.Errorf("unclosed [ in an IPv6 address")
		}
		host, port = rest[:end+1], strings.TrimPrefix(rest[end+1:], ":")
	} else if h, p, ok := strings.Cut(rest, ":"); ok {
		host, port = h, p
	}
	if host == "" || host == "[]" {
		return fmt.Errorf("no host")
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("port %q: want 1 to 65535", port)
		}
	}
	return nil
}

// isDialable reports whether n is a number kefu may put in a From or a
// request URI: digits with an optional leading +, 3 to 20 of them.
func isDialable(n string) bool {
	d := strings.TrimPrefix(n, "+")
	return len(d) >= 3 && len(d) <= 20 && strings.Trim(d, "0123456789") == ""
}

// CallbackPrompts are the prompts the calls kefu places say (flows/callback
// names them too): a callback's whisper to the agent, greeting to the
// customer and news to the agent that the customer was not reached; a
// follow-up's news, survey question, thanks and goodbye (CS-FOLLOWUP).
var CallbackPrompts = []string{"callback.whisper", "callback.greet", "callback.unreached", "callback.machine",
	"followup.greet", "followup.bye", "survey.ask", "survey.thanks", "followup.whisper", "queue.connecting"}

// checkCallbackPrompts: with a trunk configured kefu makes callbacks, and
// needs their prompts and the digits of the whisper.
func (c *Config) checkCallbackPrompts(need func(path, id string) time.Duration, cat *prompts.Catalog) {
	if len(c.Trunks) == 0 {
		return
	}
	for _, id := range CallbackPrompts {
		need("$.trunks", id)
	}
	if _, err := cat.Number("0123456789"); err != nil {
		need("$.trunks", "digit.0") // names the missing digits' set
	}
}

// ServiceDown reports whether the hotline tells its callers the service
// is down (CS-SYSTEM-DOWN): the route a call to the hotline from an
// ordinary number takes leads to a system-down flow. kefu makes no
// callback meanwhile: the lines are being repaired.
func (c *Config) ServiceDown() bool {
	for _, r := range c.Routes {
		if (r.To == "" || r.To == "*") && (r.From == "" || r.From == "*") {
			return c.SystemDown(r.Flow)
		}
	}
	return false
}

// CallbackQueue is the queue a callback of kind queue waits in for an
// agent: its own, or for one left outside any queue (CS-SYSTEM-DOWN's,
// after hours, the menu's) the one callbacks.queue names, by default the
// first queue that does not yield; "" when there is none.
func (c *Config) CallbackQueue(queue string) string {
	if queue != "" {
		return queue
	}
	if c.Callbacks != nil && c.Callbacks.Queue != "" {
		return c.Callbacks.Queue
	}
	for _, q := range c.QueueDefs {
		if !q.Yields {
			return q.Name
		}
	}
	return ""
}
