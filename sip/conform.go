package sip

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
)

// kefu's conformance checks (RFC 3261 8.2, with RFC 4475's torture
// messages as the test): every request is judged here, on its raw bytes,
// before sipgo parses it. A malformed request gets 400 (505 for another
// SIP version), a request kefu cannot serve the status RFC 3261 names for
// it (416, 420, 415, 406, 483); a valid one goes on to sipgo, rewritten
// where sipgo would misread it. ACKs are never answered, and responses
// that do not parse are dropped.

// extensions are the option tags kefu implements: a Require naming any
// other gets 420 (RFC 3261 8.2.2.3).
var extensions = map[string]bool{timerTag: true} // session timers (timer.go)

// maxCSeq is the largest CSeq number (RFC 3261 8.1.1.5: less than 2**31).
const maxCSeq = 1<<31 - 1

// message is one SIP message split into its parts.
type message struct {
	start   string
	headers []rawHeader
	body    []byte
	folded  bool // some header spanned several lines
	size    int  // bytes of data the message took (a datagram may hold more)
}

// verdict is what the filter decided for a request it refuses.
type verdict struct {
	code   int
	reason string      // for the Warning header and the log
	hdrs   [][2]string // header fields the status needs (Unsupported, Accept)
}

func refusal(code int, reason string, hdrs ...[2]string) *verdict {
	return &verdict{code: code, reason: reason, hdrs: hdrs}
}

// splitMessage cuts data into start line, header fields and body. With
// stream unset (a datagram) the body is what Content-Length says of what
// follows the headers; bytes after it are dropped (RFC 3261 18.3), and a
// Content-Length larger than what arrived is an error.
func splitMessage(data []byte, stream bool) (*message, error) {
	end := bytes.Index(data, []byte("\r\n\r\n"))
	if end < 0 {
		return nil, errors.New("no empty line after the header fields")
	}
	head, body := data[:end], data[end+4:]
	lines := strings.Split(string(head), "\r\n")
	m := &message{start: lines[0]}
	for _, l := range lines[1:] {
		if strings.ContainsAny(l, "\r\n") {
			return nil, errors.New("a bare CR or LF in the header fields")
		}
		if l != "" && isWSP(l[0]) {
			if len(m.headers) == 0 {
				return nil, errors.New("a continuation line before any header field")
			}
			h := &m.headers[len(m.headers)-1]
			h.value = strings.TrimSpace(h.value + " " + strings.TrimSpace(l))
			m.folded = true
			continue
		}
		name, value, ok := strings.Cut(l, ":")
		name = strings.TrimRight(name, " \t")
		if !ok || !isToken(name) {
			return nil, errors.New("a header line without a name and a colon")
		}
		m.headers = append(m.headers, rawHeader{name: name, key: headerKey(name), value: strings.TrimSpace(value)})
	}
	if stream {
		m.body, m.size = body, len(data)
		return m, nil
	}
	if cl := m.all("content-length"); len(cl) > 0 {
		n, err := strconv.Atoi(cl[0])
		if err != nil || n < 0 {
			return m, errors.New("bad Content-Length " + strconv.Quote(cl[0]))
		}
		if n > len(body) {
			return m, errors.New("Content-Length is larger than the message body")
		}
		body = body[:n]
	}
	m.body, m.size = body, end+4+len(body)
	return m, nil
}

// all returns the values of the header fields with key, in order.
func (m *message) all(key string) []string {
	var out []string
	for _, h := range m.headers {
		if h.key == key {
			out = append(out, h.value)
		}
	}
	return out
}

