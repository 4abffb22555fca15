package sip

import (
	"bytes"
	"net"

	"github.com/emiago/sipgo/sip"
)

// maxDatagram is the largest UDP payload (IPv4).
const maxDatagram = 65507

func init() {
	// sipgo refuses to send a datagram over 1300 bytes (its UDPMTUSize
	// less 200) and falls back to nothing: the answer to a request with
	// many Vias or long header fields (RFC 4475's longreq) never went out.
	// RFC 3261 18.2.2 sends a response over the request's transport, in
	// fragments if need be. Set once, before sipgo runs: it reads the
	// variable unsynchronised.
	sip.UDPMTUSize = maxDatagram + 200
}

// badRequestConn is the conformance filter (conform_filter.go) under
// sipgo's UDP transport. A datagram that sipgo could not parse would be
// dropped there (and logged in full, caller numbers and all), and one it
// parses is not checked against RFC 3261's rules: badRequestConn answers
// a refused request itself (400, 505, 416, 420, ...), drops what must not
// be answered (ACKs, broken responses), and hands sipgo each accepted
// message in a form sipgo reads right.
type badRequestConn struct {
	net.PacketConn
	f *conformer
}

// ReadFrom returns the next datagram that passes the filter (or is a
// keep-alive).
func (g *badRequestConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, from, err := g.PacketConn.ReadFrom(b)
		if err != nil {
			return n, from, err
		}
		data := b[:n]
		if len(bytes.TrimSpace(data)) == 0 {
			return n, from, nil // CRLF keep-alive: sipgo handles it
		}
		j := g.f.inspect(data, from, "UDP", false)
		if j.reply != nil {
			if _, err := g.PacketConn.WriteTo(j.reply, j.replyTo); err != nil {
				g.f.log.Warn("could not answer a refused request", "src", from.String(), "error", err.Error())
			}
		}
		if j.pass != nil && len(j.pass) <= len(b) {
			return copy(b, j.pass), from, nil
		}
	}
}

// WriteTo sends a datagram, without the From tags the filter made up for
// RFC 2543 peers (conform_rfc2543.go).
func (g *badRequestConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	out := stripRFC2543Tags(b)
	if _, err := g.PacketConn.WriteTo(out, addr); err != nil {
		return 0, err
	}
	return len(b), nil
}
