package vad

import (
	"math/rand/v2"
	"testing"

	"github.com/kefu-hotline/kefu/media"
)

// Weak speech, noise, events and the window.

// TestSpeechLevels: speech is Speech or WeakSpeech by the level of its
// voiced frames, the segment level; the class is decided at onset and
// SegmentDB tracks the segment.
func TestSpeechLevels(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64 // syllable levels, dBFS
		want   Class
	}{
		{-26, -14, Speech},
		{-34, -26, Speech},
		{-44, -36, WeakSpeech},
		{-52, -44, WeakSpeech},
	} {
		rng := rand.New(rand.NewPCG(12, 12))
		rs := run(newDefault(t), viaCodec(media.CodecPCMU, cat(silence(25), syllables(rng, tc.lo, tc.hi, 45), silence(50))))
		var classes []Class
		for _, r := range rs {
			if r.Changed {
				classes = append(classes, r.Class)
			}
		}
		last := rs[25+44]
		if len(classes) != 2 || classes[0] != tc.want || classes[1] != Silence {
			t.Errorf("syllables %v..%v dBFS: classes %v, want [%v silence]", tc.lo, tc.hi, classes, tc.want)
		}
		if last.SegmentDB < tc.lo || last.SegmentDB > tc.hi {
			t.Errorf("syllables %v..%v dBFS: SegmentDB %.1f", tc.lo, tc.hi, last.SegmentDB)
		}
		if end := rs[len(rs)-1]; end.SegmentDB != last.SegmentDB {
			t.Errorf("SegmentDB after the end %.1f, want the segment's %.1f", end.SegmentDB, last.SegmentDB)
		}
	}
	if r := newDefault(t).Frame(silence(1)); r.SegmentDB != MinDB {
		t.Errorf("SegmentDB before any speech: %v", r.SegmentDB)
	}
}

// TestEvents: SpeechStart and SpeechEnd mark the frames where the class
// enters and leaves speech, and only those; Changed marks every change.
func TestEvents(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 13))
	sig := cat(white(rng, -30, 50), syllables(rng, -20, -8, 45), white(rng, -30, 50),
		silence(60), syllables(rng, -48, -40, 45), silence(40))
	rs := run(newDefault(t), viaCodec(media.CodecPCMU, sig))
	var starts, ends int
	prev := Silence
	for i, r := range rs {
		if r.Changed != (r.Class != prev) {
			t.Fatalf("frame %d: Changed %v, %v -> %v", i, r.Changed, prev, r.Class)
		}
		start := !prev.IsSpeech() && r.Class.IsSpeech()
		end := prev.IsSpeech() && !r.Class.IsSpeech()
		if r.SpeechStart != start || r.SpeechEnd != end {
			t.Fatalf("frame %d: SpeechStart %v SpeechEnd %v, %v -> %v", i, r.SpeechStart, r.SpeechEnd, prev, r.Class)
		}
		if r.SpeechStart {
			starts++
		}
		if r.SpeechEnd {
			ends++
		}
		prev = r.Class
	}
	if starts != 2 || ends != 2 {
		t.Errorf("%d starts, %d ends, want 2 and 2", starts, ends)
	}
	// Noise before and after the loud speech, silence before the weak.
	for _, c := range []struct {
		frame int
		want  Class
	}{{40, Noise}, {80, Speech}, {140, Noise}, {200, Silence}, {235, WeakSpeech}, {len(rs) - 1, Silence}} {
		if got := rs[c.frame].Class; got != c.want {
			t.Errorf("frame %d: %v, want %v", c.frame, got, c.want)
		}
	}
}

// TestWindow: Result.Window is speech while the last WindowMs hold
// WindowSpeechFrames voiced frames and speech, with no hangover; otherwise
// the background's class.
func TestWindow(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 14))
	rs := run(newDefault(t), viaCodec(media.CodecPCMU, cat(silence(25), syllables(rng, -30, -10, 45), silence(60))))
	lastVoiced := -1
	for i, r := range rs {
		if r.Voiced {
			lastVoiced = i
		}
	}
	w := ms(DefaultWindowMs)
	for i, r := range rs {
		voiced, speech := 0, false
		for j := max(0, i-w+1); j <= i; j++ {
			if rs[j].Voiced {
				voiced++
			}
			speech = speech || rs[j].Class.IsSpeech() || rs[j].SpeechEnd
		}
		want := Silence
		if voiced >= WindowSpeechFrames && speech {
			want = Speech
		}
		if r.Window != want {
			t.Fatalf("frame %d (%d voiced frames in the window, last voiced %d): Window %v, want %v",
				i, voiced, lastVoiced, r.Window, want)
		}
	}
	if got := rs[lastVoiced].WindowDB; got < -30 || got > -10 {
		t.Errorf("WindowDB at the end of speech %.1f", got)
	}
}

