package registrar

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// Algorithm is a digest algorithm kefu offers and verifies (RFC 7616
// section 3.3, RFC 8760 for SIP).
type Algorithm string

// The algorithms kefu speaks. The -sess variants are verified when a
// phone uses them but never offered.
const (
	SHA256     Algorithm = "SHA-256"
	MD5        Algorithm = "MD5"
	sha256Sess Algorithm = "SHA-256-sess"
	md5Sess    Algorithm = "MD5-sess"
)

// DefaultAlgorithms is what a 401 offers, strongest first as RFC 8760
// section 2.4 asks: a phone takes the first challenge it can compute.
var DefaultAlgorithms = []Algorithm{SHA256, MD5}

// Secret is an agent's digest secret: the password, or HA1 =
// hex(MD5(user ":" realm ":" password)) in its place. An HA1 is tied to
// the realm it was computed with, and only MD5 (and MD5-sess) responses
// can be verified against it: a phone that answers the SHA-256 challenge
// is refused. Configure the password for such phones, or offer MD5 only
// (Config.Algorithms).
type Secret struct {
	Password string
	HA1      string
}

// credentials are the parameters of a Digest Authorization header.
type credentials struct {
	username, realm, nonce, uri, response string
	algorithm                             Algorithm
	cnonce, qop, opaque                   string
	nc                                    uint32 // 0 without qop
}

// maxAuthLen bounds the Authorization header kefu parses; real ones are
// a few hundred bytes.
const maxAuthLen = 4096

// errMalformed is wrapped by every parse error.
var errMalformed = errors.New("malformed Authorization")

// digestParams parses the auth-params of a header value `Digest k=v, ...`
// (RFC 7616 section 3.4, RFC 3261 section 25.1: values are tokens or
// quoted strings; names are case-insensitive). ok is false when the
// scheme is not Digest.
func digestParams(v string) (map[string]string, bool, error) {
	if len(v) > maxAuthLen {
		return nil, true, fmt.Errorf("%w: %d bytes", errMalformed, len(v))
	}
	v = strings.TrimLeft(v, " \t")
	scheme, rest, _ := strings.Cut(v, " ")
	if !strings.EqualFold(scheme, "Digest") {
		return nil, false, nil
	}
	params := map[string]string{}
	s := rest
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		if s == "" {
			break
		}
		i := strings.IndexByte(s, '=')
		if i <= 0 {
			return nil, true, fmt.Errorf("%w: parameter without a value", errMalformed)
		}
		name := strings.ToLower(strings.TrimRight(s[:i], " \t"))
		if !isToken(name) {
			return nil, true, fmt.Errorf("%w: parameter name %q", errMalformed, name)
		}
		s = strings.TrimLeft(s[i+1:], " \t")
		var val string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			j, closed := 1, false
			for ; j < len(s); j++ {
				c := s[j]
				if c == '\\' && j+1 < len(s) {
					j++
					b.WriteByte(s[j])
					continue
				}
				if c == '"' {
					closed = true
					break
				}
				b.WriteByte(c)
			}
			if !closed {
				return nil, true, fmt.Errorf("%w: unterminated quoted string", errMalformed)
			}
			val, s = b.String(), s[j+1:]
		} else {
			j := strings.IndexAny(s, ", \t")
			if j < 0 {
				j = len(s)
			}
			val, s = s[:j], s[j:]
			if !isToken(val) {
				return nil, true, fmt.Errorf("%w: value of %s", errMalformed, name)
			}
		}
		if _, dup := params[name]; dup {
			return nil, true, fmt.Errorf("%w: %s twice", errMalformed, name)
		}
		if len(params) == 32 {
			return nil, true, fmt.Errorf("%w: too many parameters", errMalformed)
		}
		params[name] = val
		s = strings.TrimLeft(s, " \t\r\n")
		if s == "" {
			break
		}
		if s[0] != ',' {
			return nil, true, fmt.Errorf("%w: expected a comma after %s", errMalformed, name)
		}
		s = s[1:]
	}
	return params, true, nil
}

