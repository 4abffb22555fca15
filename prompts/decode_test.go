package prompts

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/audio"
)

// toneAmp returns the amplitude of the freq component of 8 kHz pcm[lo:hi].
func toneAmp(pcm []int16, freq float64, lo, hi int) float64 {
	var si, co float64
	for i := lo; i < hi; i++ {
		ph := 2 * math.Pi * freq * float64(i) / media.SampleRate
		si += float64(pcm[i]) * math.Sin(ph)
		co += float64(pcm[i]) * math.Cos(ph)
	}
	return 2 * math.Hypot(si, co) / float64(hi-lo)
}

// TestDecodeMP3 decodes the fixtures in testdata (see its README): 0.5 s,
// a 440 Hz tone at amplitude 8192 from 0.1 s to 0.4 s.
func TestDecodeMP3(t *testing.T) {
	tests := []struct {
		file  string
		exact bool // gapless: exactly 0.5 s
	}{
		{"tone_44100_mono.mp3", true},
		{"tone_44100_stereo.mp3", true},
		{"tone_48000_mono.mp3", true},
		{"tone_48000_stereo.mp3", true},
		{"tone_22050_mono.mp3", true},
		{"tone_22050_stereo.mp3", true},
		{"tone_16000_notag.mp3", false},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("..", "media", "audio", "testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			pcm, err := Decode(tc.file, f)
			if err != nil {
				t.Fatal(err)
			}
			if tc.exact && len(pcm) != 4000 {
				t.Fatalf("%d samples, want 4000 (0.5 s at 8 kHz)", len(pcm))
			}
			// Without gapless information the encoder and decoder delays and
			// the padding stay: up to three 576-sample frames at 16 kHz.
			if !tc.exact && (len(pcm) < 4000 || len(pcm) > 4000+3*288) {
				t.Fatalf("%d samples, want 4000 to %d", len(pcm), 4000+3*288)
			}
			if got := 20 * math.Log10(toneAmp(pcm, 440, 1400, 2800)/8192); math.Abs(got) > 1 {
				t.Errorf("tone level %.2f dB from the source, want within ±1 dB", got)
			}
			if tc.exact {
				if r := audio.RMS(pcm[:700]); r > 30 {
					t.Errorf("leading silence has RMS %.0f", r)
				}
				if r := audio.RMS(pcm[3300:]); r > 30 {
					t.Errorf("trailing silence has RMS %.0f", r)
				}
			}
		})
	}
}

func TestDecodeWAV(t *testing.T) {
	for _, rate := range []int{8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000} {
		for _, ch := range []int{1, 2} {
			t.Run(fmt.Sprintf("%dHz_%dch", rate, ch), func(t *testing.T) {
				n := rate / 4 // 0.25 s of 1 kHz at amplitude 10000
				samples := make([]int16, n*ch)
				for i := range n {
					s := int16(math.Round(10000 * math.Sin(2*math.Pi*1000*float64(i)/float64(rate))))
					for c := range ch {
						samples[i*ch+c] = s
					}
				}
				var b bytes.Buffer
				if err := audio.WriteWAV(&b, audio.Format{Rate: rate, Channels: ch}, samples); err != nil {
					t.Fatal(err)
				}
				pcm, err := Decode("tone.WAV", &b)
				if err != nil {
					t.Fatal(err)
				}
				if len(pcm) != 2000 {
					t.Fatalf("%d samples, want 2000", len(pcm))
				}
				if got := 20 * math.Log10(toneAmp(pcm, 1000, 200, 1800)/10000); math.Abs(got) > 0.1 {
					t.Errorf("level %.3f dB from the source", got)
				}
			})
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	mpeg25, err := os.ReadFile(filepath.Join("..", "media", "audio", "testdata", "tone_8000.mp3"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		is   error
		say  []string
	}{
		{"hold/8k.mp3", mpeg25, ErrMPEG25, []string{"lame --resample 22.05", "sox in.mp3 -r 22050", "8000 Hz"}},
		{"broken.mp3", bytes.Repeat([]byte{0x55}, 4096), ErrFormat, nil},
		{"empty.wav", nil, ErrFormat, nil},
		{"text.wav", []byte("RIFF....WAVEfmt hello"), ErrFormat, nil},
		{"music.ogg", []byte("OggS"), ErrUnsupported, []string{`".ogg"`}},
		{"noext", []byte("x"), ErrUnsupported, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.name, bytes.NewReader(tc.data))
			if !errors.Is(err, tc.is) {
				t.Fatalf("err = %v, want %v", err, tc.is)
			}
			msg := err.Error()
			if !strings.Contains(msg, "decode "+tc.name+":") {
				t.Errorf("error %q does not name the file", msg)
			}
			for _, s := range tc.say {
				if !strings.Contains(msg, s) {
					t.Errorf("error %q does not say %q", msg, s)
				}
			}
		})
	}
}
