package vad

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/prompts"
)

// Line conditions: what the detector must never call speech, what it must,
// and how it behaves on a loud steady noise.

const seeds = 8 // noise realisations per synthetic case

// tone returns n frames of a sine of freq Hz at db dBFS (RMS).
func tone(freq, db float64, n int) []int16 {
	a := amp(db) * math.Sqrt2
	out := make([]int16, n*fs)
	for i := range out {
		out[i] = clip(a * math.Sin(2*math.Pi*freq*float64(i)/media.SampleRate))
	}
	return out
}

// dropouts returns pcm with every period-th frame zeroed, as a peer that
// fills a lost packet with silence.
func dropouts(pcm []int16, period int) []int16 {
	out := append([]int16(nil), pcm...)
	for f := period; f*fs < len(out); f += period {
		clear(out[f*fs : (f+1)*fs])
	}
	return out
}

func TestNeverSpeech(t *testing.T) {
	const n = 500 // 10 s
	ulaw := func(pcm []int16) []int16 { return viaCodec(media.CodecPCMU, pcm) }
	cases := []struct {
		name string
		sig  func(rng *rand.Rand) []int16
	}{
		{"digital silence", func(*rand.Rand) []int16 { return silence(n) }},
		{"ulaw idle 0xFF", func(*rand.Rand) []int16 { return idle(media.CodecPCMU, n) }},
		{"alaw idle 0xD5", func(*rand.Rand) []int16 { return idle(media.CodecPCMA, n) }},
		{"hiss -60", func(r *rand.Rand) []int16 { return ulaw(white(r, -60, n)) }},
		{"hiss -55", func(r *rand.Rand) []int16 { return ulaw(white(r, -55, n)) }},
		{"hiss -50", func(r *rand.Rand) []int16 { return ulaw(white(r, -50, n)) }},
		{"hiss -45", func(r *rand.Rand) []int16 { return ulaw(white(r, -45, n)) }},
		{"hiss -45 alaw", func(r *rand.Rand) []int16 { return viaCodec(media.CodecPCMA, white(r, -45, n)) }},
		{"hiss -50 with zeroed frames", func(r *rand.Rand) []int16 { return dropouts(ulaw(white(r, -50, n)), 17) }},
		{"hiss -60 on DC offset", func(r *rand.Rand) []int16 {
			return ulaw(mix(white(r, -60, n), []int16{800}))
		}},
		{"click in silence", func(*rand.Rand) []int16 { return clicks(silence(n), 10, 50, 1) }},
		{"10 ms burst across frames", func(*rand.Rand) []int16 { return clicks(silence(n), 10, 50, 120) }},
		{"click in hiss -50", func(r *rand.Rand) []int16 { return ulaw(clicks(white(r, -50, n), 10, 50, 1)) }},
		{"50 Hz hum -30", func(*rand.Rand) []int16 { return ulaw(tone(50, -30, n)) }},
		{"1 kHz tone -40", func(*rand.Rand) []int16 { return ulaw(tone(1000, -40, n)) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			worst := 0
			for seed := range uint64(seeds) {
				rs := run(newDefault(t), c.sig(rand.New(rand.NewPCG(seed, 1))))
				worst = max(worst, speechFrames(rs))
				if seed == 0 {
					last := rs[len(rs)-1]
					t.Logf("level %.1f, floor %.1f dBFS, spread %.1f dB", last.LevelDB, last.FloorDB, last.SpreadDB)
				}
			}
			if worst > 0 {
				t.Errorf("%d of %d frames called speech, want 0", worst, n)
			}
		})
	}
}

func TestComfortNoiseNeverSpeech(t *testing.T) {
	for _, level := range []uint8{0, 20, 40, 70, 127, 255} {
		d := newDefault(t)
		want := max(-float64(level&0x7f), MinDB)
		for i := range 200 {
			r := d.ComfortNoise(level)
			if r.Class.IsSpeech() || r.Voiced || r.LevelDB != want || r.FloorDB != want || r.Frame != uint64(i) {
				t.Fatalf("CN %d, packet %d: %+v, want silence at %v dBFS", level, i, r, want)
			}
		}
	}
}

// TestComfortNoiseAroundSpeech: a DTX phone sends speech, then comfort
// noise in its pauses. CN ends speech after exactly the hangover, and
// speech after CN is heard again.
func TestComfortNoiseAroundSpeech(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	d := newDefault(t)
	hang := ms(DefaultHangoverMs)
	for range 50 {
		d.ComfortNoise(60)
	}
	rs := run(d, syllables(rng, -30, -12, 45)) // shorter than FloorMs: the floor stays
	if segs := segments(rs); len(segs) != 1 || segs[0].start != ms(DefaultOnsetMs)-1 {
		t.Fatalf("speech after CN: segments %v, want one from frame %d", segs, ms(DefaultOnsetMs)-1)
	}
	for i := range 2 * hang {
		r := d.ComfortNoise(60)
		if got, want := r.Class, Speech; i >= hang-1 {
			want = Silence
			if got != want || r.Changed != (i == hang-1) {
				t.Fatalf("CN packet %d after speech: %+v, want %v", i, r, want)
			}
		} else if got != want {
			t.Fatalf("CN packet %d after speech: %v, want speech until the hangover ends", i, got)
		}
	}
}

