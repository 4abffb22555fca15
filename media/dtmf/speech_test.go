package dtmf

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/audio"
	"github.com/kefu-hotline/kefu/prompts"
)

// No false keys: the detector must stay quiet on speech, in every condition
// of testdata/audio and in every embedded prompt, at the level they come in
// and louder, through G.711.

// readWAV8k reads an 8 kHz mono WAV file as testdata/audio/make.sh
// writes them.
func readWAV8k(path string) ([]int16, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := audio.ReadWAV(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if p.Rate != media.SampleRate || p.Channels != 1 {
		return nil, fmt.Errorf("%s: %d Hz, %d channels; want 8000 Hz mono", path, p.Rate, p.Channels)
	}
	return p.MonoInt16(), nil
}

// gain returns pcm scaled by db, clipped.
func gain(pcm []int16, db float64) []int16 {
	g := math.Pow(10, db/20)
	out := make([]int16, len(pcm))
	for i, v := range pcm {
		out[i] = int16(max(-32768, min(32767, math.Round(float64(v)*g))))
	}
	return out
}

// TestNoKeysInFixtures: every file of testdata/audio (speech at four
// levels, speech in noise, noise, hiss, silence), as it is and 10 dB
// louder.
func TestNoKeysInFixtures(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "audio")
	files, err := filepath.Glob(filepath.Join(dir, "*.wav"))
	if err != nil || len(files) < 40 {
		t.Fatalf("fixtures: %d files, %v (run testdata/audio/make.sh)", len(files), err)
	}
	secs := 0.0
	for _, f := range files {
		pcm, err := readWAV8k(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range []float64{0, 10} {
			if got := detect(t, DefaultOptions(), viaCodec(media.CodecPCMU, gain(pcm, g)), fs); got != "" {
				t.Errorf("%s %+v dB: keys %q", filepath.Base(f), g, got)
			}
			secs += float64(len(pcm)) / media.SampleRate
		}
	}
	t.Logf("%d files, %.0f s of audio: no keys", len(files), secs)
}

// TestNoKeysInPrompts: every embedded prompt (zh-CN and en), at their
// level (-18 dBFS speech) and 6 dB louder, through μ-law and A-law.
func TestNoKeysInPrompts(t *testing.T) {
	var clips []*prompts.Prompt
	for _, lang := range prompts.EmbeddedLangs() {
		c, err := prompts.LoadEmbedded(lang)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range c.IDs() {
			p, _ := c.Get(id)
			clips = append(clips, p)
		}
	}
	secs := 0.0
	var bad []string
	for _, p := range clips {
		var pcm []int16
		for f := range p.Frames() {
			pcm = append(pcm, p.PCM(f)...)
		}
		for _, codec := range []media.Codec{media.CodecPCMU, media.CodecPCMA} {
			for _, g := range []float64{0, 6} {
				if got := detect(t, DefaultOptions(), viaCodec(codec, gain(pcm, g)), fs); got != "" {
					bad = append(bad, fmt.Sprintf("%s %v %+v dB: %q", p, codec, g, got))
				}
				secs += float64(len(pcm)) / media.SampleRate
			}
		}
	}
	t.Logf("%d clips, %.0f s of audio", len(clips), secs)
	if len(bad) > 0 {
		t.Errorf("keys in prompts:\n%s", strings.Join(bad, "\n"))
	}
}
