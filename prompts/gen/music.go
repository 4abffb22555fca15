package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/audio"
	"github.com/kefu-hotline/kefu/prompts"
)

// The hold music: the score of score.go played by four synthesized voices
// (a soft detuned sine pad, a bass with harmonics, a plucked additive harp
// and an FM electric-piano melody) through a small Freeverb-style reverb,
// rendered as a circle, so that its end runs into its start exactly.
const (
	musicRate    = 22050 // Hz, the rate of the MP3
	musicBitrate = 24    // lame ABR, kbps (about 23 kbps in the file)
	musicLowpass = 4     // kHz: nothing above reaches a phone
)

// makeMusic renders the hold music into dir/music/hold.mp3 (unless check
// is set) and checks the file the way kefu loads it.
func makeMusic(dir string, check bool) error {
	out := filepath.Join(dir, filepath.FromSlash(prompts.MusicFile))
	var ref *prompts.Prompt // what was encoded, at 8 kHz
	if !check {
		x, err := renderMusic()
		if err != nil {
			return err
		}
		if ref, err = encodeMusic(x, out); err != nil {
			return err
		}
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return err
	}
	p, err := prompts.DecodeMusic(prompts.MusicID, out, bytes.NewReader(data))
	if err != nil {
		return err
	}
	pcm := clipPCM(p)
	level := prompts.SpeechLevel(pcm)
	join, inside := joinJump(pcm)
	fmt.Printf("%s: %.2f s, level %.1f dBFS, peak %.1f dBFS, %d bytes, loop join step %d (largest inside %d)",
		out, p.Duration().Seconds(), level, audio.PeakDB(pcm), len(data), join, inside)
	if ref != nil {
		fmt.Printf(", SNR %.1f dB", snr(clipPCM(ref), pcm))
	}
	fmt.Println()
	switch {
	case p.Duration() < 2*time.Minute:
		return fmt.Errorf("%s: %v long, want at least 2 minutes", out, p.Duration())
	case math.Abs(level-prompts.MusicLevel) > 1:
		return fmt.Errorf("%s: level %.1f dBFS, want %.0f±1", out, level, prompts.MusicLevel)
	case join > inside:
		return fmt.Errorf("%s: the loop join clicks: step %d, largest inside %d", out, join, inside)
	}
	return nil
}