// isToken reports whether s is a non-empty RFC 3261 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-.!%*_+`'~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// parseCredentials checks that the parameters make a response kefu can
// verify: the fields RFC 7616 requires, an algorithm and a qop it speaks.
func parseCredentials(p map[string]string) (credentials, error) {
	c := credentials{
		username: p["username"], realm: p["realm"], nonce: p["nonce"], uri: p["uri"],
		response: strings.ToLower(p["response"]), cnonce: p["cnonce"], qop: p["qop"], opaque: p["opaque"],
	}
	for _, f := range []string{"username", "realm", "nonce", "uri", "response"} {
		if _, ok := p[f]; !ok {
			return c, fmt.Errorf("%w: no %s", errMalformed, f)
		}
	}
	if _, ok := p["userhash"]; ok && !strings.EqualFold(p["userhash"], "false") {
		return c, fmt.Errorf("%w: userhash is not supported", errMalformed)
	}
	alg, ok := algorithmNamed(p["algorithm"])
	if !ok {
		return c, fmt.Errorf("%w: algorithm %q", errMalformed, p["algorithm"])
	}
	c.algorithm = alg
	switch strings.ToLower(c.qop) {
	case "auth":
		c.qop = "auth"
		nc := p["nc"]
		n, err := strconv.ParseUint(nc, 16, 32)
		if len(nc) != 8 || err != nil || n == 0 {
			return c, fmt.Errorf("%w: nc %q", errMalformed, nc)
		}
		if c.cnonce == "" {
			return c, fmt.Errorf("%w: qop=auth without cnonce", errMalformed)
		}
		c.nc = uint32(n)
	case "":
		// RFC 2069 style, still sent by some desk phones: MD5 only.
		if alg != MD5 {
			return c, fmt.Errorf("%w: %s without qop", errMalformed, alg)
		}
	default:
		return c, fmt.Errorf("%w: qop %q", errMalformed, c.qop)
	}
	if len(c.response) != 2*hashSize(alg) {
		return c, fmt.Errorf("%w: response of %d characters", errMalformed, len(c.response))
	}
	if _, err := hex.DecodeString(c.response); err != nil {
		return c, fmt.Errorf("%w: response is not hex", errMalformed)
	}
	return c, nil
}

// algorithmNamed maps the algorithm parameter (absent means MD5) to an
// Algorithm.
func algorithmNamed(s string) (Algorithm, bool) {
	switch strings.ToUpper(s) {
	case "", "MD5":
		return MD5, true
	case "MD5-SESS":
		return md5Sess, true
	case "SHA-256":
		return SHA256, true
	case "SHA-256-SESS":
		return sha256Sess, true
	}
	return "", false
}

func hashSize(a Algorithm) int {
	if a == SHA256 || a == sha256Sess {
		return sha256.Size
	}
	return md5.Size
}

func newHash(a Algorithm) hash.Hash {
	if a == SHA256 || a == sha256Sess {
		return sha256.New()
	}
	return md5.New()
}

// hexHash is hex(H(parts joined by ':')).
func hexHash(h hash.Hash, parts ...string) string {
	h.Reset()
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{':'})
		}
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// expected computes the response the credentials must carry for the
// secret and method (RFC 7616 section 3.4.1 to 3.4.3). usable is false
// when the secret cannot verify the algorithm (an HA1 with SHA-256); the
// hashes are computed anyway, so that case costs the same.
func expected(c credentials, realm string, s Secret, method string) (resp string, usable bool) {
	h := newHash(c.algorithm)
	usable = true
	var ha1 string
	switch {
	case s.HA1 != "" && (c.algorithm == MD5 || c.algorithm == md5Sess):
		ha1 = strings.ToLower(s.HA1)
		_ = hexHash(h, c.username, realm, "") // the cost a password has
	case s.HA1 != "":
		usable = false
		ha1 = hexHash(h, c.username, realm, s.HA1)
	default:
		ha1 = hexHash(h, c.username, realm, s.Password)
	}
	if c.algorithm == md5Sess || c.algorithm == sha256Sess {
		ha1 = hexHash(h, ha1, c.nonce, c.cnonce)
	}
	ha2 := hexHash(h, method, c.uri)
	if c.qop == "" {
		return hexHash(h, ha1, c.nonce, ha2), usable
	}
	return hexHash(h, ha1, c.nonce, fmt.Sprintf("%08x", c.nc), c.cnonce, c.qop, ha2), usable
}

// equalHex compares two lowercase hex strings in constant time.
func equalHex(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// challenge is one WWW-Authenticate value.
func challenge(realm, nonce string, alg Algorithm, stale bool) string {
	var b strings.Builder
	b.WriteString(`Digest realm="`)
	b.WriteString(quote(realm))
	b.WriteString(`", nonce="`)
	b.WriteString(nonce)
	b.WriteString(`", algorithm=`)
	b.WriteString(string(alg))
	b.WriteString(`, qop="auth"`)
	if stale {
		b.WriteString(", stale=true")
	}
	return b.String()
}

// quote escapes a quoted-string's content.
func quote(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}
