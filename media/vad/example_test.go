package vad_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/vad"
)

// voice returns sample n of a vowel-like sound: five harmonics of a pitch
// gliding around 200 Hz, at amplitude a. (A pure tone is not a voice: the
// detector takes it for a dial or DTMF tone.)
func voice(n int, a float64) int16 {
	t := float64(n) / media.SampleRate
	phase := 2 * math.Pi * (200*t - 20/(2*math.Pi*1.5)*math.Cos(2*math.Pi*1.5*t))
	v := 0.0
	for k := 1; k <= 5; k++ {
		v += math.Sin(float64(k)*phase) / float64(k)
	}
	return int16(a * v / 1.3)
}

// The receive loop of a call: one Frame per decoded 20 ms frame, acting on
// changes of class. Here, 300 ms of silence, 600 ms of a vowel-like sound
// whose level swings at 4 Hz, then silence: speech is reported on the fifth
// frame of sound (OnsetMs, 80 ms, and a frame more for its level to move
// as no tone's or hum's does) and ends on the twentieth frame after it
// (HangoverMs, 400 ms).
func Example() {
	d, err := vad.New(vad.DefaultOptions())
	if err != nil {
		panic(err)
	}
	var frame media.Frame
	for f := range 100 {
		clear(frame[:])
		if f >= 15 && f < 45 {
			a := 3000 * (1.1 + math.Sin(2*math.Pi*4*float64(f)/50))
			for i := range frame {
				frame[i] = voice(f*len(frame)+i, a)
			}
		}
		if r := d.Frame(frame[:]); r.Changed {
			at := time.Duration(r.Frame) * media.FrameDur
			fmt.Printf("%v at %v, floor %.0f dBFS\n", r.Class, at, r.FloorDB)
		}
	}
	// Output:
	// speech at 380ms, floor -96 dBFS
	// silence at 1.28s, floor -96 dBFS
}

// The line conditions: a loud noise, then silence, then a weak voice. Each
// change of class comes with the levels behind it; Window says what the
// last 500 ms held as a whole.
func Example_lineConditions() {
	d, err := vad.New(vad.DefaultOptions())
	if err != nil {
		panic(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var frame media.Frame
	for f := range 200 {
		for i := range frame {
			n := f*len(frame) + i
			switch {
			case f < 50: // white noise at about -25 dBFS
				frame[i] = int16(1850 * rng.NormFloat64())
			case f >= 100 && f < 150: // a voice at about -45 dBFS
				frame[i] = voice(n, 180*(1.1+math.Sin(2*math.Pi*4*float64(f)/50)))
			default:
				frame[i] = 0
			}
		}
		if r := d.Frame(frame[:]); r.Changed {
			at := time.Duration(r.Frame) * media.FrameDur
			fmt.Printf("%v at %v: level %.0f, floor %.0f, segment %.0f dBFS; window %v\n",
				r.Class, at, r.LevelDB, r.FloorDB, r.SegmentDB, r.Window)
		}
	}
	// Output:
	// noise at 0s: level -26, floor -35, segment -96 dBFS; window noise
	// silence at 1.16s: level -96, floor -96, segment -96 dBFS; window silence
	// weak speech at 2.06s: level -43, floor -96, segment -44 dBFS; window weak speech
	// silence at 3.38s: level -96, floor -96, segment -45 dBFS; window silence
}
