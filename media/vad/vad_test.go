package vad

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestClassString(t *testing.T) {
	for c, want := range map[Class]string{Silence: "silence", Speech: "speech", 9: "Class(9)"} {
		if got := c.String(); got != want {
			t.Errorf("Class(%d).String() = %q, want %q", uint8(c), got, want)
		}
	}
	if Silence.IsSpeech() || !Speech.IsSpeech() {
		t.Error("IsSpeech wrong")
	}
}

func TestValidate(t *testing.T) {
	if err := DefaultOptions().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	nan := math.NaN()
	cases := []struct {
		field string
		edit  func(*Options)
	}{
		{"MinLevelDB", func(o *Options) { o.MinLevelDB = 3 }},
		{"MinLevelDB", func(o *Options) { o.MinLevelDB = -120 }},
		{"MinLevelDB", func(o *Options) { o.MinLevelDB = nan }},
		{"EnterDB", func(o *Options) { o.EnterDB = 0 }},
		{"EnterDB", func(o *Options) { o.EnterDB = math.Inf(1) }},
		{"ExitDB", func(o *Options) { o.ExitDB = -1 }},
		{"ExitDB", func(o *Options) { o.ExitDB = o.EnterDB + 1 }},
		{"OnsetMs", func(o *Options) { o.OnsetMs = 0 }},
		{"OnsetMs", func(o *Options) { o.OnsetMs = 5000 }},
		{"HangoverMs", func(o *Options) { o.HangoverMs = -20 }},
		{"HangoverMs", func(o *Options) { o.HangoverMs = 60000 }},
		{"MinPeriodicity", func(o *Options) { o.MinPeriodicity = 1 }},
		{"MinPeriodicity", func(o *Options) { o.MinPeriodicity = nan }},
		{"FloorMs", func(o *Options) { o.FloorMs = 0 }},
		{"FloorMs", func(o *Options) { o.FloorMs = 60000 }},
		{"WindowMs", func(o *Options) { o.WindowMs = 10 }},
		{"WindowMs", func(o *Options) { o.WindowMs = 60000 }},
		{"WeakDB", func(o *Options) { o.WeakDB = 1 }},
		{"NoiseDB", func(o *Options) { o.NoiseDB = nan }},
		{"SteadyMs", func(o *Options) { o.SteadyMs = 20 }},
		{"SteadyMs", func(o *Options) { o.SteadyMs = 10000 }},
		{"SteadyMs", func(o *Options) { o.OnsetMs, o.SteadyMs = 300, 200 }},
		{"SteadyRangeDB", func(o *Options) { o.SteadyRangeDB = 0 }},
		{"SteadyRangeDB", func(o *Options) { o.SteadyRangeDB = 40 }},
		{"StartFloorDB", func(o *Options) { o.StartFloorDB = 0 }},
		{"StartFloorDB", func(o *Options) { o.StartFloorDB = math.Inf(-1) }},
	}
	for _, c := range cases {
		o := DefaultOptions()
		c.edit(&o)
		err := o.Validate()
		if err == nil || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%+v: Validate() = %v, want an error about %s", o, err, c.field)
		}
		if d, err := New(o); d != nil || err == nil {
			t.Errorf("%+v: New succeeded", o)
		}
	}
	// Every bad field is reported at once.
	err := Options{}.Validate()
	for _, f := range []string{"MinLevelDB", "EnterDB", "OnsetMs", "HangoverMs", "FloorMs", "SteadyMs", "SteadyRangeDB", "StartFloorDB", "WindowMs", "WeakDB", "NoiseDB"} {
		if err == nil || !strings.Contains(err.Error(), f) {
			t.Errorf("Options{}.Validate() = %v, want it to name %s", err, f)
		}
	}
}

func TestLevel(t *testing.T) {
	square := make([]int16, fs)
	sine := make([]int16, fs)
	lsb := make([]int16, fs)
	dc := make([]int16, fs)
	for i := range fs {
		square[i] = int16(32767 - 65535*(i%2))
		sine[i] = clip(32767 * math.Sin(2*math.Pi*float64(i)/16))
		lsb[i] = int16(1 - 2*(i%2))
		dc[i] = 1000
	}
	cases := []struct {
		name string
		pcm  []int16
		want float64
	}{
		{"full-scale square", square, 0},
		{"full-scale sine", sine, -3.01},
		{"one LSB square", lsb, -90.31},
		{"zeros", make([]int16, fs), MinDB},
		{"DC", dc, MinDB},
		{"empty", nil, MinDB},
		{"partial frame", sine[:80], -3.01},
	}
	for _, c := range cases {
		if got := Level(c.pcm); math.Abs(got-c.want) > 0.01 {
			t.Errorf("%s: Level = %.3f, want %.2f", c.name, got, c.want)
		}
	}
}

