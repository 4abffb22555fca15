package vad

import "math"

// power returns the power of a level in dBFS, relative to full scale.
func power(l float64) float64 {
	if l <= MinDB {
		return 0
	}
	return math.Pow(10, l/10)
}

// db returns the level in dBFS of a power relative to full scale, at least
// MinDB.
func db(p float64) float64 {
	if p <= minPower {
		return MinDB
	}
	return max(10*math.Log10(p), MinDB)
}

// fullScale2 is the mean square of a full-scale square wave: 0 dBFS.
const fullScale2 = 32768.0 * 32768.0

// minPower is the power at MinDB, relative to full scale.
var minPower = math.Pow(10, MinDB/10)

// Level returns the level of pcm in dBFS: the RMS with the mean (DC offset)
// removed, relative to a full-scale square wave, and at least MinDB. An
// empty slice is MinDB.
func Level(pcm []int16) float64 {
	l, _ := level(pcm)
	return l
}

// level returns the level of pcm and its mean.
func level(pcm []int16) (l, mean float64) {
	if len(pcm) == 0 {
		return MinDB, 0
	}
	var sum, sum2 int64
	for _, s := range pcm {
		v := int64(s)
		sum += v
		sum2 += v * v
	}
	n := float64(len(pcm))
	mean = float64(sum) / n
	p := (float64(sum2)/n - mean*mean) / fullScale2
	if p <= minPower {
		return MinDB, mean
	}
	return 10 * math.Log10(p), mean
}
