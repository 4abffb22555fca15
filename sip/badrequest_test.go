package sip

import (
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
)

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// scriptedPackets is a net.PacketConn that delivers a list of datagrams
// and records what is written back.
type scriptedPackets struct {
	net.PacketConn
	in      [][]byte
	written []string
}

func (s *scriptedPackets) ReadFrom(b []byte) (int, net.Addr, error) {
	if len(s.in) == 0 {
		return 0, nil, io.EOF
	}
	n := copy(b, s.in[0])
	s.in = s.in[1:]
	return n, testSrc, nil
}

func (s *scriptedPackets) WriteTo(b []byte, _ net.Addr) (int, error) {
	s.written = append(s.written, string(b))
	return len(b), nil
}

// TestBadRequestConn: under sipgo's UDP transport, a malformed request is
// answered 400 and skipped, a malformed ACK is skipped silently, and the
// next good request is what sipgo reads.
func TestBadRequestConn(t *testing.T) {
	bad := "INVITE sip:hotline@127.0.0.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1;rport\r\n" +
		"From: <sip:138@127.0.0.1>;tag=a\r\n" +
		"To: <sip:hotline@127.0.0.1>\r\n" +
		"Call-ID: x1\r\n" +
		"CSeq: one INVITE\r\n" + // not a number
		"Content-Length: 0\r\n\r\n"
	badAck := strings.Replace(strings.Replace(bad, "INVITE", "ACK", 1), "one INVITE", "one ACK", 1)
	good := strings.Replace(strings.Replace(bad, "INVITE", "OPTIONS", 1), "one INVITE", "1 OPTIONS", 1)
	pc := &scriptedPackets{in: [][]byte{[]byte(bad), []byte(badAck), []byte(good)}}
	g := &badRequestConn{PacketConn: pc, f: newConformer(discardLogger(), NewMetrics(nil))}
	b := make([]byte, 4096)
	n, _, err := g.ReadFrom(b)
	if err != nil {
		t.Fatal(err)
	}
	if string(b[:n]) != good {
		t.Errorf("sipgo read %q, want the OPTIONS", b[:n])
	}
	if len(pc.written) != 1 || !strings.HasPrefix(pc.written[0], "SIP/2.0 400 Bad Request\r\n") ||
		!strings.Contains(pc.written[0], "CSeq: one INVITE\r\n") {
		t.Errorf("want one 400 to the INVITE, wrote %q", pc.written)
	}
}