// TestSteadyLoudNoise: a loud steady noise that starts abruptly (or is
// there from the first frame, above the capped starting floor) is never
// speech: it has no pitch, and a tone is steady. Once a window has passed,
// noise at or above NoiseDB is Noise, and the floor has risen to it.
func TestSteadyLoudNoise(t *testing.T) {
	const n = 250
	noise := func(db float64) func(*rand.Rand) []int16 {
		return func(r *rand.Rand) []int16 { return white(r, db, n) }
	}
	cases := []struct {
		name  string
		lead  func(r *rand.Rand) []int16
		noise func(r *rand.Rand) []int16
		want  Class // from WindowMs into the noise to its end
	}{
		{"-25 after silence", func(*rand.Rand) []int16 { return silence(50) }, noise(-25), Noise},
		{"-25 from the first frame", func(*rand.Rand) []int16 { return nil }, noise(-25), Noise},
		{"-35 after silence", func(*rand.Rand) []int16 { return silence(50) }, noise(-35), Noise},
		{"-25 after hiss -50", func(r *rand.Rand) []int16 { return white(r, -50, 50) }, noise(-25), Noise},
		{"-52 after silence", func(*rand.Rand) []int16 { return silence(50) }, noise(-52), Silence},
		{"1 kHz tone -20 from the first frame", func(*rand.Rand) []int16 { return nil },
			func(*rand.Rand) []int16 { return tone(1000, -20, n) }, Noise},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var floor float64
			for seed := range uint64(seeds) {
				rng := rand.New(rand.NewPCG(seed, 2))
				lead := c.lead(rng)
				sig := cat(lead, c.noise(rng), silence(50))
				rs := run(newDefault(t), viaCodec(media.CodecPCMU, sig))
				start := len(lead) / fs
				if n := speechFrames(rs); n > 0 {
					t.Errorf("seed %d: %d speech frames", seed, n)
				}
				for i, r := range rs[start+ms(DefaultWindowMs) : start+n] {
					if r.Class != c.want || r.Window != c.want {
						t.Fatalf("seed %d, frame %d of the noise: class %v, window %v, want %v",
							seed, ms(DefaultWindowMs)+i, r.Class, r.Window, c.want)
					}
				}
				floor = rs[start+n-1].FloorDB
			}
			t.Logf("floor %.1f dBFS", floor)
		})
	}
}

// condition is a way the prompts reach the detector.
type condition struct {
	name  string
	codec media.Codec
	level float64 // speech level, dBFS
	hiss  float64 // background hiss, dBFS, or 0 for digital silence
	// fromStart cuts the prompt's lead-in silence and the background
	// before it: the caller speaks from the first frame.
	fromStart bool
}

var conditions = []condition{
	{"ulaw -18", media.CodecPCMU, -18, 0, false},
	{"alaw -18", media.CodecPCMA, -18, 0, false},
	{"ulaw -40", media.CodecPCMU, -40, 0, false},
	{"ulaw -18 over hiss -50", media.CodecPCMU, -18, -50, false},
	{"ulaw -40 over hiss -60", media.CodecPCMU, -40, -60, false},
	{"ulaw -18 from the first frame", media.CodecPCMU, -18, 0, true},
	{"ulaw -18 over hiss -50 from the first frame", media.CodecPCMU, -18, -50, true},
}

