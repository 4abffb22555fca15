package vad

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/kefu-hotline/kefu/media"
	audiofile "github.com/kefu-hotline/kefu/media/audio"
	"github.com/kefu-hotline/kefu/prompts"
)

// The recorded fixtures of testdata/audio (made by its make.sh): speech at
// four levels, speech in noise, noise alone, a hiss and digital silence,
// all through G.711 μ-law, with fixtures.tsv saying what each file holds.

// fixtureDir is where make.sh writes the fixtures.
var fixtureDir = filepath.Join("..", "..", "testdata", "audio")

// audioFixture is one file of testdata/audio and what it holds.
type audioFixture struct {
	name     string  // file name, relative to testdata/audio
	kind     string  // speech, mix, noise, hiss, silence, tone or phrase
	lang     string  // zh or en for speech, mix and phrase, else ""
	speechDB float64 // speech level, dBFS (speech, mix, phrase)
	noise    string  // the noise (mix, noise, hiss, a noisy phrase) or tone (dtmf, or its Hz), else ""
	noiseDB  float64 // noise RMS level, dBFS; a tone's level
	snr      float64 // dB (mix, a noisy phrase)
	parts    []span  // a phrase's spoken parts, in frames (phrases.tsv)
	pcm      []int16
}

// span is a stretch of frames [start, end).
type span struct{ start, end int }

var (
	audioOnce sync.Once
	audioVal  []audioFixture
	audioErr  error
)

// audioFixtures returns every fixture listed in fixtures.tsv, decoded.
func audioFixtures(t testing.TB) []audioFixture {
	t.Helper()
	audioOnce.Do(func() { audioVal, audioErr = loadAudioFixtures(fixtureDir) })
	if audioErr != nil {
		t.Fatal(audioErr)
	}
	return audioVal
}

func loadAudioFixtures(dir string) ([]audioFixture, error) {
	f, err := os.Open(filepath.Join(dir, "fixtures.tsv"))
	if err != nil {
		return nil, fmt.Errorf("%w (run testdata/audio/make.sh)", err)
	}
	defer f.Close()
	var out []audioFixture
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if sc.Text() == "" || strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		col := strings.Split(sc.Text(), "\t")
		if len(col) != 7 {
			return nil, fmt.Errorf("fixtures.tsv:%d: %d columns, want 7", line, len(col))
		}
		num := func(s string) float64 {
			if s == "-" {
				return 0
			}
			v, e := strconv.ParseFloat(s, 64)
			if e != nil && err == nil {
				err = fmt.Errorf("fixtures.tsv:%d: %w", line, e)
			}
			return v
		}
		dash := func(s string) string { return strings.TrimPrefix(s, "-") }
		fx := audioFixture{name: col[0], kind: col[1], lang: dash(col[2]), speechDB: num(col[3]),
			noise: dash(col[4]), noiseDB: num(col[5]), snr: num(col[6])}
		if err != nil {
			return nil, err
		}
		if fx.pcm, err = readWAV8k(filepath.Join(dir, fx.name)); err != nil {
			return nil, err
		}
		out = append(out, fx)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, readPhraseParts(dir, out)
}

// readPhraseParts sets the spoken parts of the phrase fixtures from
// phrases.tsv ("file<TAB>start-end start-end", in ms; frames rounded to
// the nearest).
func readPhraseParts(dir string, fxs []audioFixture) error {
	b, err := os.ReadFile(filepath.Join(dir, "phrases.tsv"))
	if err != nil {
		return err
	}
	parts := map[string][]span{}
	for i, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, list, ok := strings.Cut(line, "\t")
		if !ok {
			return fmt.Errorf("phrases.tsv:%d: no tab", i+1)
		}
		for _, p := range strings.Fields(list) {
			var a, z int
			if _, err := fmt.Sscanf(p, "%d-%d", &a, &z); err != nil || z <= a {
				return fmt.Errorf("phrases.tsv:%d: part %q", i+1, p)
			}
			parts[name] = append(parts[name], span{(a + frameMs/2) / frameMs, (z + frameMs/2) / frameMs})
		}
	}
	for i := range fxs {
		if fxs[i].kind == "phrase" {
			if fxs[i].parts = parts[fxs[i].name]; fxs[i].parts == nil {
				return fmt.Errorf("phrases.tsv: no parts for %s", fxs[i].name)
			}
		}
	}
	return nil
}

// readWAV8k reads an 8 kHz mono WAV file, as make.sh writes them, cut to
// whole frames.
func readWAV8k(path string) ([]int16, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := audiofile.ReadWAV(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if p.Rate != media.SampleRate || p.Channels != 1 {
		return nil, fmt.Errorf("%s: %d Hz, %d channels; want 8000 Hz mono", path, p.Rate, p.Channels)
	}
	pcm := p.MonoInt16()
	return pcm[:len(pcm)/fs*fs], nil
}

// TestFixtureLevels checks fixtures.tsv against the files: speech at its
// level (prompts.SpeechLevel; -50 dBFS speech reads about a dB high, its
// quietest frames being below that measure's -60 dBFS gate), noise at its
// RMS level, a tone at the level of its loudest frame, digital silence all
// zeros.
func TestFixtureLevels(t *testing.T) {
	for _, fx := range audioFixtures(t) {
		var got, want float64
		switch {
		case fx.kind == "speech", fx.kind == "phrase" && fx.noise == "":
			got, want = prompts.SpeechLevel(fx.pcm), fx.speechDB
		case fx.kind == "noise", fx.kind == "hiss":
			got, want = Level(fx.pcm), fx.noiseDB
		case fx.kind == "tone":
			got, want = MinDB, fx.noiseDB
			for f := range len(fx.pcm) / fs {
				got = max(got, Level(fx.pcm[f*fs:(f+1)*fs]))
			}
		case fx.kind == "mix", fx.kind == "phrase":
			continue
		default:
			for _, v := range fx.pcm {
				if v != 0 {
					t.Fatalf("%s: not digital silence", fx.name)
				}
			}
			continue
		}
		if math.Abs(got-want) > 1.5 {
			t.Errorf("%s: level %.1f dBFS, fixtures.tsv says %v", fx.name, got, want)
		}
	}
}
