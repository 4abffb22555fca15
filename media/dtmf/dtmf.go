// Package dtmf recognises DTMF key presses carried in the audio itself, for
// trunks that send tones in-band instead of RFC 4733 telephone events. It is
// frame-driven like media/vad: feed it every decoded 20 ms frame of the
// caller's audio, in order; it reads no clock.
//
// # How it decides
//
// The audio is analysed in blocks of BlockSamples (102 samples, 12.75 ms at
// 8 kHz, whatever the frame size), every half block (Hop, 51 samples), so
// each sample is seen twice. In each block the Goertzel algorithm measures
// the eight DTMF frequencies (697, 770, 852, 941 Hz in the low
// group; 1209, 1336, 1477, 1633 Hz in the high group). A block holds a
// key when all of these hold:
//
//   - energy: the strongest tone of each group is at least Options.MinToneDB;
//   - relative peak: each tone stands Options.RelativePeakDB above the
//     other three frequencies of its group;
//   - purity: the two tones carry at least 70% of the block's energy
//     (speech and noise spread theirs over many frequencies);
//   - twist: the high tone is at most Options.ForwardTwistDB louder than
//     the low one, and at most Options.ReverseTwistDB quieter;
//   - second harmonic: neither tone has a second harmonic within
//     Options.HarmonicDB of it (a voice's pitch has harmonics, a DTMF
//     generator's sines do not). The second harmonic of a low tone that
//     falls within two bins of the high tone (2·697 Hz is 58 Hz from 1336
//     Hz) cannot be told from it and is not measured.
//
// Twist and harmonics are measured through a Hann window, so neither tone
// leaks into the other's measure; the rest through the plain block, whose
// narrower main lobe tells the frequencies of a group apart.
//
// A key is reported once, when as many consecutive blocks hold it as always
// fit in a tone of Options.MinToneMs, wherever it falls (four for 40 ms; a
// 20 ms tone fills at most three), and released when as many consecutive
// blocks as always fit in a gap of Options.MinGapMs do not hold it (four
// for 40 ms; a 10 ms dropout spoils at most three). The same key again needs that gap first;
// another key takes over at once.
//
// A Detector is not safe for concurrent use; it belongs to the goroutine
// that receives the call's audio. Frame allocates nothing.
package dtmf

import (
	"errors"
	"fmt"
	"math"

	"github.com/kefu-hotline/kefu/media"
)

// BlockSamples is the Goertzel block: 102 samples (12.75 ms at 8 kHz), long
// enough to tell 697 Hz from 770 Hz, short enough for 40 ms tones and gaps.
const BlockSamples = 102

// Hop is the step from one block to the next: half a block.
const Hop = BlockSamples / 2

// Keys lists the keys by row (low tone) and column (high tone).
var Keys = [4][4]rune{
	{'1', '2', '3', 'A'},
	{'4', '5', '6', 'B'},
	{'7', '8', '9', 'C'},
	{'*', '0', '#', 'D'},
}

// LowFreqs and HighFreqs are the DTMF frequencies in Hz: rows and columns
// of Keys.
var (
	LowFreqs  = [4]float64{697, 770, 852, 941}
	HighFreqs = [4]float64{1209, 1336, 1477, 1633}
)

// Defaults of Options.
const (
	// DefaultMinToneDB is the default lowest level of each tone, in dBFS
	// (RMS; a full-scale sine is -3 dBFS): about -33 dBm0, below the -25
	// dBm0 a line must still carry.
	DefaultMinToneDB = -39.0
	// DefaultForwardTwistDB is the default largest excess of the high tone
	// over the low one.
	DefaultForwardTwistDB = 8.0
	// DefaultReverseTwistDB is the default largest excess of the low tone
	// over the high one.
	DefaultReverseTwistDB = 4.0
	// DefaultRelativePeakDB is the default margin of each tone over the
	// other frequencies of its group.
	DefaultRelativePeakDB = 8.0
	// DefaultHarmonicDB is the default margin of each tone over its second
	// harmonic.
	DefaultHarmonicDB = 12.0
	// DefaultMinToneMs is the default shortest tone that must be heard.
	DefaultMinToneMs = 40
	// DefaultMinGapMs is the default shortest pause between two presses of
	// the same key that must be heard.
	DefaultMinGapMs = 40
)

// toneShare is the least share of a block's energy the two tones must
// carry.
const toneShare = 0.7

// Options tune a Detector. Levels are in dBFS, margins in dB, durations in
// milliseconds. The zero value is not valid: start from DefaultOptions.
type Options struct {
	// MinToneDB is the lowest level, in dBFS RMS, of each of the two tones.
	MinToneDB float64
	// ForwardTwistDB is how much louder the high tone may be than the low
	// one (lines attenuate the high group less than phones boost it).
	ForwardTwistDB float64
	// ReverseTwistDB is how much louder the low tone may be than the high
	// one.
	ReverseTwistDB float64
	// RelativePeakDB is how far each tone must stand above the other
	// frequencies of its group.
	RelativePeakDB float64
	// HarmonicDB is how far each tone must stand above its second
	// harmonic.
	HarmonicDB float64
	// MinToneMs is the shortest tone that must be recognised, wherever it
	// falls on the blocks; tones of half of it are not.
	MinToneMs int
	// MinGapMs is the shortest pause between two presses of the same key
	// that must be recognised as two presses.
	MinGapMs int
}

