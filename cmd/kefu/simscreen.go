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

// dryScreen is the screening store of a simulated call: the nuisance list,
// the repeat-call flags and what spares a number (open complaints and
// callbacks, calls cut short) are those of the data store kefu runs on
// (when there is one), and the caller's earlier served calls are the
// -calls the simulation is told of. Nothing is written: simulating a call
// neither counts it nor flags nor proposes anyone.
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

// CountCalls returns the -calls before this one, with the number's flag
// from the data store.
func (s *dryScreen) CountCalls(ctx context.Context, number string, t time.Time, _ time.Duration) (int, *screen.Flag, error) {
	flags, err := s.Flags(ctx, t)
	if err != nil {
		return 0, nil, err
	}
	for _, f := range flags {
		if f.Number == number {
			return s.calls, &f, nil
		}
	}
	return s.calls, nil, nil
}

// RecordAttempt counts this call after the -calls before it; a simulated
// call is never served, so screening does not ask.
func (s *dryScreen) RecordAttempt(ctx context.Context, number string, t time.Time, window time.Duration) (int, *screen.Flag, error) {
	n, f, err := s.CountCalls(ctx, number, t, window)
	return n + 1, f, err
}

func (s *dryScreen) PutFlag(_ context.Context, f screen.Flag) (screen.Flag, error) { return f, nil }

func (s *dryScreen) Flags(ctx context.Context, t time.Time) ([]screen.Flag, error) {
	if s.real == nil {
		return nil, nil
	}
	return s.real.Flags(ctx, t)
}

func (s *dryScreen) DeleteFlag(context.Context, string) error { return nil }

func (s *dryScreen) RecordCutShort(context.Context, string, time.Time) error { return nil }

// Exemption reads the data store's open records and calls cut short.
func (s *dryScreen) Exemption(ctx context.Context, number string, cutSince time.Time) (screen.Exemption, error) {
	if s.real == nil {
		return screen.ExemptNone, nil
	}
	return s.real.Exemption(ctx, number, cutSince)
}

func (s *dryScreen) Prune(context.Context, time.Time, time.Duration, time.Duration) error { return nil }

// Propose returns p as if it had been stored.
func (s *dryScreen) Propose(_ context.Context, p screen.Proposal) (screen.Proposal, error) {
	return p, nil
}

func (s *dryScreen) Proposals(ctx context.Context, all bool) ([]screen.Proposal, error) {
	if s.real == nil {
		return nil, nil
	}
	return s.real.Proposals(ctx, all)
}

func (s *dryScreen) Proposal(ctx context.Context, id int64) (screen.Proposal, error) {
	if s.real == nil {
		return screen.Proposal{}, screen.ErrNotFound
	}
	return s.real.Proposal(ctx, id)
}

func (s *dryScreen) DecideProposal(context.Context, int64, screen.Decision) (screen.Proposal, error) {
	return screen.Proposal{}, errors.New("kefu simulate decides no proposal")
}
