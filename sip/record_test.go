package sip

import (
	"bytes"
	"encoding/binary"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/media/audio"
)

// TestRecorderFile records two frames, a lost packet and a short frame,
// and checks the file byte for byte: the canonical 44-byte header of
// 8 kHz mono 16-bit PCM with its sizes filled in, then the samples, the
// lost packet as 20 ms of zeros.
func TestRecorderFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "complaint.wav")
	r, err := newRecorder(path, "recordings/complaint.wav")
	if err != nil {
		t.Fatal(err)
	}
	if !records.PartInUse(path + records.PartSuffix) {
		t.Error("the part file is not locked while it is written: another node's start would finish it")
	}
	var data []byte
	for _, frame := range [][]int16{ramp(160, 0), nil, ramp(80, -500)} {
		r.frame(frame)
		if frame == nil {
			frame = make([]int16, 160)
		}
		for _, s := range frame {
			data = binary.LittleEndian.AppendUint16(data, uint16(s))
		}
	}
	info, err := r.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if records.PartInUse(path) {
		t.Error("the finished file is still locked")
	}
	if info.Path != "recordings/complaint.wav" || info.Duration != 50*time.Millisecond {
		t.Errorf("Stop() = %+v, want 50 ms at recordings/complaint.wav", info)
	}
	r.frame(ramp(160, 7)) // after Stop: dropped
	if again, err := r.Stop(); err != nil || again != info {
		t.Errorf("second Stop() = %+v, %v", again, err)
	}

	le := binary.LittleEndian
	want := []byte("RIFF")
	want = le.AppendUint32(want, uint32(36+len(data)))
	want = append(want, "WAVEfmt "...)
	want = le.AppendUint32(want, 16)
	want = le.AppendUint16(want, 1)     // PCM
	want = le.AppendUint16(want, 1)     // mono
	want = le.AppendUint32(want, 8000)  // rate
	want = le.AppendUint32(want, 16000) // byte rate
	want = le.AppendUint16(want, 2)     // block align
	want = le.AppendUint16(want, 16)    // bits
	want = append(want, "data"...)
	want = le.AppendUint32(want, uint32(len(data)))
	want = append(want, data...)
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("file is %d bytes, want %d\n% x\nwant\n% x", len(got), len(want), got[:min(64, len(got))], want[:64])
	}

	if _, err := newRecorder(path, "again"); err == nil {
		t.Error("a second recorder overwrote an existing recording")
	}
	if _, err := os.Stat(path + records.PartSuffix); err == nil {
		t.Error("the part file is still there after Stop")
	}
}

// TestRecorderPartFile: while recording, the file is a part file that
// decodes at every moment, to all but at most the last second; Stop
// renames it to its name.
func TestRecorderPartFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "complaint.wav")
	r, err := newRecorder(path, "complaint.wav")
	if err != nil {
		t.Fatal(err)
	}
	part := path + records.PartSuffix
	if b, err := os.ReadFile(part); err != nil || len(b) != 44 {
		t.Fatalf("a new recording's part file: %d bytes, %v; want its 44-byte header", len(b), err)
	}
	for i := range 150 { // 3 s
		r.frame(ramp(160, int16(i)))
		if i%10 != 9 {
			continue
		}
		b, err := os.ReadFile(part)
		if err != nil {
			t.Fatal(err)
		}
		p, err := audio.ReadWAV(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("after %d frames: %v", i+1, err)
		}
		if got, sent := len(p.Samples), (i+1)*160; got > sent || sent-got > 8000 {
			t.Fatalf("after %d frames the part file decodes to %d of %d samples", i+1, got, sent)
		}
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("the recording has its final name before Stop")
	}
	if info, err := r.Stop(); err != nil || info.Duration != 3*time.Second {
		t.Fatalf("Stop() = %+v, %v", info, err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := audio.ReadWAV(bytes.NewReader(b)); err != nil || len(p.Samples) != 150*160 {
		t.Fatalf("finished recording: %v", err)
	}
}

// ramp returns n samples counting up by 97 from start, wrapping.
func ramp(n int, start int16) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = start + int16(97*i)
	}
	return out
}

// TestRecorderNoticesMediaGap: a caller whose packets stop mid-recording is
// logged once the gap reaches 2 s, and again when the audio comes back;
// short gaps are not.
func TestRecorderNoticesMediaGap(t *testing.T) {
	var logs bytes.Buffer
	r, err := newRecorder(filepath.Join(t.TempDir(), "c.wav"), "recordings/c.wav")
	if err != nil {
		t.Fatal(err)
	}
	r.log = slog.New(slog.NewJSONHandler(&logs, nil))
	for range 50 {
		r.frame(nil) // 1 s: not yet
	}
	r.frame(ramp(160, 0))
	if logs.Len() != 0 {
		t.Fatalf("a 1 s gap was logged: %s", logs.String())
	}
	for range 150 {
		r.frame(nil)
	}
	r.frame(ramp(160, 0))
	if _, err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if strings.Count(out, "audio stopped during the recording") != 1 || !strings.Contains(out, `"gap_s":3`) {
		t.Errorf("log:\n%s\nwant one line when the audio stopped for 2 s and one when it came back after 3 s", out)
	}
}
