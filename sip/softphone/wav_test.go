package softphone

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kefu-hotline/kefu/prompts"
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

func TestWAVWriterHeader(t *testing.T) {
	var f memFile
	w, err := NewWAVWriter(&f)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]int16{1, -1, 32767, -32768}); err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]int16{0x1234}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := []byte("RIFF")
	want = binary.LittleEndian.AppendUint32(want, 36+10)
	want = append(want, "WAVEfmt "...)
	want = binary.LittleEndian.AppendUint32(want, 16)
	want = binary.LittleEndian.AppendUint16(want, 1)     // PCM
	want = binary.LittleEndian.AppendUint16(want, 1)     // mono
	want = binary.LittleEndian.AppendUint32(want, 8000)  // rate
	want = binary.LittleEndian.AppendUint32(want, 16000) // byte rate
	want = binary.LittleEndian.AppendUint16(want, 2)     // block align
	want = binary.LittleEndian.AppendUint16(want, 16)    // bits
	want = append(want, "data"...)
	want = binary.LittleEndian.AppendUint32(want, 10)
	want = append(want, 0x01, 0x00, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x80, 0x34, 0x12)
	if !bytes.Equal(f.b, want) {
		t.Errorf("file\n% x\nwant\n% x", f.b, want)
	}
	if w.Samples() != 5 {
		t.Errorf("Samples() = %d, want 5", w.Samples())
	}
	if err := w.Write([]int16{1}); err == nil {
		t.Errorf("Write after Close succeeded")
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestWAVWriterRoundTrip writes a file and reads it back with kefu's own
// prompt decoder, sample for sample.
func TestWAVWriterRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWAVWriter(f)
	if err != nil {
		t.Fatal(err)
	}
	pcm := concat(sine(300*ms, 12000), quiet(100*ms), sine(100*ms, 3000))
	for chunk := range slices.Chunk(pcm, 160) {
		if err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := prompts.Decode(path, r)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, pcm) {
		t.Errorf("read back %d samples, differing from the %d written", len(got), len(pcm))
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

func TestWAVWriterErrors(t *testing.T) {
	if _, err := NewWAVWriter(&failWriter{n: 10}); !errors.Is(err, errDisk) {
		t.Errorf("NewWAVWriter on a full disk: %v, want errDisk", err)
	}
	w, err := NewWAVWriter(&failWriter{n: 50})
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
}
