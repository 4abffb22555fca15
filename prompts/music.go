package prompts

import (
	"bytes"
	_ "embed" // the default hold music
	"fmt"
	"io"
	"sync"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/resample"
)

// Hold music (CS-HOLD-*): original music made by prompts/gen -music, a
// loop of 128 s.
const (
	// MusicID is the ID of the default hold music's Prompt.
	MusicID = "music.hold"
	// MusicFile is the default hold music's file in this directory.
	MusicFile = "music/hold.mp3"
	// MusicLevel is the loudness of the default hold music in dBFS, as
	// SpeechLevel measures it: a little under speech (TargetLevel).
	MusicLevel = -22.0
)

//go:embed music/hold.mp3
var holdMP3 []byte

var defaultMusic = sync.OnceValues(func() (*Prompt, error) {
	return DecodeMusic(MusicID, MusicFile, bytes.NewReader(holdMP3))
})

// LoadMusic returns the default hold music, decoded once per process. Play
// it in a loop (media.NewClipSource(..., true)): its end joins its start
// without a click.
func LoadMusic() (*Prompt, error) { return defaultMusic() }

// DecodeMusic decodes a recording (MP3 or WAV, as Decode) to be played in a
// loop, as the Prompt id with no language or text. Unlike Decode, it
// treats the recording as circular: the resampler sees the end of the
// recording before its start and the start after its end, so that the join
// stays as smooth as the recording made it. A loop must be a whole number
// of 20 ms frames long; a recording that is not is cut to whole frames
// and its last 20 ms are cross-faded with the audio that was cut, so the
// join does not click.
func DecodeMusic(id, name string, r io.Reader) (*Prompt, error) {
	pcm, err := decodeFile(name, r)
	if err != nil {
		return nil, err
	}
	out, err := resampleLoop(pcm.Mono(), pcm.Rate)
	if err != nil {
		return nil, fmt.Errorf("prompts: decode %s: %w", name, err)
	}
	if len(out) < media.FrameSamples {
		return nil, fmt.Errorf("prompts: decode %s: %w (shorter than one frame)", name, ErrEmpty)
	}
	return NewPrompt(id, "", "", wholeFrames(out)), nil
}

// resampleLoop converts the circular signal x at rate to 8 kHz: x is
// extended at both ends by a whole number of 8 kHz samples' worth of its
// other end, resampled, and the extension cut off again.
func resampleLoop(x []float32, rate int) ([]int16, error) {
	rs, err := resample.New(rate, media.SampleRate)
	if err != nil {
		return nil, err
	}
	// unit input samples make a whole number of output samples.
	unit := rate / gcd(rate, media.SampleRate)
	pad := unit * ((rate/10 + unit - 1) / unit) // about 100 ms, far more than the filter
	if len(x) <= pad {
		return rs.Float(x), nil
	}
	ext := make([]float32, 0, len(x)+2*pad)
	ext = append(ext, x[len(x)-pad:]...)
	ext = append(ext, x...)
	ext = append(ext, x[:pad]...)
	out := rs.Float(ext)
	skip := pad * media.SampleRate / rate
	return out[skip : skip+rs.OutLen(len(x))], nil
}

// wholeFrames cuts a loop to whole 20 ms frames, cross-fading its new end
// into the audio that was cut so that it still leads into the start.
func wholeFrames(x []int16) []int16 {
	const fade = media.FrameSamples
	cut := len(x) % media.FrameSamples
	if cut == 0 {
		return x
	}
	n := len(x) - cut
	out := append([]int16(nil), x[:n]...)
	if n < fade {
		return out
	}
	// Sample n-fade+j fades from x[n-fade+j] to x[len-fade+j], so the last
	// sample is x's last, which the loop's first sample follows.
	for j := range fade {
		w := float64(j+1) / float64(fade)
		a, b := float64(x[n-fade+j]), float64(x[len(x)-fade+j])
		out[n-fade+j] = int16((1-w)*a + w*b)
	}
	return out
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
