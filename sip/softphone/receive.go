package softphone

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/audio"
	"github.com/kefu-hotline/kefu/media/g711"
	pionrtp "github.com/pion/rtp"
)

// Receive-path timing. Audio is handed to the detector and the recording
// reorderHold after it arrived; a stream silent for stallAfter is reported
// stopped.
const (
	reorderHold = 5 * media.FrameDur
	flushAfter  = reorderHold + 3*media.FrameDur
	stallAfter  = time.Second
	pollEvery   = 50 * time.Millisecond
)

// receiver reads the call's RTP and turns it into timeline events, the
// stretches heard and the recording. run owns all of its state; finish is
// called after run has returned.
type receiver struct {
	conn  net.PacketConn
	since func() time.Duration // time since the INVITE
	emit  func(Event)
	wav   *audio.Writer // nil: no recording
	det   *Detector

	asm       assembler
	place     placer
	seq       seqCounter
	pcm       []int16
	streaming bool
	last      time.Duration // arrival of the newest packet
	wavErr    error
	stretches []Stretch
}

func newReceiver(conn net.PacketConn, since func() time.Duration, emit func(Event), wav *audio.Writer, det DetectorConfig) *receiver {
	r := &receiver{conn: conn, since: since, emit: emit, wav: wav, det: NewDetector(det)}
	r.asm = assembler{hold: media.FrameSamples * int(reorderHold/media.FrameDur), emit: r.frame}
	return r
}

// run reads packets until ctx ends or the socket fails.
func (r *receiver) run(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { _ = r.conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	buf := make([]byte, 2048)
	var pkt pionrtp.Packet
	for ctx.Err() == nil {
		_ = r.conn.SetReadDeadline(time.Now().Add(pollEvery))
		n, _, err := r.conn.ReadFrom(buf)
		now := r.since()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				r.idle(now)
				continue
			}
			return fmt.Errorf("softphone: read RTP: %w", err)
		}
		if pkt.Unmarshal(buf[:n]) != nil || pkt.Version != 2 {
			continue // not RTP (RTCP, STUN, garbage)
		}
		r.packet(&pkt, now)
	}
	return nil
}

// packet handles one RTP packet that arrived at now.
func (r *receiver) packet(pkt *pionrtp.Packet, now time.Duration) {
	if !r.streaming {
		r.streaming = true
		r.emit(Event{T: now, Kind: EvRTPStart})
	}
	r.last = now
	r.seq.observe(pkt.SequenceNumber)
	codec, ok := r.audioCodec(pkt.PayloadType)
	if !ok {
		return // comfort noise, telephone-event, unknown: no audio here
	}
	if cap(r.pcm) < len(pkt.Payload) {
		r.pcm = make([]int16, len(pkt.Payload))
	}
	pcm := r.pcm[:len(pkt.Payload)]
	_ = g711.Decode(codec, pcm, pkt.Payload)
	r.asm.write(r.place.place(pkt.SSRC, pkt.Timestamp, samplesAt(now)), pcm)
}

// audioCodec maps a payload type to the G.711 codec it carries. The offer
// binds PCMU and PCMA to their static types, and the answer must keep them
// (RFC 3264 section 6.1), so no dynamic mapping is needed; this also lets
// the receiver run before the answer, for early media.
func (r *receiver) audioCodec(pt uint8) (media.Codec, bool) {
	switch pt {
	case 0:
		return media.CodecPCMU, true
	case 8:
		return media.CodecPCMA, true
	}
	return media.CodecNone, false
}

// idle runs when no packet came for pollEvery: it hands on held audio once
// nothing older can arrive, and reports a stalled stream.
func (r *receiver) idle(now time.Duration) {
	if r.asm.pending() && now-r.last >= flushAfter {
		r.asm.flush()
	}
	if r.streaming && now-r.last >= stallAfter {
		r.streaming = false
		r.endStretch()
		r.emit(Event{T: r.last, Kind: EvRTPStop})
	}
}

// frame receives the assembled audio in order.
func (r *receiver) frame(pos int64, pcm []int16) {
	if r.wav != nil && r.wavErr == nil {
		r.wavErr = r.wav.Write(pcm)
	}
	if e, ok := r.det.Push(timeAt(pos), pcm); ok {
		r.edge(e)
	}
}

func (r *receiver) endStretch() {
	if e, ok := r.det.Flush(); ok {
		r.edge(e)
	}
}

func (r *receiver) edge(e Edge) {
	s := e.Stretch
	if e.Start {
		r.emit(Event{T: s.Start, Kind: EvAudioStart, LevelDB: s.LevelDB})
		return
	}
	r.stretches = append(r.stretches, s)
	r.emit(Event{T: s.End, Kind: EvAudioEnd, LevelDB: s.LevelDB, Dur: s.Duration()})
}

// finish hands on what is still held and closes the open stretch and
// stream. It returns the recording's error, if any.
func (r *receiver) finish() error {
	r.asm.flush()
	r.endStretch()
	if r.streaming {
		r.streaming = false
		r.emit(Event{T: r.last, Kind: EvRTPStop})
	}
	if r.wav != nil {
		r.wavErr = errors.Join(r.wavErr, r.wav.Close())
	}
	return r.wavErr
}
