package sip

import (
	"context"
	"math"
	"net"
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

// callMedia is the caller's audio: a mediaLeg (the RTP session on the
// call's port, and the paced player that sends prompts and silence) whose
// receive loop feeds the caller's line listener. Wired as: Player -> RTP
// out; RTP in -> G.711 decode -> flows.LineListener (VAD -> in-band DTMF
// -> LineJudge) -> flow events; while recording, the decoded audio also
// goes to the recorder, and while bridged, to the other leg instead.
type callMedia struct {
	c        *call
	audio    *mediaLeg      // nil until the answer is known (a late offer's comes in the ACK)
	conn     net.PacketConn // the call's RTP socket; audio owns it once connected
	localSDP []byte
	ended    <-chan error             // the caller's RTP timed out (the leg's ended)
	gainDB   atomic.Uint64            // CS-LOUDER gain in dB, float64 bits
	rec      atomic.Pointer[recorder] // the caller's audio is being recorded
	tap      atomic.Pointer[relay]    // bridged: the caller's audio goes to the other leg
	held     atomic.Bool              // the caller's side holds the call: what it sends (its music) is no caller

	// receive goroutine only (line.Digit excepted); set with audio
	line    *flows.LineListener
	lostFed int // Lost frames fed to the listener in the current gap
}

func newCallMedia(c *call, conn net.PacketConn, ans sdp.Answer, localSDP []byte) *callMedia {
	m := newPendingMedia(c, conn, localSDP)
	m.connect(ans)
	return m
}

// newPendingMedia is the media of a call whose answer is not known yet
// (lateoffer.go): the port is taken, nothing runs until connect.
func newPendingMedia(c *call, conn net.PacketConn, localSDP []byte) *callMedia {
	return &callMedia{c: c, conn: conn, localSDP: localSDP}
}

// connect sets up the audio for the negotiated answer (owner goroutine,
// before start).
func (m *callMedia) connect(ans sdp.Answer) {
	m.audio = m.c.a.newMediaLeg(m.conn, ans, m.c.snap.Config.MediaTimeout.D(), m.c.log)
	m.ended = m.audio.ended
	line, err := flows.NewLineListener(flows.LineOptions{InBand: ans.DTMFPT == 0}, m.heard)
	if err != nil {
		panic(err) // the default detectors are valid; flows' tests guard it
	}
	m.line = line
}

// connected reports whether the audio is set up (the answer is known).
func (m *callMedia) connected() bool { return m.audio != nil }

// start runs the player and the receive loop.
func (m *callMedia) start() { m.audio.start(m) }

// update applies a negotiated answer (a re-INVITE's). When the caller's
// side puts the call on hold, or takes it off, the flow hears of it (its
// waits stand still meanwhile), and the caller's audio (a PBX's hold music)
// is not listened to.
func (m *callMedia) update(ans sdp.Answer) {
	m.audio.update(ans)
	held := ans.Hold || !ans.Direction.Sends()
	if m.held.Swap(held) == held {
		return
	}
	kind := flows.Resumed
	if held {
		kind = flows.Held
	}
	m.emit(flows.Event{Kind: kind, At: time.Now()})
}

// stop ends the media goroutines and waits for them.
func (m *callMedia) stop() {
	if m.audio != nil {
		m.audio.stop()
	}
}

// release returns the RTP port.
func (m *callMedia) release() {
	if m.audio == nil {
		m.c.a.releaseRTP(m.conn) // the answer never came
		return
	}
	m.audio.release()
}

// Audio implements rtp.Handler: one decoded frame of the caller's audio.
func (m *callMedia) Audio(pcm []int16) {
	m.lostFed = 0
	if r := m.tap.Load(); r != nil {
		r.push(pcm) // bridged: the flow does not listen (bridge.go)
		return
	}
	if m.held.Load() {
		return // the caller's side holds the call: its music is no caller
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
	m.c.live.heard(ev.Kind)
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

// Play implements flows.Call; the flow stops a prompt by cancelling ctx,
// so the options are not needed here.
func (c *call) Play(ctx context.Context, p *prompts.Prompt, _ flows.PlayOptions) error {
	var src media.Source = media.NewClipSource(p.ID, p, false)
	if g := math.Float64frombits(c.m.gainDB.Load()); g != 0 {
		src = media.NewGainSource(media.NewClipSource(p.ID, p, false), g, g711.Encode)
	}
	return c.m.audio.player.Play(ctx, src)
}

// SetGain implements flows.Call.
func (c *call) SetGain(db float64) { c.m.gainDB.Store(math.Float64bits(db)) }

// StartLoop implements flows.Call: hold music in a loop from frame from
// until stop (or the call's end); stop returns where the music stopped.
func (c *call) StartLoop(p *prompts.Prompt, from int) (stop func() int) {
	src := media.NewClipSource(p.ID, p, true)
	src.Seek(from)
	ctx, cancel := context.WithCancel(c.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.m.audio.player.Play(ctx, src)
	}()
	return func() int {
		cancel()
		<-done
		return src.Pos()
	}
}
