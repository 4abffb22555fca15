package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// crashFormats are the formats a recording may be written in.
var crashFormats = []Format{
	{Rate: 8000, Channels: 1},
	{Rate: 16000, Channels: 2},
	{Rate: 8000, Channels: 1, Encoding: ULaw},
	{Rate: 8000, Channels: 1, Encoding: ALaw},
}

// tone is n sample frames of a 440 Hz tone in ch channels.
func tone(n, ch int) []int16 {
	out := make([]int16, n*ch)
	for i := range out {
		out[i] = int16(9000 * math.Sin(2*math.Pi*440*float64(i/ch)/8000))
	}
	return out
}

// decoded reads a WAV file's samples back as int16.
func decoded(t *testing.T, b []byte) ([]int16, error) {
	t.Helper()
	p, err := ReadWAV(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	out := make([]int16, len(p.Samples))
	for i, s := range p.Samples {
		out[i] = int16(s)
	}
	return out, nil
}

// TestWriterPlayableAtEveryMoment: after every 20 ms written, the bytes
// that reached the file so far are a WAV that decodes, to every sample
// written except at most the last second, whose sizes the header states
// once that second is full.
func TestWriterPlayableAtEveryMoment(t *testing.T) {
	for _, f := range crashFormats {
		t.Run(fmt.Sprintf("%d_%dHz_%dch", f.Encoding, f.Rate, f.Channels), func(t *testing.T) {
			var m memFile
			w, err := NewWriter(&m, f)
			if err != nil {
				t.Fatal(err)
			}
			in := tone(f.Rate*7/2, f.Channels) // 3.5 s
			frame := f.Rate / 50 * f.Channels
			var want []int16 // what a complete file would decode to
			for i, piece := range slices.Collect(slices.Chunk(in, frame)) {
				if err := w.Write(piece); err != nil {
					t.Fatal(err)
				}
				all, err := decoded(t, m.b)
				if err != nil {
					t.Fatalf("after %d frames: %v", i+1, err)
				}
				if want == nil {
					var full memFile
					if err := WriteWAV(&full, f, in); err != nil {
						t.Fatal(err)
					}
					if want, err = decoded(t, full.b); err != nil {
						t.Fatal(err)
					}
				}
				written := (i + 1) * frame
				if missing := written - len(all); missing < 0 || missing > f.Rate*f.Channels {
					t.Fatalf("after %d frames the file decodes to %d of %d samples", i+1, len(all), written)
				}
				if !slices.Equal(all, want[:len(all)]) {
					t.Fatalf("after %d frames the samples differ", i+1)
				}
				if m.off != len(m.b) {
					t.Fatalf("after %d frames the writer is at %d of %d bytes", i+1, m.off, len(m.b))
				}
			}
		})
	}
}

// TestWriterTruncatedAnywhere: a recording cut at any byte after its
// header (the process killed mid-write, the header last updated a while
// before) decodes to the whole sample frames it holds up to what the
// header states, as written. (At 1 kHz, to keep every cut cheap.)
func TestWriterTruncatedAnywhere(t *testing.T) {
	for _, f := range crashFormats {
		f.Rate = 1000
		t.Run(fmt.Sprintf("%d_%dch", f.Encoding, f.Channels), func(t *testing.T) {
			var m memFile
			w, err := NewWriter(&m, f)
			if err != nil {
				t.Fatal(err)
			}
			in := tone(f.Rate*13/10, f.Channels) // 1.3 s: the header says 1 s
			for piece := range slices.Chunk(in, 7*f.Channels) {
				if err := w.Write(piece); err != nil {
					t.Fatal(err)
				}
			}
			h := f.headerSize()
			want, err := decoded(t, append(f.header(int64(len(in)*f.width())), m.b[h:]...))
			if err != nil {
				t.Fatal(err)
			}
			stated := int(binary.LittleEndian.Uint32(m.b[h-4:])) / f.width()
			if stated < f.Rate*f.Channels || stated >= len(in) {
				t.Fatalf("the header states %d of %d samples, want at least a second's", stated, len(in))
			}
			for end := h + f.Channels*f.width(); end <= len(m.b); end++ {
				got, err := decoded(t, m.b[:end])
				if err != nil {
					t.Fatalf("cut at %d of %d bytes: %v", end, len(m.b), err)
				}
				n := min((end-h)/f.width()/f.Channels*f.Channels, stated)
				if len(got) != n || !slices.Equal(got, want[:n]) {
					t.Fatalf("cut at %d of %d bytes: %d samples, want the first %d written", end, len(m.b), len(got), n)
				}
			}
		})
	}
}

// TestRepair cuts an unfinished recording at byte offsets after its header
// and repairs it: the header then states every whole sample frame, a
// partial one is cut off, the file reads back as written, and repairing
// again changes nothing. A closed file is left alone.
func TestRepair(t *testing.T) {
	dir := t.TempDir()
	for _, f := range crashFormats {
		t.Run(fmt.Sprintf("%d_%dHz_%dch", f.Encoding, f.Rate, f.Channels), func(t *testing.T) {
			var m memFile
			w, err := NewWriter(&m, f)
			if err != nil {
				t.Fatal(err)
			}
			in := tone(f.Rate*11/10, f.Channels) // 1.1 s: the header says 1 s
			for piece := range slices.Chunk(in, f.Rate/50*f.Channels) {
				if err := w.Write(piece); err != nil {
					t.Fatal(err)
				}
			}
			unfinished := slices.Clone(m.b)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			want, err := decoded(t, m.b)
			if err != nil {
				t.Fatal(err)
			}
			h, align := f.headerSize(), f.Channels*f.width()
			var cuts []int
			for end := h; end < len(unfinished); end += 1 + (end-h)/4 { // every byte near the header, then sparser
				cuts = append(cuts, end)
			}
			cuts = append(cuts, len(unfinished)-1, len(unfinished))
			path := filepath.Join(dir, fmt.Sprintf("r%d-%d.wav", f.Encoding, f.Channels))
			for _, end := range cuts {
				frames := int64((end - h) / align)
				r := repairFile(t, path, unfinished[:end])
				if r.Format != f || r.Frames != frames || !r.Changed {
					t.Fatalf("cut at %d: repaired %+v, want %+v with %d frames", end, r, f, frames)
				}
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				data := frames * int64(align)
				if int64(len(b)) != int64(h)+data+data&1 || !bytes.Equal(b[:h], f.header(data)) {
					t.Fatalf("cut at %d: %d bytes after repair, header\n% x\nwant\n% x", end, len(b), b[:h], f.header(data))
				}
				got, err := decoded(t, b)
				if frames == 0 {
					if !errors.Is(err, ErrEmpty) {
						t.Fatalf("cut at %d: %v, want ErrEmpty", end, err)
					}
				} else if err != nil || !slices.Equal(got, want[:frames*int64(f.Channels)]) {
					t.Fatalf("cut at %d: read back %d samples, %v; want the first %d written", end, len(got), err, frames*int64(f.Channels))
				}
				if again := repairFile(t, path, b); again.Changed || again.Frames != frames {
					t.Fatalf("cut at %d: repairing twice: %+v", end, again)
				}
			}
			if r := repairFile(t, path, m.b); r.Changed || r.Frames != int64(len(in)/f.Channels) {
				t.Errorf("closed file: %+v, want %d frames unchanged", r, len(in)/f.Channels)
			}
		})
	}
}

// repairFile writes b to path and repairs it.
func repairFile(t *testing.T, path string, b []byte) Repaired {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := Repair(f)
	if err != nil {
		t.Fatalf("%d bytes: %v", len(b), err)
	}
	return r
}

// TestRepairRefuses: files too short for a header, and files that are not
// a WAV this package writes, are errors and are left as they were.
func TestRepairRefuses(t *testing.T) {
	mono := Format{Rate: 8000, Channels: 1}
	float := mono.header(8)
	binary.LittleEndian.PutUint16(float[20:], wavFloat)
	binary.LittleEndian.PutUint16(float[34:], 32)
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrEmpty},
		{"half a header", mono.header(0)[:30], ErrEmpty},
		{"no data chunk yet", mono.header(0)[:36], ErrEmpty},
		{"not WAV", []byte("ID3\x04 this is an MP3 file, not a WAV one"), ErrFormat},
		{"float", append(float, make([]byte, 8)...), ErrUnsupported},
	} {
		path := filepath.Join(t.TempDir(), "x.wav")
		if err := os.WriteFile(path, tc.b, 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Repair(f); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		f.Close()
		if b, _ := os.ReadFile(path); !bytes.Equal(b, tc.b) {
			t.Errorf("%s: the file changed", tc.name)
		}
	}
}
