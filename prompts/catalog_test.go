package prompts

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
	"unicode"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/audio"
	"github.com/kefu-hotline/kefu/media/g711"
)

// wantIDs are the prompts every default set must have (flows refer to them).
var wantIDs = func() []string {
	ids := []string{
		"greet.morning", "greet.afternoon", "greet.evening", "greet.default",
		"greet.newyear", "greet.midautumn", "greet.nationalday", "greet.newyearday", "greet.labourday", "greet.dragonboat", "greet.busy",
		"silent.apology", "silent.alt.open", "silent.alt.check", "silent.alt.bye",
		"weak.louder", "weak.bye", "weak.handset", "noisy", "repeat", "louder.check",
		"hold.ask", "hold.apology", "hold.resume", "shortwait.verify", "shortwait.query",
		"system.slow", "system.down", "callback.confirm", "callback.confirm.end",
		"callback.ask", "callback.keys", "callback.saved", "complaint.ask", "complaint.more", "survey.ask", "survey.thanks",
		"queue.position", "queue.wait", "queue.callback",
		"close.ask", "close.bye", "close.hangup", "complaint.close", "notours",
		"escalate", "dialect", "nuisance", "ack", "digit.yao", "num.ten", "num.hundred", "num.liang", "unit.minute", "unit.minute.one", "unit.position", "unit.position.one", "menu.main", "menu.invalid",
		"queue.connecting", "noagent.offer", "help.other", "message.ask", "message.close", "down.callback",
		"louder.max", "weak.handsfree", "dialect.mandarin", "dialect.bye", "escalate.sorry",
		"num.yi2", "num.yi4",
		"whisper.queue", "whisper.customers", "whisper.supervisors", "whisper.cantonese", "whisper.nuisance", "whisper.waited", "whisper.just",
		"agent.ready", "agent.paused", "agent.signedout", "agent.invalid", "transfer.failed",
		"afterhours.notice", "afterhours.serve", "afterhours.offer", "day.today", "day.tomorrow", "day.1", "day.2", "day.3", "day.4", "day.5", "day.6", "day.7",
		"time.night", "time.morning", "time.noon", "time.afternoon", "time.evening", "unit.oclock", "unit.half", "unit.fen",
		"callback.whisper", "callback.greet", "callback.unreached", "callback.machine",
		"followup.greet", "followup.bye", "followup.whisper",
	}
	for d := range 10 {
		ids = append(ids, fmt.Sprintf("digit.%d", d))
	}
	slices.Sort(ids)
	return ids
}()

// spokenUnits counts what takes time to say: Chinese characters and
// digits for zh-CN, words for en.
func spokenUnits(lang, text string) int {
	if lang == "en" {
		return len(strings.Fields(text))
	}
	n := 0
	for _, r := range text {
		if unicode.Is(unicode.Han, r) || unicode.IsDigit(r) {
			n++
		}
	}
	return n
}

func TestEmbeddedSets(t *testing.T) {
	for _, lang := range []string{"zh-CN", "en"} {
		t.Run(lang, func(t *testing.T) {
			c, err := LoadEmbedded(lang)
			if err != nil {
				t.Fatal(err)
			}
			if c.Lang() != lang || c.Len() != len(wantIDs) {
				t.Fatalf("Lang() = %q, Len() = %d", c.Lang(), c.Len())
			}
			if !slices.Equal(c.IDs(), wantIDs) {
				t.Fatalf("IDs() = %v\nwant %v", c.IDs(), wantIDs)
			}
			var lo, hi time.Duration = time.Hour, 0
			for _, id := range c.IDs() {
				p, ok := c.Get(id)
				if !ok || p.ID != id || p.Lang != lang || p.Text == "" {
					t.Fatalf("Get(%q) = %+v, %v", id, p, ok)
				}
				checkRecording(t, p)
				lo, hi = min(lo, p.Duration()), max(hi, p.Duration())
			}
			t.Logf("%s: %d prompts, %v to %v", lang, c.Len(), lo, hi)
		})
	}
}

