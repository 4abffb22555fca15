package amd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/audio"
	"github.com/kefu-hotline/kefu/media/g711"
)

// The spoken clips of testdata (made by its make.sh with espeak-ng): h-*
// what a person says on picking up, m-* answering-machine greetings. The
// cases below put them on a line: a moment of quiet after the answer,
// the clip, then for a machine maybe its beep, then quiet, over digital
// silence, a low hiss or a white noise, all through G.711 μ-law.

// clip reads testdata/name.wav.
func clip(t testing.TB, name string) []int16 {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name+".wav"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := audio.ReadWAV(f)
	if err != nil {
		t.Fatal(err)
	}
	if p.Rate != media.SampleRate {
		t.Fatalf("%s: %d Hz", name, p.Rate)
	}
	return p.MonoInt16()
}

// line builds what the far end sends.
type line struct {
	pcm []int16
}

func (l *line) quiet(d time.Duration) *line {
	l.pcm = append(l.pcm, make([]int16, samples(d))...)
	return l
}

func (l *line) speech(pcm []int16) *line {
	l.pcm = append(l.pcm, pcm...)
	return l
}

// tone appends a sine of hz at dbfs (0 dBFS: a full-scale square wave).
func (l *line) tone(hz float64, dbfs float64, d time.Duration) *line {
	amp := 32768 * math.Sqrt2 * math.Pow(10, dbfs/20)
	n := samples(d)
	for i := range n {
		l.pcm = append(l.pcm, int16(amp*math.Sin(2*math.Pi*hz*float64(i)/media.SampleRate)))
	}
	return l
}

// dtmf appends a key's two tones.
func (l *line) dtmf(lo, hi float64, d time.Duration) *line {
	amp := 32768 * math.Pow(10, -12.0/20)
	for i := range samples(d) {
		x := float64(i) / media.SampleRate
		l.pcm = append(l.pcm, int16(amp*(math.Sin(2*math.Pi*lo*x)+math.Sin(2*math.Pi*hi*x))))
	}
	return l
}

// over adds a background of the kind at dbfs over the whole line, then
// passes it through μ-law.
func (l *line) over(kind string, dbfs float64, seed uint64) []int16 {
	out := make([]int16, len(l.pcm))
	r := rand.New(rand.NewPCG(seed, 1))
	sd := 32768 * math.Pow(10, dbfs/20)
	for i, s := range l.pcm {
		v := float64(s)
		if kind != "silence" {
			v += r.NormFloat64() * sd
		}
		out[i] = int16(max(-32768, min(32767, v)))
	}
	b := make([]byte, len(out))
	g711.EncodeUlaw(b, out)
	g711.DecodeUlaw(out, b)
	return out
}

func samples(d time.Duration) int { return int(d * media.SampleRate / time.Second) }

// run feeds pcm frame by frame and returns the decision (Undecided if
// the audio ran out first).
func run(t testing.TB, o Options, pcm []int16) Decision {
	t.Helper()
	d, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	for len(pcm) >= media.FrameSamples {
		if dec, ok := d.Frame(pcm[:media.FrameSamples]); ok {
			return dec
		}
		pcm = pcm[media.FrameSamples:]
	}
	return d.Decision()
}

// amdCase is one call's answer.
type amdCase struct {
	name    string
	want    Verdict
	pcm     []int16
	lead    time.Duration // quiet before the speech
	speech  time.Duration // the clip's length
	within  time.Duration // the decision is due this long after the speech ends (human) or starts (machine)
	minimum time.Duration // and not before this long after the answer
}

var backgrounds = []struct {
	kind string
	db   float64
}{{"silence", 0}, {"hiss", -60}, {"noise", -38}}

