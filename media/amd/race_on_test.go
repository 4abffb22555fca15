//go:build race

package amd

// raceOn: the race detector makes decoding the embedded prompt sets take
// over a minute; TestPrompts, which is single-goroutine, skips then.
const raceOn = true