// checkRecording checks one shipped prompt: plausible duration for its
// text, speech level, ~100 ms of silence at each end, and G.711 payloads
// that decode back to its PCM.
func checkRecording(t *testing.T, p *Prompt) {
	t.Helper()
	pcm := make([]int16, 0, p.Frames()*media.FrameSamples)
	for i := range p.Frames() {
		pcm = append(pcm, p.PCM(i)...)
	}
	n := float64(spokenUnits(p.Lang, p.Text))
	lo := time.Duration((0.12*n + 0.2) * float64(time.Second))
	hi := time.Duration((0.45*n + 1.0) * float64(time.Second))
	if p.Lang == "en" {
		lo = time.Duration((0.2*n + 0.2) * float64(time.Second))
		hi = time.Duration((0.6*n + 1.0) * float64(time.Second))
	}
	if d := p.Duration(); d < lo || d > hi {
		t.Errorf("%v: %v for %q, want %v to %v", p, d, p.Text, lo, hi)
	}
	if l := SpeechLevel(pcm); math.Abs(l-TargetLevel) > LevelTolerance {
		t.Errorf("%v: speech level %.1f dBFS, want %.0f±%.0f", p, l, TargetLevel, LevelTolerance)
	}
	// Trimmed to about 100 ms of silence: the first and last 60 ms are
	// quiet, and speech begins within 200 ms.
	const quiet = 3 * media.FrameSamples
	if l := audio.RMSDB(pcm[:quiet]); l > -50 {
		t.Errorf("%v: first 60 ms at %.1f dBFS, want silence", p, l)
	}
	// The tail may be longer by the padding to a whole frame.
	tail := len(pcm) - quiet - media.FrameSamples
	if l := audio.RMSDB(pcm[tail:]); l > -50 {
		t.Errorf("%v: last 80 ms at %.1f dBFS, want silence", p, l)
	}
	onset := 0
	for onset < p.Frames()-1 && audio.RMSDB(p.PCM(onset)) < -50 {
		onset++
	}
	if onset > 10 {
		t.Errorf("%v: speech starts at %v, want within 200 ms", p, time.Duration(onset)*media.FrameDur)
	}
	// PCMU and PCMA decode back to the PCM within G.711's precision.
	for _, c := range []media.Codec{media.CodecPCMU, media.CodecPCMA} {
		var sig, noise float64
		for i := range p.Frames() {
			ref := p.PCM(i)
			var got media.Frame
			if err := g711.Decode(c, got[:], p.Payload(c, i)); err != nil {
				t.Fatal(err)
			}
			for j, v := range got {
				d := float64(v) - float64(ref[j])
				sig += float64(ref[j]) * float64(ref[j])
				noise += d * d
			}
		}
		if snr := 10 * math.Log10(sig/noise); snr < 30 {
			t.Errorf("%v: %v round trip SNR %.1f dB, want ≥ 30", p, c, snr)
		}
	}
}

func TestLoadEmbedded(t *testing.T) {
	var wg sync.WaitGroup
	got := make([]*Catalog, 4)
	for i := range got {
		wg.Go(func() {
			c, err := LoadEmbedded("")
			if err != nil {
				t.Error(err)
			}
			got[i] = c
		})
	}
	wg.Wait()
	if got[0] == nil || got[0].Lang() != DefaultLang {
		t.Fatalf("LoadEmbedded(\"\") = %v", got[0])
	}
	for _, c := range got[1:] {
		if c != got[0] {
			t.Error("LoadEmbedded decoded the set more than once")
		}
	}
	if _, err := LoadEmbedded("fr"); err == nil || !strings.Contains(err.Error(), `"fr"`) {
		t.Errorf("LoadEmbedded(fr) = %v", err)
	}
	if !slices.Equal(EmbeddedLangs(), []string{"en", "zh-CN"}) {
		t.Errorf("EmbeddedLangs() = %v", EmbeddedLangs())
	}
	ids := got[0].IDs()
	ids[0] = "changed"
	if got[0].IDs()[0] == "changed" {
		t.Error("IDs() exposes the catalog's slice")
	}
}

