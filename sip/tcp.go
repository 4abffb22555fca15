package sip

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// SIP over TCP and TLS, as solid as over UDP. sipgo reads a connection as
// one stream and, on a message it cannot parse, logs the raw bytes and
// closes the connection without a word; it sets no limit on how long a
// message may take or a connection may idle. streamListener sits under
// sipgo's TCP and TLS transports (over TLS it wraps the tls.Listener,
// tls.go): it frames each message by its Content-Length, runs the
// conformance filter on it (answering refused requests on their
// connection), and closes connections that send too much, too slowly, or
// nothing for too long, and those over the limit per source.

// Defaults of TCPLimits.
const (
	// DefaultTCPMaxMessage is sipgo's own limit (64 KiB less a byte).
	DefaultTCPMaxMessage  = 65535
	DefaultTCPMessageTime = 10 * time.Second
	DefaultTCPIdle        = 5 * time.Minute
	DefaultTCPPerSource   = 32
)

// TCPLimits bounds SIP connections over stream transports. Zero fields
// take the defaults.
type TCPLimits struct {
	// MaxMessage is the largest message in bytes (start line, header
	// fields and body). A larger request gets 513 and its connection is
	// closed.
	MaxMessage int
	// MessageTime is how long a message may take to arrive once its
	// first byte has, and how long a new connection may take to send its
	// first message (slow senders).
	MessageTime time.Duration
	// Idle closes a connection that sent no message and was sent nothing
	// for this long, unless it carries a call.
	Idle time.Duration
	// PerSource is how many connections one IP address may hold open.
	PerSource int
}

func (l TCPLimits) withDefaults() TCPLimits {
	if l.MaxMessage <= 0 {
		l.MaxMessage = DefaultTCPMaxMessage
	}
	if l.MessageTime <= 0 {
		l.MessageTime = DefaultTCPMessageTime
	}
	if l.Idle <= 0 {
		l.Idle = DefaultTCPIdle
	}
	if l.PerSource <= 0 {
		l.PerSource = DefaultTCPPerSource
	}
	return l
}

// conform puts the conformance filter under the agent's sockets.
func (a *Agent) conform(udp net.PacketConn, tcp net.Listener) (net.PacketConn, net.Listener) {
	a.filter = newConformer(slog.New(newSafeHandler(a.log.Handler(), a.cfg.ShowNumbers)), a.met)
	return &badRequestConn{PacketConn: udp, f: a.filter}, newStreamListener(tcp, "TCP", a.filter, a.cfg.TCP, a.connInUse)
}

// connInUse reports whether the connection from remote ("ip:port") carries
// a call or an agent phone's registration (kefu calls the phone over it):
// it is not idle however long it is quiet.
func (a *Agent) connInUse(remote string) bool {
	a.mu.Lock()
	for _, c := range a.calls {
		if c.invite.Source() == remote {
			a.mu.Unlock()
			return true
		}
	}
	a.mu.Unlock()
	if a.cfg.Registrar == nil {
		return false
	}
	now := time.Now()
	for _, bs := range a.cfg.Registrar.All() {
		for _, b := range bs {
			if b.Source.String() == remote && b.Expires.After(now) {
				return true
			}
		}
	}
	return false
}

// streamListener hands out filtered connections.
type streamListener struct {
	net.Listener
	transport string // "TCP" or "TLS", as logs and the filter name it
	f         *conformer
	lim       TCPLimits
	busy      func(remote string) bool

	mu      sync.Mutex
	open    map[netip.Addr]int // connections per source
	lastLog atomic.Int64       // unix nanoseconds of the last per-source refusal logged
}

func newStreamListener(l net.Listener, transport string, f *conformer, lim TCPLimits, busy func(string) bool) *streamListener {
	if busy == nil {
		busy = func(string) bool { return false }
	}
	return &streamListener{Listener: l, transport: transport, f: f, lim: lim.withDefaults(), busy: busy, open: map[netip.Addr]int{}}
}