// TestPeriodicity: white noise has no pitch, a voice and a tone do; the
// two-step search finds what a search of every lag finds.
func TestPeriodicity(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 15))
	measure := func(pcm []int16) (fast, full []float64) {
		var p pitch
		p.reset()
		for f := 0; f < len(pcm)/fs; f++ {
			frame := pcm[f*fs : (f+1)*fs]
			_, mean := level(frame)
			p.push(frame, mean)
			if f >= 2 {
				fast = append(fast, p.periodicity())
				full = append(full, p.periodicityFull())
			}
		}
		return fast, full
	}
	for _, tc := range []struct {
		name   string
		pcm    []int16
		lo, hi float64 // bounds on every frame
	}{
		{"white noise", white(rng, -20, 100), 0, 0.45},
		{"pink noise", pink(rng, -20, 100), 0, 0.5},
		{"voice", syllables(rng, -30, -10, 100), 0.85, 1},
		{"voice through A-law", viaCodec(media.CodecPCMA, syllables(rng, -50, -40, 100)), 0.8, 1},
		{"200 Hz tone on DC", mix(tone(200, -30, 100), []int16{3000}), 0.95, 1},
		{"zeros", silence(10), 0, 0},
	} {
		fast, full := measure(tc.pcm)
		for i, v := range fast {
			if v < tc.lo || v > tc.hi {
				t.Errorf("%s, frame %d: periodicity %.2f, want [%v, %v]", tc.name, i, v, tc.lo, tc.hi)
				break
			}
			if v > full[i]+0.02 {
				t.Errorf("%s, frame %d: two-step %.3f above the full search %.3f", tc.name, i, v, full[i])
				break
			}
		}
	}
	// On the speech and mix fixtures, the two-step search takes the same
	// decision (at DefaultMinPeriodicity) as the full one on at least 97%
	// of the frames above -45 dBFS.
	same, n := 0, 0
	var diff float64
	for _, fx := range audioFixtures(t) {
		if fx.kind != "speech" && fx.kind != "mix" {
			continue
		}
		fast, full := measure(fx.pcm)
		for i := range fast {
			if Level(fx.pcm[(i+2)*fs:(i+3)*fs]) > -45 {
				n++
				diff += full[i] - fast[i]
				if (fast[i] >= DefaultMinPeriodicity) == (full[i] >= DefaultMinPeriodicity) {
					same++
				}
			}
		}
	}
	t.Logf("two-step search: same decision as the full search on %d of %d frames; %.3f lower on average", same, n, diff/float64(n))
	if same < n*97/100 {
		t.Errorf("two-step search: same decision on %d of %d frames, want 97%%", same, n)
	}
}

// periodicityFull is the reference for periodicity: every lag at 4 kHz.
func (p *pitch) periodicityFull() float64 {
	const start = pitchHist - pitchWin
	h := p.emphasise()
	cur := h[start:]
	e0 := float64(dot(cur, cur))
	if e0 <= 0 {
		return 0
	}
	var r [pitchMaxLag + 2]float64
	correlate(h[:], start, e0, pitchMinLag-1, pitchMaxLag+1, r[:])
	best := 0.0
	for lag := pitchMinLag; lag <= pitchMaxLag; lag++ {
		a, b, c := r[lag-1], r[lag], r[lag+1]
		if b < a || b < c {
			continue
		}
		if den := a - 2*b + c; den < 0 {
			b -= (a - c) * (a - c) / (8 * den)
		}
		best = max(best, b)
	}
	return min(best, 1)
}

// TestOnsetLatency: on every speech fixture and every mix at SNR 10 dB and
// above, speech starts within 300 ms of the first voiced frame of the
// utterance, and never before it.
func TestOnsetLatency(t *testing.T) {
	const maxOnset = 15 // frames: 300 ms
	worst := 0
	for _, c := range fixtureCases(t) {
		if c.kind != "speech" && (c.kind != "mix" || c.snr < 10) {
			continue
		}
		first := 0
		for !c.ref[first] {
			first++
		}
		rs := run(newDefault(t), c.pcm)
		start := -1
		for i, r := range rs {
			if r.SpeechStart {
				start = i
				break
			}
		}
		onset := start - first + 1
		if start < first || onset > maxOnset {
			t.Errorf("%s: speech starts at frame %d, first voiced frame %d: want within %d ms", c.name, start, first, maxOnset*20)
		}
		worst = max(worst, onset)
	}
	t.Logf("onset at most %d ms after the first voiced frame", worst*20)
}

