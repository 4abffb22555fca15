package vad

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/kefu-hotline/kefu/media"
)

// Loud steady noise of any colour is Noise, never Silence and never
// speech, however long it lasts and however it began (issue 10, CS-NOISY);
// a quiet hiss stays Silence (CS-SILENT) and weak speech stays WeakSpeech.

// colours are the steady noises, each at db dBFS for n frames.
var colours = []struct {
	name string
	sig  func(rng *rand.Rand, db float64, n int) []int16
}{
	{"white", white},
	{"pink", pink},
	{"brown", brown},
	{"rumble", rumble},
	{"hum 50", func(rng *rand.Rand, db float64, n int) []int16 { return hum(rng, 50, db, n) }},
	{"hum 60", func(rng *rand.Rand, db float64, n int) []int16 { return hum(rng, 60, db, n) }},
	{"buzz 100", func(rng *rand.Rand, db float64, n int) []int16 { return buzz(rng, 100, db, n) }},
	{"buzz 150", func(rng *rand.Rand, db float64, n int) []int16 { return buzz(rng, 150, db, n) }},
	{"buzz 200", func(rng *rand.Rand, db float64, n int) []int16 { return buzz(rng, 200, db, n) }},
}

func TestSteadyNoiseIsNoise(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 31))
	const n = 250 // 5 s of noise
	window := ms(DefaultWindowMs)
	for _, c := range colours {
		for _, db := range []float64{-30, -20, -10} {
			for _, lead := range []string{"none", "silence", "hiss", "speech"} {
				t.Run(fmt.Sprintf("%s %v after %s", c.name, db, lead), func(t *testing.T) {
					var pre []int16
					switch lead {
					case "silence":
						pre = silence(50)
					case "hiss":
						pre = white(rng, -55, 50)
					case "speech":
						pre = cat(silence(25), syllables(rng, -30, -12, 40))
					}
					codec := []media.Codec{media.CodecPCMU, media.CodecPCMA}[rng.IntN(2)]
					rs := run(newDefault(t), viaCodec(codec, cat(pre, c.sig(rng, db, n))))
					start := len(pre) / fs
					if k := speechFrames(rs[start:]); k > 0 && lead != "speech" {
						t.Errorf("%d speech frames in the noise", k)
					}
					from := start + window
					if lead == "speech" {
						// The speech ends when the noise has proved steady.
						for from < len(rs) && rs[from-window].Class.IsSpeech() {
							from++
						}
					}
					for i := from; i < len(rs); i++ {
						if r := rs[i]; r.Class != Noise || r.Window != Noise {
							t.Fatalf("frame %d of the noise: class %v, window %v (level %.1f, floor %.1f)",
								i-start, r.Class, r.Window, r.LevelDB, r.FloorDB)
						}
					}
				})
			}
		}
	}
}

// TestLongNoise: a minute of loud noise stays Noise, the floor following it.
func TestLongNoise(t *testing.T) {
	rng := rand.New(rand.NewPCG(32, 32))
	for _, c := range colours {
		d := newDefault(t)
		for s := range 60 {
			for i, r := range run(d, viaCodec(media.CodecPCMU, c.sig(rng, -25, 50))) {
				if s > 0 && (r.Class != Noise || r.Window != Noise) {
					t.Fatalf("%s, %d s %d ms in: class %v, window %v", c.name, s, 20*i, r.Class, r.Window)
				}
			}
		}
	}
}

// TestQuietHissIsSilence: the hiss of a quiet line (the hiss-55 fixture)
// is Silence on every frame.
func TestQuietHissIsSilence(t *testing.T) {
	for _, fx := range audioFixtures(t) {
		if fx.kind != "hiss" {
			continue
		}
		for i, r := range run(newDefault(t), fx.pcm) {
			if r.Class != Silence || r.Window != Silence {
				t.Fatalf("%s, frame %d: class %v, window %v", fx.name, i, r.Class, r.Window)
			}
		}
	}
}

// TestWeakSpeechNotNoise: speech at -40 and -45 dBFS, over silence or a
// -60 dBFS hiss, is WeakSpeech, and its line is never Noise.
func TestWeakSpeechNotNoise(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 33))
	for _, fx := range audioFixtures(t) {
		if fx.kind != "speech" || fx.speechDB != -40 {
			continue
		}
		for _, db := range []float64{-40, -45} {
			for _, hiss := range []bool{false, true} {
				pcm := gain(fx.pcm, db-fx.speechDB)
				if hiss {
					pcm = mix(pcm, white(rng, -60, len(pcm)/fs))
				}
				rs := run(newDefault(t), viaCodec(media.CodecPCMU, pcm))
				weak := 0
				for i, r := range rs {
					if r.Class == Noise || r.Window == Noise || r.Class == Speech {
						t.Fatalf("%s at %v dBFS (hiss %v), frame %d: class %v, window %v", fx.name, db, hiss, i, r.Class, r.Window)
					}
					if r.Class == WeakSpeech {
						weak++
					}
				}
				if weak < 50 {
					t.Errorf("%s at %v dBFS (hiss %v): %d frames of weak speech", fx.name, db, hiss, weak)
				}
			}
		}
	}
}
