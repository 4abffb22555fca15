package sip

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// FuzzConformInspect: every datagram and every framed stream message
// reaches the conformance filter before anything else, so it must hold
// whatever a peer sends. Seeded with the torture messages (RFC 4475 and
// kefu's own). Beyond not panicking: the filter passes a message on or
// answers it, never both; what it passes on, sipgo reads; what it
// answers is one 4xx or 5xx response without a body.
func FuzzConformInspect(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "sip", "torture", "*.sip"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no torture messages: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Add([]byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"), false)
	f.Add([]byte("\r\n\r\n"), true)
	src := &net.UDPAddr{IP: net.IPv4(192, 0, 2, 9), Port: 5062}
	f.Fuzz(func(t *testing.T, data []byte, stream bool) {
		transport := map[bool]string{false: "UDP", true: "TCP"}[stream]
		c := newConformer(slog.New(slog.DiscardHandler), NewMetrics(nil))
		j := c.inspect(data, src, transport, stream)
		if j.pass != nil && j.reply != nil {
			t.Fatalf("passed on and answered: %q", data)
		}
		if j.pass != nil {
			if _, err := sip.NewParser().ParseSIP(j.pass); err != nil {
				t.Fatalf("passed on what sipgo cannot read (%v): %q", err, j.pass)
			}
		}
		if j.reply != nil {
			// The answer copies the request's Via, From, To, Call-ID and
			// CSeq as they came (RFC 3261 8.2.6.2), so it may be as odd as
			// they were: only its status line and framing are kefu's.
			var code int
			if _, err := fmt.Sscanf(string(j.reply), "SIP/2.0 %d ", &code); err != nil || code < 400 || code > 599 ||
				!bytes.HasSuffix(j.reply, []byte("\r\n\r\n")) || bytes.Count(j.reply, []byte("\r\n\r\n")) != 1 {
				t.Fatalf("answered with %q\nto %q", j.reply, data)
			}
		}
	})
}
