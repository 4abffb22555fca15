package audio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/kefu-hotline/kefu/media/g711"
)

// Encoding is how a WAV file written by this package stores its samples.
type Encoding uint8

const (
	// PCM16 is 16-bit little-endian linear PCM (WAV format tag 1): the
	// canonical 44-byte header.
	PCM16 Encoding = iota
	// ULaw is 8-bit G.711 μ-law (format tag 7), as phones and sipp's
	// rtp_stream use it. Its header has the 18-byte fmt chunk and the fact
	// chunk that non-PCM WAV files carry (58 bytes).
	ULaw
	// ALaw is 8-bit G.711 A-law (format tag 6), laid out as ULaw.
	ALaw
)

// Format is the layout of a WAV file to write: the zero Encoding is PCM16.
// The writers accept what ReadWAV reads back: 1 to 8 channels at 1 kHz to
// 384 kHz.
type Format struct {
	Rate     int // sample frames per second
	Channels int
	Encoding Encoding
}

// ErrTooLong is returned when the audio would not fit the 4 GiB that a
// RIFF file can describe (about 74 hours of 8 kHz mono 16-bit PCM).
var ErrTooLong = errors.New("audio: WAV data over the 4 GiB RIFF limit")

// ErrClosed is returned by Writer.Write after Close.
var ErrClosed = errors.New("audio: WAV writer closed")

func (f Format) validate() error {
	switch {
	case f.Encoding > ALaw:
		return fmt.Errorf("%w: WAV encoding %d", ErrUnsupported, f.Encoding)
	case f.Channels < 1 || f.Channels > 8:
		return fmt.Errorf("%w: %d channels (want 1 to 8)", ErrUnsupported, f.Channels)
	case f.Rate < 1000 || f.Rate > 384000:
		return fmt.Errorf("%w: sample rate %d Hz", ErrUnsupported, f.Rate)
	}
	return nil
}

// width is the size of one sample in bytes.
func (f Format) width() int {
	if f.Encoding == PCM16 {
		return 2
	}
	return 1
}

// headerSize is the size of everything before the samples.
func (f Format) headerSize() int {
	if f.Encoding == PCM16 {
		return 44
	}
	return 58
}

// maxData is the largest data chunk the file can describe, leaving room for
// the pad byte of an odd-sized chunk.
func (f Format) maxData() int64 {
	return math.MaxUint32 - int64(f.headerSize()-8) - 1
}

// header returns the file's header for data bytes of samples (not counting
// the pad byte that follows an odd-sized data chunk).
func (f Format) header(data int64) []byte {
	le := binary.LittleEndian
	tag, fmtSize := uint16(wavPCM), uint32(16)
	switch f.Encoding {
	case ULaw:
		tag, fmtSize = wavUlaw, 18
	case ALaw:
		tag, fmtSize = wavAlaw, 18
	}
	w := f.width()
	h := make([]byte, 0, f.headerSize())
	h = append(h, "RIFF"...)
	h = le.AppendUint32(h, uint32(int64(f.headerSize()-8)+data+data&1))
	h = append(h, "WAVEfmt "...)
	h = le.AppendUint32(h, fmtSize)
	h = le.AppendUint16(h, tag)
	h = le.AppendUint16(h, uint16(f.Channels))
	h = le.AppendUint32(h, uint32(f.Rate))
	h = le.AppendUint32(h, uint32(f.Rate*f.Channels*w)) // bytes per second
	h = le.AppendUint16(h, uint16(f.Channels*w))        // block align
	h = le.AppendUint16(h, uint16(8*w))                 // bits per sample
	if fmtSize == 18 {
		h = le.AppendUint16(h, 0) // no extension
		h = append(h, "fact"...)
		h = le.AppendUint32(h, 4)
		h = le.AppendUint32(h, uint32(data/int64(w*f.Channels))) // sample frames
	}
	h = append(h, "data"...)
	return le.AppendUint32(h, uint32(data))
}

// appendSamples appends pcm to dst in the format's encoding.
func (f Format) appendSamples(dst []byte, pcm []int16) []byte {
	switch f.Encoding {
	case ULaw, ALaw:
		n := len(dst)
		dst = append(dst, make([]byte, len(pcm))...)
		if f.Encoding == ULaw {
			g711.EncodeUlaw(dst[n:], pcm)
		} else {
			g711.EncodeAlaw(dst[n:], pcm)
		}
		return dst
	default:
		for _, s := range pcm {
			dst = binary.LittleEndian.AppendUint16(dst, uint16(s))
		}
		return dst
	}
}

