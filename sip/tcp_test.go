package sip

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// The stream transport's limits, on loopback with small limits. Every wait
// is bounded by a read deadline.

// streamServer is a filtered listener with a reader standing in for sipgo:
// it collects what each connection passes on.
type streamServer struct {
	t    *testing.T
	l    *streamListener
	busy atomic.Bool

	mu     sync.Mutex
	passed bytes.Buffer
	got    chan struct{} // a message was passed on
}

func newStreamServer(t *testing.T, lim TCPLimits) *streamServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return newStreamServerOn(t, ln, "TCP", lim)
}

// newStreamServerOn filters connections from ln (TCP or a TLS listener).
func newStreamServerOn(t *testing.T, ln net.Listener, transport string, lim TCPLimits) *streamServer {
	s := &streamServer{t: t, got: make(chan struct{}, 64)}
	s.l = newStreamListener(ln, transport, newConformer(discardLogger(), NewMetrics(nil)), lim, func(string) bool { return s.busy.Load() })
	t.Cleanup(func() { _ = s.l.Close() })
	go func() {
		for {
			c, err := s.l.Accept()
			if err != nil {
				return
			}
			go s.read(c)
		}
	}()
	return s
}

func (s *streamServer) read(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 32768)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		s.mu.Lock()
		s.passed.Write(buf[:n])
		s.mu.Unlock()
		s.got <- struct{}{}
	}
}

// waitPassed waits until what was passed on contains want.
func (s *streamServer) waitPassed(want string) {
	s.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		s.mu.Lock()
		ok := strings.Contains(s.passed.String(), want)
		s.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-s.got:
		case <-deadline:
			s.t.Fatalf("%q was not passed on", want)
		}
	}
}

func (s *streamServer) dial() net.Conn {
	s.t.Helper()
	c, err := net.Dial("tcp", s.l.Addr().String())
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { _ = c.Close() })
	return c
}

// readUntil reads from c until it has seen want, or fails.
func readUntil(t *testing.T, c net.Conn, want string) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var got []byte
	buf := make([]byte, 4096)
	for !strings.Contains(string(got), want) {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			t.Fatalf("read %q, then %v; want %q", got, err, want)
		}
	}
	return string(got)
}

// waitClosed reads from c until the server closes it (within 5 s).
func waitClosed(t *testing.T, c net.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(c)
	if isTimeout(err) {
		t.Fatalf("the connection is still open (read %q)", got)
	}
	return string(got)
}

func options(callID string, extra ...string) string {
	return "OPTIONS sip:hotline@127.0.0.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-" + callID + "\r\n" +
		"From: <sip:13812345678@127.0.0.1>;tag=a\r\n" +
		"To: <sip:hotline@127.0.0.1>\r\n" +
		"Call-ID: " + callID + "\r\n" +
		"CSeq: 1 OPTIONS\r\n" +
		"Max-Forwards: 70\r\n" +
		strings.Join(extra, "") +
		"Content-Length: 0\r\n\r\n"
}

func TestStreamMalformedGets400AndGoesOn(t *testing.T) {
	s := newStreamServer(t, TCPLimits{})
	c := s.dial()
	bad := strings.Replace(options("bad1"), "CSeq: 1 OPTIONS", "CSeq: one OPTIONS", 1)
	if _, err := io.WriteString(c, bad+options("good1")); err != nil {
		t.Fatal(err)
	}
	res := readUntil(t, c, "\r\n\r\n")
	if !strings.HasPrefix(res, "SIP/2.0 400 Bad Request\r\n") || !strings.Contains(res, "Call-ID: bad1\r\n") {
		t.Errorf("want a 400 to the malformed request, got %q", res)
	}
	s.waitPassed("Call-ID: good1\r\n")
	s.mu.Lock()
	defer s.mu.Unlock()
	if strings.Contains(s.passed.String(), "bad1") {
		t.Error("the malformed request was passed on")
	}
}

func TestStreamByteByByte(t *testing.T) {
	s := newStreamServer(t, TCPLimits{})
	c := s.dial()
	msg := options("slowly") + options("pipelined")
	for i := range len(msg) {
		if _, err := c.Write([]byte{msg[i]}); err != nil {
			t.Fatal(err)
		}
	}
	s.waitPassed("Call-ID: pipelined\r\n")
	s.waitPassed("Call-ID: slowly\r\n")
}

func TestStreamKeepAlive(t *testing.T) {
	s := newStreamServer(t, TCPLimits{})
	c := s.dial()
	if _, err := io.WriteString(c, "\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if got := readUntil(t, c, "\r\n"); got != "\r\n" {
		t.Errorf("pong %q", got)
	}
	if _, err := io.WriteString(c, "\r\n"+options("after-ping")); err != nil {
		t.Fatal(err)
	}
	s.waitPassed("Call-ID: after-ping\r\n")
}