func TestLoadDir(t *testing.T) {
	mp3, err := fs.ReadFile(embedded, "zh-CN/ack.mp3")
	if err != nil {
		t.Fatal(err)
	}
	var wav bytes.Buffer
	if err := audio.WriteWAV(&wav, audio.Format{Rate: 16000, Channels: 1}, make([]int16, 3200)); err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{
		"yue/prompts.txt": {Data: []byte("# Cantonese\nb\t你好\na\t好\n")},
		"yue/a.mp3":       {Data: mp3},
		"yue/b.WAV":       {Data: wav.Bytes()},
		"yue/README":      {Data: []byte("ignored")},
	}
	c, err := LoadDir(fsys, "yue")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.IDs(), []string{"a", "b"}) || c.Lang() != "yue" {
		t.Fatalf("IDs() = %v, Lang() = %q", c.IDs(), c.Lang())
	}
	if b, _ := c.Get("b"); b.Frames() != 10 || b.Text != "你好" {
		t.Errorf("b: %d frames, text %q; want 10 frames (0.2 s)", b.Frames(), b.Text)
	}
	if _, ok := c.Get("missing"); ok {
		t.Error("Get(missing) found something")
	}
}

func TestLoadDirErrors(t *testing.T) {
	mp3, err := fs.ReadFile(embedded, "en/ack.mp3")
	if err != nil {
		t.Fatal(err)
	}
	text := &fstest.MapFile{Data: []byte("a\tA\nb\tB\n")}
	tests := []struct {
		name string
		fsys fstest.MapFS
		lang string
		is   error
		say  []string
	}{
		{"missing recording", fstest.MapFS{"en/prompts.txt": text, "en/a.mp3": {Data: mp3}}, "en",
			ErrMissing, []string{"en/prompts.txt:2", `"b"`, "en/b.mp3"}},
		{"undecodable", fstest.MapFS{"en/prompts.txt": text, "en/a.mp3": {Data: mp3}, "en/b.mp3": {Data: []byte("junk")}}, "en",
			ErrFormat, []string{"en/b.mp3"}},
		{"all failures reported", fstest.MapFS{"en/prompts.txt": text, "en/a.wav": {Data: []byte("junk")}, "en/b.mp3": {Data: []byte("junk")}}, "en",
			ErrFormat, []string{"en/a.wav", "en/b.mp3"}},
		{"orphan recording", fstest.MapFS{"en/prompts.txt": text, "en/a.mp3": {Data: mp3}, "en/b.mp3": {Data: mp3}, "en/c.mp3": {Data: mp3}}, "en",
			nil, []string{"en/c.mp3", `no line for "c"`}},
		{"two recordings", fstest.MapFS{"en/prompts.txt": text, "en/a.mp3": {Data: mp3}, "en/a.wav": {Data: mp3}, "en/b.mp3": {Data: mp3}}, "en",
			nil, []string{"en/a.mp3", "en/a.wav", "two recordings"}},
		{"bad text file", fstest.MapFS{"en/prompts.txt": {Data: []byte("a\tA\nb\n")}}, "en",
			nil, []string{"en/prompts.txt: line 2"}},
		{"empty text file", fstest.MapFS{"en/prompts.txt": {Data: []byte("# nothing\n")}}, "en",
			nil, []string{"en/prompts.txt", "no prompts"}},
		{"no text file", fstest.MapFS{"en/a.mp3": {Data: mp3}}, "en",
			fs.ErrNotExist, []string{"en/prompts.txt"}},
		{"bad language", fstest.MapFS{}, "../en", nil, []string{`invalid language "../en"`}},
		{"empty language", fstest.MapFS{}, "", nil, []string{"invalid language"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := LoadDir(tc.fsys, tc.lang)
			if err == nil {
				t.Fatalf("no error; catalog %v", c.IDs())
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err = %v, want %v", err, tc.is)
			}
			for _, s := range tc.say {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
}

// BenchmarkLoadEmbedded measures decoding a whole default set (49 MP3s):
// the start-up cost of a language. LoadEmbedded caches, so this calls the
// uncached loader on the embedded files.
func BenchmarkLoadEmbedded(b *testing.B) {
	for _, lang := range []string{"zh-CN", "en"} {
		b.Run(lang, func(b *testing.B) {
			for b.Loop() {
				if _, err := LoadDir(embedded, lang); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
