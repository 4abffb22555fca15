package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kefu-hotline/kefu/media/g711"
)

// memFile is an in-memory io.WriteSeeker.
type memFile struct {
	b   []byte
	off int
}

func (m *memFile) Write(p []byte) (int, error) {
	if end := m.off + len(p); end > len(m.b) {
		m.b = append(m.b, make([]byte, end-len(m.b))...)
	}
	copy(m.b[m.off:], p)
	m.off += len(p)
	return len(p), nil
}

func (m *memFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		m.off = int(off)
	case io.SeekCurrent:
		m.off += int(off)
	case io.SeekEnd:
		m.off = len(m.b) + int(off)
	}
	return int64(m.off), nil
}

// TestWAVHeader spells out, field by field, the headers kefu writes: the
// 8 kHz mono recordings (the softphone's and the complaint recorder's),
// the prompt generator's WAV files, and the μ-law files sipp plays.
func TestWAVHeader(t *testing.T) {
	le := binary.LittleEndian
	pcm := func(rate, ch int, data uint32) []byte {
		h := []byte("RIFF")
		h = le.AppendUint32(h, 36+data)
		h = append(h, "WAVEfmt "...)
		h = le.AppendUint32(h, 16)                // fmt chunk size
		h = le.AppendUint16(h, 1)                 // PCM
		h = le.AppendUint16(h, uint16(ch))        // channels
		h = le.AppendUint32(h, uint32(rate))      // sample rate
		h = le.AppendUint32(h, uint32(rate*ch*2)) // byte rate
		h = le.AppendUint16(h, uint16(ch*2))      // block align
		h = le.AppendUint16(h, 16)                // bits per sample
		h = append(h, "data"...)
		return le.AppendUint32(h, data)
	}
	law := func(tag uint16, data uint32) []byte {
		h := []byte("RIFF")
		h = le.AppendUint32(h, 50+data+data&1)
		h = append(h, "WAVEfmt "...)
		h = le.AppendUint32(h, 18)
		h = le.AppendUint16(h, tag)
		h = le.AppendUint16(h, 1)
		h = le.AppendUint32(h, 8000)
		h = le.AppendUint32(h, 8000)
		h = le.AppendUint16(h, 1)
		h = le.AppendUint16(h, 8)
		h = le.AppendUint16(h, 0) // cbSize
		h = append(h, "fact"...)
		h = le.AppendUint32(h, 4)
		h = le.AppendUint32(h, data) // sample frames
		h = append(h, "data"...)
		return le.AppendUint32(h, data)
	}
	tests := []struct {
		f    Format
		data int64
		want []byte
	}{
		{Format{Rate: 8000, Channels: 1}, 0, pcm(8000, 1, 0)},
		{Format{Rate: 8000, Channels: 1}, 320, pcm(8000, 1, 320)},
		{Format{Rate: 22050, Channels: 2}, 1000, pcm(22050, 2, 1000)},
		{Format{Rate: 8000, Channels: 1, Encoding: ULaw}, 16000, law(7, 16000)},
		{Format{Rate: 8000, Channels: 1, Encoding: ALaw}, 3, law(6, 3)},
	}
	for _, tc := range tests {
		got := tc.f.header(tc.data)
		if !bytes.Equal(got, tc.want) {
			t.Errorf("%+v, %d bytes: header\n% x\nwant\n% x", tc.f, tc.data, got, tc.want)
		}
		if len(got) != tc.f.headerSize() {
			t.Errorf("%+v: header is %d bytes, headerSize says %d", tc.f, len(got), tc.f.headerSize())
		}
	}
}

