package vad

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// The end of an utterance, for the line judge of CS-LISTEN: the caller has
// finished after 0.8 s without speech, and pauses of up to 0.5 s inside a
// sentence do not end it. The detector reports SpeechEnd HangoverMs after
// the last voiced frame of speech; the judge counts frames from there.
// eouReport measures both on the cases whose spoken parts are known
// exactly (phrases: two parts of a sentence, a 350 ms pause between them).

// eouFrames is the judge's silence that ends an utterance: 0.8 s.
const eouFrames = 40

// eouCase is what one phrase gave.
type eouCase struct {
	name   string
	end    int // SpeechEnd after the sentence's last part, ms after its real end; -1 if none
	judge  int // the judge's end of utterance, ms after the real end; -1 if none
	splits int // SpeechEnd events inside the sentence
	judged int // ends of utterance the judge would report inside the sentence
	gap    int // the longest SinceVoiced inside the sentence, once speech began, ms
}

// eou runs c through a detector with options o and measures its phrase,
// with the line judge of CS-LISTEN built on Result as the next piece of
// work will: an utterance opens on SpeechStart and ends on the first frame
// outside speech whose SinceVoiced reaches eouFrames.
func eou(t testing.TB, o Options, c *evalCase) eouCase {
	d, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	rs := run(d, c.pcm)
	first, last := c.parts[0].start, c.parts[len(c.parts)-1]
	e := eouCase{name: c.name, end: -1, judge: -1}
	open, gap := false, 0
	for i, r := range rs {
		if r.SpeechStart {
			open = true
		}
		if i >= first && i < last.end && open {
			gap = max(gap, r.SinceVoiced)
		}
		if r.SpeechEnd {
			switch {
			case i < last.start:
				e.splits++
			case e.end < 0:
				e.end = (i+1)*frameMs - last.end*frameMs
			}
		}
		if open && !r.Class.IsSpeech() && r.SinceVoiced >= eouFrames {
			open = false
			if i < last.end {
				e.judged++
			} else if e.judge < 0 {
				e.judge = (i+1)*frameMs - last.end*frameMs
			}
		}
	}
	e.gap = gap * frameMs
	return e
}

// eouReport logs the end-of-utterance timing over the phrase cases of cs.
func eouReport(t *testing.T, title string, cs []evalCase) []eouCase {
	var out []eouCase
	for i := range cs {
		if cs[i].parts != nil {
			out = append(out, eou(t, DefaultOptions(), &cs[i]))
		}
	}
	var ends, judges, gaps []int
	missing, splits, judged := 0, 0, 0
	var b strings.Builder
	for _, e := range out {
		if e.end < 0 || e.judge < 0 {
			missing++
		} else {
			ends, judges = append(ends, e.end), append(judges, e.judge)
		}
		gaps = append(gaps, e.gap)
		splits += min(e.splits, 1)
		judged += min(e.judged, 1)
		fmt.Fprintf(&b, "    %-44s SpeechEnd %+5d ms, end of utterance %+5d ms, longest SinceVoiced %4d ms, %d splits, %d ends inside\n",
			e.name, e.end, e.judge, e.gap, e.splits, e.judged)
	}
	t.Logf("%s: end of utterance over %d phrases (two parts, a 350 ms pause):", title, len(out))
	t.Logf("  SpeechEnd after the real end:          p50 %s, p95 %s, max %s", pct(ends, 50), pct(ends, 95), pct(ends, 100))
	t.Logf("  end of utterance (SinceVoiced = 0.8 s): p50 %s, p95 %s, max %s", pct(judges, 50), pct(judges, 95), pct(judges, 100))
	t.Logf("  longest SinceVoiced inside a sentence: p50 %s, p95 %s, max %s", pct(gaps, 50), pct(gaps, 95), pct(gaps, 100))
	t.Logf("  sentences split by SpeechEnd at the pause: %d of %d; ended (0.8 s) inside: %d; no end found: %d",
		splits, len(out), judged, missing)
	if testing.Verbose() {
		t.Logf("per phrase:\n%s", b.String())
	}
	return out
}

// pct returns the p-th percentile (nearest rank) of vs in ms, or "-".
func pct(vs []int, p int) string {
	if len(vs) == 0 {
		return "-"
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	i := max((p*len(s)+99)/100-1, 0)
	return fmt.Sprintf("%d ms", s[i])
}
