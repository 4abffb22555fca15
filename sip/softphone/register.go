package softphone

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// ErrRegister is wrapped by every failed registration; a registration the
// registrar refused is a *RegisterError.
var ErrRegister = errors.New("softphone: registration failed")

// RegisterError is a REGISTER refused with a SIP final response.
type RegisterError struct {
	Code   int
	Reason string
	Why    string // what the code means for an agent, if known
}

// Error returns e.g. "softphone: registration refused: 401 Unauthorized
// (wrong id or password)".
func (e *RegisterError) Error() string {
	s := fmt.Sprintf("softphone: registration refused: %d %s", e.Code, e.Reason)
	if e.Why != "" {
		s += " (" + e.Why + ")"
	}
	return s
}

// Unwrap makes a RegisterError an ErrRegister.
func (e *RegisterError) Unwrap() error { return ErrRegister }

// maxRegisterTries bounds the requests of one registration: challenges,
// stale nonces and 423 Interval Too Brief each cost one.
const maxRegisterTries = 6

// sendFunc sends one request outside a dialog and returns its final
// response: the sipgo client in use, a fake in the tests.
type sendFunc func(ctx context.Context, req *sip.Request) (*sip.Response, error)

// registration is the agent's binding at the registrar (RFC 3261 section
// 10): one Call-ID with a rising CSeq, digest authentication (RFC 2617,
// RFC 8760: SHA-256 preferred to MD5, qop=auth) with the last challenge
// reused, nonce count rising, until the registrar asks for a new one.
// It is used by one goroutine at a time.
type registration struct {
	send      sendFunc
	registrar sip.Uri // the Request-URI: sip:host[:port]
	aor       sip.Uri // To and From: sip:ID@host
	contact   sip.Uri // where calls reach us
	user      string
	password  string
	userAgent string
	callID    string
	fromTag   string
	cseq      uint32

	least time.Duration // the registrar's Min-Expires, once a 423 told it

	chal  *digest.Challenge // the last challenge, nil before the first
	proxy bool              // it came in a 407
	nc    int               // requests authenticated with it
}

// register asks for a binding of expires (0 removes it), or the
// registrar's Min-Expires if that is longer, and returns the expiry
// granted.
func (r *registration) register(ctx context.Context, expires time.Duration) (time.Duration, error) {
	want := expires
	if want > 0 {
		want = max(want, r.least)
	}
	fresh := false // r.chal came with the answer to our previous request
	for range maxRegisterTries {
		req := r.request(want)
		if err := r.authorize(req); err != nil {
			return 0, err
		}
		res, err := r.send(ctx, req)
		if err != nil {
			return 0, fmt.Errorf("%w: REGISTER: %w", ErrRegister, err)
		}
		switch code := res.StatusCode; {
		case res.IsSuccess():
			return r.granted(res, want), nil
		case code == sip.StatusUnauthorized || code == sip.StatusProxyAuthRequired:
			chal, err := pickChallenge(res)
			if err != nil {
				return 0, fmt.Errorf("%w: %d %s: %w", ErrRegister, code, res.Reason, err)
			}
			if fresh && !chal.Stale {
				return 0, &RegisterError{Code: code, Reason: res.Reason, Why: "wrong id or password"}
			}
			r.chal, r.proxy, r.nc, fresh = chal, code == sip.StatusProxyAuthRequired, 0, true
		case code == sip.StatusIntervalToBrief:
			least, ok := headerSeconds(res, "Min-Expires")
			if !ok || least <= want {
				return 0, &RegisterError{Code: code, Reason: res.Reason, Why: "no usable Min-Expires"}
			}
			want, r.least, fresh = least, least, false
		default:
			why := ""
			if code == sip.StatusForbidden {
				// kefu answers an unknown id and a wrong password alike
				// (no enumeration), after the digest exchange.
				why = "unknown id or wrong password, or the id may not register"
			}
			return 0, &RegisterError{Code: code, Reason: res.Reason, Why: why}
		}
	}
	return 0, fmt.Errorf("%w: gave up after %d requests", ErrRegister, maxRegisterTries)
}

