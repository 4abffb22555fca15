//go:build linux

package main

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kefu-hotline/kefu/bench/internal/rtpmeter"
	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/rtp"
)

// agentBit marks the origin of the agent side's talkers; the caller
// side's have it clear.
const agentBit = 1 << 31

// maxWindows is how many measurement windows one run may open.
const maxWindows = 4

// windows are the measurement windows, opened and closed by signals on the
// main goroutine and read by the sides' read goroutines.
type windows struct {
	n     atomic.Int32 // windows opened so far
	open  [maxWindows]atomic.Int64
	close [maxWindows]atomic.Int64 // 0 while open
}

// at returns the window a packet that arrived at t (Unix ns) counts in,
// with its bounds, or -1.
func (w *windows) at(t int64) (k int, open, close int64) {
	k = int(w.n.Load()) - 1
	if k < 0 {
		return -1, 0, 0
	}
	open, close = w.open[k].Load(), w.close[k].Load()
	if t < open || close != 0 && t > close {
		return -1, 0, 0
	}
	return k, open, close
}

// side is one of rtppeer's two ports: the callers' media (each caller's
// SDP points at it) or the agents' (each agent's answer does). kefu sends
// every leg's RTP there from the leg's own port; the side answers each
// with a talker of its own, and times the stamped frames that come back
// through kefu's relay from the other side's talkers.
type side struct {
	name  string
	bit   uint32 // origin bit of this side's talkers
	conn  *net.UDPConn
	pacer *media.Pacer
	ctx   context.Context // the talkers' lifetime
	idle  time.Duration
	win   *windows
	wg    sync.WaitGroup // talkers

	// read goroutine only, until run returns
	legs     []*leg
	byAddr   map[netip.AddrPort]*leg // the last leg at each of kefu's ports
	next     uint32
	revived  uint64 // talkers started again after kefu stalled for longer than idle
	drops    uint32
	noTS     uint64
	nonRTP   uint64
	delay    hist
	perWin   [maxWindows]winStats
	seconds  []*secStats // the run, second by second (kernel arrival time)
	lastReap int64

	// for the status file
	active, stampedActive, total atomic.Int64
}

// winStats is what one side received in one window.
type winStats struct {
	legs      int
	packets   uint64
	stamped   uint64
	underruns uint64
	lost      uint64
	delay     hist
}

// secStats is what one side received in one second.
type secStats struct {
	at        int64 // Unix seconds
	packets   uint64
	skips     uint64 // frames kefu's players skipped
	maxGap    int64  // ns, the largest gap between two packets of a leg ending in this second
	stamped   uint64
	underruns uint64
	lost      uint64
	delay     msHist
}

// msHist counts delays in 1 ms buckets up to 1 s.
type msHist [1001]uint32

func (h *msHist) add(d int64) { h[min(max(d, 0)/1e6, int64(len(h)-1))]++ }

// percentile returns the upper edge in ms of the bucket below which p
// percent of the counts fall; 0 without counts.
func (h *msHist) percentile(p float64) float64 {
	var total, acc uint64
	for _, n := range h {
		total += uint64(n)
	}
	for i, n := range h {
		acc += uint64(n)
		if total > 0 && float64(acc) >= float64(total)*p/100 {
			return float64(i + 1)
		}
	}
	return 0
}

// second returns the stats of the second t falls in; packets arrive in
// order, give or take the odd late one (counted in the latest second).
func (s *side) second(t int64) *secStats {
	at := t / 1e9
	if n := len(s.seconds); n > 0 && s.seconds[n-1].at >= at {
		return s.seconds[n-1]
	}
	sec := &secStats{at: at}
	s.seconds = append(s.seconds, sec)
	return sec
}

