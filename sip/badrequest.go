package sip

import (
	"bytes"
	"log/slog"
	"net"

	"github.com/emiago/sipgo/sip"
)

// badRequestConn is the malformed-request filter under sipgo's UDP
// transport. A datagram that sipgo could not parse would be dropped there
// (and logged in full, caller numbers and all); badRequestConn answers a
// malformed request with 400 Bad Request itself, built from whatever header
// lines it can find, and keeps serving.
type badRequestConn struct {
	net.PacketConn
	log    *slog.Logger
	met    *Metrics
	parser *sip.Parser
}

// ReadFrom returns the next datagram that parses as SIP (or is a keep-alive).
func (g *badRequestConn) ReadFrom(b []byte) (int, net.Addr, error) {
	if g.parser == nil {
		g.parser = sip.NewParser()
	}
	for {
		n, from, err := g.PacketConn.ReadFrom(b)
		if err != nil {
			return n, from, err
		}
		data := b[:n]
		if len(bytes.TrimSpace(data)) == 0 {
			return n, from, nil // CRLF keep-alive: sipgo handles it
		}
		if _, perr := g.parser.ParseSIP(data); perr == nil {
			return n, from, nil
		} else {
			g.met.Malformed.Inc()
			if isRequest(data) {
				if _, err := g.PacketConn.WriteTo(badRequest(data, perr.Error()), from); err != nil {
					g.log.Warn("could not answer a malformed request", "from", from.String(), "error", err)
				}
			}
			g.log.Warn("malformed SIP message", "from", from.String(), "bytes", n, "error", perr)
		}
	}
}

// isRequest reports whether data starts like a SIP request line that gets
// a response: an ACK never does (RFC 3261 17.1.1.3), even a malformed one.
func isRequest(data []byte) bool {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	line = bytes.TrimSpace(line)
	return bytes.HasSuffix(line, []byte("SIP/2.0")) && !bytes.HasPrefix(line, []byte("SIP/")) &&
		!bytes.HasPrefix(line, []byte("ACK "))
}

// badRequest builds a 400 response from the header lines of a request that
// did not parse, copying the ones a response needs (RFC 3261 8.2.6).
func badRequest(data []byte, reason string) []byte {
	var out bytes.Buffer
	out.WriteString("SIP/2.0 400 Bad Request\r\n")
	head, _, _ := bytes.Cut(data, []byte("\r\n\r\n"))
	lines := bytes.Split(head, []byte("\n"))
	for _, l := range lines[1:] {
		l = bytes.TrimRight(l, "\r")
		name, _, ok := bytes.Cut(l, []byte(":"))
		if !ok {
			continue
		}
		switch string(bytes.ToLower(bytes.TrimSpace(name))) {
		case "via", "v", "from", "f", "to", "t", "call-id", "i", "cseq":
			out.Write(l)
			out.WriteString("\r\n")
		}
	}
	r := []byte(reason)
	if len(r) > 120 {
		r = r[:120]
	}
	r = bytes.Map(func(c rune) rune {
		if c < 0x20 || c == '"' {
			return ' '
		}
		return c
	}, r)
	out.WriteString(`Warning: 399 kefu "`)
	out.Write(r)
	out.WriteString("\"\r\nContent-Length: 0\r\n\r\n")
	return out.Bytes()
}
