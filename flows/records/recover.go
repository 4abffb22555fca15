package records

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/kefu-hotline/kefu/media/audio"
)

// Recovered says what Recover found.
type Recovered struct {
	// Interrupted are the complaints that were being recorded when kefu
	// stopped, now Interrupted, with the audio that reached the disk.
	Interrupted []Complaint
	// Orphans are the recordings no complaint named (the store failed
	// when they started), now added as Interrupted complaints with what
	// their file name says: class, start and call id; no caller.
	Orphans []Complaint
	// Failed counts the recordings whose file could not be finished
	// (each logged); their complaint is listed all the same.
	Failed int
}

// Recover finishes what kefu left unfinished when it stopped without
// finishing its calls (killed, crashed, a power cut): every complaint
// still Recording, and every recording part file under dataDir. A part
// file is repaired (audio.Repair: its header from its length) and renamed
// to its final name; a file without a sample of audio is removed. Each
// complaint is marked Interrupted with the recording and duration found,
// and a part file no complaint names is added as an Interrupted complaint,
// so that no complaint is silently gone: all are on the ops API. A part
// file a recorder holds the lock of (LockPart: another node's recording,
// on a recordings folder the nodes share) is left alone. Run it at
// start-up, before calls are taken. A file it cannot finish is logged,
// counted and left for a person; an error is returned when the store
// fails.
func Recover(ctx context.Context, dataDir string, b Backend, log *slog.Logger) (Recovered, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var out Recovered
	open, err := b.Complaints(ctx, Filter{State: Recording})
	if err != nil {
		return out, fmt.Errorf("recover recordings: %w", err)
	}
	var errs []error
	seen := map[string]bool{}
	for _, c := range open {
		seen[c.Recording] = true
		if c.Recording != "" && PartInUse(filepath.Join(dataDir, filepath.FromSlash(c.Recording+PartSuffix))) {
			continue // being recorded: by another node, on a shared folder
		}
		rec, d, err := finishFile(dataDir, c.Recording)
		if err != nil {
			out.Failed++
			log.Error("an interrupted recording could not be finished; the complaint lists its part file", "complaint", c.ID,
				"call_id", c.CallID, "recording", c.Recording, "error", err)
			rec = c.Recording + PartSuffix
		}
		end := ComplaintEnd{State: Interrupted, Recording: rec, Duration: d}
		if err := b.FinishComplaint(ctx, c.ID, end); err != nil {
			errs = append(errs, err)
			continue
		}
		c.State, c.Recording, c.Duration = end.State, end.Recording, end.Duration
		out.Interrupted = append(out.Interrupted, c)
		log.Warn("complaint interrupted by kefu stopping, recovered", "complaint", c.ID, "call_id", c.CallID,
			"class", c.Class, "recording", c.Recording, "seconds", c.Duration.Seconds())
	}
	parts, err := partFiles(dataDir)
	if err != nil {
		errs = append(errs, err)
	}
	for _, rel := range parts {
		if seen[rel] || PartInUse(filepath.Join(dataDir, filepath.FromSlash(rel+PartSuffix))) {
			continue // its complaint's, failed above; or being recorded
		}
		c, failed, err := orphan(ctx, dataDir, rel, b, log)
		if failed {
			out.Failed++
		}
		if err != nil {
			errs = append(errs, err)
		} else if c.ID != 0 {
			out.Orphans = append(out.Orphans, c)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return out, fmt.Errorf("recover recordings: %w", err)
	}
	return out, nil
}

// orphan finishes the part file of recording rel and, unless a complaint
// names it, adds one (returned). failed says the file could not be
// finished (logged; the complaint lists the part file); err is the
// store's.
func orphan(ctx context.Context, dataDir, rel string, b Backend, log *slog.Logger) (c Complaint, failed bool, err error) {
	class, at, callID, ok := parseRecordingName(path.Base(rel))
	if !ok {
		class, callID = "unknown", ""
		if fi, err := os.Stat(filepath.Join(dataDir, filepath.FromSlash(rel+PartSuffix))); err == nil {
			at = fi.ModTime()
		} else {
			at = time.Now()
		}
	}
	rec, d, ferr := finishFile(dataDir, rel)
	if ferr != nil {
		log.Error("a recording with no complaint could not be finished; the complaint lists its part file", "recording", rel, "error", ferr)
		rec = rel + PartSuffix
	}
	// A complaint that names it was finished, but its file was not
	// renamed: it is in order now.
	cs, err := b.Complaints(ctx, Filter{Since: at.Truncate(time.Millisecond), Limit: 100})
	if err != nil {
		return Complaint{}, ferr != nil, err
	}
	for _, c := range cs {
		if c.Recording == rel || c.Recording == rel+PartSuffix {
			log.Warn("recording of a stored complaint finished", "complaint", c.ID, "recording", rel)
			return Complaint{}, ferr != nil, nil
		}
	}
	c, err = b.AddComplaint(ctx, Complaint{CallID: callID, Class: class, At: at, State: Interrupted, Recording: rec, Duration: d})
	if err != nil {
		return Complaint{}, ferr != nil, err
	}
	log.Warn("recording without a complaint found and listed as an interrupted complaint (no caller number: find the call by its id)",
		"complaint", c.ID, "call_id", callID, "class", class, "recording", rec, "seconds", d.Seconds())
	return c, ferr != nil, nil
}

// finishFile finishes the recording at rel (relative to dataDir): its part
// file repaired and renamed, or the finished file checked. It returns the
// recording as the complaint should name it ("" when there is no audio:
// no file, or one without a sample) and its length.
func finishFile(dataDir, rel string) (string, time.Duration, error) {
	if rel == "" {
		return "", 0, nil
	}
	final := filepath.Join(dataDir, filepath.FromSlash(rel))
	name := final + PartSuffix
	if _, err := os.Lstat(name); errors.Is(err, fs.ErrNotExist) {
		name = final
		if _, err := os.Lstat(name); errors.Is(err, fs.ErrNotExist) {
			return "", 0, nil // stopped before the file was made
		}
	}
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return "", 0, err
	}
	r, err := audio.Repair(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, audio.ErrEmpty) || (err == nil && r.Frames == 0) {
		return "", 0, os.Remove(name) // a header at most: nothing was said into it
	}
	if err != nil {
		return "", 0, err
	}
	if name != final {
		if err := os.Rename(name, final); err != nil {
			return "", 0, err
		}
		if err := syncDir(filepath.Dir(final)); err != nil {
			return "", 0, err
		}
	}
	return rel, time.Duration(r.Frames) * time.Second / time.Duration(r.Format.Rate), nil
}

// partFiles lists the recordings under dataDir that have a part file, as
// their final paths relative to dataDir.
func partFiles(dataDir string) ([]string, error) {
	// With a separator at the end the walk goes into the folder when it
	// is a link (to a folder the nodes share, issue 17).
	root := filepath.Join(dataDir, RecordingsDir) + string(filepath.Separator)
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == root {
				return filepath.SkipDir // no recordings yet
			}
			return err
		}
		if d.Type().IsRegular() && strings.HasSuffix(p, ".wav"+PartSuffix) {
			rel, err := filepath.Rel(dataDir, strings.TrimSuffix(p, PartSuffix))
			if err != nil {
				return err
			}
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("recordings: %w", err)
	}
	return out, nil
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
