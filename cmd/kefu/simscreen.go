package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/kefu-hotline/kefu/flows/screen"
	"github.com/kefu-hotline/kefu/flows/store"
)

// dryScreen is the screening store of a simulated call: the nuisance list
// and the repeat-call flags are those of the data store kefu runs on (when
// there is one), and the caller's earlier calls are the -calls the
// simulation is told of. Nothing is written: simulating a call neither
// counts it nor flags anyone.
type dryScreen struct {
	real  screen.Store // nil: an empty list, no flags
	calls int          // calls from the number within the window before this one
}

// openDryScreen reads the data store in dir if kefu has made one there;
// close releases it.
func openDryScreen(ctx context.Context, dir string, calls int) (s *dryScreen, close func() error, err error) {
	s = &dryScreen{calls: calls}
	if _, err := os.Stat(filepath.Join(dir, store.FileName)); errors.Is(err, os.ErrNotExist) {
		return s, func() error { return nil }, nil
	}
	st, err := store.Open(ctx, dir)
	if err != nil {
		return nil, nil, err
	}
	s.real = st
	return s, st.Close, nil
}

func (s *dryScreen) PutEntry(_ context.Context, e screen.Entry) (screen.Entry, error) { return e, nil }

func (s *dryScreen) DeleteEntry(context.Context, string) error { return nil }

func (s *dryScreen) Entries(ctx context.Context) ([]screen.Entry, error) {
	if s.real == nil {
		return nil, nil
	}
	return s.real.Entries(ctx)
}

func (s *dryScreen) MatchEntries(ctx context.Context, patterns []string, t time.Time) ([]screen.Entry, error) {
	if s.real == nil {
		return nil, nil
	}
	return s.real.MatchEntries(ctx, patterns, t)
}

// RecordAttempt counts this call after the -calls before it, with the
// number's flag from the data store.
func (s *dryScreen) RecordAttempt(ctx context.Context, number string, t time.Time, _ time.Duration) (int, *screen.Flag, error) {
	flags, err := s.Flags(ctx, t)
	if err != nil {
		return 0, nil, err
	}
	for _, f := range flags {
		if f.Number == number {
			return s.calls + 1, &f, nil
		}
	}
	return s.calls + 1, nil, nil
}

func (s *dryScreen) PutFlag(_ context.Context, f screen.Flag) (screen.Flag, error) { return f, nil }

func (s *dryScreen) Flags(ctx context.Context, t time.Time) ([]screen.Flag, error) {
	if s.real == nil {
		return nil, nil
	}
	return s.real.Flags(ctx, t)
}

func (s *dryScreen) DeleteFlag(context.Context, string) error { return nil }

func (s *dryScreen) Prune(context.Context, time.Time, time.Duration) error { return nil }
