// Command gen makes the default prompt recordings from the text files:
//
//	go run ./prompts/gen [-lang zh-CN,en] [-id greet.morning,...] [-check]
//	go run ./prompts/gen -music [-check]
//
// For each line of <dir>/<lang>/prompts.txt it speaks the text with
// espeak-ng (zh-CN: tone-numbered pinyin from go-pinyin with the
// cmn-latn-pinyin voice; en: the en-us voice), trims the silence around the
// speech to 100 ms, normalises the speech level to -18 dBFS as heard at
// 8 kHz, encodes <id>.mp3 with lame (22.05 kHz mono, about 30 kbps), and
// checks the result by decoding it the way kefu does. Recordings whose
// prompt is gone are removed. With -check it only decodes and reports.
//
// With -music it makes the hold music instead, music/hold.mp3: original
// music synthesized from the score in score.go (see music.go), checked for
// length, level and a smooth loop join. It needs only lame.
//
// It needs espeak-ng and lame on PATH (Debian: apt-get install espeak-ng
// lame). See prompts/README.md.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/audio"
	"github.com/kefu-hotline/kefu/prompts"
	"github.com/kefu-hotline/kefu/prompts/internal/pinyin"
	"github.com/kefu-hotline/kefu/prompts/internal/textfile"
)

// voices says how each language is spoken.
var voices = map[string]voice{
	"zh-CN": {name: "cmn-latn-pinyin", speed: 180, pinyin: true},
	"en":    {name: "en-us", speed: 150},
}

// voice is an espeak-ng voice and how to drive it.
type voice struct {
	name   string // espeak-ng -v
	speed  int    // espeak-ng -s, words per minute
	pinyin bool   // feed it tone-numbered pinyin instead of the text
}

