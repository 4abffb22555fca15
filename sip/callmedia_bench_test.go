package sip

import (
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/sip/sdp"
)

// BenchmarkCallerAudio is the caller's receive path after the RTP decode,
// one 20 ms frame per op: the call's rtp.Handler (VAD, in-band DTMF, the
// line judge, flow events). Speech and silence alternate every second, so
// events flow; it must not allocate.
func BenchmarkCallerAudio(b *testing.B) {
	timeout := flows.Duration(time.Minute)
	c := &call{a: &Agent{met: NewMetrics(nil)}, log: slog.New(slog.DiscardHandler), events: make(chan flows.Event, 32),
		snap: &flows.Bundle{Config: &flows.Config{MediaTimeout: &timeout}}}
	c.m = newCallMedia(c, newFakeRTP(30000), sdp.Answer{Codec: media.CodecPCMU, Ptime: 20 * time.Millisecond}, nil)
	var tone, quiet [media.FrameSamples]int16
	for i := range tone {
		tone[i] = int16(3000 * math.Sin(2*math.Pi*440*float64(i)/media.SampleRate))
	}
	b.ReportAllocs()
	i, events := 0, 0
	for b.Loop() {
		if i/50%2 == 0 {
			c.m.Audio(tone[:])
		} else {
			c.m.Audio(quiet[:])
		}
		i++
		for len(c.events) > 0 {
			<-c.events
			events++
		}
	}
	if events == 0 {
		b.Fatal("no flow events")
	}
}
