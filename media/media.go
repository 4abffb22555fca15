// Package media holds kefu's internal audio model: 8 kHz signed 16-bit PCM
// cut into 20 ms frames, the codecs a call can use, and the paced player that
// turns frames into a steady packet stream. Every size is derived from
// FrameDur, the one frame constant.
package media

import (
	"fmt"
	"time"
)

// SampleRate is the internal (and G.711) sample rate in Hz.
const SampleRate = 8000

// FrameDur is the duration of one audio frame. Every other size is derived
// from it.
const FrameDur = 20 * time.Millisecond

// FrameSamples is the number of samples in one frame (160 at 8 kHz, 20 ms).
const FrameSamples = int(SampleRate * FrameDur / time.Second)

// FrameBytes is the size of one G.711 payload: one byte per sample.
const FrameBytes = FrameSamples

// TimestampStep is the RTP timestamp increment per frame (8 kHz clock).
const TimestampStep = uint32(FrameSamples)

// Frame is one 20 ms frame of 8 kHz signed 16-bit PCM.
type Frame [FrameSamples]int16

// Codec identifies an audio payload format kefu can send and receive.
type Codec uint8

// The codecs kefu speaks. The zero value is no codec.
const (
	CodecNone Codec = iota
	CodecPCMU       // G.711 μ-law, static payload type 0
	CodecPCMA       // G.711 A-law, static payload type 8
)

// String returns the SDP encoding name of the codec.
func (c Codec) String() string {
	switch c {
	case CodecPCMU:
		return "PCMU"
	case CodecPCMA:
		return "PCMA"
	default:
		return fmt.Sprintf("codec(%d)", uint8(c))
	}
}

// PayloadType returns the static RTP payload type of the codec.
func (c Codec) PayloadType() uint8 {
	if c == CodecPCMA {
		return 8
	}
	return 0
}

// Frames returns the number of whole or partial frames needed for d.
func Frames(d time.Duration) int {
	return int((d + FrameDur - 1) / FrameDur)
}
