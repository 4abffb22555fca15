// Package prompts holds kefu's recorded prompts: a catalog per language
// that maps a prompt ID to its text and recording. Recordings (MP3 or WAV,
// any common rate, mono or stereo) are decoded, downmixed, resampled to
// 8 kHz and encoded to PCMU and PCMA once, at load; every call then shares
// the same read-only frames, so sending a prompt allocates nothing.
//
// The default sets (zh-CN and en) are embedded in the binary; ops can load
// their own from a directory laid out the same way. See README.md for how
// the default recordings are made.
package prompts

import (
	"time"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/g711"
)

// Prompt is one recorded prompt, ready to send. Its audio is immutable and
// shared: the slices returned by PCM and Payload must not be modified.
type Prompt struct {
	// ID names the prompt in flows, e.g. "greet.morning".
	ID string
	// Lang is the language of the set the prompt belongs to, e.g. "zh-CN".
	Lang string
	// Text is what the recording says.
	Text string

	pcm  []int16 // 8 kHz, Frames()*media.FrameSamples long, zero-padded
	pcmu []byte
	pcma []byte
}

// NewPrompt builds a prompt from 8 kHz mono PCM. The audio is copied,
// zero-padded to a whole number of 20 ms frames and encoded to PCMU and
// PCMA once.
func NewPrompt(id, lang, text string, pcm8k []int16) *Prompt {
	n := (len(pcm8k) + media.FrameSamples - 1) / media.FrameSamples
	p := &Prompt{
		ID:   id,
		Lang: lang,
		Text: text,
		pcm:  make([]int16, n*media.FrameSamples),
		pcmu: make([]byte, n*media.FrameBytes),
		pcma: make([]byte, n*media.FrameBytes),
	}
	copy(p.pcm, pcm8k)
	g711.EncodeUlaw(p.pcmu, p.pcm)
	g711.EncodeAlaw(p.pcma, p.pcm)
	return p
}

// Frames returns the number of 20 ms frames in the prompt.
func (p *Prompt) Frames() int { return len(p.pcm) / media.FrameSamples }

// Duration returns the playing time of the prompt, Frames()*media.FrameDur.
func (p *Prompt) Duration() time.Duration {
	return time.Duration(p.Frames()) * media.FrameDur
}

// Payload returns the media.FrameBytes-byte G.711 payload of frame i in
// codec c, or nil for a codec other than PCMU and PCMA. The slice is
// shared and read-only (its capacity ends with the frame, so appending to
// it copies); no allocation happens. Payload panics if i is not in
// [0, Frames()).
func (p *Prompt) Payload(c media.Codec, i int) []byte {
	var b []byte
	switch c {
	case media.CodecPCMU:
		b = p.pcmu
	case media.CodecPCMA:
		b = p.pcma
	default:
		return nil
	}
	lo, hi := i*media.FrameBytes, (i+1)*media.FrameBytes
	return b[lo:hi:hi]
}

// PCM returns the media.FrameSamples samples of frame i. The slice is
// shared and read-only. PCM panics if i is not in [0, Frames()).
func (p *Prompt) PCM(i int) []int16 {
	lo, hi := i*media.FrameSamples, (i+1)*media.FrameSamples
	return p.pcm[lo:hi:hi]
}

// String returns "lang/id", e.g. "zh-CN/greet.morning", or the ID alone
// for a prompt without a language (hold music: "music.hold").
func (p *Prompt) String() string {
	if p.Lang == "" {
		return p.ID
	}
	return p.Lang + "/" + p.ID
}
