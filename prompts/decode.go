package prompts

import (
	"errors"
	"fmt"
	"io"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/audio"
	"github.com/kefu-hotline/kefu/media/resample"
)

// Errors wrapped by Decode and the catalog loaders; test with errors.Is.
var (
	// ErrFormat reports a file that is not valid WAV or MP3 data.
	ErrFormat = audio.ErrFormat
	// ErrUnsupported reports a file kefu cannot read: an unknown extension
	// or an encoding (bit depth, layer, channel count) outside what is
	// supported.
	ErrUnsupported = audio.ErrUnsupported
	// ErrEmpty reports a recording without audio samples.
	ErrEmpty = audio.ErrEmpty
	// ErrMPEG25 reports an 8, 11.025 or 12 kHz (MPEG-2.5) MP3, which the
	// MP3 decoder refuses. The error text says how to convert the file.
	ErrMPEG25 = audio.ErrMPEG25
	// ErrMissing reports a prompt line without a recording.
	ErrMissing = errors.New("recording missing")
)

// Decode reads a recording and returns it as 8 kHz mono PCM. The format is
// chosen by the extension of name (case-insensitive):
//
//   - .mp3: MPEG-1/2 layer III (go-mp3), 16 to 48 kHz, mono or stereo. LAME
//     gapless information is honoured. 8 kHz MP3s are MPEG-2.5, which the
//     decoder refuses: the error says how to convert them.
//   - .wav: RIFF WAV, integer PCM of 8/16/24/32 bits, 32-bit float or 8-bit
//     G.711 μ-law/A-law, any rate, 1 to 8 channels; unknown chunks are
//     skipped.
//
// Channels are averaged to mono, then the signal is resampled to 8 kHz
// through a windowed-sinc low-pass a little below 4 kHz. Errors name the
// file and wrap ErrFormat, ErrUnsupported, ErrEmpty or ErrMPEG25.
func Decode(name string, r io.Reader) ([]int16, error) {
	pcm, err := decodeFile(name, r)
	if err != nil {
		return nil, err
	}
	rs, err := resample.New(pcm.Rate, media.SampleRate)
	if err != nil {
		return nil, fmt.Errorf("prompts: decode %s: %w", name, err)
	}
	out := rs.Float(pcm.Mono())
	if len(out) == 0 {
		return nil, fmt.Errorf("prompts: decode %s: %w", name, ErrEmpty)
	}
	return out, nil
}

// decodeFile decodes an MP3 or WAV recording at its own rate and channels,
// choosing the decoder by the file name's extension.
func decodeFile(name string, r io.Reader) (*audio.PCM, error) {
	pcm, err := audio.Decode(name, r)
	if err != nil {
		return nil, fmt.Errorf("prompts: decode %s: %w", name, err)
	}
	return pcm, nil
}