func (m *message) first(key string) string {
	if v := m.all(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

func (m *message) isResponse() bool { return strings.HasPrefix(strings.ToUpper(m.start), "SIP/") }

// requestLine is a request's start line, checked.
type requestLine struct {
	method, uri, version string
	scheme               string // lower case
}

// parseRequestLine checks Method SP Request-URI SP SIP-Version: single
// spaces, a token method, a URI with a scheme and without '<' or
// headers, and SIP/2.0 (505 for any other version).
func parseRequestLine(s string) (requestLine, *verdict) {
	parts := strings.Split(s, " ")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return requestLine{}, refusal(400, "request line: method, URI and version must be separated by single spaces")
	}
	r := requestLine{method: parts[0], uri: parts[1], version: parts[2]}
	if !isToken(r.method) {
		return r, refusal(400, "request line: bad method")
	}
	major, minor, ok := strings.Cut(r.version, ".")
	if !ok || len(major) < 5 || !strings.EqualFold(major[:4], "SIP/") || !digits(major[4:]) || !digits(minor) {
		return r, refusal(400, "request line: bad SIP version")
	}
	if r.version != "SIP/2.0" {
		return r, refusal(505, "kefu speaks SIP/2.0")
	}
	scheme, rest, ok := strings.Cut(r.uri, ":")
	if !ok || !isScheme(scheme) || rest == "" {
		return r, refusal(400, "request line: bad Request-URI")
	}
	r.scheme = strings.ToLower(scheme)
	// Headers follow the host ('?' may appear in the user part, '@' may
	// not appear after it).
	if hostpart := rest[strings.LastIndexByte(rest, '@')+1:]; (r.scheme == "sip" || r.scheme == "sips") && strings.Contains(hostpart, "?") {
		return r, refusal(400, "the Request-URI may not carry headers")
	}
	return r, nil
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// single lists the header fields a request may carry once only.
var single = []string{"to", "from", "call-id", "cseq", "max-forwards", "content-length", "content-type"}

// required lists the header fields every request needs (RFC 3261 8.1.1;
// Max-Forwards is left out, RFC 2543 requests lack it).
var required = []string{"via", "to", "from", "call-id", "cseq"}

// served reports whether kefu has a handler for method: the others get 405
// from the handlers (onNoRoute), which the checks after the syntax must
// not pre-empt (RFC 3261 8.2.1 comes first). REGISTER belongs to the
// registrar: only its syntax is checked here.
func served(method string) bool {
	for _, m := range strings.Split(Allowed, ",") {
		if strings.TrimSpace(m) == method {
			return true
		}
	}
	return false
}

// checkRequest judges a request. It returns the refusal (nil: the request
// is fine) and the header values rewritten in canonical form (nil: no
// rewrite needed).
func checkRequest(m *message) (*verdict, map[int]string) {
	rl, v := parseRequestLine(m.start)
	if v != nil {
		return v, nil
	}
	if v := checkCounts(m); v != nil {
		return v, nil
	}
	if v := checkCSeq(m, rl.method); v != nil {
		return v, nil
	}
	if mf := m.first("max-forwards"); mf != "" {
		if n, err := strconv.Atoi(mf); !digits(mf) || err != nil || n > 255 {
			return refusal(400, "bad Max-Forwards"), nil
		}
	}
	if cl := m.first("content-length"); cl != "" && !digits(cl) {
		return refusal(400, "bad Content-Length"), nil
	}
	if id := m.first("call-id"); strings.ContainsAny(id, " \t") {
		return refusal(400, "bad Call-ID"), nil
	}
	if len(m.body) > 0 && m.first("content-type") == "" {
		return refusal(400, "a body without Content-Type"), nil
	}
	canon, toTag, v := canonicalHeaders(m)
	if v != nil {
		return v, nil
	}
	if !served(rl.method) || rl.method == "ACK" {
		return nil, canon
	}
	return checkServed(m, rl, toTag), canon
}

func checkCounts(m *message) *verdict {
	for _, k := range required {
		if len(m.all(k)) == 0 {
			return refusal(400, "missing "+headerName(k)+" header")
		}
	}
	for _, k := range single {
		if len(m.all(k)) > 1 {
			return refusal(400, "more than one "+headerName(k)+" header")
		}
	}
	return nil
}

// checkCSeq: a number below 2**31 and the request's own method.
func checkCSeq(m *message, method string) *verdict {
	num, meth, ok := strings.Cut(m.first("cseq"), " ")
	meth = strings.TrimSpace(meth)
	if !ok {
		num, meth, _ = strings.Cut(m.first("cseq"), "\t")
		meth = strings.TrimSpace(meth)
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if !digits(num) || err != nil || n > maxCSeq || !isToken(meth) {
		return refusal(400, "bad CSeq")
	}
	if meth != method {
		return refusal(400, "the CSeq method is not the request's")
	}
	return nil
}

// canonicalHeaders checks the address and Via header fields and returns
// those whose canonical form differs from what arrived (by index), and
// whether To carries a tag.
func canonicalHeaders(m *message) (map[int]string, bool, *verdict) {
	var canon map[int]string
	set := func(i int, s string) {
		if s != m.headers[i].value {
			if canon == nil {
				canon = map[int]string{}
			}
			canon[i] = s
		}
	}
	toTag := false
	for i, h := range m.headers {
		switch h.key {
		case "to", "from", "contact", "route", "record-route", "reply-to":
			list := h.key == "contact" || h.key == "route" || h.key == "record-route"
			as, err := parseAddresses(h.value, list)
			if err != nil {
				return nil, false, refusal(400, headerName(h.key)+": "+err.Error())
			}
			if h.key == "to" {
				_, toTag = as[0].tag()
			}
			if _, ok := as[0].tag(); h.key == "from" && !ok {
				// An RFC 2543 request: sipgo keys its transactions on the
				// From tag, so it gets one, the same for every request of
				// the call, taken off again on the way out (rfc2543.go).
				as[0].params = append(as[0].params, param{name: "tag", value: rfc2543Tag(m.first("call-id"), as[0].uri), hasValue: true})
			}
			parts := make([]string, len(as))
			for j, a := range as {
				parts[j] = a.String()
			}
			set(i, strings.Join(parts, ", "))
		case "via":
			vs, err := parseVias(h.value)
			if err != nil {
				return nil, false, refusal(400, "Via: "+err.Error())
			}
			parts := make([]string, len(vs))
			for j, v := range vs {
				parts[j] = v.String()
			}
			set(i, strings.Join(parts, ", "))
		}
	}
	return canon, toTag, nil
}

// checkServed runs the checks of RFC 3261 8.2.2 and 8.2.3 on a request
// kefu serves (ACK excepted: it is never answered).
func checkServed(m *message, rl requestLine, toTag bool) *verdict {
	if rl.scheme != "sip" && rl.scheme != "sips" {
		return refusal(416, "kefu serves sip: and sips: URIs")
	}
	if rl.method != "CANCEL" {
		var missing []string
		for _, v := range m.all("require") {
			for _, tag := range strings.Split(v, ",") {
				if tag = strings.TrimSpace(tag); tag != "" && !extensions[strings.ToLower(tag)] {
					missing = append(missing, tag)
				}
			}
		}
		if len(missing) > 0 {
			return refusal(420, "unsupported extension", [2]string{"Unsupported", strings.Join(missing, ", ")})
		}
	}
	if rl.method != "INVITE" {
		return nil
	}
	if len(m.body) > 0 && mediaType(m.first("content-type")) != "application/sdp" {
		return refusal(415, "kefu takes an SDP offer only", [2]string{"Accept", "application/sdp"})
	}
	if acc := m.all("accept"); len(acc) > 0 && !acceptsSDP(acc) {
		return refusal(406, "kefu answers with SDP only", [2]string{"Accept", "application/sdp"})
	}
	if mf := m.first("max-forwards"); mf != "" && !toTag {
		if n, _ := strconv.Atoi(mf); n == 0 {
			return refusal(483, "Max-Forwards is 0")
		}
	}
	return nil
}

// mediaType is the type/subtype of a Content-Type value, lower case.
func mediaType(v string) string {
	t, _, _ := strings.Cut(v, ";")
	return strings.ToLower(strings.TrimSpace(t))
}

// acceptsSDP reports whether Accept values admit application/sdp (an empty
// Accept is taken as no preference).
func acceptsSDP(vals []string) bool {
	empty := true
	for _, v := range vals {
		for _, r := range strings.Split(v, ",") {
			switch t := mediaType(r); t {
			case "":
			case "application/sdp", "application/*", "*/*":
				return true
			default:
				empty = false
			}
		}
	}
	return empty
}

// headerName spells a header key for messages ("call-id" → "Call-ID").
func headerName(key string) string {
	switch key {
	case "call-id":
		return "Call-ID"
	case "cseq":
		return "CSeq"
	}
	parts := strings.Split(key, "-")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "-")
}

// rebuild writes m back with the canonical header values, one line per
// header field.
func (m *message) rebuild(canon map[int]string) []byte {
	var b bytes.Buffer
	b.WriteString(m.start)
	b.WriteString("\r\n")
	for i, h := range m.headers {
		v := h.value
		if c, ok := canon[i]; ok {
			v = c
		}
		b.WriteString(h.name)
		b.WriteString(": ")
		b.WriteString(v)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	b.Write(m.body)
	return b.Bytes()
}
