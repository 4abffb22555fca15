package audio

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/kefu-hotline/kefu/media/g711"
)

// WAV format tags.
const (
	wavPCM        = 0x0001
	wavFloat      = 0x0003
	wavAlaw       = 0x0006
	wavUlaw       = 0x0007
	wavExtensible = 0xFFFE
)

// ReadWAV decodes a RIFF WAV file: integer PCM of 8, 16, 24 or 32 bits,
// 32-bit float, or 8-bit G.711 μ-law or A-law (as phones and sox record),
// 1 to 8 channels, any rate from 1 kHz to 384 kHz. Chunks other than
// "fmt " and "data" (LIST, fact, bext, ...) are skipped. A data
// chunk whose declared size runs past the end of the file (as written by
// tools streaming to a pipe) is read up to the end.
func ReadWAV(r io.Reader) (*PCM, error) {
	buf, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if len(buf) < 12 || string(buf[0:4]) != "RIFF" || string(buf[8:12]) != "WAVE" {
		return nil, formatErr("not a RIFF WAVE file")
	}
	var (
		f    wavFormat
		seen bool
	)
	for off := 12; ; {
		if len(buf)-off < 8 {
			return nil, formatErr("no data chunk")
		}
		id := string(buf[off : off+4])
		size := int64(binary.LittleEndian.Uint32(buf[off+4:]))
		body := buf[off+8:]
		switch id {
		case "fmt ":
			if size > int64(len(body)) {
				return nil, formatErr("fmt chunk truncated")
			}
			if f, err = parseFmt(body[:size]); err != nil {
				return nil, err
			}
			seen = true
		case "data":
			if !seen {
				return nil, formatErr("data chunk before fmt chunk")
			}
			if size < int64(len(body)) {
				body = body[:size]
			}
			return f.decode(body)
		}
		if size > int64(len(body)) {
			return nil, formatErr("chunk %q truncated", id)
		}
		off += 8 + int(size) + int(size&1) // chunks are padded to even size
	}
}

type wavFormat struct {
	tag      uint16
	channels int
	rate     int
	bits     int
}

func parseFmt(b []byte) (wavFormat, error) {
	if len(b) < 16 {
		return wavFormat{}, formatErr("fmt chunk is %d bytes, want at least 16", len(b))
	}
	f := wavFormat{
		tag:      binary.LittleEndian.Uint16(b[0:]),
		channels: int(binary.LittleEndian.Uint16(b[2:])),
		rate:     int(binary.LittleEndian.Uint32(b[4:])),
		bits:     int(binary.LittleEndian.Uint16(b[14:])),
	}
	if f.tag == wavExtensible {
		if len(b) < 26 {
			return f, formatErr("extensible fmt chunk is %d bytes, want at least 26", len(b))
		}
		f.tag = binary.LittleEndian.Uint16(b[24:]) // first bytes of the sub-format GUID
	}
	switch {
	case f.channels < 1 || f.channels > 8:
		return f, fmt.Errorf("%w: %d channels (want 1 to 8)", ErrUnsupported, f.channels)
	case f.rate < 1000 || f.rate > 384000:
		return f, fmt.Errorf("%w: sample rate %d Hz", ErrUnsupported, f.rate)
	case f.tag == wavPCM && (f.bits == 8 || f.bits == 16 || f.bits == 24 || f.bits == 32):
	case f.tag == wavFloat && f.bits == 32:
	case (f.tag == wavUlaw || f.tag == wavAlaw) && f.bits == 8:
	default:
		return f, fmt.Errorf("%w: WAV format tag 0x%04x with %d bits per sample (want PCM 8/16/24/32-bit, 32-bit float, or 8-bit G.711 μ-law/A-law)",
			ErrUnsupported, f.tag, f.bits)
	}
	return f, nil
}

func (f wavFormat) decode(data []byte) (*PCM, error) {
	width := f.bits / 8
	n := len(data) / width / f.channels * f.channels // whole sample frames only
	if n == 0 {
		return nil, ErrEmpty
	}
	out := make([]float32, n)
	var law [1]int16
	for i := range out {
		b := data[i*width:]
		switch {
		case f.tag == wavUlaw:
			g711.DecodeUlaw(law[:], b[:1])
			out[i] = float32(law[0])
		case f.tag == wavAlaw:
			g711.DecodeAlaw(law[:], b[:1])
			out[i] = float32(law[0])
		case f.bits == 8:
			out[i] = float32(int(b[0])-128) * 256
		case f.bits == 16:
			out[i] = float32(int16(binary.LittleEndian.Uint16(b)))
		case f.bits == 24:
			v := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
			out[i] = float32(v) / 256
		case f.tag == wavFloat:
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b)) * 32768
		default: // 32-bit integer
			out[i] = float32(int32(binary.LittleEndian.Uint32(b))) / 65536
		}
	}
	return &PCM{Rate: f.rate, Channels: f.channels, Samples: out}, nil
}
