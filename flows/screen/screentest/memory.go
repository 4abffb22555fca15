// Package screentest helps test screening and its stores: Memory, a
// screen.Store in memory for tests of code that screens calls, and Rules,
// the screening scenarios every screen.Store must pass (flows/store runs
// them on SQLite).
package screentest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kefu-hotline/kefu/flows/screen"
)

// Memory is a screen.Store in memory, with the semantics of the SQLite one.
// Err, when set, makes every method fail with it (for fail-open tests).
// The zero value is ready to use and safe for concurrent use.
type Memory struct {
	mu       sync.Mutex
	entries  map[string]screen.Entry
	attempts map[string][]time.Time
	flags    map[string]screen.Flag
	nextID   int64
	prunes   int

	Err error
}

var _ screen.Store = (*Memory)(nil)

func (m *Memory) lock() error {
	m.mu.Lock()
	if m.entries == nil {
		m.entries = map[string]screen.Entry{}
		m.attempts = map[string][]time.Time{}
		m.flags = map[string]screen.Flag{}
	}
	return m.Err
}

// PutEntry implements screen.List.
func (m *Memory) PutEntry(ctx context.Context, e screen.Entry) (screen.Entry, error) {
	defer m.mu.Unlock()
	if err := m.lock(); err != nil {
		return screen.Entry{}, err
	}
	if old, ok := m.entries[e.Pattern]; ok {
		e.ID = old.ID
	} else {
		m.nextID++
		e.ID = m.nextID
	}
	m.entries[e.Pattern] = e
	return e, nil
}

// DeleteEntry implements screen.List.
func (m *Memory) DeleteEntry(ctx context.Context, pattern string) error {
	defer m.mu.Unlock()
	if err := m.lock(); err != nil {
		return err
	}
	if _, ok := m.entries[pattern]; !ok {
		return screen.ErrNotFound
	}
	delete(m.entries, pattern)
	return nil
}

// Entries implements screen.List.
func (m *Memory) Entries(ctx context.Context) ([]screen.Entry, error) {
	defer m.mu.Unlock()
	if err := m.lock(); err != nil {
		return nil, err
	}
	var out []screen.Entry
	for _, e := range m.entries {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b screen.Entry) int { return strings.Compare(a.Pattern, b.Pattern) })
	return out, nil
}

// MatchEntries implements screen.List.
func (m *Memory) MatchEntries(ctx context.Context, patterns []string, t time.Time) ([]screen.Entry, error) {
	defer m.mu.Unlock()
	if err := m.lock(); err != nil {
		return nil, err
	}
	var out []screen.Entry
	for _, p := range patterns {
		if e, ok := m.entries[p]; ok && e.Active(t) {
			out = append(out, e)
		}
	}
	return out, nil
}

// RecordAttempt implements screen.Counter.
func (m *Memory) RecordAttempt(ctx context.Context, number string, t time.Time, window time.Duration) (int, *screen.Flag, error) {
	defer m.mu.Unlock()
	if err := m.lock(); err != nil {
		return 0, nil, err
	}
	cutoff := t.Add(-window)
	kept := slices.DeleteFunc(m.attempts[number], func(a time.Time) bool { return !a.After(cutoff) })
	kept = append(kept, t)
	m.attempts[number] = kept
	if f, ok := m.flags[number]; ok && f.Until.After(t) {
		return len(kept), &f, nil
	}
	return len(kept), nil, nil
}

// PutFlag implements screen.Counter.
func (m *Memory) PutFlag(ctx context.Context, f screen.Flag) (screen.Flag, error) {
	defer m.mu.Unlock()
	if err := m.lock(); err != nil {
		return screen.Flag{}, err
	}
	if old, ok := m.flags[f.Number]; ok && old.Until.After(f.Since) {
		f.Since = old.Since
		f.Calls = max(f.Calls, old.Calls)
		if old.Until.After(f.Until) {
			f.Until = old.Until
		}
	}
	m.flags[f.Number] = f
	return f, nil
}

// Flags implements screen.Counter.
func (m *Memory) Flags(ctx context.Context, t time.Time) ([]screen.Flag, error) {
	defer m.mu.Unlock()
	if err := m.lock(); err != nil {
		return nil, err
	}
	var out []screen.Flag
	for _, f := range m.flags {
		if f.Until.After(t) {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b screen.Flag) int { return strings.Compare(a.Number, b.Number) })
	return out, nil
}

// DeleteFlag implements screen.Counter.
func (m *Memory) DeleteFlag(ctx context.Context, number string) error {
	defer m.mu.Unlock()
	if err := m.lock(); err != nil {
		return err
	}
	_, f := m.flags[number]
	_, a := m.attempts[number]
	if !f && !a {
		return screen.ErrNotFound
	}
	delete(m.flags, number)
	delete(m.attempts, number)
	return nil
}

// Prune implements screen.Counter.
func (m *Memory) Prune(ctx context.Context, t time.Time, window time.Duration) error {
	defer m.mu.Unlock()
	if err := m.lock(); err != nil {
		return err
	}
	m.prunes++
	cutoff := t.Add(-window)
	for n, as := range m.attempts {
		if as = slices.DeleteFunc(as, func(a time.Time) bool { return !a.After(cutoff) }); len(as) == 0 {
			delete(m.attempts, n)
		} else {
			m.attempts[n] = as
		}
	}
	for n, f := range m.flags {
		if !f.Until.After(t) {
			delete(m.flags, n)
		}
	}
	return nil
}

// Prunes returns how many times Prune ran.
func (m *Memory) Prunes() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.prunes
}

// Rows returns how many calls and flags the store holds, for prune tests.
func (m *Memory) Rows() (calls, flags int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, as := range m.attempts {
		calls += len(as)
	}
	return calls, len(m.flags)
}

// ErrBroken is an error to set as Memory.Err.
var ErrBroken = errors.New("screentest: the store is broken")