// TestBabbleStartingAbruptly documents a limit: a crowd that starts
// suddenly after silence is speech-like enough (voices with pitch, rising
// from silence) to read as speech until the floor has risen to it, within
// FloorMs; then it is Noise.
func TestBabbleStartingAbruptly(t *testing.T) {
	byName := map[string][]int16{}
	for _, fx := range audioFixtures(t) {
		byName[fx.name] = fx.pcm
	}
	for _, name := range []string{"noise-babble-20.wav", "noise-babble-30.wav", "noise-babble-40.wav"} {
		b := byName[name]
		rs := run(newDefault(t), cat(silence(50), b, b))
		last := -1
		for i, r := range rs {
			if r.Class.IsSpeech() {
				last = i
			}
		}
		t.Logf("%s after silence: speech until %d ms into it", name, (last-49)*20)
		if last-49 > ms(DefaultFloorMs) {
			t.Errorf("%s after silence: speech until %d ms into it, want at most %d", name, (last-49)*20, DefaultFloorMs)
		}
		for i, r := range rs[50+ms(DefaultFloorMs)+ms(DefaultWindowMs):] {
			if r.Class != Noise || r.Window != Noise {
				t.Fatalf("%s, frame %d: %v (window %v), want noise", name, i, r.Class, r.Window)
			}
		}
	}
}

// TestExtremeOptions: the detector runs on any valid options, from the
// shortest windows to the longest, without panicking or losing count.
func TestExtremeOptions(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 16))
	sig := viaCodec(media.CodecPCMU, cat(silence(20), syllables(rng, -30, -10, 60), white(rng, -30, 60), silence(20)))
	for _, edit := range []func(*Options){
		func(o *Options) { o.FloorMs, o.WindowMs, o.OnsetMs, o.HangoverMs, o.SteadyMs = 20, 20, 20, 20, 100 },
		func(o *Options) {
			o.FloorMs, o.WindowMs, o.OnsetMs, o.HangoverMs, o.SteadyMs = 5000, 5000, 1000, 5000, 2000
		},
		func(o *Options) { o.EnterDB, o.ExitDB, o.SwingDB, o.MinPeriodicity = 60, 0, 0, 0 },
		func(o *Options) { o.StartFloorDB, o.MinLevelDB, o.NoiseDB, o.WeakDB = MinDB, MinDB, MinDB, -0.1 },
	} {
		o := DefaultOptions()
		edit(&o)
		d, err := New(o)
		if err != nil {
			t.Fatalf("%+v: %v", o, err)
		}
		for range 3 {
			for j, r := range run(d, sig) {
				if r.Frame != uint64(j) {
					t.Fatalf("%+v: frame %d has index %d", o, j, r.Frame)
				}
			}
			d.Lost()
			d.ComfortNoise(40)
			d.Reset()
		}
	}
}

// TestSinceVoiced: SinceVoiced is 0 on the voiced frames of speech, counts
// the frames after the last one through the hangover (the hangover on
// SpeechEnd) and on after it, and restarts with the next segment.
func TestSinceVoiced(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 17))
	hang := ms(DefaultHangoverMs)
	rs := run(newDefault(t), viaCodec(media.CodecPCMU, cat(silence(25), syllables(rng, -30, -10, 40), silence(60),
		syllables(rng, -30, -10, 30), silence(40))))
	last, ends := -1, 0
	for i, r := range rs {
		speech := r.Class.IsSpeech() || r.SpeechEnd
		switch {
		case speech && r.Voiced:
			last = i
			if r.SinceVoiced != 0 {
				t.Fatalf("frame %d: voiced speech with SinceVoiced %d", i, r.SinceVoiced)
			}
		case last >= 0 && r.SinceVoiced != i-last:
			t.Fatalf("frame %d: SinceVoiced %d, want %d", i, r.SinceVoiced, i-last)
		}
		if r.SpeechEnd {
			ends++
			if r.SinceVoiced != hang {
				t.Errorf("frame %d: SpeechEnd with SinceVoiced %d, want the hangover %d", i, r.SinceVoiced, hang)
			}
		}
	}
	if ends != 2 {
		t.Errorf("%d ends of speech, want 2", ends)
	}
}
