//go:build race

package srtp

// raceOn: under the race detector sync.Pool drops what is put back at
// random, so pion's pooled buffers are allocated anew now and then; the
// allocation count means something only without it.
const raceOn = true
