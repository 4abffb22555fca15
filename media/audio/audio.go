// Package audio is kefu's one place for audio files and levels: it reads
// RIFF WAV (integer PCM of 8 to 32 bits, float, G.711 μ-law and A-law) and
// MP3 (through go-mp3) to PCM at the file's own rate, writes WAV (16-bit
// PCM or G.711, in one go or streamed with Writer), and measures levels in
// dBFS (RMS, peak, speech level). Resampling to 8 kHz is left to the
// caller (package prompts does it for recordings).
package audio

import (
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"strings"
)

// PCM is decoded audio at its native rate. Samples are interleaved by
// channel and on the int16 scale (full scale ±32768), whatever the bit
// depth of the source. They are float32 so that 24-bit, float and
// downmixed audio reach the resampler unrounded; MonoInt16 gives int16.
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

// MonoInt16 returns the signal downmixed to one channel (as Mono), rounded
// to the nearest integer and clipped to the int16 range. For 16-bit mono
// input it is the file's samples exactly.
func (p *PCM) MonoInt16() []int16 {
	m := p.Mono()
	out := make([]int16, len(m))
	for i, v := range m {
		out[i] = int16(max(-32768, min(32767, math.Round(float64(v)))))
	}
	return out
}

// convertHint is how to fix an MPEG-2.5 file, added to the error.
const convertHint = "re-encode it at 22.05 kHz, e.g. `lame --resample 22.05 in.mp3 out.mp3` " +
	"or `sox in.mp3 -r 22050 out.mp3`, or supply a WAV file"

// Decode decodes a WAV or MP3 recording at its own rate and channels,
// choosing the decoder by the extension of name (.wav or .mp3, in any
// case). An MPEG-2.5 (8 kHz) MP3 is refused with an error that wraps
// ErrMPEG25 and says how to convert the file; an unknown extension wraps
// ErrUnsupported.
func Decode(name string, r io.Reader) (*PCM, error) {
	switch ext := strings.ToLower(path.Ext(name)); ext {
	case ".mp3":
		p, err := DecodeMP3(r)
		if errors.Is(err, ErrMPEG25) {
			err = fmt.Errorf("%w; %s", err, convertHint)
		}
		return p, err
	case ".wav":
		return ReadWAV(r)
	default:
		return nil, fmt.Errorf("%w: file type %q (want .mp3 or .wav)", ErrUnsupported, ext)
	}
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
