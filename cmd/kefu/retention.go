package main

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/flows/store"
)

// Retention is a kefu run flag, -retention-days (KEFU_RETENTION_DAYS),
// not a key of the configuration: it is a legal policy of whoever runs
// the service (PIPL: keep personal information no longer than needed),
// tied to the data directory like -data itself, the same whichever
// configuration version is live, and not something a reload of a flow
// file should be able to switch off. 0 keeps everything.

// retention purges, at start and then daily, the recordings and stored
// numbers older than days (CS-PRIVACY): what store.Purge removes, the
// files of the complaints it removed, and any recording in a day folder
// older than the period that no complaint still open names.
type retention struct {
	days int
	dir  string // the data directory
	st   dataStore
	log  *slog.Logger
	now  func() time.Time
}

// run purges now and then every 24 hours until ctx ends.
func (r *retention) run(ctx context.Context) {
	if r.days <= 0 {
		r.log.Info("retention off: recordings and numbers are kept until deleted (-retention-days)")
		return
	}
	t := time.NewTicker(24 * time.Hour)
	defer t.Stop()
	for {
		r.purge(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// purge removes what is older than the period, and logs what it did.
func (r *retention) purge(ctx context.Context) {
	cutoff := r.now().Add(-time.Duration(r.days) * 24 * time.Hour)
	p, err := r.st.Purge(ctx, cutoff)
	if ctx.Err() != nil {
		return // stopping
	}
	if err != nil {
		r.log.Error("retention purge failed; it is tried again tomorrow", "error", err)
		return
	}
	files, ferr := r.removeFiles(cutoff, p)
	args := []any{"before", cutoff.Format(time.RFC3339), "days", r.days, "callbacks", p.Callbacks, "complaints", p.Complaints,
		"surveys", p.Surveys, "counters", p.Counters, "proposals", p.Proposals, "entries", p.Entries, "recordings", files, "kept_open", p.KeptOpen}
	if ferr != nil {
		args = append(args, "error", ferr)
		r.log.Warn("retention purge: some recordings could not be removed", args...)
		return
	}
	if p.KeptOpen > 0 {
		r.log.Warn("retention purge: open callbacks or complaints older than the period are kept until closed", args...)
		return
	}
	r.log.Info("retention purge", args...)
}

// removeFiles deletes the recordings of the complaints Purge removed
// and, in the day folders of recordings/ before the cutoff's day (UTC,
// as records.RecordingPath names them), every file no open complaint
// keeps; then the folders left empty. It returns how many files went.
func (r *retention) removeFiles(cutoff time.Time, p store.Purged) (int, error) {
	keep := map[string]bool{}
	for _, k := range p.KeptRecordings {
		keep[filepath.FromSlash(k)] = true
		keep[filepath.FromSlash(k+records.PartSuffix)] = true
	}
	n := 0
	var errs []error
	remove := func(rel string) {
		err := os.Remove(filepath.Join(r.dir, rel))
		switch {
		case err == nil:
			n++
		case !errors.Is(err, fs.ErrNotExist):
			errs = append(errs, err)
		}
	}
	for _, rel := range p.Recordings {
		if filepath.IsLocal(rel) && !keep[filepath.FromSlash(rel)] {
			remove(filepath.FromSlash(rel))
			remove(filepath.FromSlash(rel + records.PartSuffix))
		}
	}
	base := filepath.Join(r.dir, records.RecordingsDir)
	days, err := os.ReadDir(base)
	if errors.Is(err, fs.ErrNotExist) {
		return n, errors.Join(errs...)
	}
	if err != nil {
		return n, errors.Join(append(errs, err)...)
	}
	lastDay := cutoff.UTC().Format(time.DateOnly)
	for _, d := range days {
		if _, err := time.Parse(time.DateOnly, d.Name()); err != nil || !d.IsDir() || d.Name() >= lastDay {
			continue
		}
		files, err := os.ReadDir(filepath.Join(base, d.Name()))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, f := range files {
			rel := filepath.Join(records.RecordingsDir, d.Name(), f.Name())
			if !f.IsDir() && !keep[rel] && (strings.HasSuffix(f.Name(), ".wav") || strings.HasSuffix(f.Name(), ".wav"+records.PartSuffix)) {
				remove(rel)
			}
		}
		_ = os.Remove(filepath.Join(base, d.Name())) // only when empty
	}
	return n, errors.Join(errs...)
}
