package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// chunk is a RIFF chunk for building test files; size overrides the
// declared size when non-zero.
type chunk struct {
	id   string
	body []byte
	size uint32
}

func riff(chunks ...chunk) []byte {
	var b bytes.Buffer
	b.WriteString("RIFF\x00\x00\x00\x00WAVE")
	for _, c := range chunks {
		b.WriteString(c.id)
		size := c.size
		if size == 0 {
			size = uint32(len(c.body))
		}
		binary.Write(&b, binary.LittleEndian, size)
		b.Write(c.body)
		if len(c.body)%2 == 1 && c.size == 0 {
			b.WriteByte(0)
		}
	}
	out := b.Bytes()
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out
}

func fmtChunk(tag uint16, channels, rate, bits int) chunk {
	b := binary.LittleEndian.AppendUint16(nil, tag)
	b = binary.LittleEndian.AppendUint16(b, uint16(channels))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate*channels*bits/8))
	b = binary.LittleEndian.AppendUint16(b, uint16(channels*bits/8))
	b = binary.LittleEndian.AppendUint16(b, uint16(bits))
	return chunk{id: "fmt ", body: b}
}

func extensible(sub uint16, channels, rate, bits int) chunk {
	c := fmtChunk(wavExtensible, channels, rate, bits)
	c.body = binary.LittleEndian.AppendUint16(c.body, 22) // cbSize
	c.body = binary.LittleEndian.AppendUint16(c.body, uint16(bits))
	c.body = binary.LittleEndian.AppendUint32(c.body, 0) // channel mask
	c.body = binary.LittleEndian.AppendUint16(c.body, sub)
	c.body = append(c.body, "\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"...)
	return c
}