// request builds the next REGISTER.
func (r *registration) request(expires time.Duration) *sip.Request {
	r.cseq++
	req := sip.NewRequest(sip.REGISTER, r.registrar)
	req.SetTransport("UDP")
	from := &sip.FromHeader{Address: r.aor, Params: sip.NewParams()}
	from.Params.Add("tag", r.fromTag)
	to := &sip.ToHeader{Address: r.aor, Params: sip.NewParams()}
	callID := sip.CallIDHeader(r.callID)
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: r.cseq, MethodName: sip.REGISTER})
	req.AppendHeader(&sip.ContactHeader{Address: r.contact})
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(expires/time.Second))))
	req.AppendHeader(sip.NewHeader("User-Agent", r.userAgent))
	req.AppendHeader(sip.NewHeader("Allow", agentAllow))
	return req
}

// authorize adds credentials for the last challenge, if there is one.
func (r *registration) authorize(req *sip.Request) error {
	if r.chal == nil {
		return nil
	}
	r.nc++
	cred, err := digest.Digest(r.chal, digest.Options{
		Method:   sip.REGISTER.String(),
		URI:      r.registrar.Addr(),
		Username: r.user,
		Password: r.password,
		Count:    r.nc,
	})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrRegister, err)
	}
	name := "Authorization"
	if r.proxy {
		name = "Proxy-Authorization"
	}
	req.AppendHeader(sip.NewHeader(name, cred.String()))
	return nil
}

// granted reads the expiry the registrar granted our contact: its expires
// parameter in the 200's Contact list, else the Expires header, else what
// we asked for.
func (r *registration) granted(res *sip.Response, asked time.Duration) time.Duration {
	for _, h := range res.GetHeaders("Contact") {
		for _, v := range splitContacts(h.Value()) {
			var u sip.Uri
			params := sip.NewParams()
			if _, err := sip.ParseAddressValue(v, &u, &params); err != nil {
				continue
			}
			if u.User != r.contact.User || u.Host != r.contact.Host || u.Port != r.contact.Port {
				continue
			}
			if e, ok := params.Get("expires"); ok {
				if n, err := strconv.Atoi(e); err == nil && n >= 0 {
					return time.Duration(n) * time.Second
				}
			}
		}
	}
	if d, ok := headerSeconds(res, "Expires"); ok {
		return d
	}
	return asked
}

// splitContacts splits a Contact header value at the commas between
// contacts (not those inside quotes or angle brackets).
func splitContacts(v string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i, c := range v {
		switch {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '<':
			depth++
		case c == '>':
			depth--
		case c == ',' && depth == 0:
			out = append(out, strings.TrimSpace(v[start:i]))
			start = i + 1
		}
	}
	return append(out, strings.TrimSpace(v[start:]))
}

// headerSeconds reads a header holding a number of seconds.
func headerSeconds(res *sip.Response, name string) (time.Duration, bool) {
	h := res.GetHeader(name)
	if h == nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(h.Value()))
	if err != nil || n < 0 {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// algorithmRank orders the digest algorithms we answer, strongest first
// (RFC 8760 section 2.4: a registrar may offer one challenge per
// algorithm); 0 means not supported.
func algorithmRank(alg string) int {
	switch alg {
	case "SHA-256":
		return 2
	case "", "MD5":
		return 1
	}
	return 0
}

// pickChallenge returns the strongest challenge of a 401 or 407 that we
// can answer.
func pickChallenge(res *sip.Response) (*digest.Challenge, error) {
	name := "WWW-Authenticate"
	if res.StatusCode == sip.StatusProxyAuthRequired {
		name = "Proxy-Authenticate"
	}
	var best *digest.Challenge
	for _, h := range res.GetHeaders(name) {
		c, err := digest.ParseChallenge(h.Value())
		if err != nil {
			continue
		}
		c.Algorithm = strings.ToUpper(c.Algorithm)
		if !digest.CanDigest(c) || algorithmRank(c.Algorithm) == 0 {
			continue
		}
		if best == nil || algorithmRank(c.Algorithm) > algorithmRank(best.Algorithm) {
			best = c
		}
	}
	if best == nil {
		return nil, fmt.Errorf("no digest challenge (MD5 or SHA-256) in %s", name)
	}
	return best, nil
}

// refreshAfter is when to renew a binding granted for d: halfway for short
// ones, 30 s before expiry for long ones, never sooner than a second.
func refreshAfter(d time.Duration) time.Duration {
	return max(d-min(d/2, 30*time.Second), time.Second)
}