// TestWriteWAVRoundTrip writes each encoding and reads it back with
// ReadWAV: 16-bit PCM sample for sample, G.711 as the codec quantises.
func TestWriteWAVRoundTrip(t *testing.T) {
	in := []int16{0, 1, -1, 32767, -32768, 1000, -2000, 30000, 5}
	quantised := func(enc func([]byte, []int16), dec func([]int16, []byte)) []int16 {
		b := make([]byte, len(in))
		enc(b, in)
		out := make([]int16, len(in))
		dec(out, b)
		return out
	}
	tests := []struct {
		f    Format
		size int
		want []int16
	}{
		{Format{Rate: 8000, Channels: 1}, 44 + 18, in},
		{Format{Rate: 48000, Channels: 3}, 44 + 18, in},
		{Format{Rate: 8000, Channels: 1, Encoding: ULaw}, 58 + 10, quantised(g711.EncodeUlaw, g711.DecodeUlaw)},
		{Format{Rate: 16000, Channels: 1, Encoding: ALaw}, 58 + 10, quantised(g711.EncodeAlaw, g711.DecodeAlaw)},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d_%dHz_%dch", tc.f.Encoding, tc.f.Rate, tc.f.Channels), func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteWAV(&b, tc.f, in); err != nil {
				t.Fatal(err)
			}
			if b.Len() != tc.size {
				t.Errorf("file is %d bytes, want %d", b.Len(), tc.size)
			}
			if b.Len()%2 != 0 {
				t.Errorf("odd file size %d: the data chunk is not padded", b.Len())
			}
			p, err := ReadWAV(bytes.NewReader(b.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if p.Rate != tc.f.Rate || p.Channels != tc.f.Channels || len(p.Samples) != len(in) {
				t.Fatalf("read %d Hz, %d channels, %d samples", p.Rate, p.Channels, len(p.Samples))
			}
			for i, s := range p.Samples {
				if s != float32(tc.want[i]) {
					t.Fatalf("sample %d: %v, want %d", i, s, tc.want[i])
				}
			}

			// Streamed through a Writer in uneven pieces, the file is the same.
			var f memFile
			w, err := NewWriter(&f, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			for _, piece := range [][]int16{in[:4], in[4:4], in[4:]} {
				if err := w.Write(piece); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(f.b, b.Bytes()) {
				t.Errorf("Writer wrote\n% x\nWriteWAV\n% x", f.b, b.Bytes())
			}
			if w.Samples() != len(in) {
				t.Errorf("Samples() = %d, want %d", w.Samples(), len(in))
			}
			if f.off != len(f.b) {
				t.Errorf("Close left the file at %d of %d bytes", f.off, len(f.b))
			}
		})
	}
}

// TestWriterFile records to a real file in 20 ms frames, as the softphone
// does, and reads it back.
func TestWriterFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := NewWriter(f, Format{Rate: 8000, Channels: 1})
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, 8000+80)
	for i := range pcm {
		pcm[i] = int16(12000 * math.Sin(2*math.Pi*440*float64(i)/8000))
	}
	for frame := range slices.Chunk(pcm, 160) {
		if err := w.Write(frame); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ReadWAV(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.MonoInt16(); !slices.Equal(got, pcm) {
		t.Errorf("read back %d samples, differing from the %d written", len(got), len(pcm))
	}
}

func TestWriterCloseTwice(t *testing.T) {
	var f memFile
	w, err := NewWriter(&f, Format{Rate: 8000, Channels: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]int16{1, 2}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]int16{1}); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: %v, want ErrClosed", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if len(f.b) != 48 {
		t.Errorf("file is %d bytes, want 48", len(f.b))
	}
}

// failWriter fails every write after the first n bytes.
type failWriter struct {
	memFile
	n int
}

var errDisk = errors.New("disk full")

func (f *failWriter) Write(p []byte) (int, error) {
	if f.off+len(p) > f.n {
		return 0, errDisk
	}
	return f.memFile.Write(p)
}

func TestWriterErrors(t *testing.T) {
	mono := Format{Rate: 8000, Channels: 1}
	if _, err := NewWriter(&failWriter{n: 10}, mono); !errors.Is(err, errDisk) {
		t.Errorf("NewWriter on a full disk: %v, want errDisk", err)
	}
	w, err := NewWriter(&failWriter{n: 50}, mono)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(make([]int16, 160)); !errors.Is(err, errDisk) {
		t.Errorf("Write: %v, want errDisk", err)
	}
	if err := w.Write(make([]int16, 1)); !errors.Is(err, errDisk) {
		t.Errorf("Write after a failure: %v, want the same error", err)
	}
	if err := w.Close(); !errors.Is(err, errDisk) {
		t.Errorf("Close: %v, want errDisk", err)
	}
	if err := WriteWAV(&failWriter{n: 10}, mono, make([]int16, 10)); !errors.Is(err, errDisk) {
		t.Errorf("WriteWAV on a full disk: %v, want errDisk", err)
	}

	for _, f := range []Format{{Rate: 8000}, {Rate: 8000, Channels: 9}, {Rate: 500, Channels: 1},
		{Rate: 8000, Channels: 1, Encoding: ALaw + 1}} {
		if _, err := NewWriter(&memFile{}, f); !errors.Is(err, ErrUnsupported) {
			t.Errorf("NewWriter(%+v): %v, want ErrUnsupported", f, err)
		}
		if err := WriteWAV(io.Discard, f, nil); !errors.Is(err, ErrUnsupported) {
			t.Errorf("WriteWAV(%+v): %v, want ErrUnsupported", f, err)
		}
	}
}

// TestWriterTooLong: a recording stops at the largest data chunk a RIFF
// file can describe, rather than writing sizes that wrap around.
func TestWriterTooLong(t *testing.T) {
	for _, f := range []Format{{Rate: 8000, Channels: 1}, {Rate: 8000, Channels: 1, Encoding: ULaw}} {
		var m memFile
		w, err := NewWriter(&m, f)
		if err != nil {
			t.Fatal(err)
		}
		w.n = f.maxData() - 2 // as if 4 GiB had been written
		if err := w.Write([]int16{1}); err != nil {
			t.Errorf("%+v: the last sample that fits: %v", f, err)
		}
		if err := w.Write([]int16{1, 2}); !errors.Is(err, ErrTooLong) {
			t.Errorf("%+v: past the limit: %v, want ErrTooLong", f, err)
		}
		if riff := int64(f.headerSize()-8) + f.maxData() + 1; riff != math.MaxUint32 {
			t.Errorf("%+v: the largest file's RIFF size is %d, want %d", f, riff, uint32(math.MaxUint32))
		}
	}
}