// leg is one of kefu's call legs as seen from a side: what kefu sends
// from one RTP port (one SSRC), and the talker that answers it.
type leg struct {
	rx      rtpmeter.Stream
	talker  uint32 // origin of our talker's stamps
	src     *stamper
	stop    context.CancelFunc // the talker's; nil while it is stopped
	lastWin int

	// Stamped frames: the other side's talker, relayed by kefu.
	stamped   uint64
	underruns uint64 // unstamped frames after the first stamped one: the relay had nothing
	lost      uint64 // frames of the heard talker that never arrived (stamp sequence gaps)
	reordered uint64
	foreign   uint64 // stamps of another talker than the first heard, or of this side's own
	heard     uint32 // the talker whose stamps arrive
	lastSeq   uint32
	lastStamp int64 // arrival of the last stamped frame
	minDelay  int64
	maxDelay  int64
}

func newSide(ctx context.Context, name string, bit uint32, conn *net.UDPConn, pacer *media.Pacer, idle time.Duration, win *windows) *side {
	return &side{name: name, bit: bit, conn: conn, pacer: pacer, ctx: ctx, idle: idle, win: win, byAddr: map[netip.AddrPort]*leg{}}
}

// run reads until the socket is closed, then stops the talkers and waits
// for them.
func (s *side) run() {
	defer s.wg.Wait()
	buf := make([]byte, 2048)
	oob := make([]byte, 256)
	var deadline int64
	for {
		now := time.Now().UnixNano()
		if deadline-now < int64(250*time.Millisecond) {
			deadline = now + int64(500*time.Millisecond)
			_ = s.conn.SetReadDeadline(time.Unix(0, deadline))
		}
		n, oobn, _, from, err := s.conn.ReadMsgUDPAddrPort(buf, oob)
		now = time.Now().UnixNano()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				for _, l := range s.legs {
					s.end(l)
				}
				return
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				s.reap(now)
			}
			continue
		}
		ts, drops, ok := rtpmeter.ParseControl(oob[:oobn])
		if ok {
			s.drops = drops
		}
		if ts == 0 {
			ts = now
			s.noTS++
		}
		h, ok := rtpmeter.ParseRTP(buf[:n])
		if !ok {
			s.nonRTP++
			continue
		}
		s.packet(from, h, buf[h.Offset:h.Offset+h.Payload], ts)
		if now-s.lastReap > int64(time.Second) {
			s.reap(now)
		}
	}
}

// packet accounts for one packet of kefu's that arrived at t.
func (s *side) packet(from netip.AddrPort, h rtpmeter.Header, payload []byte, t int64) {
	l := s.byAddr[from]
	switch {
	case l == nil:
		l = s.newLeg(from, h.SSRC)
	case l.rx.SSRC != h.SSRC:
		s.end(l) // kefu gave the port to a new leg
		l = s.newLeg(from, h.SSRC)
	case l.stop == nil:
		s.talk(l) // kefu stalled for longer than idle: the leg goes on
		s.revived++
	}
	k, w0, w1 := s.win.at(t)
	skipped := l.rx.Skipped
	gap := l.rx.Packet(h, t, w0, w1)
	sec := s.second(t)
	sec.packets++
	sec.skips += l.rx.Skipped - skipped
	sec.maxGap = max(sec.maxGap, gap)
	var ws *winStats
	if k >= 0 {
		ws = &s.perWin[k]
		ws.packets++
		if l.lastWin != k {
			l.lastWin = k
			ws.legs++
		}
	}
	st, ok := readStamp(payload)
	switch {
	case !ok:
		if l.stamped > 0 {
			sec.underruns++
			l.underruns++
			if ws != nil {
				ws.underruns++
			}
		}
		return
	case st.Origin&agentBit == s.bit:
		l.foreign++ // this side's own audio came back
		return
	case l.stamped == 0:
		l.heard = st.Origin
	case st.Origin != l.heard:
		l.foreign++
		return
	default:
		switch d := int32(st.Seq - l.lastSeq); {
		case d > 1:
			sec.lost += uint64(d - 1)
			l.lost += uint64(d - 1)
			if ws != nil {
				ws.lost += uint64(d - 1)
			}
		case d <= 0:
			l.reordered++
		}
	}
	if l.stamped == 0 || int32(st.Seq-l.lastSeq) > 0 {
		l.lastSeq = st.Seq
	}
	l.stamped++
	l.lastStamp = t
	d := t - st.Sent
	sec.stamped++
	sec.delay.add(d)
	if l.stamped == 1 || d < l.minDelay {
		l.minDelay = d
	}
	l.maxDelay = max(l.maxDelay, d)
	s.delay.add(d)
	if ws != nil {
		ws.stamped++
		ws.delay.add(d)
	}
}