// WriteWAV writes samples (interleaved by channel) as a WAV file in format
// f, header and data in one Write.
func WriteWAV(w io.Writer, f Format, samples []int16) error {
	if err := f.validate(); err != nil {
		return err
	}
	data := int64(len(samples) * f.width())
	if data > f.maxData() {
		return ErrTooLong
	}
	b := make([]byte, 0, int64(f.headerSize())+data+1)
	b = f.appendSamples(append(b, f.header(data)...), samples)
	if data&1 == 1 {
		b = append(b, 0) // chunks are padded to even size
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("audio: write WAV: %w", err)
	}
	return nil
}

// Writer streams samples to a WAV file as they come (a recording). It
// writes the header first and keeps it true as the file grows: after the
// first samples and then after every second of audio it goes back and
// writes the sizes, so the file is a playable WAV at every moment and a
// process killed mid-recording leaves at most the last second past the
// sizes the header states (Repair recovers that too). Close writes the
// final sizes. Each Write of samples is one Write to the underlying
// writer; a Writer is not safe for concurrent use.
type Writer struct {
	w       io.WriteSeeker
	f       Format
	n       int64 // data bytes written
	patched int64 // data bytes the header on file states
	every   int64 // data bytes between two updates of the header
	buf     []byte
	err     error
	closed  bool
}

// NewWriter checks f, writes the header to w and returns the writer.
func NewWriter(w io.WriteSeeker, f Format) (*Writer, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	if _, err := w.Write(f.header(0)); err != nil {
		return nil, fmt.Errorf("audio: write WAV header: %w", err)
	}
	return &Writer{w: w, f: f, every: int64(f.Rate * f.Channels * f.width())}, nil
}

// Write appends samples, interleaved by channel. After an error every
// later call returns it; past the RIFF size limit the error is ErrTooLong.
func (w *Writer) Write(pcm []int16) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return ErrClosed
	}
	if w.n+int64(len(pcm)*w.f.width()) > w.f.maxData() {
		w.err = ErrTooLong
		return w.err
	}
	w.buf = w.f.appendSamples(w.buf[:0], pcm)
	if _, err := w.w.Write(w.buf); err != nil {
		w.err = fmt.Errorf("audio: write WAV data: %w", err)
		return w.err
	}
	w.n += int64(len(w.buf))
	if w.n > 0 && (w.patched == 0 || w.n-w.patched >= w.every) {
		if err := w.patch(); err != nil {
			w.err = err
			return w.err
		}
	}
	return nil
}

// patch writes the header with the sizes of the data written so far and
// goes back to the end of the file.
func (w *Writer) patch() error {
	if _, err := w.w.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("audio: rewind WAV: %w", err)
	}
	if _, err := w.w.Write(w.f.header(w.n)); err != nil {
		return fmt.Errorf("audio: update WAV header: %w", err)
	}
	if _, err := w.w.Seek(0, io.SeekEnd); err != nil {
		return fmt.Errorf("audio: seek WAV end: %w", err)
	}
	w.patched = w.n
	return nil
}

// Samples returns the number of samples written, counting every channel.
func (w *Writer) Samples() int { return int(w.n / int64(w.f.width())) }

// Close pads an odd-sized data chunk, writes the final sizes into the
// header and leaves the underlying writer at the end of the file, without
// closing it. It reports the first error of the writer's life; a second
// Close returns the same.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.n&1 == 1 && w.err == nil {
		if _, err := w.w.Write([]byte{0}); err != nil {
			w.err = fmt.Errorf("audio: pad WAV data: %w", err)
		}
	}
	if _, err := w.w.Seek(0, io.SeekStart); err != nil {
		w.err = errors.Join(w.err, fmt.Errorf("audio: rewind WAV: %w", err))
		return w.err
	}
	if _, err := w.w.Write(w.f.header(w.n)); err != nil {
		w.err = errors.Join(w.err, fmt.Errorf("audio: finish WAV header: %w", err))
		return w.err
	}
	if _, err := w.w.Seek(0, io.SeekEnd); err != nil {
		w.err = errors.Join(w.err, fmt.Errorf("audio: seek WAV end: %w", err))
	}
	return w.err
}
