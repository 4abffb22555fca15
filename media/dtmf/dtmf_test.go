package dtmf

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/g711"
)

const fs = media.FrameSamples

// tone describes one key press of a generated sequence.
type tone struct {
	key            rune
	ms, gapMs      int     // tone, then silence
	lowDB, highDB  float64 // levels of the two tones, dBFS RMS
	lowDev, hiDev  float64 // frequency deviations, fractions (0.015 = +1.5%)
	phase0, phase1 float64
}

// sequence returns lead ms of silence, then the presses.
func sequence(lead int, presses []tone) []int16 {
	out := make([]int16, lead*media.SampleRate/1000)
	for _, p := range presses {
		row, col := position(p.key)
		fl := LowFreqs[row] * (1 + p.lowDev)
		fh := HighFreqs[col] * (1 + p.hiDev)
		al := 32768 * math.Pow(10, p.lowDB/20) * math.Sqrt2
		ah := 32768 * math.Pow(10, p.highDB/20) * math.Sqrt2
		n := p.ms * media.SampleRate / 1000
		for i := range n {
			t := float64(i) / media.SampleRate
			v := al*math.Sin(2*math.Pi*fl*t+p.phase0) + ah*math.Sin(2*math.Pi*fh*t+p.phase1)
			out = append(out, int16(max(-32768, min(32767, math.Round(v)))))
		}
		out = append(out, make([]int16, p.gapMs*media.SampleRate/1000)...)
	}
	return out
}

// position returns the row and column of key.
func position(key rune) (row, col int) {
	for r := range Keys {
		for c, k := range Keys[r] {
			if k == key {
				return r, c
			}
		}
	}
	panic("no key " + string(key))
}

// presses returns one press per key of keys, ms long with gapMs after it,
// both tones at db.
func presses(keys string, ms, gapMs int, db float64) []tone {
	var out []tone
	for i, k := range keys {
		out = append(out, tone{key: k, ms: ms, gapMs: gapMs, lowDB: db, highDB: db, phase1: float64(i)})
	}
	return out
}

// viaCodec returns pcm encoded and decoded with a G.711 codec.
func viaCodec(c media.Codec, pcm []int16) []int16 {
	b := make([]byte, len(pcm))
	out := make([]int16, len(pcm))
	if err := g711.Encode(c, b, pcm); err != nil {
		panic(err)
	}
	if err := g711.Decode(c, out, b); err != nil {
		panic(err)
	}
	return out
}

// detect feeds pcm to a detector with options o in frames of size n and
// returns the keys it reports.
func detect(t testing.TB, o Options, pcm []int16, n int) string {
	t.Helper()
	d, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for lo := 0; lo < len(pcm); lo += n {
		if k, ok := d.Frame(pcm[lo:min(lo+n, len(pcm))]); ok {
			b.WriteRune(k)
		}
	}
	// Drain anything still pending.
	for {
		k, ok := d.Frame(nil)
		if !ok {
			break
		}
		b.WriteRune(k)
	}
	return b.String()
}

const allKeys = "123A456B789C*0#D"

// TestAllKeys: all 16 keys with 40 ms tones and 40 ms gaps, at several
// levels, through μ-law and A-law, at every offset against the blocks and
// in frames of several sizes, each reported once.
func TestAllKeys(t *testing.T) {
	for _, db := range []float64{-10, -20, -30, -36} {
		for _, codec := range []media.Codec{media.CodecPCMU, media.CodecPCMA} {
			for lead := 0; lead < 13; lead += 3 {
				pcm := viaCodec(codec, sequence(lead, presses(allKeys, 40, 40, db)))
				for _, n := range []int{fs, 80, 240, 17} {
					if got := detect(t, DefaultOptions(), pcm, n); got != allKeys {
						t.Errorf("%v dBFS %v lead %d ms, frames of %d: got %q, want %q", db, codec, lead, n, got, allKeys)
					}
				}
			}
		}
	}
}

// TestRepeatedKey: the same key with 40 ms gaps is reported each time;
// a gap of one block (a lost packet's worth, 10 ms) does not split a press.
func TestRepeatedKey(t *testing.T) {
	pcm := viaCodec(media.CodecPCMU, sequence(5, presses("55555", 40, 40, -20)))
	if got := detect(t, DefaultOptions(), pcm, fs); got != "55555" {
		t.Errorf("five 5s: got %q", got)
	}
	long := sequence(0, []tone{{key: '7', ms: 100, gapMs: 10, lowDB: -20, highDB: -20},
		{key: '7', ms: 100, gapMs: 50, lowDB: -20, highDB: -20}})
	if got := detect(t, DefaultOptions(), viaCodec(media.CodecPCMU, long), fs); got != "7" {
		t.Errorf("7 with a 10 ms dropout: got %q, want one 7", got)
	}
}

// TestDuration: tones under two thirds of MinToneMs are not keys.
func TestDuration(t *testing.T) {
	for _, ms := range []int{10, 15, 20} {
		for lead := 0; lead < 13; lead++ {
			pcm := viaCodec(media.CodecPCMU, sequence(lead, presses("1590", ms, 60, -20)))
			if got := detect(t, DefaultOptions(), pcm, fs); got != "" {
				t.Errorf("%d ms tones, lead %d ms: got %q, want none", ms, lead, got)
			}
		}
	}
}

