package sip

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// conformer is the filter between kefu's sockets and sipgo: the UDP
// wrapper (badrequest.go) and the stream connections (tcp.go) hand it each
// whole message, and it says what to pass on to sipgo and what to answer.
type conformer struct {
	log    *slog.Logger // a safe logger (siplog.go): no numbers, bounded lines
	met    *Metrics
	parser *sip.Parser
}

func newConformer(log *slog.Logger, met *Metrics) *conformer {
	return &conformer{log: log, met: met, parser: sip.NewParser()}
}

// judgement is the filter's decision on one message.
type judgement struct {
	pass    []byte   // what sipgo gets (nil: nothing)
	reply   []byte   // the response to send back at once (nil: none)
	replyTo net.Addr // where a datagram's reply goes (RFC 3261 18.2.2)
}

// inspect judges one whole message from src ("ip:port") over transport
// ("UDP", "TCP"); stream is set for stream transports, where the message
// was framed by its Content-Length already.
func (f *conformer) inspect(data []byte, src net.Addr, transport string, stream bool) judgement {
	m, err := splitMessage(data, stream)
	if err != nil {
		if m == nil {
			m = lenientSplit(data)
		}
		return f.refuse(m, refusal(400, err.Error()), src, transport)
	}
	if m.isResponse() {
		if _, err := f.parser.ParseSIP(data); err != nil {
			f.met.Malformed.Inc()
			f.log.Warn("malformed SIP response dropped", "src", src.String(), "transport", transport, "bytes", len(data), "error", err.Error())
			return judgement{}
		}
		return judgement{pass: data}
	}
	v, canon := checkRequest(m)
	if v != nil {
		return f.refuse(m, v, src, transport)
	}
	out := data[:m.size] // a datagram's bytes after the message are dropped (RFC 3261 18.3)
	if m.folded || canon != nil {
		out = m.rebuild(canon)
	}
	if _, err := f.parser.ParseSIP(out); err != nil {
		// kefu's checks passed what sipgo cannot read: refuse it rather
		// than let sipgo drop it (or, on a stream, close the connection).
		return f.refuse(m, refusal(400, "unreadable request: "+err.Error()), src, transport)
	}
	return judgement{pass: out}
}

// refuse answers a request with v (an ACK is never answered, nor is
// anything that is not a request) and logs it.
func (f *conformer) refuse(m *message, v *verdict, src net.Addr, transport string) judgement {
	method, _, _ := strings.Cut(m.start, " ")
	if !isRequestLine(m.start) || method == "ACK" {
		f.met.Malformed.Inc()
		f.log.Warn("malformed SIP message dropped", "src", src.String(), "transport", transport, "method", startWord(method),
			"error", v.reason)
		return judgement{}
	}
	if v.code == 400 || v.code == 505 {
		f.met.Malformed.Inc()
	}
	f.met.Refused.WithLabelValues(strconv.Itoa(v.code)).Inc()
	lvl := slog.LevelInfo
	if v.code == 400 {
		lvl = slog.LevelWarn
	}
	f.log.Log(context.Background(), lvl, "SIP request refused", "code", v.code, "reason", v.reason, "method", startWord(method),
		"src", src.String(), "transport", transport)
	return judgement{reply: buildReply(m, v, src), replyTo: replyAddr(m, src)}
}

// replyAddr is where a response to a datagram goes (RFC 3261 18.2.2, RFC
// 3581): the source address, and the top Via's port unless it asks for
// rport (or cannot be read: then the source port too).
func replyAddr(m *message, src net.Addr) net.Addr {
	u, ok := src.(*net.UDPAddr)
	if !ok {
		return src
	}
	vs, err := parseVias(m.first("via"))
	if err != nil {
		return src
	}
	for _, p := range vs[0].params {
		if strings.EqualFold(p.name, "rport") {
			return src
		}
	}
	port := 5060
	if vs[0].port != "" {
		port, _ = strconv.Atoi(vs[0].port)
	}
	return &net.UDPAddr{IP: u.IP, Port: port, Zone: u.Zone}
}

