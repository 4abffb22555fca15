package softphone

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/audio"
	"github.com/kefu-hotline/kefu/media/g711"
	"github.com/kefu-hotline/kefu/sip/sdp"
)

// Playback says what a call sends once it is answered; kefu dial and
// kefu agent share it.
type Playback struct {
	// Send, Clip, ClipName and PlayAt say what is sent (see SendMode).
	Send     SendMode
	Clip     media.Clip
	ClipName string
	PlayAt   time.Duration
	// Keys are pressed at their times after the answer.
	Keys []KeyPress
}

func (p Playback) validate() error {
	switch {
	case p.Send > SendClip:
		return fmt.Errorf("softphone: send mode %v", p.Send)
	case p.Send == SendClip && (p.Clip == nil || p.Clip.Frames() == 0):
		return errors.New("softphone: send mode clip without audio")
	case p.PlayAt < 0:
		return errors.New("softphone: durations must not be negative")
	}
	return nil
}

// validateMedia checks what a call sends and how it hears.
func validateMedia(p Playback, det DetectorConfig) error {
	if err := p.validate(); err != nil {
		return err
	}
	return det.Validate()
}

// leg is the media side of one call, shared by kefu dial and kefu agent:
// the RTP socket, the receiver that times and records what arrives (from
// the start, so early media is heard), and once the call is answered the
// paced player that sends. close stops it all and reports.
type leg struct {
	conn    *net.UDPConn
	since   func() time.Duration
	emit    func(Event)
	recv    *receiver
	recvErr chan error
	ctx     context.Context // the media's lifetime
	stop    context.CancelFunc
	wg      sync.WaitGroup

	send   *sender // nil while nothing is sent
	player *media.Player
}

// legStats is what a leg reports when it is closed.
type legStats struct {
	Packets, Lost, Sent uint64
	Stretches           []Stretch
}

// openLeg binds an RTP socket on bind and starts receiving; record, if set,
// gets the audio heard as an 8 kHz mono WAV.
func openLeg(ctx context.Context, bind netip.Addr, since func() time.Duration, emit func(Event), record io.WriteSeeker, det DetectorConfig) (*leg, error) {
	var wav *audio.Writer
	if record != nil {
		var err error
		if wav, err = audio.NewWriter(record, audio.Format{Rate: media.SampleRate, Channels: 1}); err != nil {
			return nil, fmt.Errorf("softphone: record: %w", err)
		}
	}
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(bind, 0)))
	if err != nil {
		return nil, fmt.Errorf("softphone: RTP socket: %w", err)
	}
	l := &leg{conn: conn, since: since, emit: emit, recvErr: make(chan error, 1)}
	l.ctx, l.stop = context.WithCancel(context.WithoutCancel(ctx))
	l.recv = newReceiver(conn, since, emit, wav, det)
	l.wg.Go(func() { l.recvErr <- l.recv.run(l.ctx) })
	return l, nil
}

// port is the local RTP port, for the SDP.
func (l *leg) port() int { return l.conn.LocalAddr().(*net.UDPAddr).Port }

// failed delivers the receiver's error if it stopped on one.
func (l *leg) failed() <-chan error { return l.recvErr }

// startSending starts the paced player (and the clip, and the keys) for the
// negotiated stream, unless p sends nothing or the stream does not send.
// press sends each key; nil presses them as telephone events on the stream.
func (l *leg) startSending(ans sdp.Answer, p Playback, answered time.Duration, press keyFunc) {
	if p.Send != SendNone {
		l.send = newSender(l.conn, ans.Remote, ans.PT, ans.DTMFPT, rand.Uint32())
		l.player = media.NewPlayer(l.send, ans.Codec, g711.Silence(ans.Codec))
		l.player.SetMuted(!ans.Direction.Sends())
		l.wg.Go(func() { _ = l.player.Run(l.ctx) })
		if p.Send == SendClip {
			l.wg.Go(func() { l.playClip(p) })
		}
	}
	if len(p.Keys) > 0 {
		if press == nil {
			press = l.pressEvent
		}
		l.wg.Go(func() { l.pressKeys(p.Keys, answered, press) })
	}
}

// redirect follows a new SDP answer of the same call (a re-INVITE): the
// address, and whether we may send.
func (l *leg) redirect(ans sdp.Answer) {
	if l.send == nil {
		return
	}
	l.send.setRemote(ans.Remote)
	l.player.SetMuted(!ans.Direction.Sends())
}

// playClip sends the clip PlayAt after the answer, once.
func (l *leg) playClip(p Playback) {
	t := time.NewTimer(p.PlayAt)
	defer t.Stop()
	select {
	case <-l.ctx.Done():
		return
	case <-t.C:
	}
	l.emit(Event{T: l.since(), Kind: EvPlayStart, File: p.ClipName})
	if err := l.player.Play(l.ctx, media.NewClipSource(p.ClipName, p.Clip, false)); err == nil {
		l.emit(Event{T: l.since(), Kind: EvPlayEnd})
	}
}

// close stops the media, waits for its goroutines, flushes what the
// receiver held and returns the counts; the error is the recording's.
func (l *leg) close() (legStats, error) {
	l.stop()
	l.wg.Wait()
	err := l.recv.finish()
	_ = l.conn.Close()
	st := legStats{Packets: l.recv.seq.received, Lost: l.recv.seq.lost(), Stretches: l.recv.stretches}
	if l.send != nil {
		st.Sent = l.send.sent.Load()
	}
	if err != nil {
		err = fmt.Errorf("softphone: recording: %w", err)
	}
	return st, err
}
