package softphone

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/audio"
	"github.com/kefu-hotline/kefu/media/g711"
	pionrtp "github.com/pion/rtp"
)

func TestPlacer(t *testing.T) {
	var p placer
	steps := []struct {
		name    string
		ssrc    uint32
		ts      uint32
		arrival int64
		want    int64
	}{
		{"first packet anchors at its arrival", 1, 4294967000, 8000, 8000},
		{"late arrival, placed by timestamp", 1, 4294967160, 8400, 8160},
		{"timestamp wraps", 1, 24, 8250, 8320},
		{"reordered packet", 1, 4294967240, 8330, 8240},
		{"gap in sending, clock went on", 1, 39704, 48100, 48000},
		{"new SSRC re-anchors", 2, 77, 48200, 48200},
		{"timestamp jump re-anchors", 2, 77 + 10*8000, 48400, 48400},
	}
	for _, s := range steps {
		if got := p.place(s.ssrc, s.ts, s.arrival); got != s.want {
			t.Errorf("%s: place = %d, want %d", s.name, got, s.want)
		}
	}
}

// collect is an assembler sink that copies what it is handed.
type collect struct {
	pos []int64
	pcm []int16
}

func (c *collect) emit(pos int64, pcm []int16) {
	c.pos = append(c.pos, pos)
	c.pcm = append(c.pcm, pcm...)
}

func frameOf(v int16) []int16 {
	f := make([]int16, media.FrameSamples)
	for i := range f {
		f[i] = v
	}
	return f
}

func TestAssembler(t *testing.T) {
	var c collect
	a := assembler{hold: 2 * media.FrameSamples, emit: c.emit}
	const F = int64(media.FrameSamples)
	a.write(1000, frameOf(1))
	a.write(1000+2*F, frameOf(3))            // frame 2 before frame 1: reordered
	if !slices.Equal(c.pos, []int64{1000}) { // frame 1 may still come
		t.Fatalf("handed on %v, want only the frame older than the hold", c.pos)
	}
	a.write(1000+F, frameOf(2))
	a.write(1000+4*F, frameOf(5)) // frame 3 lost
	if !slices.Equal(c.pos, []int64{1000, 1000 + F, 1000 + 2*F}) {
		t.Fatalf("positions %v", c.pos)
	}
	a.write(1000, frameOf(9)) // far too late: dropped
	if a.late != 1 {
		t.Errorf("late = %d, want 1", a.late)
	}
	a.write(1000+5*F, frameOf(6)[:80]) // a short payload
	a.flush()
	want := slices.Concat(frameOf(1), frameOf(2), frameOf(3), frameOf(0), frameOf(5), frameOf(6)[:80])
	if !slices.Equal(c.pcm, want) {
		t.Errorf("assembled audio differs: got %d samples, want %d", len(c.pcm), len(want))
	}
	if a.pending() {
		t.Errorf("pending after flush")
	}
	a.write(1000+8*F, frameOf(7)) // after a stall: the gap is silence
	a.flush()
	want = slices.Concat(want, make([]int16, 3*F-F/2), frameOf(7))
	if !slices.Equal(c.pcm, want) {
		t.Errorf("after a stall: got %d samples, want %d", len(c.pcm), len(want))
	}
}

func TestSeqCounter(t *testing.T) {
	var c seqCounter
	for _, s := range []uint16{65533, 65534, 0, 1, 3, 2, 6} { // 65535, 4 and 5 lost
		c.observe(s)
	}
	if c.received != 7 || c.lost() != 3 {
		t.Errorf("received %d lost %d, want 7 and 3", c.received, c.lost())
	}
}

// TestReceiverJitter feeds the receive path packets whose arrival times
// jitter by up to ±15 ms, with one loss and one reordering, and checks
// that the stretches it reports sit exactly where the RTP timestamps put
// them, and that the recording is exact.
func TestReceiverJitter(t *testing.T) {
	var events []Event
	rec, err := os.Create(filepath.Join(t.TempDir(), "rec.wav"))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	wav, err := audio.NewWriter(rec, audio.Format{Rate: media.SampleRate, Channels: 1})
	if err != nil {
		t.Fatal(err)
	}
	r := newReceiver(nil, nil, func(e Event) { events = append(events, e) }, wav, DetectorConfig{})

	audio := concat(sine(time.Second, 10000), quiet(5*time.Second), sine(2*time.Second, 10000), quiet(time.Second))
	type pkt struct {
		seq     uint16
		arrival time.Duration
		payload []byte
	}
	var pkts []pkt
	start := 700 * ms // the first packet arrives 700 ms after the INVITE
	jitter := []time.Duration{0, 15 * ms, -5 * ms, 7 * ms, -15 * ms, 3 * ms}
	for i := 0; i*media.FrameSamples < len(audio); i++ {
		payload := make([]byte, media.FrameBytes)
		g711.EncodeUlaw(payload, audio[i*media.FrameSamples:(i+1)*media.FrameSamples])
		at := start + time.Duration(i)*media.FrameDur
		if i > 0 {
			at += jitter[i%len(jitter)]
		}
		pkts = append(pkts, pkt{uint16(60000 + i), at, payload})
	}
	pkts = slices.Delete(pkts, 100, 101)        // lost, in the silence
	pkts[300], pkts[301] = pkts[301], pkts[300] // reordered, in the second tone
	for _, p := range pkts {
		r.packet(&pionrtp.Packet{
			Header:  pionrtp.Header{Version: 2, PayloadType: 0, SequenceNumber: p.seq, Timestamp: 123456 + uint32(p.seq-60000)*160, SSRC: 42},
			Payload: p.payload,
		}, p.arrival)
	}
	if err := r.finish(); err != nil {
		t.Fatal(err)
	}

	var kinds []Kind
	for _, e := range events {
		kinds = append(kinds, e.Kind)
	}
	wantKinds := []Kind{EvRTPStart, EvAudioStart, EvAudioEnd, EvAudioStart, EvAudioEnd, EvRTPStop}
	if !slices.Equal(kinds, wantKinds) {
		t.Fatalf("events %v, want %v", kinds, wantKinds)
	}
	want := []Stretch{{Start: start, End: start + time.Second}, {Start: start + 6*time.Second, End: start + 8*time.Second}}
	if len(r.stretches) != 2 {
		t.Fatalf("stretches %+v", r.stretches)
	}
	for i, s := range r.stretches {
		if s.Start != want[i].Start || s.End != want[i].End {
			t.Errorf("stretch %d = [%v, %v], want [%v, %v]", i, s.Start, s.End, want[i].Start, want[i].End)
		}
	}
	if r.seq.lost() != 1 || r.seq.received != uint64(len(pkts)) {
		t.Errorf("lost %d received %d", r.seq.lost(), r.seq.received)
	}
	if got, want := wav.Samples(), len(audio); got != want {
		t.Errorf("recording has %d samples, want %d (the lost packet as silence)", got, want)
	}
}
