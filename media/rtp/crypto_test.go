package rtp

import (
	"bytes"
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/media"
)

// tagCrypto stands in for SRTP: a packet is authentic when it ends with
// "ok"; one ending "rp" is a replay.
type tagCrypto struct{}

func (tagCrypto) Protect(buf []byte, n int) (int, error) { return n + copy(buf[n:], "ok"), nil }
func (tagCrypto) Unprotect(p []byte) (int, error) {
	switch {
	case bytes.HasSuffix(p, []byte("ok")):
		return len(p) - 2, nil
	case bytes.HasSuffix(p, []byte("rp")):
		return 0, errors.New("replayed")
	}
	return 0, ErrCryptoAuth
}

// TestCryptoDropsAndCounts: what fails to authenticate is dropped and
// counted, and moves neither the latch nor the media timeout; what is sent
// is protected.
func TestCryptoDropsAndCounts(t *testing.T) {
	conn := newFakeConn()
	s := NewSession(Config{Conn: conn, Remote: sdpRemote, Codec: media.CodecPCMU, PT: 0, SSRC: 1, Crypto: tagCrypto{}})
	h := &recHandler{got: make(chan struct{}, 100)}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Receive(ctx, h) }()

	attacker := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 66), Port: 6666}
	peer := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 9), Port: 5555}
	audio := make([]byte, 160)
	conn.in <- inPkt{append(pkt(t, 0, 10, 0, audio), "xx"...), attacker} // forged
	conn.in <- inPkt{append(pkt(t, 0, 10, 0, audio), "rp"...), attacker} // replayed
	conn.in <- inPkt{[]byte{0x80, 200, 0, 1, 0, 0, 0, 0}, attacker}      // RTCP on the port
	conn.in <- inPkt{append(pkt(t, 0, 11, 160, audio), "ok"...), peer}   // authentic
	select {
	case <-h.got:
	case <-time.After(5 * time.Second):
		t.Fatal("the authentic packet was not heard")
	}
	cancel()
	<-done
	st := s.Stats()
	if st.AuthFailed.Load() != 1 || st.Refused.Load() != 1 || st.Unknown.Load() != 1 || st.Received.Load() != 1 {
		t.Errorf("auth failed %d, refused %d, unknown %d, received %d; want 1 each",
			st.AuthFailed.Load(), st.Refused.Load(), st.Unknown.Load(), st.Received.Load())
	}
	if got := s.Remote().String(); got != "127.0.0.9:5555" {
		t.Errorf("latched to %s, want the authentic peer", got)
	}
	if err := s.WriteFrame(0, audio, true); err != nil {
		t.Fatal(err)
	}
	conn.mu.Lock()
	defer conn.mu.Unlock()
	if len(conn.out) != 1 || !bytes.HasSuffix(conn.out[0], []byte("ok")) || len(conn.out[0]) != 12+160+2 {
		t.Errorf("sent %d packets, the first %d bytes, want one protected", len(conn.out), len(conn.out[0]))
	}
}
