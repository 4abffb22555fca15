//go:build !race

package registrar

const raceOn = false
