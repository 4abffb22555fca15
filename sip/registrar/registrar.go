// Package registrar is kefu's SIP registrar for its agents: the digest
// server side (RFC 7616, with SHA-256 and MD5 for SIP as RFC 8760 says),
// self-validating nonces that expire, replay protection, and the
// agents' bindings (RFC 3261 section 10.3) with their expiry. It is pure
// logic: no sockets, and time comes from Config.Now, so every rule is
// tested in virtual time. The sip package turns REGISTER requests into a
// Request and sends the Response.
//
// No enumeration: a REGISTER without credentials is challenged without
// looking the user up, and a response for an unknown user, for another
// domain, with another user's credentials or with a wrong password all
// get the same 403, after the same hashing work (a dummy secret stands in
// for the missing one). Only a correct response learns more (stale=true
// for an expired or replayed nonce, 423, the bindings).
package registrar

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Defaults for Config's zero fields.
const (
	DefaultRealm          = "kefu"
	DefaultNonceTTL       = 5 * time.Minute
	DefaultMinExpires     = 60 * time.Second
	DefaultMaxExpires     = time.Hour
	DefaultExpires        = time.Hour
	DefaultMaxBindings    = 3
	DefaultFailureLimit   = 10
	DefaultFailureWindow  = 5 * time.Minute
	DefaultMaxSources     = 4096
	DefaultMaxNonces      = 65536
	DefaultSweepInterval  = time.Second
	defaultMaintainPeriod = time.Minute
)

// Config configures a Registrar. Zero fields take the defaults.
type Config struct {
	// Realm is the digest realm. An HA1 secret must have been computed
	// with it.
	Realm string
	// Lookup returns an agent's secret by agent id; false for an unknown
	// id. It is called for every authenticated REGISTER, so a reloaded
	// agent list takes effect at once.
	Lookup func(id string) (Secret, bool)
	// Domains, when not empty, are the hosts (names or addresses) kefu is
	// the registrar for; a REGISTER for another domain is refused like an
	// unknown user. Empty: any domain.
	Domains []string
	// Algorithms are the challenges a 401 offers, in order; default
	// DefaultAlgorithms (SHA-256, then MD5).
	Algorithms []Algorithm
	// MD5OnlyUserAgents are User-Agent prefixes (case-insensitive) of
	// phones that are offered an MD5 challenge only, because a SHA-256
	// one breaks them; nil is DefaultMD5OnlyUserAgents, an empty list
	// none. The choice depends on the User-Agent alone, never on the
	// user, so it tells nothing about which ids exist.
	MD5OnlyUserAgents []string
	// NonceTTL is how long a nonce is good for (default 5 min); a correct
	// response with an older one gets a fresh challenge with stale=true.
	NonceTTL time.Duration
	// MinExpires, MaxExpires and DefaultExpires bound a binding's
	// lifetime: shorter than MinExpires (60 s) is refused with 423,
	// longer than MaxExpires (1 h) is cut to it, and none asked for gets
	// DefaultExpires (1 h).
	MinExpires, MaxExpires, DefaultExpires time.Duration
	// MaxBindings is how many contacts an agent may have registered at
	// once (default 3); a new one beyond it replaces the one closest to
	// expiry.
	MaxBindings int
	// FailureLimit failed authentications from one source address within
	// FailureWindow (default 10 in 5 min) call OnFailure; MaxSources
	// bounds how many sources are counted (default 4096).
	FailureLimit  int
	FailureWindow time.Duration
	MaxSources    int
	// MaxNonces bounds how many used nonces are remembered for replay
	// protection (default 65536). Only correct responses add one.
	MaxNonces int
	// SweepInterval is how often Run looks for expired bindings (1 s).
	SweepInterval time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// OnChange is called when an agent signs in (its first binding),
	// moves (the contact calls go to changed: a new binding, or the
	// newest one went) or signs out (its last binding went: un-register,
	// expiry, Remove). contact is Binding.Target of the agent's newest
	// binding (the one it had, on sign-out). Refreshes call nothing.
	// Calls come in order, one at a time, never under the registrar's
	// lock, so OnChange may call the Registrar; a call may come from
	// another goroutine's Handle, just after the Handle that caused it.
	OnChange func(id, contact string, signedIn bool)
	// Store keeps the bindings and the nonce key; nil is NewMemory(). A
	// store several nodes share makes them one registrar.
	Store Store
	// OnFailure is called when a source address reaches FailureLimit
	// failed authentications, for the flood guard to ban it. Same calling
	// rules as OnChange.
	OnFailure func(src netip.Addr)
}

