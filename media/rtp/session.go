// Package rtp carries a call's audio over RTP (RFC 3550): it packetizes the
// player's frames with a continuous sequence and timestamp, sends them to the
// address the caller's RTP really comes from (symmetric RTP), and demuxes
// what arrives by payload type into audio, comfort noise and RFC 4733
// telephone events. It never sleeps: pacing is the player's job.
package rtp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"time"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/g711"
	pionrtp "github.com/pion/rtp"
)

// ErrMediaTimeout ends Receive when no packet arrived for the timeout while
// the call expected media.
var ErrMediaTimeout = errors.New("rtp: media timeout")

// Handler receives what the caller sends, on the receive goroutine.
type Handler interface {
	// Audio is one decoded frame of caller audio.
	Audio(pcm []int16)
	// ComfortNoise is an RFC 3389 CN packet; level is its noise level in
	// -dBov (0..127), 127 when the packet carries none.
	ComfortNoise(level uint8)
	// Digit is a telephone-event (RFC 4733) key press, reported once.
	Digit(d rune)
	// Silence reports that no packet arrived for d (the caller's phone
	// stopped sending: DTX, hold, or a dead line). It comes at most about
	// once a second while the gap lasts.
	Silence(d time.Duration)
}

// Config describes one call's RTP session.
type Config struct {
	Conn    net.PacketConn
	Remote  netip.AddrPort // from the SDP; replaced by the latched source
	Codec   media.Codec    // what we send
	PT      uint8          // payload type we send Codec with
	DTMFPT  uint8          // telephone-event PT, 0 if none
	CNPT    uint8          // comfort-noise PT, 0 if none
	SSRC    uint32
	Timeout time.Duration // media timeout; 0 disables it
	Ptime   time.Duration // packet duration we send; 0 means 20 ms
	Logger  *slog.Logger
	// Crypto, when set, protects what is sent and unprotects what
	// arrives (SRTP, media/srtp); nil is plain RTP.
	Crypto Crypto
}

// Crypto protects packets in place: Protect the packet in buf[:n],
// appending up to MaxCryptoOverhead bytes; Unprotect pkt, returning the
// plain packet's length, or an error for a packet to drop.
type Crypto interface {
	Protect(buf []byte, n int) (int, error)
	Unprotect(pkt []byte) (int, error)
}

// MaxCryptoOverhead is the most a Crypto may add to a packet (SRTP's
// 80-bit tag, with room to spare).
const MaxCryptoOverhead = 16

// ErrCryptoAuth is what a Crypto's Unprotect returns (wrapped) for a packet
// whose authentication failed; Stats counts those apart from replays.
var ErrCryptoAuth = errors.New("rtp: packet authentication failed")

// Session is one call's RTP endpoint.
type Session struct {
	cfg    Config
	log    *slog.Logger
	remote atomic.Pointer[net.UDPAddr]

	// send side, used only by the player goroutine
	pkt      pionrtp.Packet
	buf      [12 + maxPacketBytes + MaxCryptoOverhead]byte
	tsBase   uint32
	seq      uint16
	ptimeB   int // payload bytes per packet (= samples for G.711)
	pend     [maxPacketBytes]byte
	pendN    int    // bytes waiting in pend
	pendAt   uint32 // sample index of pend[0]
	pendMark bool

	// receive side, used only by the Receive goroutine
	latched   bool
	lastFrom  time.Time
	seqs      seqWindow // of the current stream (SSRC)
	ssrc      uint32    // the current stream's
	lostDone  uint64    // loss of the streams before it
	dtmf      dtmfState
	pcm       [media.FrameSamples]int16
	suspended atomic.Bool

	stats Stats
}

// Stats counts packets; all fields are read with atomic loads.
type Stats struct {
	Sent, Received, Duplicates, Late, Unknown, Lost atomic.Uint64
	// AuthFailed and Refused count SRTP packets dropped: failed
	// authentication, and replayed or unreadable ones.
	AuthFailed, Refused atomic.Uint64
}