// TestTiming checks onset and hangover counted in frames, for several
// options, on a speech-like signal whose every frame is voiced.
func TestTiming(t *testing.T) {
	for _, tc := range []struct{ onset, hang int }{
		{20, 100}, {80, 400}, {100, 300}, {200, 1000}, {300, 500}, {70, 410},
	} {
		o := DefaultOptions()
		o.OnsetMs, o.HangoverMs = tc.onset, tc.hang
		d, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		// Speech shorter than FloorMs after silence: the floor stays at
		// the silence, so every frame of it is voiced.
		const start, stop = 50, 95
		rng := rand.New(rand.NewPCG(1, 1))
		rs := run(d, cat(silence(start), syllables(rng, -30, -10, stop-start), silence(100)))
		want := []segment{{start + ms(tc.onset) - 1, stop + ms(tc.hang) - 1}}
		if got := segments(rs); len(got) != 1 || got[0] != want[0] {
			t.Errorf("onset %d ms, hangover %d ms: segments %v, want %v", tc.onset, tc.hang, got, want)
		}
	}
}

// TestHysteresis: audio between the exit and the enter margin keeps speech
// going but does not start it. Everything lasts less than FloorMs, so the
// floor stays at the hiss.
func TestHysteresis(t *testing.T) {
	o := DefaultOptions()
	o.EnterDB, o.ExitDB = 12, 4
	o.HangoverMs = 100
	o.MinLevelDB = -80
	o.AdaptMargins = false // the margins as set: AdaptMargins would lower them over the hiss
	// Floor: hiss at -60. Mid: -56..-50, above floor+4, below floor+12.
	for _, tc := range []struct {
		name      string
		loudFirst bool
		want      int // speech frames in the middle part
	}{
		{"mid after speech stays speech", true, 25},
		{"mid after hiss stays silence", false, 0},
	} {
		d, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(5, 5))
		var loud []int16
		if tc.loudFirst {
			loud = syllables(rng, -30, -10, 20)
		}
		pcm := cat(white(rng, -60, 50), loud, syllables(rng, -56, -50, 25))
		rs := run(d, pcm)
		mid := rs[len(rs)-25:]
		if got := speechFrames(mid); got != tc.want {
			t.Errorf("%s: %d speech frames in the middle, want %d (floor %.1f)", tc.name, got, tc.want, mid[0].FloorDB)
		}
	}
}

func TestPartialAndOddFrames(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	d := newDefault(t)
	pcm := cat(silence(25), syllables(rng, -30, -10, 50))
	var got []Result
	for lo := 0; lo < len(pcm); lo += fs / 2 {
		got = append(got, d.Frame(pcm[lo:lo+fs/2]))
	}
	if speechFrames(got) == 0 {
		t.Error("half frames of speech: no speech")
	}
	if r := d.Frame(nil); r.LevelDB != MinDB || r.Frame != uint64(len(got)) {
		t.Errorf("empty frame: %+v", r)
	}
}

func TestFrameIndexAndReset(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	d := newDefault(t)
	rs := run(d, syllables(rng, -30, -10, 30))
	for i, r := range rs {
		if r.Frame != uint64(i) {
			t.Fatalf("result %d has Frame %d", i, r.Frame)
		}
	}
	if d.Class() != Speech || d.Class() != rs[len(rs)-1].Class {
		t.Fatalf("Class() = %v after speech", d.Class())
	}
	d.Reset()
	if d.Class() != Silence {
		t.Fatalf("Class() = %v after Reset", d.Class())
	}
	if r := d.Frame(silence(1)); r.Frame != 0 || r.Changed || r.FloorDB != MinDB {
		t.Fatalf("first frame after Reset: %+v", r)
	}
	if d.Options() != DefaultOptions() {
		t.Fatal("Options changed")
	}
}

func TestNoAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	pcm := syllables(rng, -40, -10, 50)
	d := newDefault(t)
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		lo := (i % 50) * fs
		d.Frame(pcm[lo : lo+fs])
		d.ComfortNoise(50)
		i++
	})
	if allocs != 0 {
		t.Errorf("%v allocations per frame, want 0", allocs)
	}
}

// BenchmarkFrame measures one frame: a voice whose every frame is voiced
// (the worst case: periodicity on every frame), a real utterance with its
// pauses, white noise, digital silence, and DTMF keys (periodicity and
// tonality on most frames).
func BenchmarkFrame(b *testing.B) {
	rng := rand.New(rand.NewPCG(10, 10))
	var speech []int16
	for _, fx := range audioFixtures(b) {
		if fx.name == "zh-speech-20.wav" {
			speech = fx.pcm
		}
	}
	for _, c := range []struct {
		name string
		pcm  []int16
	}{
		{"voice", syllables(rng, -40, -10, 250)},
		{"speech", speech},
		{"noise", white(rng, -30, 250)},
		{"silence", silence(250)},
		// DTMF keys, 100 ms on and off: the tone check on every key frame.
		{"keys", keyRun("123A456B789C*0#D", -13, 2, 800, 800)},
	} {
		b.Run(c.name, func(b *testing.B) {
			d := newDefault(b)
			frames := len(c.pcm) / fs
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				lo := (i % frames) * fs
				d.Frame(c.pcm[lo : lo+fs])
				i++
			}
		})
	}
}