// DefaultMD5OnlyUserAgents: baresip before 3.11 (libre before SHA-256
// support, e.g. Debian 12's baresip 1.0.0) gives up on a 401 as soon as
// any of its challenges names an algorithm other than MD5, whatever the
// order, so it must see MD5 alone.
var DefaultMD5OnlyUserAgents = []string{
	"baresip v0.", "baresip v1.", "baresip v2.", "baresip v3.0.", "baresip v3.1.", "baresip v3.2.",
	"baresip v3.3.", "baresip v3.4.", "baresip v3.5.", "baresip v3.6.", "baresip v3.7.", "baresip v3.8.",
	"baresip v3.9.", "baresip v3.10.",
}

// Registrar keeps the agents' bindings. Its methods are safe for
// concurrent use.
type Registrar struct {
	cfg      Config
	now      func() time.Time
	domains  map[string]bool
	nonces   *nonces
	failures *failures

	st       Store
	mu       sync.Mutex
	lastMain time.Time
	// Events wait in pending; one goroutine at a time (delivering)
	// delivers them in order, without the lock.
	pending    []event
	delivering bool
}

// New returns a Registrar for cfg. Lookup is required.
func New(cfg Config) (*Registrar, error) {
	if cfg.Lookup == nil {
		return nil, errors.New("registrar: Config.Lookup is required")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defInt := func(n *int, v int) {
		if *n <= 0 {
			*n = v
		}
	}
	if cfg.Realm == "" {
		cfg.Realm = DefaultRealm
	}
	if len(cfg.Algorithms) == 0 {
		cfg.Algorithms = DefaultAlgorithms
	}
	if cfg.MD5OnlyUserAgents == nil {
		cfg.MD5OnlyUserAgents = DefaultMD5OnlyUserAgents
	}
	for _, a := range cfg.Algorithms {
		if a != SHA256 && a != MD5 {
			return nil, errors.New("registrar: algorithm " + string(a) + " cannot be offered (SHA-256, MD5)")
		}
	}
	def(&cfg.NonceTTL, DefaultNonceTTL)
	def(&cfg.MinExpires, DefaultMinExpires)
	def(&cfg.MaxExpires, DefaultMaxExpires)
	def(&cfg.DefaultExpires, DefaultExpires)
	def(&cfg.FailureWindow, DefaultFailureWindow)
	def(&cfg.SweepInterval, DefaultSweepInterval)
	defInt(&cfg.MaxBindings, DefaultMaxBindings)
	defInt(&cfg.FailureLimit, DefaultFailureLimit)
	defInt(&cfg.MaxSources, DefaultMaxSources)
	defInt(&cfg.MaxNonces, DefaultMaxNonces)
	if cfg.MaxExpires < cfg.MinExpires {
		return nil, errors.New("registrar: MaxExpires is below MinExpires")
	}
	cfg.DefaultExpires = min(max(cfg.DefaultExpires, cfg.MinExpires), cfg.MaxExpires)
	if cfg.Store == nil {
		cfg.Store = NewMemory()
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	key, err := cfg.Store.NonceKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("registrar: nonce key: %w", err)
	}
	r := &Registrar{
		cfg:      cfg,
		now:      cfg.Now,
		nonces:   newNonces(int64(cfg.NonceTTL), cfg.MaxNonces, key),
		failures: newFailures(cfg.FailureLimit, int64(cfg.FailureWindow), cfg.MaxSources),
		st:       cfg.Store,
	}
	if r.now == nil {
		r.now = time.Now
	}
	if len(cfg.Domains) > 0 {
		r.domains = map[string]bool{}
		for _, d := range cfg.Domains {
			r.domains[strings.ToLower(strings.Trim(d, "[]"))] = true
		}
	}
	return r, nil
}

// Realm returns the digest realm.
func (r *Registrar) Realm() string { return r.cfg.Realm }

// NoExpires is Request.Expires and Contact expiry when none was given.
const NoExpires = -1

// Request is a REGISTER as the registrar needs it.
type Request struct {
	// User and Domain are the address being registered (the To URI's user
	// and host): the agent id and kefu's host.
	User, Domain string
	// Method is the request's method, which the digest response covers
	// (with the uri of the credentials, which need not be written as the
	// Request-URI is: phones differ, and the nc check stops replays).
	Method string
	// Authorization holds the Authorization header values.
	Authorization []string
	CallID        string
	CSeq          uint32
	// Expires is the Expires header in seconds, NoExpires when absent.
	Expires int
	// Contacts are the Contact headers; a lone URI with Wildcard set is
	// "Contact: *". None: a query for the bindings.
	Contacts []Contact
	// Source is the address the request came from, Transport its
	// transport ("UDP", "TCP", ...): the phone's, or the proxy's when it
	// came through one.
	Source    netip.AddrPort
	Transport string
	// Origin and OriginTransport are where the phone really sent the
	// request from: a trusted proxy's word for it (the sip package's
	// SourceHeader), else Source and Transport. Zero: as Source. Digest
	// failures count against Origin.
	Origin          netip.AddrPort
	OriginTransport string
	UserAgent       string
	// Path are the Path header values (RFC 3327), one entry each,
	// nearest proxy first: stored with the bindings.
	Path []string
}

// origin is where the request really came from: Origin, else Source.
func (req Request) origin() netip.AddrPort {
	if req.Origin.IsValid() {
		return req.Origin
	}
	return req.Source
}

// Contact is one Contact header value.
type Contact struct {
	URI    sip.Uri
	Params sip.HeaderParams
}

// Outcome says what became of a REGISTER, for logs and metrics. It is
// never sent: Unknown and BadPassword look alike on the wire.
type Outcome string

// The outcomes.
const (
	Challenged   Outcome = "challenged"   // 401: no credentials for our realm
	Stale        Outcome = "stale"        // 401 stale=true: correct response, old or reused nonce
	Unknown      Outcome = "unknown"      // 403: no such agent (or not our domain, or another id's credentials)
	BadPassword  Outcome = "bad_password" // 403: a wrong response for an agent
	Malformed    Outcome = "malformed"    // 400
	TooBrief     Outcome = "too_brief"    // 423
	OutOfOrder   Outcome = "out_of_order" // 400: CSeq not above the binding's for its Call-ID
	Registered   Outcome = "registered"   // 200: a new binding, or the newest moved
	Refreshed    Outcome = "refreshed"    // 200: the same bindings, later expiry
	Unregistered Outcome = "unregistered" // 200 with no binding left
	Queried      Outcome = "queried"      // 200 to a REGISTER without Contact
	Unsupported  Outcome = "unsupported"  // 400: a contact kefu cannot call (not sip/sips)
	Failed       Outcome = "failed"       // 500: the store failed (Response.Err)
)

// Response is the registrar's answer.
type Response struct {
	Code   int
	Reason string
	// Challenges are the WWW-Authenticate values of a 401, in order.
	Challenges []string
	// MinExpires is the Min-Expires of a 423, in seconds.
	MinExpires int
	// Bindings are, in a 200, the agent's bindings after the request;
	// each Contact goes out with ;expires= the seconds left (Expires).
	Bindings []Binding
	// Date is the time of a 200 (its Date header).
	Date time.Time
	// Warning explains a 400 (a Warning header); empty otherwise.
	Warning string
	// Path is, in a 200, the REGISTER's Path, echoed (RFC 3327
	// section 5.3) with Supported: path.
	Path []string
	// Outcome, ID (the agent id when authenticated) and Err (what failed,
	// for a 500) are for logs.
	Outcome Outcome
	ID      string
	Err     error
}

// ExpiresIn is the seconds a binding of a 200 has left.
func (res Response) ExpiresIn(b Binding) int {
	return max(int(b.Expires.Sub(res.Date).Round(time.Second)/time.Second), 0)
}

// Handle processes a REGISTER.
func (r *Registrar) Handle(req Request) Response {
	now := r.now()
	t := now.UnixNano()
	if w := shapeError(req); w != "" {
		return Response{Code: 400, Reason: "Bad Request", Warning: w, Outcome: Malformed}
	}
	var creds *credentials
	for _, v := range req.Authorization {
		p, digest, err := digestParams(v)
		if !digest {
			continue
		}
		if err != nil {
			r.fail(req.origin(), t)
			return Response{Code: 400, Reason: "Bad Request", Warning: err.Error(), Outcome: Malformed}
		}
		if p["realm"] != r.cfg.Realm {
			continue // for another server: not ours to judge
		}
		c, err := parseCredentials(p)
		if err != nil {
			r.fail(req.origin(), t)
			return Response{Code: 400, Reason: "Bad Request", Warning: err.Error(), Outcome: Malformed}
		}
		creds = &c
		break
	}
	if creds == nil {
		return r.challenge(req.UserAgent, t, false, Challenged)
	}

	// Same work whether the agent exists or not.
	secret, known := Secret{}, false
	if creds.username == req.User && r.ourDomain(req.Domain) {
		secret, known = r.cfg.Lookup(creds.username)
	}
	if !known {
		secret = Secret{Password: "kefu: no such agent"}
	}
	want, usable := expected(*creds, r.cfg.Realm, secret, req.Method)
	if !equalHex(want, creds.response) || !usable || !known {
		r.fail(req.origin(), t)
		out := BadPassword
		if !known {
			out = Unknown
		}
		return Response{Code: 403, Reason: "Forbidden", Outcome: out}
	}
	switch r.nonces.check(creds.nonce, creds.nc, t) {
	case nonceOK:
	default:
		return r.challenge(req.UserAgent, t, true, Stale)
	}
	return r.bind(req, now)
}

// shapeError checks what a REGISTER must have before anything else is
// looked at; the same for every user.
func shapeError(req Request) string {
	switch {
	case req.User == "":
		return "no user in the To address"
	case req.CallID == "":
		return "no Call-ID"
	}
	for _, c := range req.Contacts {
		if c.URI.Wildcard && (len(req.Contacts) > 1 || req.Expires != 0) {
			return "Contact: * needs Expires: 0 and no other Contact"
		}
	}
	return ""
}

func (r *Registrar) ourDomain(d string) bool {
	return r.domains == nil || r.domains[strings.ToLower(strings.Trim(d, "[]"))]
}

// challenge is a 401 with a fresh nonce in every algorithm offered to
// the phone (one nonce: a phone may answer any of them).
func (r *Registrar) challenge(userAgent string, t int64, stale bool, out Outcome) Response {
	nonce := r.nonces.issue(t)
	res := Response{Code: 401, Reason: "Unauthorized", Outcome: out}
	algs := r.cfg.Algorithms
	for _, p := range r.cfg.MD5OnlyUserAgents {
		if len(userAgent) >= len(p) && strings.EqualFold(userAgent[:len(p)], p) {
			algs = []Algorithm{MD5}
			break
		}
	}
	for _, a := range algs {
		res.Challenges = append(res.Challenges, challenge(r.cfg.Realm, nonce, a, stale))
	}
	return res
}

// fail counts a failed authentication from src.
func (r *Registrar) fail(src netip.AddrPort, t int64) {
	if !r.failures.add(src.Addr(), t) {
		return
	}
	r.mu.Lock()
	r.deliver([]event{{src: src.Addr().Unmap()}})
}

// expiry is how long a contact asks to be bound for: its expires
// parameter, else the Expires header, else the default; malformed values
// count as absent (RFC 3261 section 20.19). Capped at MaxExpires.
func (r *Registrar) expiry(req Request, c Contact) time.Duration {
	secs := NoExpires
	if hasParam(c.Params, "expires") {
		if n, err := strconv.ParseUint(param(c.Params, "expires"), 10, 32); err == nil {
			secs = int(n)
		}
	}
	if secs == NoExpires && req.Expires >= 0 {
		secs = req.Expires
	}
	if secs == NoExpires {
		return r.cfg.DefaultExpires
	}
	return min(time.Duration(secs)*time.Second, r.cfg.MaxExpires)
}

// Run sweeps expired bindings every SweepInterval until ctx ends.
func (r *Registrar) Run(ctx context.Context) {
	tk := time.NewTicker(r.cfg.SweepInterval)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
			r.Sweep()
		}
	}
}

