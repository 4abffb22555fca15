package vad_test

import (
	"fmt"
	"math"
	"time"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/vad"
)

// The receive loop of a call: one Frame per decoded 20 ms frame, acting on
// changes of class. Here, 300 ms of silence, 600 ms of a vowel-like sound
// whose level swings at 4 Hz, then silence: speech is reported on the fourth
// frame of sound (OnsetMs, 80 ms) and ends on the twentieth frame after it
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
				frame[i] = int16(a * math.Sin(2*math.Pi*220*float64(f*len(frame)+i)/media.SampleRate))
			}
		}
		if r := d.Frame(frame[:]); r.Changed {
			at := time.Duration(r.Frame) * media.FrameDur
			fmt.Printf("%v at %v, floor %.0f dBFS\n", r.Class, at, r.FloorDB)
		}
	}
	// Output:
	// speech at 360ms, floor -96 dBFS
	// silence at 1.28s, floor -96 dBFS
}