func le16(v ...int16) []byte {
	var b []byte
	for _, s := range v {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	return b
}

func TestReadWAV(t *testing.T) {
	f32 := func(v ...float32) []byte {
		var b []byte
		for _, s := range v {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(s))
		}
		return b
	}
	tests := []struct {
		name     string
		file     []byte
		rate, ch int
		want     []float32
	}{
		{"16-bit mono", riff(fmtChunk(1, 1, 8000, 16), chunk{id: "data", body: le16(0, 1, -1, 32767, -32768)}),
			8000, 1, []float32{0, 1, -1, 32767, -32768}},
		{"unknown chunks skipped, odd size padded",
			riff(chunk{id: "LIST", body: []byte("INFOabc")}, fmtChunk(1, 1, 16000, 16),
				chunk{id: "fact", body: []byte{4, 0, 0, 0}}, chunk{id: "data", body: le16(5, -5)}, chunk{id: "LIST", body: []byte("x")}),
			16000, 1, []float32{5, -5}},
		{"8-bit stereo", riff(fmtChunk(1, 2, 11025, 8), chunk{id: "data", body: []byte{128, 255, 0, 129}}),
			11025, 2, []float32{0, 127 * 256, -128 * 256, 256}},
		{"24-bit", riff(fmtChunk(1, 1, 48000, 24), chunk{id: "data", body: []byte{0, 0, 0x80, 0xff, 0xff, 0x7f, 0x80, 0, 0}}),
			48000, 1, []float32{-32768, 32767.996, 0.5}},
		{"32-bit int", riff(fmtChunk(1, 1, 44100, 32), chunk{id: "data", body: []byte{0, 0, 0, 0x40}}),
			44100, 1, []float32{16384}},
		{"float", riff(fmtChunk(3, 1, 16000, 32), chunk{id: "data", body: f32(0.5, -1)}),
			16000, 1, []float32{16384, -32768}},
		{"extensible PCM", riff(extensible(1, 2, 22050, 16), chunk{id: "data", body: le16(100, 200)}),
			22050, 2, []float32{100, 200}},
		{"streamed: data size past the end", riff(fmtChunk(1, 1, 8000, 16), chunk{id: "data", body: le16(7, 8, 9), size: 0xFFFFFFFF}),
			8000, 1, []float32{7, 8, 9}},
		// G.711 as phones and sox record it: μ-law 0xFF is 0, 0x80 and 0x00
		// are the extremes ±32124; A-law 0xD5 and 0x55 are ±8.
		{"μ-law", riff(fmtChunk(7, 1, 8000, 8), chunk{id: "data", body: []byte{0xFF, 0x80, 0x00}}),
			8000, 1, []float32{0, 32124, -32124}},
		{"A-law", riff(fmtChunk(6, 1, 8000, 8), chunk{id: "data", body: []byte{0xD5, 0x55}}),
			8000, 1, []float32{8, -8}},
		{"partial sample frame dropped", riff(fmtChunk(1, 2, 8000, 16), chunk{id: "data", body: le16(1, 2, 3)}),
			8000, 2, []float32{1, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ReadWAV(bytes.NewReader(tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if p.Rate != tc.rate || p.Channels != tc.ch {
				t.Errorf("rate %d channels %d, want %d %d", p.Rate, p.Channels, tc.rate, tc.ch)
			}
			if !slices.EqualFunc(p.Samples, tc.want, func(a, b float32) bool { return math.Abs(float64(a-b)) < 0.01 }) {
				t.Errorf("samples %v, want %v", p.Samples, tc.want)
			}
		})
	}
}

func TestReadWAVErrors(t *testing.T) {
	data := chunk{id: "data", body: le16(1, 2)}
	tests := []struct {
		name string
		file []byte
		want error
	}{
		{"empty", nil, ErrFormat},
		{"not RIFF", []byte("RIFX\x00\x00\x00\x00WAVEfmt "), ErrFormat},
		{"no data", riff(fmtChunk(1, 1, 8000, 16)), ErrFormat},
		{"data before fmt", riff(data, fmtChunk(1, 1, 8000, 16)), ErrFormat},
		{"short fmt", riff(chunk{id: "fmt ", body: []byte{1, 0, 1, 0}}, data), ErrFormat},
		{"truncated chunk", riff(chunk{id: "LIST", body: []byte("ab"), size: 100}), ErrFormat},
		{"12-bit", riff(fmtChunk(1, 1, 8000, 12), data), ErrUnsupported},
		{"ADPCM", riff(fmtChunk(2, 1, 8000, 4), data), ErrUnsupported},
		{"no channels", riff(fmtChunk(1, 0, 8000, 16), data), ErrUnsupported},
		{"rate 0", riff(fmtChunk(1, 1, 0, 16), data), ErrUnsupported},
		{"no samples", riff(fmtChunk(1, 1, 8000, 16), chunk{id: "data"}), ErrEmpty},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadWAV(bytes.NewReader(tc.file))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestMono(t *testing.T) {
	p := &PCM{Rate: 8000, Channels: 2, Samples: []float32{0, 1, -1, 32767, -32768, 1000, 32767, 32767, 2.5, 2.5}}
	if got := p.Mono(); !slices.Equal(got, []float32{0.5, 16383, -15884, 32767, 2.5}) {
		t.Errorf("Mono() = %v", got)
	}
	if got := p.MonoInt16(); !slices.Equal(got, []int16{1, 16383, -15884, 32767, 3}) {
		t.Errorf("MonoInt16() = %v", got)
	}
	clip := &PCM{Rate: 8000, Channels: 1, Samples: []float32{40000, -40000, -0.4}}
	if got := clip.MonoInt16(); !slices.Equal(got, []int16{32767, -32768, 0}) {
		t.Errorf("MonoInt16() of out-of-range samples = %v", got)
	}
}

func TestDecodeByExtension(t *testing.T) {
	wav := riff(fmtChunk(1, 1, 8000, 16), chunk{id: "data", body: le16(3, -3)})
	p, err := Decode("Greeting.WAV", bytes.NewReader(wav))
	if err != nil || !slices.Equal(p.MonoInt16(), []int16{3, -3}) {
		t.Fatalf("Decode(.WAV) = %v, %v", p, err)
	}
	if _, err := Decode("greeting.mp3", bytes.NewReader(wav)); !errors.Is(err, ErrFormat) {
		t.Errorf("WAV data named .mp3: %v, want ErrFormat", err)
	}
	if _, err := Decode("greeting.ogg", bytes.NewReader(wav)); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), `".ogg"`) {
		t.Errorf("an .ogg file: %v, want ErrUnsupported naming the type", err)
	}
	mpeg25, err := os.ReadFile(filepath.Join("testdata", "tone_8000.mp3"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Decode("tone.mp3", bytes.NewReader(mpeg25))
	if !errors.Is(err, ErrMPEG25) || !strings.Contains(err.Error(), "lame --resample 22.05") {
		t.Errorf("an 8 kHz MP3: %v, want ErrMPEG25 with the conversion hint", err)
	}
}

// TestDecodeMP3Gapless checks that the LAME tag's delay and padding are
// honoured: the 0.5 s fixtures decode to exactly 0.5 s, with the tone
// starting at 0.1 s.
func TestDecodeMP3Gapless(t *testing.T) {
	tests := []struct {
		file     string
		rate, ch int
		gapless  bool
	}{
		{"tone_44100_mono.mp3", 44100, 1, true},
		{"tone_44100_stereo.mp3", 44100, 2, true},
		{"tone_48000_mono.mp3", 48000, 1, true},
		{"tone_48000_stereo.mp3", 48000, 2, true},
		{"tone_22050_mono.mp3", 22050, 1, true},
		{"tone_22050_stereo.mp3", 22050, 2, true},
		{"tone_16000_notag.mp3", 16000, 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			p, err := DecodeMP3(f)
			if err != nil {
				t.Fatal(err)
			}
			if p.Rate != tc.rate || p.Channels != 2 {
				t.Fatalf("rate %d channels %d, want %d Hz stereo", p.Rate, p.Channels, tc.rate)
			}
			half := tc.rate / 2
			if tc.gapless && p.Frames() != half {
				t.Errorf("%d samples, want exactly %d", p.Frames(), half)
			}
			if !tc.gapless && (p.Frames() < half || p.Frames() > half+3*576) {
				t.Errorf("%d samples, want %d plus at most 3 frames", p.Frames(), half)
			}
			if tc.gapless {
				m := p.Mono()
				onset := slices.IndexFunc(m, func(s float32) bool { return s > 4000 || s < -4000 })
				want := tc.rate/10 + tc.rate/440/8 // 0.1 s, plus an eighth of a period to reach 4000
				if d := onset - want; d < -tc.rate/1000 || d > tc.rate/1000 {
					t.Errorf("tone starts at sample %d, want %d±1 ms", onset, want)
				}
			}
		})
	}
}

func TestDecodeMP3Errors(t *testing.T) {
	mpeg25, err := os.ReadFile(filepath.Join("testdata", "tone_8000.mp3"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"MPEG-2.5", mpeg25, ErrMPEG25},
		{"garbage", bytes.Repeat([]byte("not an mp3 "), 100), ErrFormat},
		{"empty", nil, ErrFormat},
		{"layer II", []byte{0xff, 0xfd, 0x90, 0x00, 0, 0, 0, 0}, ErrUnsupported},
		{"ID3 tag only", []byte("ID3\x03\x00\x00\x00\x00\x00\x02ab"), ErrFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeMP3(bytes.NewReader(tc.data))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}