// Sweep removes the bindings expired by now (signing out agents left
// without one) and forgets expired nonces and failure counts. With a
// shared store each agent's bindings are read again under its lock, so a
// binding another node refreshed meanwhile stays.
func (r *Registrar) Sweep() {
	now := r.now()
	r.mu.Lock()
	if now.Sub(r.lastMain) >= defaultMaintainPeriod {
		r.lastMain = now
		r.nonces.sweep(now.UnixNano())
		r.failures.sweep(now.UnixNano())
	}
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	ids, err := r.st.Due(ctx, now)
	if err != nil || len(ids) == 0 {
		return
	}
	var evs []event
	r.mu.Lock()
	for _, id := range ids {
		var before, after *Binding
		err := r.st.Update(ctx, id, func(bs []Binding) ([]Binding, error) {
			before = newest(bs)
			bs = slices.DeleteFunc(bs, func(b Binding) bool { return !now.Before(b.Expires) })
			after = newest(bs)
			return bs, nil
		})
		if err == nil {
			evs = appendEvent(evs, id, before, after)
		}
	}
	r.deliver(evs)
}

// Remove drops every binding of an agent (an agent taken out of the
// configuration); the agent signs out.
func (r *Registrar) Remove(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	var before *Binding
	r.mu.Lock()
	err := r.st.Update(ctx, id, func(bs []Binding) ([]Binding, error) {
		before = newest(bs)
		return nil, nil
	})
	if err != nil {
		before = nil
	}
	r.deliver(appendEvent(nil, id, before, nil))
}

// Contact returns the agent's newest binding: where to call it (Target,
// Destination, and the Path as the route set). ok is false when the agent
// has none, or the store failed.
func (r *Registrar) Contact(id string) (Binding, bool) {
	for _, b := range r.Bindings(id) {
		return b, true
	}
	return Binding{}, false
}

// Bindings returns the agent's current bindings, newest first (none when
// the store failed).
func (r *Registrar) Bindings(id string) []Binding {
	now := r.now()
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	bs, err := r.st.Bindings(ctx, id)
	if err != nil {
		return nil
	}
	return live(bs, now)
}

// All returns every agent's current bindings, by agent id (none when the
// store failed).
func (r *Registrar) All() map[string][]Binding {
	now := r.now()
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	all, err := r.st.All(ctx)
	if err != nil {
		return nil
	}
	out := make(map[string][]Binding, len(all))
	for id, bs := range all {
		if l := live(bs, now); len(l) > 0 {
			out[id] = l
		}
	}
	return out
}

func live(bs []Binding, now time.Time) []Binding {
	var out []Binding
	for _, b := range bs {
		if now.Before(b.Expires) {
			out = append(out, b.clone())
		}
	}
	return out
}
