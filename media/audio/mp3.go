package audio

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/hajimehoshi/go-mp3"
)

// decoderDelay is the delay, in samples, of a standard MPEG layer III
// decoder's synthesis filter bank; LAME's gapless information counts it
// separately from the encoder delay.
const decoderDelay = 529

// maxSync bounds how far past the tags DecodeMP3 looks for the first frame.
const maxSync = 64 << 10

// DecodeMP3 decodes an MPEG-1 or MPEG-2 layer III file. go-mp3 always
// produces 16-bit stereo, so the result has two channels (identical for a
// mono file). MPEG-2.5 files are refused with ErrMPEG25 before decoding.
//
// When the first frame carries a LAME (or ffmpeg) gapless tag, the tag
// frame, the encoder and decoder delay and the end padding are cut, so the
// result lines up sample for sample with what was encoded.
func DecodeMP3(r io.Reader) (p *PCM, err error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	h, off, err := firstFrame(data)
	if err != nil {
		return nil, err
	}
	gap, hasGap := h.gapless(data[off:])

	defer func() { // go-mp3 panics on some corrupt streams
		if v := recover(); v != nil {
			p, err = nil, formatErr("mp3 decoder: %v", v)
		}
	}()
	d, err := mp3.NewDecoder(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	raw, err := io.ReadAll(d)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	frames := len(raw) / 4
	start, end := 0, frames
	if hasGap {
		start = min(h.samplesPerFrame()+gap.delay+decoderDelay, frames)
		if gap.frames > 0 {
			end = min(start+gap.frames*h.samplesPerFrame()-gap.delay-gap.padding, frames)
		}
	}
	if end <= start {
		return nil, ErrEmpty
	}
	out := make([]float32, 2*(end-start))
	for i := range out {
		out[i] = float32(int16(binary.LittleEndian.Uint16(raw[2*(2*start+i):])))
	}
	return &PCM{Rate: d.SampleRate(), Channels: 2, Samples: out}, nil
}

// frameHeader is the 32-bit header of an MPEG audio frame.
type frameHeader uint32

func (h frameHeader) version() int      { return int(h>>19) & 3 } // 0: 2.5, 2: MPEG-2, 3: MPEG-1
func (h frameHeader) layer() int        { return 4 - int(h>>17)&3 }
func (h frameHeader) crc() bool         { return h>>16&1 == 0 }
func (h frameHeader) bitrateIndex() int { return int(h>>12) & 15 }
func (h frameHeader) rateIndex() int    { return int(h>>10) & 3 }
func (h frameHeader) mono() bool        { return h>>6&3 == 3 }

func (h frameHeader) valid() bool {
	return h>>21 == 0x7FF && h.version() != 1 && h.layer() != 4 &&
		h.bitrateIndex() != 15 && h.rateIndex() != 3
}

func (h frameHeader) rate() int {
	base := [3]int{44100, 48000, 32000}[h.rateIndex()]
	switch h.version() {
	case 3:
		return base
	case 2:
		return base / 2
	default:
		return base / 4
	}
}

func (h frameHeader) samplesPerFrame() int {
	if h.version() == 3 {
		return 1152
	}
	return 576
}

func (h frameHeader) sideInfoSize() int {
	switch {
	case h.version() == 3 && h.mono():
		return 17
	case h.version() == 3:
		return 32
	case h.mono():
		return 9
	default:
		return 17
	}
}

// firstFrame skips ID3v2 tags and finds the first valid frame header,
// refusing the formats go-mp3 cannot decode with a clear error.
func firstFrame(data []byte) (frameHeader, int, error) {
	off := 0
	for len(data)-off >= 10 && string(data[off:off+3]) == "ID3" {
		flags := data[off+5]
		size := int(data[off+6]&0x7f)<<21 | int(data[off+7]&0x7f)<<14 |
			int(data[off+8]&0x7f)<<7 | int(data[off+9]&0x7f)
		off += 10 + size
		if flags&0x10 != 0 { // footer present
			off += 10
		}
	}
	limit := min(len(data)-4, off+maxSync)
	for i := off; i < limit; i++ {
		if data[i] != 0xFF {
			continue
		}
		h := frameHeader(binary.BigEndian.Uint32(data[i:]))
		if !h.valid() {
			continue
		}
		switch {
		case h.version() == 0:
			return 0, 0, fmt.Errorf("%w (this file is %d Hz)", ErrMPEG25, h.rate())
		case h.layer() != 3:
			return 0, 0, fmt.Errorf("%w: MPEG layer %d (only layer III is supported)", ErrUnsupported, h.layer())
		case h.bitrateIndex() == 0:
			return 0, 0, fmt.Errorf("%w: free-format MP3", ErrUnsupported)
		}
		return h, i, nil
	}
	return 0, 0, formatErr("no MPEG audio frame found")
}

// gaplessInfo is what a LAME tag says about the padding around the audio.
type gaplessInfo struct {
	frames  int // audio frames, not counting the tag frame; 0 if unknown
	delay   int // encoder delay, samples
	padding int // end padding, samples
}

// gapless reads the Xing/Info and LAME tags from the first frame, frame.
func (h frameHeader) gapless(frame []byte) (gaplessInfo, bool) {
	var g gaplessInfo
	p := 4 + h.sideInfoSize()
	if h.crc() {
		p += 2
	}
	if len(frame) < p+8 {
		return g, false
	}
	if tag := string(frame[p : p+4]); tag != "Xing" && tag != "Info" {
		return g, false
	}
	flags := binary.BigEndian.Uint32(frame[p+4:])
	p += 8
	if flags&1 != 0 {
		if len(frame) < p+4 {
			return g, false
		}
		g.frames = int(binary.BigEndian.Uint32(frame[p:]))
		p += 4
	}
	for _, f := range []struct {
		bit  uint32
		size int
	}{{2, 4}, {4, 100}, {8, 4}} { // bytes, TOC, quality
		if flags&f.bit != 0 {
			p += f.size
		}
	}
	// LAME extension: 9-byte encoder version, then at offset 21 the 12-bit
	// encoder delay and 12-bit padding.
	if len(frame) < p+24 {
		return g, false
	}
	if enc := string(frame[p : p+4]); enc != "LAME" && enc != "Lavc" && enc != "Lavf" {
		return g, false
	}
	b := frame[p+21:]
	g.delay = int(b[0])<<4 | int(b[1])>>4
	g.padding = int(b[1]&15)<<8 | int(b[2])
	return g, true
}
