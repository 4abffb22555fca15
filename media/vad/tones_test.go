package vad

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/kefu-hotline/kefu/media"
)

// Tones are not speech (issue 10): a DTMF key sent in band, a dial, busy or
// test tone, hum and buzz never start speech, over silence, a hiss or a
// noise at least 20 dB below the tone, through either codec; and a key
// pressed just after the caller spoke does not draw the speech out. (In
// more noise a tone is told from a voice less surely: see the package
// doc.)

// toneBackgrounds are what the tones are heard over, and at what level
// (MinDB for digital silence).
var toneBackgrounds = []struct {
	name string
	db   float64
	sig  func(rng *rand.Rand, n int) []int16
}{
	{"silence", MinDB, func(_ *rand.Rand, n int) []int16 { return silence(n) }},
	{"hiss -55", -55, func(rng *rand.Rand, n int) []int16 { return white(rng, -55, n) }},
	{"white -45", -45, func(rng *rand.Rand, n int) []int16 { return white(rng, -45, n) }},
	{"pink -40", -40, func(rng *rand.Rand, n int) []int16 { return pink(rng, -40, n) }},
	{"brown -40", -40, func(rng *rand.Rand, n int) []int16 { return brown(rng, -40, n) }},
}

// toneSNR is the least level of a tone over its background in these tests.
const toneSNR = 20

// keyRun returns a run of keys after 300 ms of silence: each on for on
// samples at db dBFS (the high tone twist dB above the low), off for off
// samples, cut to whole frames.
func keyRun(keys string, db, twist float64, on, off int) []int16 {
	sig := make([]int16, 15*fs+37)
	for _, k := range keys {
		sig = append(sig, dtmfKey(k, db, twist, on)...)
		sig = append(sig, make([]int16, off)...)
	}
	sig = append(sig, silence(10)...)
	return sig[:len(sig)/fs*fs]
}

func TestKeysNeverSpeech(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 21))
	const keys = "123A456B789C*0#D"
	total := 0
	for _, bg := range toneBackgrounds {
		for _, db := range []float64{-8, -13, -20, -26} {
			for _, ms := range []int{40, 60, 80, 100, 130, 160, 200, 300} {
				if db < bg.db+toneSNR {
					continue
				}
				for _, codec := range []media.Codec{media.CodecPCMU, media.CodecPCMA} {
					on := ms * media.SampleRate / 1000
					sig := keyRun(keys, db, -1+4*rng.Float64(), on, on+rng.IntN(400))
					pcm := viaCodec(codec, mix(sig, bg.sig(rng, len(sig)/fs)))
					rs := run(newDefault(t), pcm)
					total++
					if n := speechFrames(rs); n > 0 {
						t.Errorf("keys of %d ms at %v dBFS over %s (%v): %d speech frames", ms, db, bg.name, codec, n)
					}
					total++
				}
			}
		}
	}
	t.Logf("%d runs of the 16 keys", total/2)
}

func TestTonesNeverSpeech(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 22))
	type tone struct {
		freqs   []float64
		on, off int // frames; off 0: continuous
	}
	var cases []tone
	for _, f := range []float64{300, 350, 400, 425, 440, 450, 480, 620, 697, 950, 1000, 1004, 1209, 1400, 1633, 1800, 2100, 2600, 3000} {
		cases = append(cases, tone{[]float64{f}, 150, 0}, tone{[]float64{f}, 17, 17})
	}
	for _, p := range [][]float64{{350, 440}, {440, 480}, {480, 620}, {400, 450}, {425, 450}} {
		cases = append(cases, tone{p, 150, 0}, tone{p, 25, 25}, tone{p, 8, 8})
	}
	n := 0
	for _, c := range cases {
		for _, db := range []float64{-10, -20, -30} {
			bg := toneBackgrounds[rng.IntN(len(toneBackgrounds))]
			for db < bg.db+toneSNR {
				bg = toneBackgrounds[rng.IntN(len(toneBackgrounds))]
			}
			sig := silence(15)
			for len(sig) < 165*fs {
				sig = append(sig, tones(db, c.on, c.freqs...)...)
				sig = append(sig, silence(c.off)...)
			}
			sig = sig[:165*fs]
			codec := []media.Codec{media.CodecPCMU, media.CodecPCMA}[n%2]
			n++
			rs := run(newDefault(t), viaCodec(codec, mix(sig, bg.sig(rng, 165))))
			if k := speechFrames(rs); k > 0 {
				t.Errorf("%v Hz at %v dBFS, %d on %d off, over %s: %d speech frames", c.freqs, db, c.on, c.off, bg.name, k)
			}
		}
	}
	t.Logf("%d tones", n)
}

