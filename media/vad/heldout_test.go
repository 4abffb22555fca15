package vad

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/prompts"
)

// Held-out cases: the same kinds of signal as testdata/audio, built in Go
// from the embedded prompts (other voices and sentences than the
// fixtures', zh-CN and en), noise generated here (white, pink, and babble
// of eight other prompts), through μ-law or A-law. The defaults were tuned
// on the fixtures; these cases check that they generalise.

const (
	heldPerLang = 6 // utterances per language
	heldLead    = 25
	heldTail    = 25
)

// heldUtterances are the prompts spoken over noise, 1.5 to 5 s long;
// heldTalkers are the others that make the babble. Only these are decoded:
// MP3 decoding is slow under the race detector.
var (
	heldUtterances = map[string][]string{
		"zh-CN": {"ack", "hold.apology", "close.bye", "close.ask", "callback.confirm", "greet.morning"},
		"en":    {"notours", "ack", "close.bye", "louder.check", "repeat", "greet.evening"},
	}
	heldTalkers = map[string][]string{
		"zh-CN": {"notours", "hold.resume", "shortwait.query", "louder.check"},
		"en":    {"hold.apology", "hold.resume", "close.ask", "shortwait.query"},
	}
)

var (
	heldOnce sync.Once
	heldVal  []evalCase
	heldErr  error
)

// promptCases returns the held-out cases.
func promptCases(t testing.TB) []evalCase {
	t.Helper()
	heldOnce.Do(func() { heldVal, heldErr = buildPromptCases() })
	if heldErr != nil {
		t.Fatal(heldErr)
	}
	return heldVal
}

func buildPromptCases() ([]evalCase, error) {
	var speech, others [][]int16
	var names []string
	for _, lang := range []string{"zh-CN", "en"} {
		for _, id := range heldUtterances[lang] {
			pcm, err := decodePrompt(lang, id)
			if err != nil {
				return nil, err
			}
			speech = append(speech, pcm)
			names = append(names, lang+"/"+id)
		}
		for _, id := range heldTalkers[lang] {
			pcm, err := decodePrompt(lang, id)
			if err != nil {
				return nil, err
			}
			others = append(others, pcm)
		}
	}
	if len(speech) != 2*heldPerLang || len(others) < 8 {
		return nil, fmt.Errorf("held-out cases: %d utterances, %d babble talkers", len(speech), len(others))
	}
	rng := rand.New(rand.NewPCG(42, 4))
	codecs := []media.Codec{media.CodecPCMU, media.CodecPCMA}
	noise := func(kind string, db float64, n int) []int16 {
		switch kind {
		case "white":
			return white(rng, db, n)
		case "pink":
			return pink(rng, db, n)
		default:
			return babble(rng, others, db, n)
		}
	}
	var out []evalCase
	for i, s := range speech {
		codec := codecs[i%2]
		clean := cat(silence(heldLead), gain(s, -20-prompts.SpeechLevel(s)), silence(heldTail))
		ref := refFrames(clean)
		n := len(clean) / fs
		for _, db := range []float64{-20, -30, -40, -50} {
			out = append(out, evalCase{name: fmt.Sprintf("%s %v", names[i], db), kind: "speech", speechDB: db,
				pcm: viaCodec(codec, gain(clean, db+20)), ref: ref})
		}
		for _, kind := range []string{"white", "pink", "babble"} {
			for _, snr := range []float64{20, 10, 5, 0} {
				out = append(out, evalCase{name: fmt.Sprintf("%s %s snr%v", names[i], kind, snr), kind: "mix",
					speechDB: -20, noise: kind, noiseDB: -20 - snr, snr: snr, ref: ref,
					pcm: viaCodec(codec, mix(clean, noise(kind, -20-snr, n)))})
			}
		}
	}
	for r := range 2 {
		codec := codecs[r]
		for _, kind := range []string{"white", "pink", "babble"} {
			for _, db := range []float64{-20, -30, -40, -50} {
				out = append(out, evalCase{name: fmt.Sprintf("%s %v #%d", kind, db, r), kind: "noise", noise: kind, noiseDB: db,
					pcm: viaCodec(codec, noise(kind, db, 150))})
			}
		}
		out = append(out, evalCase{name: fmt.Sprintf("hiss -55 #%d", r), kind: "hiss", noiseDB: -55,
			pcm: viaCodec(codec, white(rng, -55, 150))})
	}
	out = append(out, evalCase{name: "ulaw idle", kind: "silence", pcm: idle(media.CodecPCMU, 150)},
		evalCase{name: "alaw idle", kind: "silence", pcm: idle(media.CodecPCMA, 150)})
	out = append(out, heldColours(speech, names)...)
	out = append(out, heldTones()...)
	out = append(out, heldPhrases(speech, names)...)
	return out, nil
}

// decodePrompt returns a prompt's recording at 8 kHz, trimmed.
func decodePrompt(lang, id string) ([]int16, error) {
	name := filepath.Join("..", "..", "prompts", lang, id+".mp3")
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pcm, err := prompts.Decode(name, f)
	if err != nil {
		return nil, err
	}
	return trimFrames(pcm), nil
}

// trimFrames cuts pcm to whole frames, without the leading and trailing
// frames below -60 dBFS.
func trimFrames(pcm []int16) []int16 {
	n := len(pcm) / fs
	lo, hi := 0, n
	for lo < hi && Level(pcm[lo*fs:(lo+1)*fs]) < -60 {
		lo++
	}
	for hi > lo && Level(pcm[(hi-1)*fs:hi*fs]) < -60 {
		hi--
	}
	return pcm[lo*fs : hi*fs]
}

// pink returns n frames of pink (1/f) noise at db dBFS RMS: white noise
// through Paul Kellet's economy filter.
func pink(rng *rand.Rand, db float64, n int) []int16 {
	x := make([]float64, n*fs)
	var b0, b1, b2 float64
	for i := range x {
		w := rng.NormFloat64()
		b0 = 0.99765*b0 + w*0.0990460
		b1 = 0.96300*b1 + w*0.2965164
		b2 = 0.57000*b2 + w*1.0526913
		x[i] = b0 + b1 + b2 + w*0.1848
	}
	return scaleTo(x, db)
}

// babble returns n frames of the talkers summed at equal levels, each
// looped and started at a random point, at db dBFS RMS.
func babble(rng *rand.Rand, talkers [][]int16, db float64, n int) []int16 {
	x := make([]float64, n*fs)
	for _, tk := range talkers {
		g := 1 / math.Sqrt(math.Pow(10, Level(tk)/10))
		off := rng.IntN(len(tk))
		for i := range x {
			x[i] += g * float64(tk[(off+i)%len(tk)])
		}
	}
	return scaleTo(x, db)
}

// scaleTo returns x scaled so that its RMS is db dBFS.
func scaleTo(x []float64, db float64) []int16 {
	var sum2 float64
	for _, v := range x {
		sum2 += v * v
	}
	g := amp(db) / math.Sqrt(sum2/float64(len(x)))
	out := make([]int16, len(x))
	for i, v := range x {
		out[i] = clip(g * v)
	}
	return out
}