// startWord bounds a method name for the log (a malformed start line can
// hold anything).
func startWord(s string) string {
	if len(s) > 32 || !isToken(s) {
		return "?"
	}
	return s
}

// isRequestLine reports whether a start line looks like a request's (it
// ends in a SIP version and does not start with one).
func isRequestLine(s string) bool {
	s = strings.TrimRight(s, " \t")
	i := strings.LastIndexByte(s, ' ')
	return i > 0 && len(s)-i > 4 && strings.EqualFold(s[i+1:i+5], "SIP/") && !strings.HasPrefix(strings.ToUpper(s), "SIP/")
}

// lenientSplit reads what header lines it can from a message that did not
// split: enough to address a 400.
func lenientSplit(data []byte) *message {
	head, _, _ := bytes.Cut(data, []byte("\r\n\r\n"))
	lines := strings.Split(string(head), "\n")
	m := &message{start: strings.TrimRight(lines[0], "\r")}
	for _, l := range lines[1:] {
		l = strings.TrimRight(l, "\r")
		if l == "" {
			break
		}
		name, value, ok := strings.Cut(l, ":")
		name = strings.TrimSpace(name)
		if !ok || !isToken(name) {
			continue
		}
		m.headers = append(m.headers, rawHeader{name: name, key: headerKey(name), value: strings.TrimSpace(value)})
	}
	return m
}

// buildReply builds the response to a refused request: the header fields
// a response copies (RFC 3261 8.2.6), a To tag, the fields the status
// needs, and a Warning saying what was wrong.
func buildReply(m *message, v *verdict, src net.Addr) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", v.code, statusText(v.code))
	top := true
	copied := map[string]bool{} // a request may repeat a single-value field: the first is copied
	for _, h := range m.headers {
		if h.key != "via" {
			if copied[h.key] {
				continue
			}
			copied[h.key] = true
		}
		switch h.key {
		case "via":
			val := h.value
			if top {
				val = withReceived(val, src)
				top = false
			}
			b.WriteString("Via: " + val + "\r\n")
		case "from", "call-id", "cseq":
			b.WriteString(headerName(h.key) + ": " + h.value + "\r\n")
		case "to":
			val := h.value
			if !hasTag(val) {
				val += ";tag=" + strconv.FormatUint(rand.Uint64(), 36)
			}
			b.WriteString("To: " + val + "\r\n")
		}
	}
	for _, h := range v.hdrs {
		b.WriteString(h[0] + ": " + h[1] + "\r\n")
	}
	b.WriteString(warning(v.reason).String() + "\r\n")
	b.WriteString("Content-Length: 0\r\n\r\n")
	return b.Bytes()
}

// hasTag reports whether a To value carries a tag.
func hasTag(to string) bool {
	if as, err := parseAddresses(to, false); err == nil {
		_, ok := as[0].tag()
		return ok
	}
	return strings.Contains(strings.ToLower(strings.ReplaceAll(to, " ", "")), ";tag=")
}

// withReceived fills in the top Via's rport (RFC 3581) with where the
// request came from.
func withReceived(val string, src net.Addr) string {
	vs, err := parseVias(val)
	if err != nil {
		return val
	}
	host, port, err := net.SplitHostPort(src.String())
	if err != nil {
		return val
	}
	top := &vs[0]
	for i, p := range top.params {
		if strings.EqualFold(p.name, "rport") && !p.hasValue {
			top.params[i] = param{name: p.name, value: port, hasValue: true}
			top.params = append(top.params, param{name: "received", value: host, hasValue: true})
			break
		}
	}
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v.String()
	}
	return strings.Join(parts, ", ")
}

// statusText is the reason phrase of the statuses the filter sends.
func statusText(code int) string {
	switch code {
	case 406:
		return "Not Acceptable"
	case 416:
		return "Unsupported URI Scheme"
	case 420:
		return "Bad Extension"
	case 483:
		return "Too Many Hops"
	case 505:
		return "Version Not Supported"
	case 513:
		return "Message Too Large"
	}
	return reasonPhrase(code)
}
