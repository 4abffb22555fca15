//go:build race

package registrar

// raceOn: under the race detector sync.Pool (fmt's printers among its
// users) drops what is put back at random, so allocation counts vary by
// one from run to run; they are compared only without it.
const raceOn = true