// Accept returns the next connection within the per-source limit; those
// over it are closed at once.
func (l *streamListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := addrOf(c.RemoteAddr())
		if l.take(ip) {
			return newStreamConn(c, l, ip), nil
		}
		l.f.met.TCPClosed.WithLabelValues("per_source").Inc()
		if now := time.Now().UnixNano(); now-l.lastLog.Load() > int64(time.Second) {
			l.lastLog.Store(now)
			l.f.log.Warn("SIP connection refused: too many from one source", "src", ip.String(), "transport", l.transport, "limit", l.lim.PerSource)
		}
		_ = c.Close()
	}
}

func (l *streamListener) take(ip netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[ip] >= l.lim.PerSource {
		return false
	}
	l.open[ip]++
	return true
}

func (l *streamListener) release(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[ip]--; l.open[ip] <= 0 {
		delete(l.open, ip)
	}
}

func addrOf(a net.Addr) netip.Addr {
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// streamConn frames, filters and times one connection. Read runs on
// sipgo's reading goroutine only; Write and Close may come from any.
type streamConn struct {
	net.Conn
	l      *streamListener
	ip     netip.Addr
	remote string

	tls      *tls.Conn // set over TLS until its handshake is done
	buf      []byte    // received, not yet framed
	out      []byte    // accepted messages sipgo has not read yet
	accepted time.Time // when the connection came
	started  time.Time // first byte of the message in buf
	lastMsg  time.Time // the last whole message
	gotOne   bool

	wmu       sync.Mutex
	lastWrite atomic.Int64 // unix nanoseconds
	closeOnce sync.Once
}

func newStreamConn(c net.Conn, l *streamListener, ip netip.Addr) *streamConn {
	tc, _ := c.(*tls.Conn)
	return &streamConn{Conn: c, l: l, ip: ip, remote: c.RemoteAddr().String(), accepted: time.Now(), tls: tc}
}

// errClosedByLimit ends sipgo's read loop quietly (it logs io.EOF at debug).
var errClosedByLimit = io.EOF

// Read returns accepted messages.
func (c *streamConn) Read(b []byte) (int, error) {
	for len(c.out) == 0 {
		if err := c.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(b, c.out)
	c.out = c.out[n:]
	return n, nil
}

// fill reads once from the connection and frames what it can.
func (c *streamConn) fill() error {
	if err := c.Conn.SetReadDeadline(c.deadline()); err != nil {
		return err
	}
	if c.tls != nil {
		return c.handshake()
	}
	var chunk [4096]byte
	n, err := c.Conn.Read(chunk[:])
	if n > 0 {
		if len(c.buf) == 0 {
			c.started = time.Now()
		}
		c.buf = append(c.buf, chunk[:n]...)
		if ferr := c.frame(); ferr != nil {
			return ferr
		}
	}
	if err == nil {
		return nil
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return c.timedOut()
	}
	return err
}

// handshake runs the TLS handshake within the time a new connection has
// for its first message; a failed one closes the connection (sipgo would
// log it as an error: scanners and plain-TCP peers are no errors of ours).
func (c *streamConn) handshake() error {
	err := c.tls.Handshake()
	if err == nil {
		c.tls = nil
		return nil
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return c.shut("slow", "SIP connection closed: no TLS handshake in time", "limit", c.l.lim.MessageTime.String())
	}
	return c.shut("tls_handshake", "SIP connection closed: TLS handshake failed", "error", err.Error())
}

// deadline is when the read in progress must have brought something.
func (c *streamConn) deadline() time.Time {
	lim := c.l.lim
	switch {
	case len(c.buf) > 0:
		return c.started.Add(lim.MessageTime)
	case !c.gotOne:
		return c.accepted.Add(lim.MessageTime)
	}
	last := c.lastMsg
	if w := time.Unix(0, c.lastWrite.Load()); w.After(last) {
		last = w
	}
	return last.Add(lim.Idle)
}

// timedOut closes a slow or idle connection, or lets it go on.
func (c *streamConn) timedOut() error {
	switch {
	case len(c.buf) > 0 || !c.gotOne:
		return c.shut("slow", "SIP connection closed: no whole message in time", "limit", c.l.lim.MessageTime.String())
	case time.Now().Before(c.deadline()):
		return nil // kefu wrote meanwhile
	case c.l.busy(c.remote):
		c.lastMsg = time.Now()
		return nil
	}
	return c.shut("idle", "SIP connection closed: idle", "limit", c.l.lim.Idle.String())
}

// frame cuts whole messages off buf and filters each.
func (c *streamConn) frame() error {
	max := c.l.lim.MaxMessage
	for {
		// CRLF keep-alives between messages (RFC 5626 3.5.1): a double
		// CRLF is a ping and gets a CRLF pong.
		for bytes.HasPrefix(c.buf, []byte("\r\n")) {
			if bytes.HasPrefix(c.buf, []byte("\r\n\r\n")) {
				c.buf = c.buf[4:]
				if _, err := c.Write([]byte("\r\n")); err != nil {
					return err
				}
				continue
			}
			c.buf = c.buf[2:]
		}
		if len(c.buf) == 0 {
			return nil
		}
		end := bytes.Index(c.buf, []byte("\r\n\r\n"))
		if end < 0 {
			if len(c.buf) > max {
				return c.shut("too_large", "SIP connection closed: header fields too large", "limit", max)
			}
			return nil
		}
		head := c.buf[:end+4]
		m, err := splitMessage(head, true)
		if err != nil {
			return c.refuseAndShut(lenientSplit(head), refusal(400, err.Error()), "framing")
		}
		size, v := contentLength(m)
		if v != nil {
			return c.refuseAndShut(m, v, "framing")
		}
		total := len(head) + size
		if total > max {
			return c.refuseAndShut(m, refusal(513, "kefu takes messages up to "+strconv.Itoa(max)+" bytes"), "too_large")
		}
		if len(c.buf) < total {
			return nil
		}
		msg := c.buf[:total]
		j := c.l.f.inspect(msg, c.RemoteAddr(), c.l.transport, true)
		c.buf = c.buf[total:]
		c.gotOne, c.lastMsg, c.started = true, time.Now(), time.Now()
		if j.reply != nil {
			if _, err := c.Write(j.reply); err != nil {
				return err
			}
		}
		if j.pass != nil {
			c.out = append(c.out, j.pass...)
		}
	}
}

// contentLength is the body size of a message on a stream: its
// Content-Length, which must be there, once (or repeated with the same
// value: the filter refuses that request but the stream keeps its frame).
func contentLength(m *message) (int, *verdict) {
	cls := m.all("content-length")
	if len(cls) == 0 {
		return 0, refusal(400, "Content-Length is required over TCP and TLS")
	}
	for _, v := range cls {
		if v != cls[0] || !digits(v) {
			return 0, refusal(400, "bad Content-Length")
		}
	}
	n, err := strconv.Atoi(cls[0])
	if err != nil {
		return 0, refusal(400, "bad Content-Length")
	}
	return n, nil
}

// refuseAndShut answers a request whose end cannot be found, then closes
// the connection: nothing after it can be framed.
func (c *streamConn) refuseAndShut(m *message, v *verdict, reason string) error {
	if j := c.l.f.refuse(m, v, c.RemoteAddr(), c.l.transport); j.reply != nil {
		_, _ = c.Write(j.reply)
	}
	return c.shut(reason, "SIP connection closed: the message cannot be framed")
}

// shut closes the connection for reason, logs it and ends sipgo's reading.
func (c *streamConn) shut(reason, msg string, attrs ...any) error {
	c.l.f.met.TCPClosed.WithLabelValues(reason).Inc()
	c.l.f.log.Info(msg, append([]any{"src", c.remote, "transport", c.l.transport}, attrs...)...)
	_ = c.Close()
	return errClosedByLimit
}

// Write sends whole messages (sipgo's, the filter's replies) one at a time,
// without the From tags the filter made up for RFC 2543 peers.
func (c *streamConn) Write(b []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.lastWrite.Store(time.Now().UnixNano())
	if _, err := c.Conn.Write(stripRFC2543Tags(b)); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Close closes the connection once and frees its place in the per-source
// count; closing again is no error (sipgo's pool closes what the limits
// closed already).
func (c *streamConn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		c.l.release(c.ip)
		err = c.Conn.Close()
	})
	return err
}

// SetReadDeadline is a no-op: the connection keeps its own read deadlines.
func (c *streamConn) SetReadDeadline(time.Time) error { return nil }

// SetDeadline sets the write deadline only (see SetReadDeadline).
func (c *streamConn) SetDeadline(t time.Time) error { return c.Conn.SetWriteDeadline(t) }
