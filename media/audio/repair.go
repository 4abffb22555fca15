package audio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// Repaired is what Repair found in a WAV file.
type Repaired struct {
	Format Format
	Frames int64 // sample frames in the file (samples per channel)
	// Changed says Repair rewrote the header (or cut a partial sample
	// frame off the end): the file had not been closed by its writer.
	Changed bool
}

// Seconds is the length of the audio.
func (r Repaired) Seconds() float64 { return float64(r.Frames) / float64(r.Format.Rate) }

// Repair finishes a WAV file in one of the encodings this package writes
// whose writer never got to Close it (the process was killed): its data
// chunk, the last in the file, is taken to run to the end of the file, a
// partial sample frame there is cut off, and the header's sizes (and the
// fact chunk's frame count) are written to match, then the file is synced.
// A file its writer closed is left as it is. A file too short to hold its
// header is an error wrapping ErrEmpty; one that is not a WAV of a kind
// Writer writes wraps ErrFormat or ErrUnsupported.
func Repair(f *os.File) (Repaired, error) {
	st, err := f.Stat()
	if err != nil {
		return Repaired{}, fmt.Errorf("audio: repair WAV: %w", err)
	}
	size := st.Size()
	head := make([]byte, min(size, 4096))
	if _, err := f.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return Repaired{}, fmt.Errorf("audio: repair WAV: %w", err)
	}
	form, dataAt, factAt, err := parseHead(head)
	if err != nil {
		return Repaired{}, err
	}
	le := binary.LittleEndian
	align := int64(form.Channels * form.width())
	declared := int64(le.Uint32(head[dataAt-4:]))
	data := size - dataAt
	out := Repaired{Format: form}
	if declared <= data && dataAt+declared+declared&1 == size && le.Uint32(head[4:]) == uint32(size-8) {
		// Closed by its writer: sizes right, an odd chunk padded.
		out.Frames = declared / align
		return out, nil
	}
	data -= data % align
	if data > form.maxData() {
		data = form.maxData() - form.maxData()%align
	}
	out.Frames, out.Changed = data/align, true
	if err := f.Truncate(dataAt + data); err != nil {
		return Repaired{}, fmt.Errorf("audio: repair WAV: %w", err)
	}
	if data&1 == 1 {
		if _, err := f.WriteAt([]byte{0}, dataAt+data); err != nil {
			return Repaired{}, fmt.Errorf("audio: repair WAV: pad: %w", err)
		}
	}
	// Where each size goes, and its value.
	patches := [][2]int64{{4, dataAt - 8 + data + data&1}, {dataAt - 4, data}}
	if factAt > 0 {
		patches = append(patches, [2]int64{factAt, out.Frames})
	}
	for _, p := range patches {
		if _, err := f.WriteAt(le.AppendUint32(nil, uint32(p[1])), p[0]); err != nil {
			return Repaired{}, fmt.Errorf("audio: repair WAV header: %w", err)
		}
	}
	if err := f.Sync(); err != nil {
		return Repaired{}, fmt.Errorf("audio: repair WAV: %w", err)
	}
	return out, nil
}

// parseHead reads a WAV header up to its data chunk: the format, where the
// samples start and where the fact chunk's frame count is (0: none).
func parseHead(b []byte) (f Format, dataAt, factAt int64, err error) {
	if len(b) < 12 {
		return Format{}, 0, 0, fmt.Errorf("audio: repair WAV: %d bytes, no header: %w", len(b), ErrEmpty)
	}
	if string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return Format{}, 0, 0, formatErr("not a RIFF WAVE file")
	}
	var seen bool
	for off := 12; ; {
		if len(b)-off < 8 {
			return Format{}, 0, 0, fmt.Errorf("audio: repair WAV: header cut short: %w", ErrEmpty)
		}
		id := string(b[off : off+4])
		size := int(binary.LittleEndian.Uint32(b[off+4:]))
		body := b[off+8:]
		switch id {
		case "data":
			if !seen {
				return Format{}, 0, 0, formatErr("data chunk before fmt chunk")
			}
			return f, int64(off + 8), factAt, nil
		case "fmt ":
			if size > len(body) {
				return Format{}, 0, 0, fmt.Errorf("audio: repair WAV: fmt chunk cut short: %w", ErrEmpty)
			}
			wf, err := parseFmt(body[:size])
			if err != nil {
				return Format{}, 0, 0, err
			}
			switch {
			case wf.tag == wavPCM && wf.bits == 16:
				f.Encoding = PCM16
			case wf.tag == wavUlaw:
				f.Encoding = ULaw
			case wf.tag == wavAlaw:
				f.Encoding = ALaw
			default:
				return Format{}, 0, 0, fmt.Errorf("%w: repair WAV: format tag 0x%04x, %d bits (want 16-bit PCM or G.711)", ErrUnsupported, wf.tag, wf.bits)
			}
			f.Rate, f.Channels, seen = wf.rate, wf.channels, true
		case "fact":
			if size >= 4 {
				factAt = int64(off + 8)
			}
		}
		if size > len(body) {
			return Format{}, 0, 0, fmt.Errorf("audio: repair WAV: chunk %q cut short: %w", id, ErrEmpty)
		}
		off += 8 + size + size&1
	}
}
