package sip

import (
	"errors"
	"strings"
)

// The header grammar kefu checks itself (RFC 3261 section 25), before sipgo
// parses a message: sipgo accepts some malformed header fields (a display
// name with a comma, spaces inside <>, a bare URI with '?') and misreads
// some well-formed ones (whitespace around ';', '=' and '/', which the
// grammar allows). Each parse returns the value in a canonical form, with
// that whitespace gone, for sipgo to read.

// rawHeader is one header field as received, folded lines joined.
type rawHeader struct {
	name  string // as written
	key   string // lower-case long form: "to" for "t", "T" and "To"
	value string // trimmed, continuation lines joined with one space
}

// compactNames maps the compact header names (RFC 3261 7.3.3 and the
// extensions') to their long forms.
var compactNames = map[string]string{
	"a": "accept-contact", "b": "referred-by", "c": "content-type", "d": "request-disposition",
	"e": "content-encoding", "f": "from", "i": "call-id", "j": "reject-contact", "k": "supported",
	"l": "content-length", "m": "contact", "o": "event", "r": "refer-to", "s": "subject",
	"t": "to", "u": "allow-events", "v": "via", "x": "session-expires", "y": "identity",
}

func headerKey(name string) string {
	k := strings.ToLower(name)
	if long, ok := compactNames[k]; ok {
		return long
	}
	return k
}

// isTokenChar reports whether c may appear in a token (RFC 3261 25.1).
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("-.!%*_+`'~", c) >= 0
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

func isWSP(c byte) bool { return c == ' ' || c == '\t' }

// scanner walks one header value.
type scanner struct {
	s string
	i int
}

func (p *scanner) done() bool { return p.i >= len(p.s) }
func (p *scanner) peek() byte { return p.s[p.i] }

// ws skips whitespace and reports whether there was any.
func (p *scanner) ws() bool {
	start := p.i
	for p.i < len(p.s) && isWSP(p.s[p.i]) {
		p.i++
	}
	return p.i > start
}

func (p *scanner) token() string {
	start := p.i
	for p.i < len(p.s) && isTokenChar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// word reads a word of an unquoted display name: a token, or UTF-8 text
// (RFC 3261 wants that quoted, but PBXes send names like 张三 bare).
func (p *scanner) word() string {
	start := p.i
	for p.i < len(p.s) && (isTokenChar(p.s[p.i]) || p.s[p.i] >= 0x80) {
		p.i++
	}
	return p.s[start:p.i]
}

// quoted reads a quoted string, quotes included; a backslash quotes the
// next character, whatever it is (quoted-pair).
func (p *scanner) quoted() (string, error) {
	start := p.i
	p.i++ // the opening quote
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case '\\':
			p.i += 2
		case '"':
			p.i++
			return p.s[start:p.i], nil
		default:
			p.i++
		}
	}
	return "", errors.New("unterminated quoted string")
}

// param is a generic parameter (";name" or ";name=value").
type param struct {
	name, value string
	hasValue    bool
}

// params reads parameters up to the end of the value or, when list is
// set, a comma (left unread). Whitespace may surround ';' and '='.
func (p *scanner) params(list bool) ([]param, error) {
	var out []param
	for {
		p.ws()
		if p.done() || (list && p.peek() == ',') {
			return out, nil
		}
		if p.peek() != ';' {
			return nil, errors.New("unexpected '" + string(p.peek()) + "' after the value")
		}
		p.i++
		p.ws()
		name := p.token()
		if name == "" {
			return nil, errors.New("empty parameter")
		}
		p.ws()
		if p.done() || p.peek() != '=' {
			out = append(out, param{name: name})
			continue
		}
		p.i++
		p.ws()
		var v string
		if !p.done() && p.peek() == '"' {
			q, err := p.quoted()
			if err != nil {
				return nil, err
			}
			v = q
		} else {
			start := p.i
			for p.i < len(p.s) && (isTokenChar(p.s[p.i]) || strings.IndexByte(":[]", p.s[p.i]) >= 0) {
				p.i++
			}
			v = p.s[start:p.i]
			if v == "" {
				return nil, errors.New("parameter " + name + " has an empty value")
			}
		}
		out = append(out, param{name: name, value: v, hasValue: true})
	}
}

func writeParams(b *strings.Builder, ps []param) {
	for _, p := range ps {
		b.WriteByte(';')
		b.WriteString(p.name)
		if p.hasValue {
			b.WriteByte('=')
			b.WriteString(p.value)
		}
	}
}

// address is one name-addr or addr-spec with its parameters (From, To,
// Contact, Route, Record-Route, Reply-To).
type address struct {
	display   string // quoted as written, or tokens joined by one space
	uri       string
	bracketed bool
	star      bool // Contact: *
	params    []param
}

func (a address) tag() (string, bool) {
	for _, p := range a.params {
		if strings.EqualFold(p.name, "tag") {
			return p.value, true
		}
	}
	return "", false
}

func (a address) String() string {
	var b strings.Builder
	switch {
	case a.star:
		b.WriteByte('*')
	case a.bracketed:
		if a.display != "" {
			b.WriteString(a.display)
			b.WriteByte(' ')
		}
		b.WriteByte('<')
		b.WriteString(a.uri)
		b.WriteByte('>')
	default:
		b.WriteString(a.uri)
	}
	writeParams(&b, a.params)
	return b.String()
}