// NewSession returns a session; the caller owns cfg.Conn until Close.
func NewSession(cfg Config) *Session {
	s := &Session{cfg: cfg, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.ptimeB = int(cfg.Ptime * media.SampleRate / time.Second)
	if s.ptimeB <= 0 || s.ptimeB > maxPacketBytes || s.ptimeB%80 != 0 {
		s.ptimeB = media.FrameBytes
	}
	s.tsBase = cfg.SSRC * 2654435761 // any fixed, per-session start value
	s.seq = uint16(cfg.SSRC >> 7)
	s.pkt.Version = 2
	s.pkt.SSRC = cfg.SSRC
	s.pkt.PayloadType = cfg.PT
	if cfg.Remote.IsValid() && !cfg.Remote.Addr().IsUnspecified() {
		s.remote.Store(net.UDPAddrFromAddrPort(cfg.Remote))
	}
	return s
}

// SetRemote points the sender at a new SDP address (a re-INVITE); symmetric
// latching starts again from it.
func (s *Session) SetRemote(ap netip.AddrPort) {
	if ap.IsValid() && !ap.Addr().IsUnspecified() {
		s.remote.Store(net.UDPAddrFromAddrPort(ap))
	}
}

// Remote returns where packets go now.
func (s *Session) Remote() netip.AddrPort {
	if a := s.remote.Load(); a != nil {
		return a.AddrPort()
	}
	return netip.AddrPort{}
}

// SetSuspended pauses (true) or resumes the media timeout, e.g. while the
// caller holds the call and sends nothing.
func (s *Session) SetSuspended(v bool) { s.suspended.Store(v) }

// maxPacketBytes is the largest payload we send: 60 ms of G.711.
const maxPacketBytes = 3 * media.FrameBytes

// WriteFrame implements media.FrameWriter. Frame n starts at sample
// n·160, so timestamps follow the wall clock across prompts, silences and
// skipped ticks. Frames are gathered into packets of the negotiated ptime
// (a 30 ms ptime sends 240 samples whenever that many are waiting). It
// allocates nothing.
func (s *Session) WriteFrame(n uint32, payload []byte, marker bool) error {
	at := n * media.TimestampStep
	if s.pendN > 0 && s.pendAt+uint32(s.pendN) != at {
		s.pendN = 0 // a gap (mute, skipped ticks): drop the partial packet
	}
	if s.pendN == 0 {
		s.pendAt, s.pendMark = at, marker
	}
	s.pendN += copy(s.pend[s.pendN:], payload)
	for s.pendN >= s.ptimeB {
		if err := s.send(s.pend[:s.ptimeB], s.pendAt, s.pendMark); err != nil {
			s.pendN = 0
			return err
		}
		s.pendN = copy(s.pend[:], s.pend[s.ptimeB:s.pendN])
		s.pendAt += uint32(s.ptimeB)
		s.pendMark = false
	}
	return nil
}

func (s *Session) send(payload []byte, at uint32, marker bool) error {
	to := s.remote.Load()
	if to == nil {
		return nil // nowhere to send yet: the far end's RTP will tell us
	}
	s.pkt.SequenceNumber = s.seq
	s.pkt.Timestamp = s.tsBase + at
	s.pkt.Marker = marker
	s.pkt.Payload = payload
	sz, err := s.pkt.MarshalTo(s.buf[:])
	if err != nil {
		return fmt.Errorf("rtp: marshal: %w", err)
	}
	s.seq++
	if s.cfg.Crypto != nil {
		if sz, err = s.cfg.Crypto.Protect(s.buf[:], sz); err != nil {
			return fmt.Errorf("rtp: %w", err)
		}
	}
	if _, err := s.cfg.Conn.WriteTo(s.buf[:sz], to); err != nil {
		return fmt.Errorf("rtp: send to %v: %w", to, err)
	}
	s.stats.Sent.Add(1)
	return nil
}

// String names the sink for printable pipelines.
func (s *Session) String() string {
	return fmt.Sprintf("RTP(%s/%d -> %v)", s.cfg.Codec, s.cfg.PT, s.Remote())
}

// Stats returns the session's counters.
func (s *Session) Stats() *Stats { return &s.stats }

// Receive reads packets until ctx ends, the connection closes, or no packet
// arrives within the media timeout while not suspended. It returns the reason.
func (s *Session) Receive(ctx context.Context, h Handler) error {
	stop := context.AfterFunc(ctx, func() {
		_ = s.cfg.Conn.SetReadDeadline(time.Unix(1, 0))
	})
	defer stop()
	buf := make([]byte, 1500)
	var pkt pionrtp.Packet
	last := time.Now()
	var deadline time.Time
	for {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		// A read deadline about every half second, not per packet: it
		// wakes the loop to report gaps and to judge the media timeout.
		now := time.Now()
		if deadline.Sub(now) < 500*time.Millisecond {
			deadline = now.Add(time.Second)
			_ = s.cfg.Conn.SetReadDeadline(deadline)
		}
		n, from, err := s.read(buf)
		if err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				deadline = time.Time{}
				gap := time.Since(last)
				if s.suspended.Load() {
					last = time.Now()
				} else if s.cfg.Timeout > 0 && gap >= s.cfg.Timeout {
					return ErrMediaTimeout
				}
				if gap >= 3*media.FrameDur {
					h.Silence(gap)
				}
				continue
			}
			return fmt.Errorf("rtp: read: %w", err)
		}
		if s.cfg.Crypto != nil {
			if n, err = s.unprotect(buf[:n]); err != nil {
				continue
			}
		}
		if err := pkt.Unmarshal(buf[:n]); err != nil || pkt.Version != 2 {
			s.stats.Unknown.Add(1)
			continue // not RTP (or RTCP on a muxed port): ignore
		}
		last = time.Now()
		s.latch(from, last)
		s.handle(&pkt, h)
	}
}

