package prompts

import (
	"bytes"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/audio"
)

func promptPCM(p *Prompt) []int16 {
	out := make([]int16, 0, p.Frames()*media.FrameSamples)
	for i := range p.Frames() {
		out = append(out, p.PCM(i)...)
	}
	return out
}

// steps returns the sample-to-sample step across the loop's join (last
// sample to first) and the largest step inside.
func steps(pcm []int16) (join, inside float64) {
	for i := 1; i < len(pcm); i++ {
		inside = max(inside, math.Abs(float64(pcm[i])-float64(pcm[i-1])))
	}
	return math.Abs(float64(pcm[0]) - float64(pcm[len(pcm)-1])), inside
}

// diffEnergy is the energy of the first difference of pcm, circularly,
// over [lo, lo+n): a click shows as a burst of it.
func diffEnergy(pcm []int16, lo, n int) float64 {
	var e float64
	for i := lo; i < lo+n; i++ {
		a := pcm[((i-1)%len(pcm)+len(pcm))%len(pcm)]
		b := pcm[(i%len(pcm)+len(pcm))%len(pcm)]
		d := float64(b) - float64(a)
		e += d * d
	}
	return e
}

func TestLoadMusic(t *testing.T) {
	p, err := LoadMusic()
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := LoadMusic(); again != p {
		t.Error("LoadMusic decoded the music twice")
	}
	if p.ID != MusicID || p.String() != "music.hold" {
		t.Errorf("ID %q, String %q", p.ID, p.String())
	}
	if d := p.Duration(); d < 2*time.Minute {
		t.Errorf("lasts %v, want at least 2 minutes", d)
	}
	pcm := promptPCM(p)
	level := SpeechLevel(pcm)
	if math.Abs(level-MusicLevel) > 1.5 {
		t.Errorf("level %.1f dBFS, want %.0f±1.5", level, MusicLevel)
	}
	if level >= TargetLevel-2 {
		t.Errorf("level %.1f dBFS, want it under the speech level %.0f dBFS", level, TargetLevel)
	}
	if pk := audio.PeakDB(pcm); pk > -3 {
		t.Errorf("peak %.1f dBFS, want under -3", pk)
	}
	// The music does not pause: every second has sound.
	for s := 0; s+media.SampleRate <= len(pcm); s += media.SampleRate {
		if l := audio.RMSDB(pcm[s : s+media.SampleRate]); l < -40 {
			t.Errorf("second %d at %.1f dBFS: dead air", s/media.SampleRate, l)
		}
	}
	join, inside := steps(pcm)
	if join > inside {
		t.Errorf("loop join: step %.0f, larger than the largest inside (%.0f): a click", join, inside)
	}
	// Stricter: around the join, the 20 ms window across it has no more
	// high-frequency energy than the windows beside it.
	const w = media.FrameSamples
	across := diffEnergy(pcm, -w/2, w)
	beside := (diffEnergy(pcm, -3*w/2, w) + diffEnergy(pcm, w/2, w)) / 2
	if across > 2*beside {
		t.Errorf("loop join: first-difference energy %.3g across it, %.3g beside it", across, beside)
	}
	t.Logf("%v, level %.1f dBFS, join step %.0f (largest inside %.0f), join energy ratio %.2f",
		p.Duration(), level, join, inside, across/beside)

	// It plays as a loop.
	src := media.NewClipSource("hold", p, true)
	src.Seek(p.Frames() - 1)
	src.Next(media.CodecPCMU)
	if b, ok := src.Next(media.CodecPCMU); !ok || !bytes.Equal(b, p.Payload(media.CodecPCMU, 0)) {
		t.Error("the loop does not go on with the first frame")
	}
}

// TestDecodeMusicLoop decodes a seamless 16 kHz WAV loop that is not a
// whole number of 20 ms frames at 8 kHz: it is cut to whole frames and the
// join stays smooth.
func TestDecodeMusicLoop(t *testing.T) {
	// 221 cycles of about 440 Hz in 8040 samples (502.5 ms): cutting the
	// 2.5 ms beyond 500 ms leaves a fraction of a cycle.
	const rate, n, cycles = 16000, 8040, 221
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*cycles*float64(i)/n))
	}
	var wav bytes.Buffer
	if err := audio.WriteWAV(&wav, audio.Format{Rate: rate, Channels: 1}, pcm); err != nil {
		t.Fatal(err)
	}
	p, err := DecodeMusic("loop", "loop.wav", bytes.NewReader(wav.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if p.Frames() != 25 || p.Lang != "" || p.Text != "" {
		t.Fatalf("%d frames, lang %q, text %q; want 25 frames (500 ms) and no lang or text", p.Frames(), p.Lang, p.Text)
	}
	got := promptPCM(p)
	join, inside := steps(got)
	if join > inside {
		t.Errorf("join step %.0f, largest inside %.0f", join, inside)
	}
}

func TestDecodeMusicErrors(t *testing.T) {
	if _, err := DecodeMusic("x", "x.ogg", bytes.NewReader(nil)); !errors.Is(err, ErrUnsupported) {
		t.Errorf("ogg: %v", err)
	}
	var wav bytes.Buffer
	if err := audio.WriteWAV(&wav, audio.Format{Rate: 8000, Channels: 1}, make([]int16, 100)); err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeMusic("x", "short.wav", &wav); !errors.Is(err, ErrEmpty) {
		t.Errorf("100 samples: %v", err)
	}
}
