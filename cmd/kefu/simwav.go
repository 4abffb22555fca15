package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/g711"
	"github.com/kefu-hotline/kefu/media/resample"
)

// WAV format tags read by readWAV. prompts.Decode reads the integer and
// float PCM ones too, but not G.711, which is how recorded calls are often
// stored.
const (
	wavPCM        = 0x0001
	wavFloat      = 0x0003
	wavALaw       = 0x0006
	wavULaw       = 0x0007
	wavExtensible = 0xFFFE
)

// errWAV is wrapped by every readWAV error about the file's content.
var errWAV = errors.New("not a WAV file kefu can read")

// wavFormat is a WAV file's fmt chunk, the extensible sub-format resolved.
type wavFormat struct {
	tag      uint16
	channels int
	rate     int
	bits     int
}

// readWAV decodes a RIFF WAV file to 8 kHz mono 16-bit PCM: integer PCM of
// 8, 16, 24 or 32 bits, 32-bit float, μ-law (tag 7) or A-law (tag 6), 1 to
// 8 channels, any rate from 1 kHz to 384 kHz. Channels are averaged, then
// the signal is resampled to 8 kHz with media/resample's anti-aliasing
// filter. Chunks other than "fmt " and "data" are skipped; a data chunk
// declared longer than the file is read to the end (as streaming tools
// write it).
func readWAV(buf []byte) ([]int16, error) {
	if len(buf) < 12 || string(buf[0:4]) != "RIFF" || string(buf[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: no RIFF WAVE header", errWAV)
	}
	var (
		f    wavFormat
		seen bool
	)
	for off := 12; ; {
		if len(buf)-off < 8 {
			return nil, fmt.Errorf("%w: no data chunk", errWAV)
		}
		id := string(buf[off : off+4])
		size := int(binary.LittleEndian.Uint32(buf[off+4:]))
		body := buf[off+8:]
		switch id {
		case "fmt ":
			if size > len(body) {
				return nil, fmt.Errorf("%w: fmt chunk truncated", errWAV)
			}
			var err error
			if f, err = parseWAVFormat(body[:size]); err != nil {
				return nil, err
			}
			seen = true
		case "data":
			if !seen {
				return nil, fmt.Errorf("%w: data chunk before fmt chunk", errWAV)
			}
			return f.to8k(body[:min(size, len(body))])
		}
		if size > len(body) {
			return nil, fmt.Errorf("%w: chunk %q truncated", errWAV, id)
		}
		off += 8 + size + size&1 // chunks are padded to an even size
	}
}

func parseWAVFormat(b []byte) (wavFormat, error) {
	if len(b) < 16 {
		return wavFormat{}, fmt.Errorf("%w: fmt chunk of %d bytes", errWAV, len(b))
	}
	f := wavFormat{
		tag:      binary.LittleEndian.Uint16(b[0:]),
		channels: int(binary.LittleEndian.Uint16(b[2:])),
		rate:     int(binary.LittleEndian.Uint32(b[4:])),
		bits:     int(binary.LittleEndian.Uint16(b[14:])),
	}
	if f.tag == wavExtensible {
		if len(b) < 26 {
			return f, fmt.Errorf("%w: extensible fmt chunk of %d bytes", errWAV, len(b))
		}
		f.tag = binary.LittleEndian.Uint16(b[24:]) // the sub-format GUID starts with the tag
	}
	ok := false
	switch f.tag {
	case wavPCM:
		ok = f.bits == 8 || f.bits == 16 || f.bits == 24 || f.bits == 32
	case wavFloat:
		ok = f.bits == 32
	case wavALaw, wavULaw:
		ok = f.bits == 8
	}
	switch {
	case !ok:
		return f, fmt.Errorf("%w: format tag %d with %d bits per sample (want PCM 8/16/24/32-bit, 32-bit float, μ-law or A-law)",
			errWAV, f.tag, f.bits)
	case f.channels < 1 || f.channels > 8:
		return f, fmt.Errorf("%w: %d channels (want 1 to 8)", errWAV, f.channels)
	case f.rate < 1000 || f.rate > 384000:
		return f, fmt.Errorf("%w: sample rate %d Hz", errWAV, f.rate)
	}
	return f, nil
}

// to8k decodes the data chunk, averages the channels and resamples to
// 8 kHz.
func (f wavFormat) to8k(data []byte) ([]int16, error) {
	width := f.bits / 8
	frames := len(data) / (width * f.channels)
	if frames == 0 {
		return nil, fmt.Errorf("%w: no samples", errWAV)
	}
	mono := make([]float32, frames)
	var one [1]int16
	for i := range frames * f.channels {
		b := data[i*width:]
		var v float32
		switch {
		case f.tag == wavULaw:
			g711.DecodeUlaw(one[:], b[:1])
			v = float32(one[0])
		case f.tag == wavALaw:
			g711.DecodeAlaw(one[:], b[:1])
			v = float32(one[0])
		case f.tag == wavFloat:
			v = math.Float32frombits(binary.LittleEndian.Uint32(b)) * 32768
		case f.bits == 8: // unsigned, 128 is zero
			v = float32(int(b[0])-128) * 256
		case f.bits == 16:
			v = float32(int16(binary.LittleEndian.Uint16(b)))
		case f.bits == 24:
			v = float32(int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24)>>8) / 256
		default: // 32-bit integer
			v = float32(int32(binary.LittleEndian.Uint32(b))) / 65536
		}
		mono[i/f.channels] += v / float32(f.channels)
	}
	rs, err := resample.New(f.rate, media.SampleRate)
	if err != nil {
		return nil, err
	}
	return rs.Float(mono), nil
}