// TestTwist: twist inside the limits is accepted, outside rejected, in
// both directions.
func TestTwist(t *testing.T) {
	for _, tc := range []struct {
		twist float64 // high minus low, dB
		ok    bool
	}{{0, true}, {7, true}, {7.5, true}, {-3, true}, {-3.5, true}, {8.5, false}, {9, false}, {-4.5, false}, {-5, false}, {12, false}, {-8, false}} {
		var ps []tone
		for _, k := range allKeys {
			ps = append(ps, tone{key: k, ms: 60, gapMs: 60, lowDB: -22 - tc.twist/2, highDB: -22 + tc.twist/2})
		}
		got := detect(t, DefaultOptions(), viaCodec(media.CodecPCMU, sequence(0, ps)), fs)
		want := ""
		if tc.ok {
			want = allKeys
		}
		if got != want {
			t.Errorf("twist %+v dB: got %q, want %q", tc.twist, got, want)
		}
	}
}

// TestLevels: tones at or above MinToneDB are heard, tones well below not.
func TestLevels(t *testing.T) {
	for _, tc := range []struct {
		db float64
		ok bool
	}{{-10, true}, {-38, true}, {-42, false}, {-50, false}} {
		got := detect(t, DefaultOptions(), viaCodec(media.CodecPCMU, sequence(0, presses(allKeys, 50, 50, tc.db))), fs)
		if (got == allKeys) != tc.ok || (!tc.ok && got != "") {
			t.Errorf("tones at %v dBFS: got %q, heard %v", tc.db, got, tc.ok)
		}
	}
}

// TestFrequencyDeviation: ±1.5% off the nominal frequencies (the ITU Q.24
// tolerance) is heard.
func TestFrequencyDeviation(t *testing.T) {
	for _, dev := range []float64{-0.015, 0.015} {
		var ps []tone
		for _, k := range allKeys {
			ps = append(ps, tone{key: k, ms: 50, gapMs: 50, lowDB: -20, highDB: -20, lowDev: dev, hiDev: -dev})
		}
		if got := detect(t, DefaultOptions(), viaCodec(media.CodecPCMU, sequence(0, ps)), fs); got != allKeys {
			t.Errorf("deviation %+.1f%%: got %q", 100*dev, got)
		}
	}
}

// TestNoise: keys are heard over white noise 20 dB under the tones, and
// noise alone is never a key.
func TestNoise(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	noise := func(db float64, n int) []int16 {
		a := 32768 * math.Pow(10, db/20)
		out := make([]int16, n)
		for i := range out {
			out[i] = int16(max(-32768, min(32767, math.Round(a*rng.NormFloat64()))))
		}
		return out
	}
	pcm := sequence(20, presses(allKeys, 50, 50, -20))
	bg := noise(-37, len(pcm)) // 20 dB under the two tones together
	for i := range pcm {
		pcm[i] = int16(max(-32768, min(32767, int(pcm[i])+int(bg[i]))))
	}
	if got := detect(t, DefaultOptions(), viaCodec(media.CodecPCMU, pcm), fs); got != allKeys {
		t.Errorf("keys over noise: got %q", got)
	}
	for _, db := range []float64{-10, -20, -40} {
		if got := detect(t, DefaultOptions(), viaCodec(media.CodecPCMU, noise(db, 10*media.SampleRate)), fs); got != "" {
			t.Errorf("noise at %v dBFS: keys %q", db, got)
		}
	}
}

func TestValidate(t *testing.T) {
	if err := DefaultOptions().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, edit := range []func(*Options){
		func(o *Options) { o.MinToneDB = 0 },
		func(o *Options) { o.MinToneDB = math.NaN() },
		func(o *Options) { o.ForwardTwistDB = -1 },
		func(o *Options) { o.ReverseTwistDB = 30 },
		func(o *Options) { o.RelativePeakDB = math.NaN() },
		func(o *Options) { o.HarmonicDB = 50 },
		func(o *Options) { o.MinToneMs = 20 },
		func(o *Options) { o.MinGapMs = 5000 },
	} {
		o := DefaultOptions()
		edit(&o)
		if d, err := New(o); err == nil || d != nil {
			t.Errorf("%+v: New succeeded", o)
		}
	}
	err := Options{}.Validate()
	for _, f := range []string{"MinToneDB", "MinToneMs", "MinGapMs"} {
		if err == nil || !strings.Contains(err.Error(), f) {
			t.Errorf("Options{}.Validate() = %v, want it to name %s", err, f)
		}
	}
}

func TestResetAndAllocs(t *testing.T) {
	d, err := New(DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	pcm := viaCodec(media.CodecPCMU, sequence(0, presses("9", 30, 0, -20)))
	d.Frame(pcm[:fs]) // half a press
	d.Reset()
	if k, ok := d.Frame(pcm[fs:]); ok {
		t.Errorf("key %c after Reset from half a press", k)
	}
	speech := viaCodec(media.CodecPCMU, sequence(0, presses(allKeys, 40, 40, -20)))
	i := 0
	if a := testing.AllocsPerRun(500, func() {
		lo := (i * fs) % (len(speech) - fs)
		d.Frame(speech[lo : lo+fs])
		i++
	}); a != 0 {
		t.Errorf("%v allocations per frame", a)
	}
}

func BenchmarkFrame(b *testing.B) {
	pcm := viaCodec(media.CodecPCMU, sequence(0, presses(allKeys, 60, 60, -20)))
	d, err := New(DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	frames := len(pcm) / fs
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		lo := (i % frames) * fs
		d.Frame(pcm[lo : lo+fs])
		i++
	}
}

// BenchmarkFrameSpeech: a frame of speech, the usual load.
func BenchmarkFrameSpeech(b *testing.B) {
	pcm, err := readWAV8k("../../testdata/audio/zh-speech-20.wav")
	if err != nil {
		b.Fatal(err)
	}
	d, err := New(DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	frames := len(pcm) / fs
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		lo := (i % frames) * fs
		d.Frame(pcm[lo : lo+fs])
		i++
	}
}
