package sip

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/audio"
)

// recorder writes the caller's decoded audio to a WAV file (16-bit PCM,
// 8 kHz, mono) while a flow records (a complaint). The receive goroutine
// writes frames; the flow's Stop finishes the file.
type recorder struct {
	mu      sync.Mutex
	f       *os.File
	w       *audio.Writer
	rel     string // path relative to the data directory
	err     error
	stopped bool
}

// silentFrame is what the recorder writes for a packet that did not come.
var silentFrame [media.FrameSamples]int16

// bufferedFile buffers the recorder's writes to its file and flushes them
// before every seek, so the WAV writer can go back and fill in the header.
type bufferedFile struct {
	*bufio.Writer
	f *os.File
}

func (b bufferedFile) Seek(offset int64, whence int) (int64, error) {
	if err := b.Flush(); err != nil {
		return 0, err
	}
	return b.f.Seek(offset, whence)
}

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
	r, err := newRecorder(path, rel)
	if err != nil {
		return nil, err
	}
	if old := c.m.rec.Swap(r); old != nil {
		_, _ = old.Stop()
	}
	c.log.Info("recording started", "file", rel)
	return &callRecording{m: c.m, r: r}, nil
}

// newRecorder creates the file at path (rel names it in reports) and
// writes a WAV header with zero sizes; Stop fills them in.
func newRecorder(path, rel string) (*recorder, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, fmt.Errorf("recording file: %w", err)
	}
	w, err := audio.NewWriter(bufferedFile{bufio.NewWriterSize(f, 16<<10), f}, audio.Format{Rate: media.SampleRate, Channels: 1})
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("recording file: %w", err)
	}
	return &recorder{f: f, w: w, rel: rel}, nil
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
	if pcm == nil {
		pcm = silentFrame[:]
	}
	r.err = r.w.Write(pcm)
}

// Stop finishes the WAV file and reports its length.
func (r *recorder) Stop() (flows.RecordingInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	info := flows.RecordingInfo{Path: r.rel, Duration: time.Duration(r.w.Samples()) * time.Second / media.SampleRate}
	if r.stopped {
		return info, r.err
	}
	r.stopped = true
	err := r.err
	if err == nil {
		err = r.w.Close() // flushes the data and writes the header's sizes
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