// unprotect checks and decrypts an SRTP packet in place; what fails is
// counted and dropped, before it can move the latch or the media timeout.
func (s *Session) unprotect(pkt []byte) (int, error) {
	if len(pkt) >= 2 && pkt[1] >= 192 && pkt[1] <= 223 {
		s.stats.Unknown.Add(1) // RTCP on a muxed port: kefu reads none
		return 0, errNotRTP
	}
	n, err := s.cfg.Crypto.Unprotect(pkt)
	if err != nil {
		if errors.Is(err, ErrCryptoAuth) {
			s.stats.AuthFailed.Add(1)
		} else {
			s.stats.Refused.Add(1)
		}
	}
	return n, err
}

var errNotRTP = errors.New("rtp: not RTP")

// inSequence tracks pkt's stream: the sequence numbers of one SSRC, which
// audio, RFC 4733 events and comfort noise share (so a key pressed is no
// gap in the audio). A new SSRC (a PBX switching to its hold music, a
// transfer) starts a new window: its jump in numbers is no loss. It
// reports false for a duplicate, which is dropped.
func (s *Session) inSequence(pkt *pionrtp.Packet) bool {
	if pkt.SSRC != s.ssrc || !s.seqs.started {
		if s.seqs.started {
			s.lostDone += s.seqs.lost
		}
		s.ssrc, s.seqs = pkt.SSRC, seqWindow{}
	}
	switch s.seqs.observe(pkt.SequenceNumber) {
	case seqDuplicate:
		s.stats.Duplicates.Add(1)
		return false
	case seqLate:
		s.stats.Late.Add(1) // reordered: still worth hearing
	}
	s.stats.Lost.Store(s.lostDone + s.seqs.lost)
	return true
}

// addrPortReader is the allocation-free read of *net.UDPConn.
type addrPortReader interface {
	ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error)
}

// read reads one datagram; on a *net.UDPConn without allocating.
func (s *Session) read(buf []byte) (int, netip.AddrPort, error) {
	if r, ok := s.cfg.Conn.(addrPortReader); ok {
		return r.ReadFromUDPAddrPort(buf)
	}
	n, from, err := s.cfg.Conn.ReadFrom(buf)
	if ua, ok := from.(*net.UDPAddr); ok {
		return n, ua.AddrPort(), err
	}
	return n, netip.AddrPort{}, err
}

// latch implements symmetric RTP: send where the caller's packets come from.
// A new source replaces the old one only after the old one fell silent for
// half a second, so a stray packet cannot hijack the stream.
func (s *Session) latch(from netip.AddrPort, now time.Time) {
	if !from.IsValid() {
		return
	}
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	cur := s.remote.Load()
	same := cur != nil && cur.AddrPort() == from
	if cur != nil && !same { // a 16-byte IPv4 in the UDPAddr: compare unmapped
		ap := cur.AddrPort()
		same = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()) == from
	}
	switch {
	case same:
		s.latched = true
	case !s.latched || now.Sub(s.lastFrom) > 500*time.Millisecond:
		s.log.Debug("rtp latched", "from", from.String(), "sdp", s.Remote().String())
		s.remote.Store(net.UDPAddrFromAddrPort(from))
		s.latched = true
	default:
		return
	}
	s.lastFrom = now
}

func (s *Session) handle(pkt *pionrtp.Packet, h Handler) {
	if !s.inSequence(pkt) {
		return
	}
	pt := pkt.PayloadType
	switch {
	case s.cfg.DTMFPT != 0 && pt == s.cfg.DTMFPT:
		if d, ok := s.dtmf.packet(pkt.Timestamp, pkt.Payload); ok {
			h.Digit(d)
		}
		return
	case pt == 13 || (s.cfg.CNPT != 0 && pt == s.cfg.CNPT):
		level := uint8(127)
		if len(pkt.Payload) > 0 {
			level = pkt.Payload[0] & 0x7f
		}
		h.ComfortNoise(level)
		return
	}
	var codec media.Codec
	switch {
	case pt == 0:
		codec = media.CodecPCMU
	case pt == 8:
		codec = media.CodecPCMA
	case pt == s.cfg.PT:
		codec = s.cfg.Codec
	default:
		s.stats.Unknown.Add(1)
		return
	}
	s.stats.Received.Add(1)
	// A payload of any length (ptime 10..60) is cut into 20 ms frames.
	p := pkt.Payload
	for len(p) > 0 {
		k := min(len(p), media.FrameSamples)
		_ = g711.Decode(codec, s.pcm[:k], p[:k])
		h.Audio(s.pcm[:k])
		p = p[k:]
	}
}
