package trunk

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

// ErrRefused is wrapped by a REGISTER the trunk answered with a final
// failure; the error is a *RefusedError.
var ErrRefused = errors.New("trunk: registration refused")

// RefusedError is a REGISTER refused with a SIP final response.
type RefusedError struct {
	Code   int
	Reason string
	// RetryAfter is the trunk's Retry-After (a 503, a 480), 0 if none.
	RetryAfter time.Duration
	Why        string
}

// Error returns e.g. "trunk: registration refused: 403 Forbidden (wrong
// username or password)".
func (e *RefusedError) Error() string {
	s := fmt.Sprintf("trunk: registration refused: %d %s", e.Code, e.Reason)
	if e.Why != "" {
		s += " (" + e.Why + ")"
	}
	return s
}

// Unwrap makes a RefusedError an ErrRefused.
func (e *RefusedError) Unwrap() error { return ErrRefused }

// maxTries bounds the requests of one registration: a challenge, a stale
// nonce and a 423 each cost one.
const maxTries = 6

// binding is kefu's registration at the trunk (RFC 3261 section 10.2):
// one Call-ID with a rising CSeq for all its REGISTERs, digest answers
// (RFC 2617, RFC 8760: SHA-256 before MD5) reusing the last challenge
// with a rising nonce count until the trunk asks for a new one. One
// goroutine uses it at a time.
type binding struct {
	cfg     *Config
	aor     sip.Uri // To and From
	callID  string
	fromTag string
	cseq    uint32
	least   time.Duration // the trunk's Min-Expires, once a 423 told it

	chal  *digest.Challenge
	proxy bool
	nc    int
}

func newBinding(cfg *Config) *binding {
	user := cfg.User
	if user == "" {
		user = cfg.Contact.User
	}
	return &binding{
		cfg:     cfg,
		aor:     sip.Uri{Scheme: "sip", User: user, Host: cfg.Registrar.Host},
		callID:  sip.GenerateTagN(24),
		fromTag: sip.GenerateTagN(12),
	}
}

// register asks for a binding of expires (0 removes it), or the trunk's
// Min-Expires if that is longer, and returns the lifetime granted.
func (b *binding) register(ctx context.Context, expires time.Duration) (time.Duration, error) {
	want := expires
	if want > 0 {
		want = max(want, b.least)
	}
	fresh := false // b.chal came with the answer to our previous request
	for range maxTries {
		req := b.request(want)
		if err := b.authorize(req); err != nil {
			return 0, err
		}
		res, err := b.cfg.Send(ctx, req)
		if err != nil {
			return 0, fmt.Errorf("trunk: REGISTER: %w", err)
		}
		switch code := res.StatusCode; {
		case res.IsSuccess():
			return b.granted(res, want), nil
		case code == sip.StatusUnauthorized || code == sip.StatusProxyAuthRequired:
			if b.cfg.Password == "" {
				return 0, &RefusedError{Code: code, Reason: res.Reason, Why: "the trunk asks for a password: set username and password"}
			}
			chal, err := pickChallenge(res)
			if err != nil {
				return 0, &RefusedError{Code: code, Reason: res.Reason, Why: err.Error()}
			}
			if fresh && !chal.Stale {
				return 0, &RefusedError{Code: code, Reason: res.Reason, Why: "wrong username or password"}
			}
			b.chal, b.proxy, b.nc, fresh = chal, code == sip.StatusProxyAuthRequired, 0, true
		case code == sip.StatusIntervalToBrief:
			least, ok := headerSeconds(res, "Min-Expires")
			if !ok || least <= want {
				return 0, &RefusedError{Code: code, Reason: res.Reason, Why: "no usable Min-Expires"}
			}
			want, b.least, fresh = least, least, false
		default:
			e := &RefusedError{Code: code, Reason: res.Reason}
			e.RetryAfter, _ = headerSeconds(res, "Retry-After")
			if code == sip.StatusForbidden {
				e.Why = "wrong username or password, or kefu's address is not allowed"
			}
			return 0, e
		}
	}
	return 0, fmt.Errorf("trunk: REGISTER: gave up after %d requests", maxTries)
}

// request builds the next REGISTER.
func (b *binding) request(expires time.Duration) *sip.Request {
	b.cseq++
	req := sip.NewRequest(sip.REGISTER, b.cfg.Registrar)
	req.SetTransport(b.cfg.Transport)
	from := &sip.FromHeader{Address: b.aor, Params: sip.NewParams()}
	from.Params.Add("tag", b.fromTag)
	callID := sip.CallIDHeader(b.callID)
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: b.aor, Params: sip.NewParams()})
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: b.cseq, MethodName: sip.REGISTER})
	req.AppendHeader(&sip.ContactHeader{Address: b.cfg.Contact})
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(expires/time.Second))))
	if b.cfg.UserAgent != "" {
		req.AppendHeader(sip.NewHeader("User-Agent", b.cfg.UserAgent))
	}
	return req
}

// authorize adds credentials for the last challenge, if there is one.
func (b *binding) authorize(req *sip.Request) error {
	if b.chal == nil {
		return nil
	}
	b.nc++
	cred, err := digest.Digest(b.chal, digest.Options{
		Method:   sip.REGISTER.String(),
		URI:      b.cfg.Registrar.Addr(),
		Username: b.cfg.User,
		Password: b.cfg.Password,
		Count:    b.nc,
	})
	if err != nil {
		return fmt.Errorf("trunk: digest: %w", err)
	}
	name := "Authorization"
	if b.proxy {
		name = "Proxy-Authorization"
	}
	req.AppendHeader(sip.NewHeader(name, cred.String()))
	return nil
}

// granted reads the lifetime the trunk granted our contact: its expires
// parameter in the 200's Contacts, else the Expires header, else what we
// asked for.
func (b *binding) granted(res *sip.Response, asked time.Duration) time.Duration {
	c := b.cfg.Contact
	for _, h := range res.GetHeaders("Contact") {
		for _, v := range splitContacts(h.Value()) {
			var u sip.Uri
			params := sip.NewParams()
			if _, err := sip.ParseAddressValue(v, &u, &params); err != nil {
				continue
			}
			if u.User != c.User || u.Host != c.Host || u.Port != c.Port {
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
// contacts, not those inside quotes or angle brackets.
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

// headerSeconds reads a header holding a number of seconds (Retry-After
// may add a comment: "120 (maintenance)").
func headerSeconds(res *sip.Response, name string) (time.Duration, bool) {
	h := res.GetHeader(name)
	if h == nil {
		return 0, false
	}
	v, _, _ := strings.Cut(strings.TrimSpace(h.Value()), " ")
	v, _, _ = strings.Cut(v, ";")
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// algorithmRank orders the digest algorithms we answer, strongest first;
// 0 is not supported.
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
		return nil, fmt.Errorf("no digest challenge kefu can answer (MD5 or SHA-256) in %s", name)
	}
	return best, nil
}
