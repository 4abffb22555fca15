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
	"github.com/kefu-hotline/kefu/media/dtmf"
	"github.com/kefu-hotline/kefu/media/g711"
	"github.com/kefu-hotline/kefu/media/rtp"
	"github.com/kefu-hotline/kefu/media/vad"
	"github.com/kefu-hotline/kefu/prompts"
	"github.com/kefu-hotline/kefu/sip/sdp"
)

// errMediaTimeout is how the receive loop reports a silent RTP port.
var errMediaTimeout = rtp.ErrMediaTimeout

// callMedia is a call's audio: the RTP session on its own port, the paced
// player that sends prompts and silence, and the detector that listens to
// the caller. Wired as: Player -> RTP out; RTP in -> G.711 decode -> VAD ->
// flow events.
type callMedia struct {
	c        *call
	conn     net.PacketConn
	sess     *rtp.Session
	player   *media.Player
	det      *vad.Detector
	localSDP []byte
	ended    chan error
	gainDB   atomic.Uint64            // CS-LOUDER gain in dB, float64 bits
	lostFed  int                      // Lost frames fed to the detector in the current gap
	rec      atomic.Pointer[recorder] // the caller's audio is being recorded
	tap      atomic.Pointer[relay]    // bridged: the caller's audio goes to the other leg

	// receive goroutine only
	judge  flows.LineJudge
	inband *dtmf.Detector // in-band keys, when no telephone-event was negotiated

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
	det, err := vad.New(vad.DefaultOptions())
	if err != nil {
		panic(err) // the defaults are valid; a test guards it
	}
	m.det = det
	if ans.DTMFPT == 0 {
		if m.inband, err = dtmf.New(dtmf.DefaultOptions()); err != nil {
			panic(err) // the defaults are valid; a test guards it
		}
	}
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
	m.classify(m.det.Frame(pcm))
	if m.inband != nil {
		if key, ok := m.inband.Frame(pcm); ok {
			m.digit(key)
		}
	}
}

// ComfortNoise implements rtp.Handler.
func (m *callMedia) ComfortNoise(level uint8) {
	m.lostFed = 0
	m.classify(m.det.ComfortNoise(level))
}

// Silence implements rtp.Handler: the frames that did not arrive since the
// last packet count as silence for the detector (the caller stopped
// sending), so speech cannot hang on forever.
func (m *callMedia) Silence(d time.Duration) {
	n := min(media.Frames(d), 50) - m.lostFed
	r := m.rec.Load()
	for ; n > 0; n-- {
		if r != nil {
			r.frame(nil) // keep the recording in time with the call
		}
		m.classify(m.det.Lost())
		m.lostFed++
	}
}

// Digit implements rtp.Handler.
func (m *callMedia) Digit(d rune) { m.digit(d) }

func (m *callMedia) digit(d rune) {
	m.emit(flows.Event{Kind: flows.Digit, At: time.Now(), Key: d})
}

// classify turns the detector's verdicts into flow events (flows.LineJudge:
// speech, weak or normal, judged 200 ms into the segment; its end; noise).
func (m *callMedia) classify(r vad.Result) {
	m.judge.Frame(r, func(ev flows.Event) {
		ev.At = time.Now()
		m.emit(ev)
	})
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