// DefaultOptions returns the default options: tones of at least -39 dBFS,
// twist within +8/-4 dB, 8 dB relative peak, 12 dB over the second
// harmonic, 40 ms tones and 40 ms gaps.
func DefaultOptions() Options {
	return Options{
		MinToneDB:      DefaultMinToneDB,
		ForwardTwistDB: DefaultForwardTwistDB,
		ReverseTwistDB: DefaultReverseTwistDB,
		RelativePeakDB: DefaultRelativePeakDB,
		HarmonicDB:     DefaultHarmonicDB,
		MinToneMs:      DefaultMinToneMs,
		MinGapMs:       DefaultMinGapMs,
	}
}

// Validate reports every option that is out of range, or nil.
func (o Options) Validate() error {
	var errs []error
	bad := func(name string, v any, want string) {
		errs = append(errs, fmt.Errorf("dtmf: %s = %v: %s", name, v, want))
	}
	margin := func(name string, v, hi float64) {
		if math.IsNaN(v) || v < 0 || v > hi {
			bad(name, v, fmt.Sprintf("want a margin in [0, %v] dB", hi))
		}
	}
	if math.IsNaN(o.MinToneDB) || o.MinToneDB < -90 || o.MinToneDB >= 0 {
		bad("MinToneDB", o.MinToneDB, "want a level in [-90, 0) dBFS")
	}
	margin("ForwardTwistDB", o.ForwardTwistDB, 20)
	margin("ReverseTwistDB", o.ReverseTwistDB, 20)
	margin("RelativePeakDB", o.RelativePeakDB, 40)
	margin("HarmonicDB", o.HarmonicDB, 40)
	const minMs = 25
	if o.MinToneMs < minMs || o.MinToneMs > 1000 {
		bad("MinToneMs", o.MinToneMs, fmt.Sprintf("want [%d, 1000] ms", minMs))
	}
	if o.MinGapMs < minMs || o.MinGapMs > 1000 {
		bad("MinGapMs", o.MinGapMs, fmt.Sprintf("want [%d, 1000] ms", minMs))
	}
	return errors.Join(errs...)
}

// blocksWithin returns how many whole blocks a stretch of ms milliseconds
// always holds, wherever it starts (blocks start every Hop samples).
func blocksWithin(ms int) int {
	n := ms * media.SampleRate / 1000
	return max(2, (n-BlockSamples)/Hop)
}

// Detector recognises DTMF keys in a call's received audio. Create it with
// New; it belongs to one goroutine.
type Detector struct {
	o       Options
	hitsMin int // consecutive blocks holding a key that report it
	missMin int // consecutive blocks without it that release it

	// Thresholds derived from o, on Goertzel powers of one block.
	minPow, fwd, rev, peak, harm float64

	block [BlockSamples]float32 // the newest samples, oldest first
	n     int                   // new samples in block[Hop:]

	cand    rune // key of the last blocks
	hits    int  // consecutive blocks holding cand
	held    rune // key reported and not yet released, or 0
	misses  int  // consecutive blocks without held
	pending [4]rune
	npend   int
}

// New returns a detector with options o, or the error of o.Validate.
func New(o Options) (*Detector, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	ratio := func(db float64) float64 { return math.Pow(10, db/10) }
	// A sine of RMS a over N samples has a Goertzel power of (a·N/√2)².
	a := 32768 * math.Pow(10, o.MinToneDB/20)
	d := &Detector{
		o:       o,
		hitsMin: blocksWithin(o.MinToneMs),
		missMin: blocksWithin(o.MinGapMs),
		minPow:  a * a * BlockSamples * BlockSamples / 2,
		fwd:     ratio(o.ForwardTwistDB),
		rev:     ratio(o.ReverseTwistDB),
		peak:    ratio(o.RelativePeakDB),
		harm:    ratio(o.HarmonicDB),
	}
	return d, nil
}

// Options returns the detector's options.
func (d *Detector) Options() Options { return d.o }

// Reset forgets everything heard, as for a new call. The options stay.
func (d *Detector) Reset() {
	d.block = [BlockSamples]float32{}
	d.n, d.cand, d.hits, d.held, d.misses, d.npend = 0, 0, 0, 0, 0, 0
}

// Frame takes the next samples of decoded audio (normally one 20 ms frame)
// and returns the key of a press recognised in them. Presses are at least
// 50 ms apart, so a frame holds at most one; if a longer slice holds more,
// the next ones are returned by the next calls (up to four are kept).
func (d *Detector) Frame(pcm []int16) (key rune, ok bool) {
	for len(pcm) > 0 {
		k := copy16(d.block[Hop+d.n:], pcm)
		d.n += k
		pcm = pcm[k:]
		if Hop+d.n == BlockSamples {
			d.step(d.analyse())
			copy(d.block[:], d.block[BlockSamples-Hop:])
			d.n = BlockSamples - 2*Hop
		}
	}
	if d.npend == 0 {
		return 0, false
	}
	key = d.pending[0]
	copy(d.pending[:], d.pending[1:d.npend])
	d.npend--
	return key, true
}

// copy16 copies pcm into dst as float32 and returns how many samples.
func copy16(dst []float32, pcm []int16) int {
	n := min(len(dst), len(pcm))
	for i, v := range pcm[:n] {
		dst[i] = float32(v)
	}
	return n
}

// step advances the key state by one block holding key (0 for none).
func (d *Detector) step(key rune) {
	switch {
	case key == 0:
		d.cand, d.hits = 0, 0
	case key == d.cand:
		d.hits++
	default:
		d.cand, d.hits = key, 1
	}
	if d.held != 0 {
		if key == d.held {
			d.misses = 0
		} else if d.misses++; d.misses >= d.missMin {
			d.held = 0
		}
	}
	if d.cand != 0 && d.cand != d.held && d.hits >= d.hitsMin {
		d.held, d.misses = d.cand, 0
		if d.npend < len(d.pending) {
			d.pending[d.npend] = d.cand
			d.npend++
		}
	}
}