// TestPrompts plays every zh-CN prompt, with 500 ms of background before
// and 1.2 s after, under each condition. Speech must not start before the
// prompt does, must start within 300 ms of the first speech frame, must
// cover the prompt's speech and must end within the hangover after the
// last frame above MinLevelDB.
func TestPrompts(t *testing.T) {
	const tail = 60
	hang := ms(DefaultHangoverMs)
	const maxOnset = 15 // 300 ms
	for _, c := range conditions {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 3))
			var lat, segs, covered, refs, maxLat, maxEnd int
			for _, fx := range promptFixtures(t) {
				lead := 25
				first, _ := fx.firstLast()
				played := gain(fx.pcm, c.level-prompts.SpeechLevel(fx.pcm))
				if c.fromStart {
					lead, played = 0, played[first*fs:]
					fx.ref, first = fx.ref[first:], 0
				}
				pcm := cat(silence(lead), played, silence(tail))
				if c.hiss != 0 {
					pcm = mix(pcm, white(rng, c.hiss, len(pcm)/fs))
				}
				rs := run(newDefault(t), viaCodec(c.codec, pcm))
				first += lead
				// Speech stops after the last frame of the prompt that is
				// loud enough ever to be speech.
				last := lead
				for i := range len(played) / fs {
					if Level(played[i*fs:(i+1)*fs]) > DefaultMinLevelDB {
						last = lead + i
					}
				}
				ss := segments(rs)
				if len(ss) == 0 {
					t.Errorf("%s: no speech", fx.id)
					continue
				}
				onset := ss[0].start - first + 1 // frames from the first speech frame's start
				end := ss[len(ss)-1].end - last  // frames after the last audible frame
				// Over hiss, a word that opens on a fricative (下 xià, 40 dB
				// down) may be called speech one frame later, and the hiss
				// may hold a decaying last frame (六 liù) one frame more.
				slack := 0
				if c.hiss != 0 {
					slack = 1
				}
				if onset < 1 || onset > maxOnset+slack {
					t.Errorf("%s: onset %d ms after speech starts, want 20..%d ms", fx.id, onset*20, (maxOnset+slack)*20)
				}
				if end > hang+slack {
					t.Errorf("%s: speech ends %d ms after the last audible frame, want within the %d ms hangover",
						fx.id, end*20, hang*20)
				}
				for i, r := range fx.ref {
					if r && i+lead > ss[0].start {
						refs++
						if rs[i+lead].Class.IsSpeech() {
							covered++
						}
					}
				}
				lat += onset
				maxLat = max(maxLat, onset)
				maxEnd = max(maxEnd, end)
				segs += len(ss)
			}
			n := len(promptFixtures(t))
			cover := float64(covered) / float64(refs)
			t.Logf("%d prompts: onset mean %d ms, max %d ms; %d segments; %.2f%% of speech frames covered; end at most %d ms after speech",
				n, lat*20/n, maxLat*20, segs, 100*cover, maxEnd*20)
			if cover < 0.97 {
				t.Errorf("speech covers %.2f%% of speech frames after onset, want ≥ 97%%", 100*cover)
			}
		})
	}
}

// TestSpeechAfterNoise: speech starting after the line has been a steady
// noise is heard once the noise has become the floor.
func TestSpeechAfterNoise(t *testing.T) {
	fx := promptFixtures(t)
	for _, noise := range []float64{-60, -50, -40} {
		t.Run(fmt.Sprint(noise), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(4, 4))
			p := fx[0]
			bg := white(rng, noise, 100+len(p.pcm)/fs)
			pcm := viaCodec(media.CodecPCMU, mix(cat(silence(100), p.pcm), bg))
			rs := run(newDefault(t), pcm)
			if n := speechFrames(rs[:100]); n > 0 {
				t.Errorf("%d speech frames in the noise", n)
			}
			if n := speechFrames(rs[100:]); n == 0 {
				t.Errorf("no speech over noise at %v dBFS", noise)
			}
		})
	}
}

// TestLost: frames that never arrived end speech after the hangover, and
// bursts of them leave a hiss floor alone, where zero-filled frames would
// not.
func TestLost(t *testing.T) {
	hang := ms(DefaultHangoverMs)
	rng := rand.New(rand.NewPCG(11, 11))
	d := newDefault(t)
	run(d, syllables(rng, -30, -10, 45)) // every frame voiced: shorter than FloorMs
	for i := range hang {
		r := d.Lost()
		if want := i == hang-1; r.Changed != want || r.Class.IsSpeech() == want || r.Voiced {
			t.Fatalf("lost frame %d after speech: %+v", i, r)
		}
	}

	hiss := viaCodec(media.CodecPCMU, white(rng, -50, 500))
	d.Reset()
	speech := 0
	for f := range 500 {
		var r Result
		if f%50 >= 40 { // 200 ms lost every second
			r = d.Lost()
		} else {
			r = d.Frame(hiss[f*fs : (f+1)*fs])
		}
		if r.Frame != uint64(f) {
			t.Fatalf("frame %d: index %d", f, r.Frame)
		}
		if r.Class.IsSpeech() {
			speech++
		}
	}
	zeroed := speechFrames(run(newDefault(t), dropouts10(hiss)))
	t.Logf("hiss -50 with 200 ms gaps every second: %d speech frames with Lost, %d with zero frames", speech, zeroed)
	if speech != 0 {
		t.Errorf("%d speech frames in hiss with lost frames, want 0", speech)
	}

	// Lost before any audio: the first audio frame still sets the floor.
	d.Reset()
	for range 10 {
		d.Lost()
	}
	if n := speechFrames(run(d, hiss)); n != 0 {
		t.Errorf("hiss after lost frames: %d speech frames", n)
	}
}

// dropouts10 zeroes 200 ms of every second of pcm.
func dropouts10(pcm []int16) []int16 {
	out := append([]int16(nil), pcm...)
	for f := range len(out) / fs {
		if f%50 >= 40 {
			clear(out[f*fs : (f+1)*fs])
		}
	}
	return out
}
