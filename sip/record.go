package sip

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/media"
)

// recorder writes the caller's decoded audio to a WAV file (16-bit PCM,
// 8 kHz, mono) while a flow records (a complaint). The receive goroutine
// writes frames; the flow's Stop finishes the file.
type recorder struct {
	mu      sync.Mutex
	f       *os.File
	w       *bufio.Writer
	rel     string // path relative to the data directory
	samples int
	err     error
	stopped bool
	buf     []byte
}

const wavHeaderLen = 44

// Record implements flows.Call: the caller's audio from now on goes to
// recordings/DATE/NAME-CALLID.wav under the data directory.
func (c *call) Record(name string) (flows.Recording, error) {
	dir := c.a.cfg.DataDir
	if dir == "" {
		return nil, errors.New("no data directory for recordings")
	}
	day := time.Now().UTC().Format("2006-01-02")
	rel := filepath.Join("recordings", day, fmt.Sprintf("%s-%s.wav", name, c.localTag))
	path := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("recording directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, fmt.Errorf("recording file: %w", err)
	}
	r := &recorder{f: f, w: bufio.NewWriterSize(f, 16<<10), rel: rel, buf: make([]byte, 2*media.FrameSamples)}
	if _, err := r.w.Write(make([]byte, wavHeaderLen)); err != nil { // filled in by Stop
		_ = f.Close()
		return nil, fmt.Errorf("recording file: %w", err)
	}
	if old := c.m.rec.Swap(r); old != nil {
		_, _ = old.Stop()
	}
	c.log.Info("recording started", "file", rel)
	return &callRecording{m: c.m, r: r}, nil
}

// callRecording detaches the recorder from the media path when stopped.
type callRecording struct {
	m *callMedia
	r *recorder
}

func (cr *callRecording) Stop() (flows.RecordingInfo, error) {
	cr.m.rec.CompareAndSwap(cr.r, nil)
	return cr.r.Stop()
}

// frame appends one frame of audio (nil: a frame of silence for a packet
// that did not come).
func (r *recorder) frame(pcm []int16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped || r.err != nil {
		return
	}
	n := media.FrameSamples
	if pcm != nil {
		n = len(pcm)
	}
	b := r.buf[:0]
	for i := range n {
		var s int16
		if pcm != nil {
			s = pcm[i]
		}
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	r.buf = b
	if _, err := r.w.Write(b); err != nil {
		r.err = err
		return
	}
	r.samples += n
}

// Stop finishes the WAV file and reports its length.
func (r *recorder) Stop() (flows.RecordingInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	info := flows.RecordingInfo{Path: r.rel, Duration: time.Duration(r.samples) * time.Second / media.SampleRate}
	if r.stopped {
		return info, r.err
	}
	r.stopped = true
	err := r.err
	if err == nil {
		err = r.w.Flush()
	}
	if err == nil {
		_, err = r.f.WriteAt(wavHeader(r.samples), 0)
	}
	if err == nil {
		err = r.f.Sync() // a complaint is a promise: keep it through a crash
	}
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		r.err = fmt.Errorf("recording %s: %w", r.rel, err)
	}
	return info, r.err
}

// wavHeader is the RIFF header of n 16-bit mono samples at 8 kHz.
func wavHeader(n int) []byte {
	data := uint32(2 * n)
	h := make([]byte, 0, wavHeaderLen)
	h = append(h, "RIFF"...)
	h = binary.LittleEndian.AppendUint32(h, 36+data)
	h = append(h, "WAVEfmt "...)
	h = binary.LittleEndian.AppendUint32(h, 16)
	h = binary.LittleEndian.AppendUint16(h, 1) // PCM
	h = binary.LittleEndian.AppendUint16(h, 1) // mono
	h = binary.LittleEndian.AppendUint32(h, media.SampleRate)
	h = binary.LittleEndian.AppendUint32(h, 2*media.SampleRate)
	h = binary.LittleEndian.AppendUint16(h, 2)
	h = binary.LittleEndian.AppendUint16(h, 16)
	h = append(h, "data"...)
	return binary.LittleEndian.AppendUint32(h, data)
}
