// Package audio reads and writes the audio files kefu's prompt sets are
// made of: RIFF WAV (read and write) and MP3 (read, through go-mp3). It
// stops at interleaved PCM at the file's own rate; downmixing and
// resampling to 8 kHz are left to the caller.
package audio

import (
	"errors"
	"fmt"
)

// PCM is decoded audio at its native rate. Samples are interleaved by
// channel and on the int16 scale (full scale ±32768), whatever the bit
// depth of the source.
type PCM struct {
	Rate     int
	Channels int
	Samples  []float32
}

// Frames returns the number of sample frames (samples per channel).
func (p *PCM) Frames() int {
	if p.Channels <= 0 {
		return 0
	}
	return len(p.Samples) / p.Channels
}

// Mono returns the signal downmixed to one channel by averaging the
// channels. For mono input it returns Samples itself.
func (p *PCM) Mono() []float32 {
	if p.Channels == 1 {
		return p.Samples
	}
	out := make([]float32, p.Frames())
	scale := 1 / float32(p.Channels)
	for i := range out {
		var sum float32
		for _, s := range p.Samples[i*p.Channels : (i+1)*p.Channels] {
			sum += s
		}
		out[i] = sum * scale
	}
	return out
}

// ErrMPEG25 reports an MPEG-2.5 MP3 (sample rate 8000, 11025 or 12000 Hz),
// which go-mp3 cannot decode.
var ErrMPEG25 = errors.New("MPEG-2.5 MP3 (8, 11.025 or 12 kHz) is not supported")

// Format errors returned (wrapped) by the readers.
var (
	// ErrFormat reports a file that is not valid WAV or MP3 data.
	ErrFormat = errors.New("invalid audio data")
	// ErrUnsupported reports a valid file in an encoding kefu does not read.
	ErrUnsupported = errors.New("unsupported audio encoding")
	// ErrEmpty reports a file that holds no audio samples.
	ErrEmpty = errors.New("no audio samples")
)

func formatErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrFormat}, args...)...)
}
