package sip

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/g711"
	"github.com/kefu-hotline/kefu/media/rtp"
	"github.com/kefu-hotline/kefu/prompts"
	"github.com/kefu-hotline/kefu/sip/sdp"
)

// errMediaTimeout is how the receive loop reports a silent RTP port.
var errMediaTimeout = rtp.ErrMediaTimeout

// callMedia is a call's audio: the RTP session on its own port, the paced
// player that sends prompts and silence, and the caller's line listener.
// Wired as: Player -> RTP out; RTP in -> G.711 decode -> flows.LineListener
// (VAD -> in-band DTMF -> LineJudge) -> flow events.
type callMedia struct {
	c        *call
	conn     net.PacketConn
	sess     *rtp.Session
	player   *media.Player
	localSDP []byte
	ended    chan error
	gainDB   atomic.Uint64            // CS-LOUDER gain in dB, float64 bits
	rec      atomic.Pointer[recorder] // the caller's audio is being recorded
	tap      atomic.Pointer[relay]    // bridged: the caller's audio goes to the other leg

	// receive goroutine only (line.Digit excepted)
	line    *flows.LineListener
	lostFed int // Lost frames fed to the listener in the current gap

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newCallMedia(c *call, conn net.PacketConn, ans sdp.Answer, localSDP []byte) *callMedia {
	m := &callMedia{c: c, conn: conn, localSDP: localSDP, ended: make(chan error, 1)}
	m.sess = rtp.NewSession(rtp.Config{
		Conn: conn, Remote: ans.Remote, Codec: ans.Codec, PT: ans.PT, DTMFPT: ans.DTMFPT, CNPT: ans.CNPT,
		SSRC: rand.Uint32(), Timeout: c.snap.Config.MediaTimeout.D(), Ptime: ans.Ptime, Logger: c.log,
	})
	m.player = media.NewPlayer(m.sess, ans.Codec, g711.Silence(ans.Codec), media.WithPacer(c.a.pacer))
	line, err := flows.NewLineListener(flows.LineOptions{InBand: ans.DTMFPT == 0}, m.heard)
	if err != nil {
		panic(err) // the default detectors are valid; flows' tests guard it
	}
	m.line = line
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.update(ans)
	return m
}

// start runs the player and the receive loop.
func (m *callMedia) start() {
	m.wg.Add(2)
	go func() {
		defer m.wg.Done()
		_ = m.player.Run(m.ctx)
	}()
	go func() {
		defer m.wg.Done()
		err := m.sess.Receive(m.ctx, m)
		if errors.Is(err, rtp.ErrMediaTimeout) {
			m.ended <- err
		}
	}()
}

// update applies a negotiated answer (the first, or a re-INVITE's): where to
// send, and whether we may send and should expect media.
func (m *callMedia) update(ans sdp.Answer) {
	m.sess.SetRemote(ans.Remote)
	m.player.SetMuted(!ans.Direction.Sends() || ans.Hold && !ans.Remote.Addr().IsValid())
	m.sess.SetSuspended(!ans.Direction.Receives() || ans.Hold)
}

// stop ends the media goroutines and waits for them.
func (m *callMedia) stop() {
	m.cancel()
	m.wg.Wait()
	st := m.sess.Stats()
	m.c.a.met.RTPSent.Add(float64(st.Sent.Load()))
	m.c.a.met.RTPRecv.Add(float64(st.Received.Load()))
	m.c.a.met.RTPLost.Add(float64(st.Lost.Load()))
}

// release returns the RTP port.
func (m *callMedia) release() { m.c.a.releaseRTP(m.conn) }

// Audio implements rtp.Handler: one decoded frame of the caller's audio.
func (m *callMedia) Audio(pcm []int16) {
	m.lostFed = 0
	if r := m.tap.Load(); r != nil {
		r.push(pcm) // bridged: the flow does not listen (bridge.go)
		return
	}
	if r := m.rec.Load(); r != nil {
		r.frame(pcm)
	}
	m.line.Frame(pcm)
}

// ComfortNoise implements rtp.Handler.
func (m *callMedia) ComfortNoise(level uint8) {
	m.lostFed = 0
	m.line.ComfortNoise(level)
}

// Silence implements rtp.Handler: the frames that did not arrive since the
// last packet count as lost for the listener (the caller stopped
// sending), so speech cannot hang on forever.
func (m *callMedia) Silence(d time.Duration) {
	n := min(media.Frames(d), flows.MaxGapFrames) - m.lostFed
	r := m.rec.Load()
	for ; n > 0; n-- {
		if r != nil {
			r.frame(nil) // keep the recording in time with the call
		}
		m.line.Lost()
		m.lostFed++
	}
}

// Digit implements rtp.Handler: an RFC 4733 key.
func (m *callMedia) Digit(d rune) { m.line.Digit(d) }

// heard hands an event of the caller's line to the flow, stamped with the
// wall clock.
func (m *callMedia) heard(ev flows.Event) {
	ev.At = time.Now()
	m.emit(ev)
}

// emit hands an event to the flow without ever blocking the media path.
func (m *callMedia) emit(ev flows.Event) {
	select {
	case m.c.events <- ev:
	default:
		m.c.log.Warn("flow event dropped: flow not listening", "event", ev.Kind.String())
	}
}

// Play implements flows.Call.
func (c *call) Play(ctx context.Context, p *prompts.Prompt) error {
	var src media.Source = media.NewClipSource(p.ID, p, false)
	if g := math.Float64frombits(c.m.gainDB.Load()); g != 0 {
		src = media.NewGainSource(media.NewClipSource(p.ID, p, false), g, g711.Encode)
	}
	return c.m.player.Play(ctx, src)
}

// SetGain implements flows.Call.
func (c *call) SetGain(db float64) { c.m.gainDB.Store(math.Float64bits(db)) }

// PlayLoop implements flows.Call: hold music in a loop from frame from,
// until ctx ends; it returns where the music stopped.
func (c *call) PlayLoop(ctx context.Context, p *prompts.Prompt, from int) (int, error) {
	src := media.NewClipSource(p.ID, p, true)
	src.Seek(from)
	err := c.m.player.Play(ctx, src)
	if ctx.Err() != nil {
		err = nil // stopped for an announcement or the end of the hold
	}
	return src.Pos(), err
}
