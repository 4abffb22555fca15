package amd

import "math"

// A beep is a pure tone: one sinusoid, steady in pitch and level. A
// sinusoid obeys x[n] = c·x[n-1] - x[n-2] with c = 2cos(2πf/fs), so a
// frame that the best such c predicts with almost no error is a pure tone
// of frequency f; a voice, a noise or a pair of tones (a DTMF key) leaves
// a large error. A beep holds its pitch within a per cent from frame to
// frame; a voice's harmonics and formants move.
const (
	// beepResidual is the most a pure tone's frame leaves unpredicted,
	// as a share of its power: -13 dB, a tone 20 dB above a noise passes.
	beepResidual = 0.05
	// beepMinDB is the least level of a beep, in dBFS.
	beepMinDB = -45.0
	// beepLoHz and beepHiHz bound a beep's pitch.
	beepLoHz, beepHiHz = 300.0, 3000.0
	// beepDrift is how far a beep's pitch may move from one frame to the
	// next, as a share of it.
	beepDrift = 0.02
)

// beep follows the runs of pure-tone frames.
type beep struct {
	prev1, prev2 float64 // the last two samples of the previous frame
	hz           float64 // the pitch of the run, 0 outside one
	run          uint64  // frames in the run
}

// frame measures one frame and returns the length of the tone run it
// ends, in frames (0 when it is not a tone).
func (b *beep) frame(pcm []int16) uint64 {
	hz, ok := b.pure(pcm)
	switch {
	case !ok:
		b.hz, b.run = 0, 0
	case b.run > 0 && math.Abs(hz-b.hz) <= beepDrift*b.hz:
		b.run++
	default:
		b.hz, b.run = hz, 1
	}
	return b.run
}

// lost breaks a run.
func (b *beep) lost() {
	b.hz, b.run, b.prev1, b.prev2 = 0, 0, 0, 0
}

// pure reports whether the frame is a pure tone, and its pitch.
func (b *beep) pure(pcm []int16) (float64, bool) {
	if len(pcm) < 3 {
		return 0, false
	}
	x1, x2 := b.prev1, b.prev2 // x[n-1], x[n-2]
	var num, den, pow float64
	for _, s := range pcm {
		x := float64(s)
		num += (x + x2) * x1
		den += x1 * x1
		pow += x * x
		x2, x1 = x1, x
	}
	b.prev1, b.prev2 = x1, x2
	n := float64(len(pcm))
	if den == 0 || 10*math.Log10(pow/n/fullScale2+1e-12) < beepMinDB {
		return 0, false
	}
	c := num / den
	if c <= -2 || c >= 2 {
		return 0, false
	}
	x1, x2 = 0, 0
	var res float64
	for i, s := range pcm {
		x := float64(s)
		if i >= 2 {
			e := x - c*x1 + x2
			res += e * e
		}
		x2, x1 = x1, x
	}
	if res > beepResidual*pow {
		return 0, false
	}
	hz := math.Acos(c/2) * sampleRate / (2 * math.Pi)
	return hz, hz >= beepLoHz && hz <= beepHiHz
}

// fullScale2 is the power of a full-scale square wave (0 dBFS).
const fullScale2 = 32768.0 * 32768.0

const sampleRate = 8000.0
