//go:build !race

package amd

const raceOn = false
