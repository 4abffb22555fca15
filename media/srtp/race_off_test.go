//go:build !race

package srtp

const raceOn = false