// newLeg starts answering a new leg of kefu's at from.
func (s *side) newLeg(from netip.AddrPort, ssrc uint32) *leg {
	s.next++
	l := &leg{rx: rtpmeter.Stream{SSRC: ssrc, Src: from}, talker: s.bit | s.next, lastWin: -1}
	l.src = &stamper{origin: l.talker, frame: stampFrame()}
	s.legs = append(s.legs, l)
	s.byAddr[from] = l
	s.total.Add(1)
	s.talk(l)
	return l
}

// talk starts the leg's talker: a player on the shared pacer sending the
// leg's stamper (its frame count goes on where a stopped talker left it)
// in a session of its own, with the talker as SSRC, through the side's
// socket.
func (s *side) talk(l *leg) {
	ctx, cancel := context.WithCancel(s.ctx)
	l.stop = cancel
	sess := rtp.NewSession(rtp.Config{Conn: s.conn, Remote: l.rx.Src, Codec: media.CodecPCMU, SSRC: l.talker})
	p := media.NewPlayer(sess, media.CodecPCMU, 0xFF, media.WithPacer(s.pacer))
	s.wg.Add(2)
	go func() { defer s.wg.Done(); _ = p.Run(ctx) }()
	go func() { defer s.wg.Done(); _ = p.Play(ctx, l.src) }()
}

// end stops a leg's talker: its call is over, or kefu stalled (packet
// starts it again).
func (s *side) end(l *leg) {
	if l.stop != nil {
		l.stop()
		l.stop = nil
	}
}

// reap ends the legs kefu stopped sending on, and counts the live ones for
// the status file.
func (s *side) reap(now int64) {
	s.lastReap = now
	var active, stamped int64
	for _, l := range s.byAddr {
		switch {
		case l.stop == nil:
		case now-l.rx.Last > int64(s.idle):
			s.end(l)
		case now-l.rx.Last < int64(time.Second):
			active++
			if now-l.lastStamp < int64(time.Second) {
				stamped++
			}
		}
	}
	s.active.Store(active)
	s.stampedActive.Store(stamped)
}

// stamper is a talker's audio: near silence, every frame stamped with the
// talker, its number and the time it is handed to the RTP session (the
// player writes it at once).
type stamper struct {
	origin uint32
	seq    uint32
	frame  [media.FrameBytes]byte
}

// Next implements media.Source.
func (s *stamper) Next(media.Codec) ([]byte, bool) {
	stamp{Origin: s.origin, Seq: s.seq, Sent: time.Now().UnixNano()}.put(s.frame[:])
	s.seq++
	return s.frame[:], true
}

// String implements media.Source.
func (s *stamper) String() string { return "Stamper" }

// hist counts delays in 0.1 ms buckets up to 5 s (the last bucket holds
// the rest; negative delays count as 0).
type hist [50_001]uint64

const histBucket = 100_000 // ns

func (h *hist) add(d int64) { h[min(max(d, 0)/histBucket, int64(len(h)-1))]++ }

// percentile returns the upper edge in ms of the bucket below which p
// percent of the counts fall; 0 without counts.
func (h *hist) percentile(p float64) float64 {
	var total uint64
	for _, n := range h {
		total += n
	}
	if total == 0 {
		return 0
	}
	var acc uint64
	for i, n := range h {
		acc += n
		if float64(acc) >= float64(total)*p/100 {
			return float64(i+1) * histBucket / 1e6
		}
	}
	return float64(len(h)) * histBucket / 1e6
}

func (h *hist) count() (n uint64) {
	for _, c := range h {
		n += c
	}
	return n
}