// encodeMusic normalises x to prompts.MusicLevel as kefu will hear it,
// writes it as out with lame, and returns the encoded audio as kefu would
// load it. Like the prompts, it is encoded a second time with the level
// change of MP3 coding made up.
func encodeMusic(x []float64, out string) (*prompts.Prompt, error) {
	tmp, err := os.MkdirTemp("", "kefu-music-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	wav := filepath.Join(tmp, "hold.wav")
	target := prompts.MusicLevel
	for pass := 0; ; pass++ {
		ref, err := writeMusicWAV(x, target, wav)
		if err != nil {
			return nil, err
		}
		cmd := exec.Command("lame", "--quiet", "-m", "m", "--abr", fmt.Sprint(musicBitrate), "-q", "2",
			"--lowpass", fmt.Sprint(musicLowpass), "--resample", "22.05", wav, out)
		if msg, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("lame: %w: %s", err, msg)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			return nil, err
		}
		got, err := prompts.DecodeMusic(prompts.MusicID, out, bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		diff := prompts.MusicLevel - prompts.SpeechLevel(clipPCM(got))
		if pass == 1 || math.Abs(diff) < 0.2 {
			return ref, nil
		}
		target += diff
	}
}

// writeMusicWAV scales x to level dBFS at 8 kHz and writes it to wav.
func writeMusicWAV(x []float64, level float64, wav string) (*prompts.Prompt, error) {
	pcm := make([]int16, len(x))
	gain := 1.0
	for range levelRounds {
		for i, v := range x {
			pcm[i] = int16(math.Round(max(-32768, min(32767, v*gain*32768))))
		}
		var buf bytes.Buffer
		if err := audio.WriteWAV(&buf, audio.Format{Rate: musicRate, Channels: 1}, pcm); err != nil {
			return nil, err
		}
		ref, err := prompts.DecodeMusic(prompts.MusicID, wav, bytes.NewReader(buf.Bytes()))
		if err != nil {
			return nil, err
		}
		got := prompts.SpeechLevel(clipPCM(ref))
		if math.Abs(got-level) < 0.05 {
			return ref, os.WriteFile(wav, buf.Bytes(), 0o644)
		}
		gain *= math.Pow(10, (level-got)/20)
	}
	return nil, fmt.Errorf("music level did not converge to %.1f dBFS", level)
}

// clipPCM returns all the samples of a prompt.
func clipPCM(p *prompts.Prompt) []int16 {
	out := make([]int16, 0, p.Frames()*media.FrameSamples)
	for i := range p.Frames() {
		out = append(out, p.PCM(i)...)
	}
	return out
}

// joinJump returns the step from the last sample to the first, as a loop
// plays it, and the largest step between neighbours inside.
func joinJump(pcm []int16) (join, inside int) {
	for i := 1; i < len(pcm); i++ {
		inside = max(inside, abs(int(pcm[i])-int(pcm[i-1])))
	}
	return abs(int(pcm[0]) - int(pcm[len(pcm)-1])), inside
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// renderMusic plays the score into a circular buffer at musicRate, adds
// reverb and returns the mix (full scale ±1, not yet normalised).
func renderMusic() ([]float64, error) {
	p, err := parseScore()
	if err != nil {
		return nil, err
	}
	secPerBeat := 60.0 / tempo
	n := int(math.Round(float64(p.bars*beatsPerBar) * secPerBeat * musicRate))
	if n%(musicRate/50) != 0 {
		return nil, fmt.Errorf("%d samples is not a whole number of 20 ms frames", n)
	}
	buf := make([]float64, n)
	play := func(notes []note, v instrument) {
		for _, nt := range notes {
			start := int(math.Round(nt.start * secPerBeat * musicRate))
			dur := nt.beats * secPerBeat
			f := 440 * math.Pow(2, float64(nt.midi-69)/12)
			length := int((dur + v.tail) * musicRate)
			for i := range length {
				t := float64(i) / musicRate
				at := float64(start+i) / musicRate // for phases that run on across notes
				buf[(start+i)%n] += nt.vel * v.sample(f, t, at, dur)
			}
		}
	}
	play(p.pad, padVoice)
	play(p.bass, bassVoice)
	play(p.harp, harpVoice)
	play(p.melody, melodyVoice)
	return reverb(buf), nil
}

// instrument is how a note sounds: sample returns the sound at t seconds into a
// note of frequency f lasting dur seconds (abs is the time in the piece);
// tail is how long the note sounds on after dur.
type instrument struct {
	tail   float64
	sample func(f, t, abs, dur float64) float64
}

// env is an attack–release envelope: a raised-cosine rise over attack, then
// 1, then a raised-cosine fall over release from dur on.
func env(t, attack, dur, release float64) float64 {
	g := 1.0
	if t < attack {
		g = 0.5 - 0.5*math.Cos(math.Pi*t/attack)
	}
	if t > dur {
		if t >= dur+release {
			return 0
		}
		g *= 0.5 + 0.5*math.Cos(math.Pi*(t-dur)/release)
	}
	return g
}

var (
	// padVoice: two sines 4 cents apart with a little second and third
	// harmonic, swelling in and fading slowly. Phases run on absolute
	// time, so a note repeated in the next chord joins its predecessor.
	padVoice = instrument{tail: 1.2, sample: func(f, t, abs, dur float64) float64 {
		var s float64
		for _, c := range [...]float64{-4, 4} {
			w := 2 * math.Pi * f * math.Pow(2, c/1200) * abs
			s += math.Sin(w) + 0.25*math.Sin(2*w) + 0.08*math.Sin(3*w)
		}
		return 0.045 * s * env(t, 0.7, dur, 1.2)
	}}
	// bassVoice: a round bass with the harmonics a phone lets through.
	bassVoice = instrument{tail: 0.35, sample: func(f, t, abs, dur float64) float64 {
		w := 2 * math.Pi * f * abs
		s := math.Sin(w) + 0.6*math.Sin(2*w) + 0.35*math.Sin(3*w) + 0.15*math.Sin(4*w)
		decay := 0.55 + 0.45*math.Exp(-t/0.6)
		return 0.055 * s * decay * env(t, 0.03, dur, 0.35)
	}}
	// harpVoice: a plucked string, five harmonics dying away, the higher
	// ones faster; it rings on after its eighth note.
	harpVoice = instrument{tail: 2.5, sample: func(f, t, _, _ float64) float64 {
		var s float64
		for k := 1.0; k <= 5; k++ {
			s += math.Pow(k, -1.6) * math.Exp(-t*math.Pow(k, 0.8)/1.1) * math.Sin(2*math.Pi*k*f*t)
		}
		return 0.06 * s * env(t, 0.004, 2.45, 0.05)
	}}
	// melodyVoice: a soft FM electric piano (carrier and modulator at f,
	// the index falling after the strike), decaying, released at the end
	// of the note.
	melodyVoice = instrument{tail: 0.15, sample: func(f, t, _, dur float64) float64 {
		w := 2 * math.Pi * f * t
		index := 0.3 + 1.4*math.Exp(-t/0.35)
		return 0.16 * math.Sin(w+index*math.Sin(w)) * math.Exp(-t/1.6) * env(t, 0.008, dur, 0.15)
	}}
)

// reverb adds a small room (Freeverb's comb and all-pass structure, delays
// halved for 22.05 kHz) to the circular signal x: it runs over x twice and
// keeps the second pass, so the tail of the end is heard at the start.
func reverb(x []float64) []float64 {
	combs := []*comb{}
	for _, d := range [...]int{558, 594, 639, 678, 711, 746, 779, 809} {
		combs = append(combs, &comb{buf: make([]float64, d), feedback: 0.8, damp: 0.3})
	}
	allpasses := []*allpass{}
	for _, d := range [...]int{278, 220, 170, 112} {
		allpasses = append(allpasses, &allpass{buf: make([]float64, d)})
	}
	const wet, dry = 0.28, 1.0
	out := make([]float64, len(x))
	for pass := range 2 {
		for i, v := range x {
			var r float64
			for _, c := range combs {
				r += c.process(v * 0.05)
			}
			for _, a := range allpasses {
				r = a.process(r)
			}
			if pass == 1 {
				out[i] = dry*v + wet*r
			}
		}
	}
	return out
}

// comb is a feedback comb filter with a one-pole low-pass in the loop.
type comb struct {
	buf            []float64
	pos            int
	feedback, damp float64
	store          float64
}

func (c *comb) process(in float64) float64 {
	out := c.buf[c.pos]
	c.store = out*(1-c.damp) + c.store*c.damp
	c.buf[c.pos] = in + c.store*c.feedback
	c.pos = (c.pos + 1) % len(c.buf)
	return out
}

// allpass is Freeverb's all-pass stage (gain 0.5).
type allpass struct {
	buf []float64
	pos int
}

func (a *allpass) process(in float64) float64 {
	b := a.buf[a.pos]
	a.buf[a.pos] = in + b*0.5
	a.pos = (a.pos + 1) % len(a.buf)
	return b - in
}