// TestHumNeverSpeech: mains hum and buzz, from the first frame, switched
// on after silence or a hiss, and switching on and off, are never speech.
func TestHumNeverSpeech(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 23))
	n := 0
	for _, f0 := range []float64{50, 60, 100, 120, 150, 200} {
		for _, db := range []float64{-10, -20, -30, -40} {
			for _, kind := range []string{"hum", "buzz"} {
				src := hum
				if kind == "buzz" {
					src = buzz
				}
				for _, lead := range []string{"none", "silence", "hiss", "on-off"} {
					var sig []int16
					switch lead {
					case "none":
						sig = src(rng, f0, db, 200)
					case "silence":
						sig = cat(silence(50), src(rng, f0, db, 150))
					case "hiss":
						sig = mix(cat(silence(50), src(rng, f0, db, 150)), white(rng, -55, 200))
					default:
						for range 4 {
							sig = cat(sig, silence(25), src(rng, f0, db, 25))
						}
					}
					codec := []media.Codec{media.CodecPCMU, media.CodecPCMA}[n%2]
					n++
					rs := run(newDefault(t), viaCodec(codec, sig))
					if k := speechFrames(rs); k > 0 {
						t.Errorf("%s %v Hz at %v dBFS, lead %s: %d speech frames", kind, f0, db, lead, k)
					}
				}
			}
		}
	}
	t.Logf("%d hums and buzzes", n)
}

// TestKeyAfterSpeech: a key pressed 100 ms after the caller stopped
// speaking does not hold the speech on: speech ends as it would without
// the key, or, when the key starts inside a frame, at most as much later as
// from the end of the speech to that frame (that frame is voiced).
func TestKeyAfterSpeech(t *testing.T) {
	rng := rand.New(rand.NewPCG(24, 24))
	for _, ms := range []int{80, 160, 300} {
		voice := syllables(rng, -30, -12, 40)
		plain := viaCodec(media.CodecPCMU, cat(silence(10), voice, silence(80)))
		keyed := viaCodec(media.CodecPCMU, cat(silence(10), voice, silence(5), make([]int16, 53), dtmfKey('5', -13, 2, ms*8), silence(80)))
		keyed = keyed[:len(plain)]
		end := func(rs []Result) int {
			for i, r := range rs {
				if r.SpeechEnd {
					return i
				}
			}
			return -1
		}
		a, b := end(run(newDefault(t), plain)), end(run(newDefault(t), keyed))
		if a < 0 || b < a || b > a+6 {
			t.Errorf("key of %d ms after speech: speech ends on frame %d, %d without the key", ms, b, a)
		}
	}
}

// TestTonesNoAllocs: the tone and emphasis paths allocate nothing either.
func TestTonesNoAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 25))
	pcm := viaCodec(media.CodecPCMU, cat(keyRun("159#", -13, 2, 1280, 800), mix(syllables(rng, -30, -10, 50), hum(rng, 50, -35, 50))))
	tones := 0
	for _, r := range run(newDefault(t), pcm) {
		if r.Tone {
			tones++
		}
	}
	if tones == 0 {
		t.Fatal("no tone frames: the tone path was not taken")
	}
	d := newDefault(t)
	frames := len(pcm) / fs
	i := 0
	allocs := testing.AllocsPerRun(2000, func() {
		lo := (i % frames) * fs
		d.Frame(pcm[lo : lo+fs])
		i++
	})
	if allocs != 0 {
		t.Errorf("%v allocations per frame, want 0", allocs)
	}
}

// TestPowerSpectrum checks the transform against the sum that defines it.
func TestPowerSpectrum(t *testing.T) {
	var x [specWin]float32
	rng := rand.New(rand.NewPCG(26, 26))
	for i := range x {
		x[i] = float32(1000 * rng.NormFloat64())
	}
	var p [specBins]float64
	powerSpectrum(&x, &p)
	for k := range p {
		var re, im float64
		for n, v := range x {
			s, c := math.Sincos(-2 * math.Pi * float64(k*n) / specWin)
			w := float64(v * hann[n])
			re += w * c
			im += w * s
		}
		if want := re*re + im*im; math.Abs(p[k]-want) > 1e-3*want+1 {
			t.Fatalf("bin %d: %v, want %v", k, p[k], want)
		}
	}
}