func TestStreamTooLarge(t *testing.T) {
	s := newStreamServer(t, TCPLimits{MaxMessage: 2048})
	// Header fields that never end.
	c := s.dial()
	_, _ = io.WriteString(c, "OPTIONS sip:hotline@127.0.0.1 SIP/2.0\r\nX-Filler: "+strings.Repeat("x", 4096))
	if got := waitClosed(t, c); got != "" {
		t.Errorf("answered %q", got)
	}
	// A body over the limit: 513, then closed.
	c = s.dial()
	big := strings.Replace(options("big"), "Content-Length: 0", "Content-Type: text/plain\r\nContent-Length: 4000", 1) + strings.Repeat("y", 4000)
	_, _ = io.WriteString(c, big)
	if got := waitClosed(t, c); !strings.HasPrefix(got, "SIP/2.0 513 Message Too Large\r\n") {
		t.Errorf("want 513, got %q", got)
	}
	// Just under it goes through.
	c = s.dial()
	ok := strings.Replace(options("fits"), "Content-Length: 0", "Content-Type: text/plain\r\nContent-Length: 1000", 1) + strings.Repeat("z", 1000)
	_, _ = io.WriteString(c, ok)
	s.waitPassed("Call-ID: fits\r\n")
}

func TestStreamFramingErrorsClose(t *testing.T) {
	s := newStreamServer(t, TCPLimits{})
	for _, msg := range []string{
		strings.Replace(options("no-cl"), "Content-Length: 0\r\n", "", 1),
		strings.Replace(options("two-cl"), "Content-Length: 0", "Content-Length: 5\r\nContent-Length: 0", 1),
		strings.Replace(options("neg-cl"), "Content-Length: 0", "Content-Length: -3", 1),
	} {
		c := s.dial()
		_, _ = io.WriteString(c, msg+options("after"))
		if got := waitClosed(t, c); !strings.HasPrefix(got, "SIP/2.0 400 Bad Request\r\n") {
			t.Errorf("want 400 then close, got %q for\n%s", got, msg)
		}
	}
	// The same value twice frames: 400, and the connection goes on.
	c := s.dial()
	_, _ = io.WriteString(c, strings.Replace(options("same-cl"), "Content-Length: 0", "Content-Length: 0\r\nl: 0", 1)+options("after-same"))
	if got := readUntil(t, c, "\r\n\r\n"); !strings.HasPrefix(got, "SIP/2.0 400 Bad Request\r\n") {
		t.Errorf("want 400, got %q", got)
	}
	s.waitPassed("Call-ID: after-same\r\n")
}

func TestStreamSlowSender(t *testing.T) {
	s := newStreamServer(t, TCPLimits{MessageTime: 200 * time.Millisecond, Idle: time.Minute})
	// Half a message, never finished.
	c := s.dial()
	msg := options("half")
	_, _ = io.WriteString(c, msg[:len(msg)/2])
	start := time.Now()
	if got := waitClosed(t, c); got != "" {
		t.Errorf("answered %q", got)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("closed after %v, before the limit", d)
	}
	// A connection that never says anything.
	c = s.dial()
	if got := waitClosed(t, c); got != "" {
		t.Errorf("answered %q", got)
	}
}

func TestStreamIdle(t *testing.T) {
	s := newStreamServer(t, TCPLimits{MessageTime: 5 * time.Second, Idle: 200 * time.Millisecond})
	c := s.dial()
	_, _ = io.WriteString(c, options("then-quiet"))
	s.waitPassed("Call-ID: then-quiet\r\n")
	if got := waitClosed(t, c); got != "" {
		t.Errorf("answered %q", got)
	}

	// A connection that carries a call stays.
	s.busy.Store(true)
	c = s.dial()
	_, _ = io.WriteString(c, options("in-call"))
	s.waitPassed("Call-ID: in-call\r\n")
	_ = c.SetReadDeadline(time.Now().Add(time.Second)) // five idle limits
	if n, err := c.Read(make([]byte, 1)); n > 0 || !isTimeout(err) {
		t.Fatalf("a busy connection was closed or written to: %d, %v", n, err)
	}
	_, _ = io.WriteString(c, options("still-there"))
	s.waitPassed("Call-ID: still-there\r\n")
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestStreamPerSource(t *testing.T) {
	s := newStreamServer(t, TCPLimits{PerSource: 2})
	a, b := s.dial(), s.dial()
	for i, c := range []net.Conn{a, b} {
		_, _ = io.WriteString(c, options("held"+string(rune('a'+i))))
	}
	s.waitPassed("Call-ID: helda\r\n")
	s.waitPassed("Call-ID: heldb\r\n")
	third := s.dial()
	_, _ = io.WriteString(third, options("third"))
	if got := waitClosed(t, third); got != "" {
		t.Errorf("the third connection was answered: %q", got)
	}
	// One closes: a new one is taken.
	_ = a.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := s.dial()
		_, _ = io.WriteString(c, options("later"))
		_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		_, err := c.Read(make([]byte, 1))
		if isTimeout(err) {
			break // kept open: taken
		}
		if time.Now().After(deadline) {
			t.Fatal("no connection taken after one closed")
		}
	}
	s.waitPassed("Call-ID: later\r\n")
}

// TestConnInUse: a connection a call came in over is in use.
func TestConnInUse(t *testing.T) {
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "hotline", Host: "127.0.0.1"})
	req.SetSource("127.0.0.1:40000")
	a := &Agent{calls: map[string]*call{"k": {invite: req}}}
	if !a.connInUse("127.0.0.1:40000") {
		t.Error("the call's connection is not in use")
	}
	if a.connInUse("127.0.0.1:40001") {
		t.Error("another connection is in use")
	}
}
