package sip

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/audio"
)

// recorder writes the caller's decoded audio to a WAV file (16-bit PCM,
// 8 kHz, mono) while a flow records (a complaint). The receive goroutine
// writes frames; the flow's Stop finishes the file. Until then the file
// is PATH.part (records.PartSuffix), a WAV playable at every moment: the
// writer updates its header every second, and the buffer in front of the
// file holds a quarter of a second, so a kill loses at most that, and
// records.Recover finishes the file from its length at the next start.
type recorder struct {
	mu      sync.Mutex
	f       *os.File
	buf     *bufio.Writer
	w       *audio.Writer
	path    string // the finished file's
	rel     string // path relative to the data directory
	err     error
	stopped bool

	// A caller whose media stops mid-recording is noticed (issue 16):
	// gap counts the frames in a row that did not come; log says so once
	// it reaches mediaGapFrames, and again when the audio comes back.
	log *slog.Logger
	gap int
}

// mediaGapFrames is how long a recording goes without the caller's packets
// before it is logged: 2 s.
const mediaGapFrames = 100

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
// rel under the data directory (records.RecordingPath names it).
func (c *call) Record(rel string) (flows.Recording, error) {
	dir := c.a.cfg.DataDir
	if dir == "" {
		return nil, errors.New("no data directory for recordings")
	}
	if !filepath.IsLocal(rel) {
		return nil, fmt.Errorf("recording %q: not a path inside the data directory", rel)
	}
	path := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("recording directory: %w", err)
	}
	r, err := newRecorder(path, rel)
	if err != nil {
		return nil, err
	}
	r.log = c.log
	if old := c.m.rec.Swap(r); old != nil {
		_, _ = old.Stop()
	}
	c.log.Info("recording started", "file", rel)
	return &callRecording{m: c.m, r: r}, nil
}

// newRecorder creates path's part file (rel names it in reports) with a
// WAV header that says it is empty, already in the file.
func newRecorder(path, rel string) (*recorder, error) {
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("recording file: %s: %w", rel, os.ErrExist)
	}
	f, err := os.OpenFile(path+records.PartSuffix, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, fmt.Errorf("recording file: %w", err)
	}
	// Held while the file is written: on a recordings folder several
	// nodes share, another node starting leaves it alone (records.Recover).
	// A file system without locks records all the same.
	_ = records.LockPart(f)
	// 4 KiB: a quarter of a second of audio, four writes a second.
	buf := bufio.NewWriterSize(f, 4<<10)
	w, err := audio.NewWriter(bufferedFile{buf, f}, audio.Format{Rate: media.SampleRate, Channels: 1})
	if err == nil {
		err = buf.Flush()
	}
	if err != nil {
		_ = f.Close()
		_ = os.Remove(path + records.PartSuffix)
		return nil, fmt.Errorf("recording file: %w", err)
	}
	return &recorder{f: f, buf: buf, w: w, path: path, rel: rel}, nil
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
		if r.gap++; r.gap == mediaGapFrames && r.log != nil {
			r.log.Warn("the caller's audio stopped during the recording", "file", r.rel,
				"at_s", float64(r.w.Samples())/media.SampleRate)
		}
	} else {
		if r.gap >= mediaGapFrames && r.log != nil {
			r.log.Info("the caller's audio came back during the recording", "file", r.rel, "gap_s", float64(r.gap)*media.FrameDur.Seconds())
		}
		r.gap = 0
	}
	r.err = r.w.Write(pcm)
}

// Stop finishes the WAV file, renames it from its part file to its name
// and reports its length. A file that could not be finished stays a part
// file (records.Recover finishes it at the next start); its path is
// reported all the same.
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
		err = r.w.Close() // writes the header's final sizes
	}
	if err == nil {
		err = r.buf.Flush()
	}
	if err == nil {
		err = r.f.Sync() // a complaint is a promise: keep it through a crash
	}
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(r.path+records.PartSuffix, r.path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(r.path))
	}
	if err != nil {
		r.err = fmt.Errorf("recording %s: %w", r.rel, err)
	}
	return info, r.err
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