// validURI checks the little kefu needs of a URI in a header: a scheme,
// a colon and something after it, no whitespace.
func validURI(u string) bool {
	scheme, rest, ok := strings.Cut(u, ":")
	if !ok || rest == "" || !isScheme(scheme) {
		return false
	}
	return !strings.ContainsAny(u, " \t")
}

// isScheme checks URI scheme syntax (RFC 3986 3.1).
func isScheme(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// parseAddresses parses an address header value: one address, or with
// list set a comma-separated list of them (Contact, Route).
func parseAddresses(v string, list bool) ([]address, error) {
	p := &scanner{s: v}
	var out []address
	for {
		p.ws()
		a, err := p.address(list)
		if err != nil {
			return nil, err
		}
		if a.params, err = p.params(list); err != nil {
			return nil, err
		}
		out = append(out, a)
		if p.done() {
			return out, nil
		}
		p.i++ // the comma
		if !list {
			return nil, errors.New("more than one address")
		}
	}
}

// address reads a name-addr or an addr-spec, without its parameters.
func (p *scanner) address(list bool) (address, error) {
	var a address
	if p.done() {
		return a, errors.New("empty address")
	}
	if list && p.peek() == '*' {
		p.i++
		a.star = true
		return a, nil
	}
	start := p.i
	switch {
	case p.peek() == '"':
		q, err := p.quoted()
		if err != nil {
			return a, err
		}
		a.display = q
		p.ws()
		if p.done() || p.peek() != '<' {
			return a, errors.New("a display name must be followed by <URI>")
		}
	case p.peek() != '<':
		// Tokens up to '<' are a display name; anything else means there
		// is no display name and the value starts with a bare URI.
		var words []string
		for !p.done() {
			w := p.word()
			if w == "" {
				break
			}
			words = append(words, w)
			p.ws()
		}
		if !p.done() && p.peek() == '<' && len(words) > 0 {
			a.display = strings.Join(words, " ")
			break
		}
		p.i = start
		return p.bareURI(list)
	}
	p.i++ // '<'
	end := strings.IndexByte(p.s[p.i:], '>')
	if end < 0 {
		return a, errors.New("'<' without '>'")
	}
	a.uri, a.bracketed = p.s[p.i:p.i+end], true
	p.i += end + 1
	if !validURI(a.uri) {
		return a, errors.New("bad URI in <>")
	}
	return a, nil
}

// bareURI reads an addr-spec without brackets: it ends at ';' (the header
// parameters), whitespace or, in a list, ','. Such a URI may not contain
// '?' (RFC 3261 20: a URI with ',', '?' or ';' must be in brackets).
func (p *scanner) bareURI(list bool) (address, error) {
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == ';' || isWSP(c) || (list && c == ',') {
			break
		}
		p.i++
	}
	u := p.s[start:p.i]
	if !validURI(u) {
		return address{}, errors.New("bad address")
	}
	if strings.ContainsAny(u, "?,") {
		return address{}, errors.New("a URI with '?' or ',' must be in <>")
	}
	return address{uri: u}, nil
}

// via is one Via header value (RFC 3261 20.42).
type via struct {
	protocol, version, transport string
	host, port                   string
	params                       []param
}

func (v via) String() string {
	var b strings.Builder
	b.WriteString(v.protocol + "/" + v.version + "/" + v.transport + " " + v.host)
	if v.port != "" {
		b.WriteString(":" + v.port)
	}
	writeParams(&b, v.params)
	return b.String()
}

// parseVias parses a Via header value (one or more via-parms).
func parseVias(s string) ([]via, error) {
	p := &scanner{s: s}
	var out []via
	for {
		var v via
		p.ws()
		v.protocol = p.token()
		if !p.slash() {
			return nil, errors.New("bad sent-protocol")
		}
		v.version = p.token()
		if !p.slash() {
			return nil, errors.New("bad sent-protocol")
		}
		v.transport = p.token()
		if v.protocol == "" || v.version == "" || v.transport == "" || !p.ws() {
			return nil, errors.New("bad sent-protocol")
		}
		if !strings.EqualFold(v.protocol, "SIP") || v.version != "2.0" {
			return nil, errors.New("not SIP/2.0")
		}
		start := p.i
		if !p.done() && p.peek() == '[' {
			end := strings.IndexByte(p.s[p.i:], ']')
			if end < 0 {
				return nil, errors.New("bad IPv6 host")
			}
			p.i += end + 1
		} else {
			for p.i < len(p.s) && (isTokenChar(p.s[p.i]) && p.s[p.i] != '%') {
				p.i++
			}
		}
		v.host = p.s[start:p.i]
		if v.host == "" {
			return nil, errors.New("no host")
		}
		p.ws()
		if !p.done() && p.peek() == ':' {
			p.i++
			p.ws()
			start := p.i
			for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
				p.i++
			}
			v.port = p.s[start:p.i]
			if v.port == "" || len(v.port) > 5 {
				return nil, errors.New("bad port")
			}
		}
		var err error
		if v.params, err = p.params(true); err != nil {
			return nil, err
		}
		out = append(out, v)
		if p.done() {
			return out, nil
		}
		p.i++ // the comma
	}
}

// slash reads "/" with whitespace around it.
func (p *scanner) slash() bool {
	p.ws()
	if p.done() || p.peek() != '/' {
		return false
	}
	p.i++
	p.ws()
	return true
}