type config struct {
	dir     string
	langs   []string
	ids     map[string]bool
	speed   int
	bitrate int
	check   bool
	verbose bool
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("gen: ")
	var (
		c           config
		langs, only string
		music       bool
	)
	flag.StringVar(&c.dir, "dir", "prompts", "directory holding one sub-directory per language")
	flag.StringVar(&langs, "lang", "zh-CN,en", "comma-separated languages to make")
	flag.StringVar(&only, "id", "", "comma-separated prompt IDs to make (default: all)")
	flag.IntVar(&c.speed, "speed", 0, "espeak-ng speaking rate in words per minute (default: 180 for zh-CN, 150 for en)")
	flag.IntVar(&c.bitrate, "bitrate", 24, "lame ABR target bitrate, kbps (24 gives about 30 kbps with the tag and padding)")
	flag.BoolVar(&c.check, "check", false, "only decode the existing recordings and report")
	flag.BoolVar(&c.verbose, "v", false, "print what is fed to espeak-ng")
	flag.BoolVar(&music, "music", false, "make (with -check: only check) the hold music instead of the prompts")
	flag.Parse()
	if music {
		if _, err := exec.LookPath("lame"); err != nil && !c.check {
			log.Fatal("lame not found: apt-get install lame")
		}
		if err := makeMusic(c.dir, c.check); err != nil {
			log.Fatal(err)
		}
		return
	}
	c.langs = strings.Split(langs, ",")
	if only != "" {
		c.ids = map[string]bool{}
		for id := range strings.SplitSeq(only, ",") {
			c.ids[id] = true
		}
	}
	if !c.check {
		for _, tool := range []string{"espeak-ng", "lame"} {
			if _, err := exec.LookPath(tool); err != nil {
				log.Fatalf("%s not found: apt-get install espeak-ng lame", tool)
			}
		}
	}
	failed := false
	for _, lang := range c.langs {
		if err := c.run(lang); err != nil {
			log.Print(err)
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}

// result is what became of one prompt.
type result struct {
	entry  textfile.Entry
	spoken string        // what espeak-ng was given
	dur    time.Duration // decoded, at 8 kHz
	level  float64       // speech level of the decoded file, dBFS
	peak   float64       // dBFS
	snr    float64       // decoded file against the audio before encoding, dB
	size   int64         // bytes
	err    error
}

func (c *config) run(lang string) error {
	v, ok := voices[lang]
	if !ok {
		return fmt.Errorf("%s: no voice configured for this language", lang)
	}
	dir := filepath.Join(c.dir, lang)
	f, err := os.Open(filepath.Join(dir, textfile.Name))
	if err != nil {
		return err
	}
	entries, vars, err := textfile.ParseFile(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(dir, textfile.Name), err)
	}
	// The recordings carry the set's values ("#! company = ..."); run-time
	// placeholders ({number}, {title}) are left out of the recording.
	for i := range entries {
		entries[i].Text = textfile.Fill(entries[i].Text, vars)
	}
	tmp, err := os.MkdirTemp("", "kefu-gen-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	results := make([]result, 0, len(entries))
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		sem = make(chan struct{}, runtime.GOMAXPROCS(0))
	)
	for _, e := range entries {
		if c.ids != nil && !c.ids[e.ID] {
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			r := c.one(dir, tmp, v, e)
			mu.Lock()
			results = append(results, r)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.SortFunc(results, func(a, b result) int { return a.entry.Line - b.entry.Line })

	if !c.check && c.ids == nil {
		prune(dir, entries)
	}
	return report(lang, results, c.verbose)
}

// one makes (unless checking) and checks the recording of one prompt.
func (c *config) one(dir, tmp string, v voice, e textfile.Entry) result {
	r := result{entry: e, spoken: e.Text}
	out := filepath.Join(dir, e.ID+".mp3")
	var ref []int16 // the audio handed to lame, at 8 kHz
	if !c.check {
		if v.pinyin {
			if r.spoken, r.err = pinyin.Convert(e.Text, e.Pinyin); r.err != nil {
				r.err = fmt.Errorf("line %d: %w", e.Line, r.err)
				return r
			}
		}
		if ref, r.err = c.speak(tmp, v, r.spoken, out); r.err != nil {
			return r
		}
	}
	data, err := os.ReadFile(out)
	if err != nil {
		r.err = err
		return r
	}
	r.size = int64(len(data))
	pcm, err := prompts.Decode(out, bytes.NewReader(data))
	if err != nil {
		r.err = err
		return r
	}
	r.dur = time.Duration(len(pcm)) * time.Second / media.SampleRate
	r.level = prompts.SpeechLevel(pcm)
	r.peak = audio.PeakDB(pcm)
	if ref != nil {
		r.snr = snr(ref, pcm)
	}
	return r
}

// speak says text into out.mp3 and returns the 8 kHz version of what was
// encoded, for comparison with the decoded file.
func (c *config) speak(tmp string, v voice, text, out string) ([]int16, error) {
	base := filepath.Join(tmp, filepath.Base(strings.TrimSuffix(out, ".mp3")))
	raw, wav := base+".espeak.wav", base+".wav"
	speed := v.speed
	if c.speed > 0 {
		speed = c.speed
	}
	cmd := exec.Command("espeak-ng", "-v", v.name, "-s", fmt.Sprint(speed), "-b", "1", "-w", raw)
	cmd.Stdin = strings.NewReader(text)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("espeak-ng: %w: %s", err, msg)
	}
	f, err := os.Open(raw)
	if err != nil {
		return nil, err
	}
	spoken, err := audio.ReadWAV(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("espeak-ng output: %w", err)
	}
	trimmed := trimSilence(spoken.Mono(), spoken.Rate)
	if trimmed == nil {
		return nil, fmt.Errorf("espeak-ng produced silence for %q", text)
	}
	// MP3 coding changes the level a little (typically -0.4 dB): measure
	// the decoded file and encode once more with the difference made up.
	target := prompts.TargetLevel
	for pass := 0; ; pass++ {
		ref, err := encode(trimmed, spoken.Rate, target, wav, out, c.bitrate)
		if err != nil || pass == 1 {
			return ref, err
		}
		data, err := os.ReadFile(out)
		if err != nil {
			return nil, err
		}
		got, err := prompts.Decode(out, bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		diff := prompts.TargetLevel - prompts.SpeechLevel(got)
		if math.Abs(diff) < 0.2 {
			return ref, nil
		}
		target += diff
	}
}

// encode normalises x to level dBFS, writes it to wav and encodes that to
// out with lame. It returns what was encoded, at 8 kHz.
func encode(x []float32, rate int, level float64, wav, out string, bitrate int) ([]int16, error) {
	pcm, _, err := normalize(x, rate, level)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := audio.WriteWAV(&buf, audio.Format{Rate: rate, Channels: 1}, pcm); err != nil {
		return nil, err
	}
	if err := os.WriteFile(wav, buf.Bytes(), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command("lame", "--quiet", "-m", "m", "--abr", fmt.Sprint(bitrate), "-q", "2",
		"--resample", "22.05", wav, out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("lame: %w: %s", err, msg)
	}
	return prompts.Decode(wav, &buf)
}

// prune removes recordings whose prompt is no longer in the text file.
func prune(dir string, entries []textfile.Entry) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.mp3"))
	for _, f := range files {
		id := strings.TrimSuffix(filepath.Base(f), ".mp3")
		if !slices.ContainsFunc(entries, func(e textfile.Entry) bool { return e.ID == id }) {
			log.Printf("removing %s: no such prompt", f)
			os.Remove(f)
		}
	}
}

func report(lang string, results []result, verbose bool) error {
	w := io.Writer(os.Stdout)
	fmt.Fprintf(w, "%s: %d prompts\n", lang, len(results))
	fmt.Fprintf(w, "%-22s %7s %7s %7s %6s %7s  %s\n", "id", "dur(s)", "level", "peak", "snr", "bytes", "text")
	var errs []string
	var total int64
	lo, hi := time.Duration(1<<62), time.Duration(0)
	for _, r := range results {
		if r.err != nil {
			errs = append(errs, fmt.Sprintf("%s/%s: %v", lang, r.entry.ID, r.err))
			continue
		}
		total += r.size
		lo, hi = min(lo, r.dur), max(hi, r.dur)
		fmt.Fprintf(w, "%-22s %7.2f %7.1f %7.1f %6.1f %7d  %s\n",
			r.entry.ID, r.dur.Seconds(), r.level, r.peak, r.snr, r.size, r.entry.Text)
		if verbose && r.spoken != r.entry.Text {
			fmt.Fprintf(w, "%-22s espeak-ng: %s\n", "", r.spoken)
		}
		if d := r.level - prompts.TargetLevel; d > 1 || d < -1 {
			errs = append(errs, fmt.Sprintf("%s/%s: level %.1f dBFS, want %.0f±1", lang, r.entry.ID, r.level, prompts.TargetLevel))
		}
	}
	if len(results) > len(errs) {
		fmt.Fprintf(w, "%s: durations %.2f-%.2f s, %d bytes in all\n", lang, lo.Seconds(), hi.Seconds(), total)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%d problem(s):\n  %s", len(errs), strings.Join(errs, "\n  "))
	}
	return nil
}