// cases builds the fixture set: every person's clip and every machine's
// over each background, with and without a beep, plus the lines with no
// speech at all.
func cases(t testing.TB) []amdCase {
	const lead = 300 * time.Millisecond
	var out []amdCase
	humans := []string{"h-zh-wei-nihao-nawei", "h-zh-wei", "h-zh-ninhao", "h-zh-wei-ninhao", "h-zh-wei-shei", "h-en-hello", "h-en-hello-who", "h-en-speaking"}
	longs := []string{"m-zh-carrier", "m-zh-personal", "m-en-personal", "m-en-carrier"}
	shorts := []string{"m-zh-short", "m-en-short"}
	dur := func(pcm []int16) time.Duration { return time.Duration(len(pcm)) * time.Second / media.SampleRate }
	for i, bg := range backgrounds {
		seed := uint64(i + 1)
		for _, h := range humans {
			c := clip(t, h)
			out = append(out, amdCase{name: h + "/" + bg.kind, want: Human, lead: lead, speech: dur(c), within: DefaultEndSilence + 300*time.Millisecond,
				pcm: new(line).quiet(lead).speech(c).quiet(8*time.Second).over(bg.kind, bg.db, seed)})
		}
		for j, m := range longs {
			c := clip(t, m)
			hz := []float64{1000, 1400, 440, 1000}[j]
			out = append(out, amdCase{name: m + "+beep/" + bg.kind, want: Machine, lead: lead, speech: dur(c), within: DefaultLongGreeting + 500*time.Millisecond,
				pcm: new(line).quiet(lead).speech(c).quiet(400*time.Millisecond).tone(hz, -12, 500*time.Millisecond).quiet(4*time.Second).over(bg.kind, bg.db, seed)})
			out = append(out, amdCase{name: m + "/" + bg.kind, want: Machine, lead: lead, speech: dur(c), within: DefaultLongGreeting + 500*time.Millisecond,
				pcm: new(line).quiet(lead).speech(c).quiet(4*time.Second).over(bg.kind, bg.db, seed)})
		}
		for _, m := range shorts {
			c := clip(t, m)
			out = append(out, amdCase{name: m + "+beep/" + bg.kind, want: Machine, lead: lead, speech: dur(c),
				within: dur(c) + 300*time.Millisecond + DefaultBeep + 200*time.Millisecond,
				pcm:    new(line).quiet(lead).speech(c).quiet(300*time.Millisecond).tone(1000, -15, 600*time.Millisecond).quiet(4*time.Second).over(bg.kind, bg.db, seed)})
		}
		out = append(out,
			amdCase{name: "nothing/" + bg.kind, want: Human, minimum: DefaultSilence, within: DefaultSilence + 100*time.Millisecond,
				pcm: new(line).quiet(10*time.Second).over(bg.kind, bg.db, seed)},
			amdCase{name: "beep only/" + bg.kind, want: Machine, lead: time.Second, within: DefaultBeep + 200*time.Millisecond,
				pcm: new(line).quiet(time.Second).tone(1000, -12, 800*time.Millisecond).quiet(5*time.Second).over(bg.kind, bg.db, seed)},
			amdCase{name: "key 5/" + bg.kind, want: Human, lead: time.Second, within: 200 * time.Millisecond,
				pcm: new(line).quiet(time.Second).dtmf(770, 1336, 400*time.Millisecond).quiet(5*time.Second).over(bg.kind, bg.db, seed)},
		)
	}
	return out
}

// TestFixtures: every person's greeting is a person, every machine's a
// machine, each in time: a person within the end of an utterance (0.8 s)
// and a little more after the greeting ends, a machine within the long
// greeting's 2.5 s and a little more after it starts, or just after its
// beep. It prints the accuracy and the decision delays.
func TestFixtures(t *testing.T) {
	var right, wrong int
	var humanDelay, machineDelay []time.Duration
	var report strings.Builder
	for _, c := range cases(t) {
		d := run(t, DefaultOptions(), c.pcm)
		fmt.Fprintf(&report, "%-32s %-8s %-15s after %5.2fs greeting %4.2fs (clip %4.2fs)\n", c.name, d.Verdict, d.Reason,
			d.After.Seconds(), d.Greeting.Seconds(), c.speech.Seconds())
		if d.Verdict != c.want {
			wrong++
			t.Errorf("%s: %s (%s after %v), want %s", c.name, d.Verdict, d.Reason, d.After, c.want)
			continue
		}
		right++
		due := c.lead + c.within
		switch {
		case c.want == Human && c.speech > 0:
			due += c.speech
			humanDelay = append(humanDelay, d.After-c.lead-c.speech)
		case c.want == Machine:
			machineDelay = append(machineDelay, d.After-c.lead)
		}
		if d.After > due || d.After < c.minimum {
			t.Errorf("%s: decided after %v, want between %v and %v", c.name, d.After, c.minimum, due)
		}
	}
	t.Logf("decisions:\n%s", report.String())
	t.Logf("accuracy %d/%d (%.1f%%); person decided %s after the greeting ends; machine %s after the greeting starts",
		right, right+wrong, 100*float64(right)/float64(right+wrong), spread(humanDelay), spread(machineDelay))
}

// spread is "min–max (mean)" of ds.
func spread(ds []time.Duration) string {
	if len(ds) == 0 {
		return "-"
	}
	lo, hi, sum := ds[0], ds[0], time.Duration(0)
	for _, d := range ds {
		lo, hi, sum = min(lo, d), max(hi, d), sum+d
	}
	return fmt.Sprintf("%.2f–%.2f s (mean %.2f s)", lo.Seconds(), hi.Seconds(), (sum / time.Duration(len(ds))).Seconds())
}
