package softphone

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/kefu-hotline/kefu/media"
)

// wavHeaderSize is the size of the canonical 44-byte RIFF/WAVE header.
const wavHeaderSize = 44

// maxWAVData is the largest data chunk a RIFF file can describe.
const maxWAVData = math.MaxUint32 - (wavHeaderSize - 8)

// ErrWAVTooLong is returned by WAVWriter.Write when the recording would
// exceed the 4 GiB RIFF limit (about 74 hours at 8 kHz).
var ErrWAVTooLong = errors.New("softphone: WAV recording too long")

// WAVWriter writes 8 kHz mono 16-bit PCM as a RIFF WAVE file. It writes a
// header with zero sizes first and fills them in on Close, so a recording
// cut short by a crash still opens in most tools.
type WAVWriter struct {
	w    io.WriteSeeker
	n    uint32 // data bytes written
	buf  []byte
	err  error
	done bool
}

// NewWAVWriter writes the header to w and returns the writer.
func NewWAVWriter(w io.WriteSeeker) (*WAVWriter, error) {
	ww := &WAVWriter{w: w}
	if _, err := w.Write(wavHeader(0)); err != nil {
		return nil, fmt.Errorf("softphone: write WAV header: %w", err)
	}
	return ww, nil
}

func wavHeader(dataBytes uint32) []byte {
	const (
		channels      = 1
		bitsPerSample = 16
		blockAlign    = channels * bitsPerSample / 8
	)
	h := make([]byte, wavHeaderSize)
	le := binary.LittleEndian
	copy(h[0:], "RIFF")
	le.PutUint32(h[4:], dataBytes+wavHeaderSize-8)
	copy(h[8:], "WAVE")
	copy(h[12:], "fmt ")
	le.PutUint32(h[16:], 16) // fmt chunk size
	le.PutUint16(h[20:], 1)  // PCM
	le.PutUint16(h[22:], channels)
	le.PutUint32(h[24:], media.SampleRate)
	le.PutUint32(h[28:], media.SampleRate*blockAlign)
	le.PutUint16(h[32:], blockAlign)
	le.PutUint16(h[34:], bitsPerSample)
	copy(h[36:], "data")
	le.PutUint32(h[40:], dataBytes)
	return h
}

// Write appends samples. After an error every later call returns it.
func (w *WAVWriter) Write(pcm []int16) error {
	if w.err != nil {
		return w.err
	}
	if w.done {
		return errors.New("softphone: WAV writer closed")
	}
	if uint64(w.n)+2*uint64(len(pcm)) > maxWAVData {
		w.err = ErrWAVTooLong
		return w.err
	}
	w.buf = w.buf[:0]
	for _, s := range pcm {
		w.buf = binary.LittleEndian.AppendUint16(w.buf, uint16(s))
	}
	if _, err := w.w.Write(w.buf); err != nil {
		w.err = fmt.Errorf("softphone: write WAV data: %w", err)
		return w.err
	}
	w.n += uint32(len(w.buf))
	return nil
}

// Samples returns the number of samples written.
func (w *WAVWriter) Samples() int { return int(w.n / 2) }

// Close writes the final sizes into the header. It does not close the
// underlying writer.
func (w *WAVWriter) Close() error {
	if w.done {
		return w.err
	}
	w.done = true
	if _, err := w.w.Seek(0, io.SeekStart); err != nil {
		return errors.Join(w.err, fmt.Errorf("softphone: rewind WAV: %w", err))
	}
	if _, err := w.w.Write(wavHeader(w.n)); err != nil {
		return errors.Join(w.err, fmt.Errorf("softphone: finish WAV header: %w", err))
	}
	if _, err := w.w.Seek(0, io.SeekEnd); err != nil {
		return errors.Join(w.err, fmt.Errorf("softphone: seek WAV end: %w", err))
	}
	return w.err
}
