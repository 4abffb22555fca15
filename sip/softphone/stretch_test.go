package softphone

import (
	"math"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/media"
)

// sine returns d of a 440 Hz sine with the given peak amplitude.
func sine(d time.Duration, amp float64) []int16 {
	n := int(d * media.SampleRate / time.Second)
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amp * math.Sin(2*math.Pi*440*float64(i)/media.SampleRate))
	}
	return out
}

func quiet(d time.Duration) []int16 { return make([]int16, int(d*media.SampleRate/time.Second)) }

func concat(parts ...[]int16) []int16 {
	var out []int16
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

const ms = time.Millisecond

func TestLevelDB(t *testing.T) {
	square := make([]int16, 160)
	for i := range square {
		square[i] = 32767
		if i%2 == 1 {
			square[i] = -32768
		}
	}
	for _, tc := range []struct {
		name string
		pcm  []int16
		want float64
	}{
		{"full-scale square", square, 0},
		{"sine at 0.3", sine(20*ms, 0.3*32768), 20*math.Log10(0.3) - 3.01},
		{"digital silence", quiet(20 * ms), -120},
		{"empty", nil, -120},
	} {
		if got := LevelDB(tc.pcm); math.Abs(got-tc.want) > 0.1 {
			t.Errorf("%s: LevelDB = %.2f, want %.2f", tc.name, got, tc.want)
		}
	}
}

func TestFindStretches(t *testing.T) {
	loud := 0.3 * 32768
	pcm := concat(
		quiet(500*ms),
		sine(1000*ms, loud), // one prompt ...
		quiet(200*ms),       // ... with a pause between sentences
		sine(500*ms, loud),
		quiet(2000*ms),
		sine(40*ms, loud), // a click: too short
		quiet(1000*ms),
		sine(300*ms, loud), // still sounding at the end
	)
	got := FindStretches(10*time.Second, pcm, DetectorConfig{})
	want := []Stretch{
		{Start: 10500 * ms, End: 12200 * ms},
		{Start: 15240 * ms, End: 15540 * ms},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d stretches %+v, want %+v", len(got), got, want)
	}
	for i := range want {
		if got[i].Start != want[i].Start || got[i].End != want[i].End {
			t.Errorf("stretch %d = [%v, %v], want [%v, %v]", i, got[i].Start, got[i].End, want[i].Start, want[i].End)
		}
		if lvl := 20*math.Log10(0.3) - 3.01; math.Abs(got[i].LevelDB-lvl) > 0.2 {
			t.Errorf("stretch %d level %.2f, want %.2f", i, got[i].LevelDB, lvl)
		}
	}
}

func TestDetectorBridgeBoundary(t *testing.T) {
	loud := 0.3 * 32768
	for _, tc := range []struct {
		gap  time.Duration
		want int
	}{
		{280 * ms, 1}, // shorter than the bridge: one stretch
		{300 * ms, 2}, // as long as the bridge: two
	} {
		pcm := concat(sine(200*ms, loud), quiet(tc.gap), sine(200*ms, loud), quiet(time.Second))
		if got := FindStretches(0, pcm, DetectorConfig{}); len(got) != tc.want {
			t.Errorf("gap %v: %d stretches %+v, want %d", tc.gap, len(got), got, tc.want)
		}
	}
}

func TestDetectorThreshold(t *testing.T) {
	amp := func(db float64) float64 { return 32768 * math.Sqrt2 * math.Pow(10, db/20) }
	for _, tc := range []struct {
		db   float64
		want int
	}{
		{-44, 1},
		{-46, 0},
	} {
		pcm := concat(sine(time.Second, amp(tc.db)), quiet(time.Second))
		if got := FindStretches(0, pcm, DetectorConfig{}); len(got) != tc.want {
			t.Errorf("tone at %v dBFS: %d stretches, want %d", tc.db, len(got), tc.want)
		}
		cfg := DetectorConfig{ThresholdDB: -50}
		if got := FindStretches(0, pcm, cfg); len(got) != 1 {
			t.Errorf("tone at %v dBFS, threshold -50: %d stretches, want 1", tc.db, len(got))
		}
	}
}

// TestDetectorEdges checks when Push reports: the start once the stretch
// is MinStretch long (with its true start time), the end once the quiet
// after it reached the bridge (with the end of the last loud frame).
func TestDetectorEdges(t *testing.T) {
	d := NewDetector(DetectorConfig{})
	loud := sine(media.FrameDur, 0.3*32768)
	silent := quiet(media.FrameDur)
	type report struct {
		at   time.Duration // time of the frame that produced it
		edge Edge
	}
	var got []report
	push := func(at time.Duration, pcm []int16) {
		if e, ok := d.Push(at, pcm); ok {
			got = append(got, report{at, e})
		}
	}
	at := time.Duration(0)
	for range 10 {
		push(at, silent)
		at += media.FrameDur
	}
	for range 25 { // 0.2 s .. 0.7 s
		push(at, loud)
		at += media.FrameDur
	}
	for range 20 {
		push(at, silent)
		at += media.FrameDur
	}
	if len(got) != 2 {
		t.Fatalf("got %d edges %+v, want 2", len(got), got)
	}
	if s := got[0]; !s.edge.Start || s.edge.Stretch.Start != 200*ms || s.at != 240*ms {
		t.Errorf("start edge %+v, want start 200ms reported by the frame at 240ms", s)
	}
	if e := got[1]; e.edge.Start || e.edge.Stretch.End != 700*ms || e.at != 980*ms || e.edge.Stretch.Duration() != 500*ms {
		t.Errorf("end edge %+v, want end 700ms reported by the frame at 980ms", e)
	}
	if _, ok := d.Flush(); ok {
		t.Errorf("Flush after a closed stretch reported an edge")
	}
}

func TestDetectorConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg DetectorConfig
		ok  bool
	}{
		{DetectorConfig{}, true},
		{DetectorConfig{ThresholdDB: -30, Bridge: time.Second}, true},
		{DetectorConfig{ThresholdDB: 3}, false},
		{DetectorConfig{ThresholdDB: -200}, false},
		{DetectorConfig{Bridge: -ms}, false},
	} {
		if err := tc.cfg.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: Validate() = %v, want ok=%v", tc.cfg, err, tc.ok)
		}
	}
}
