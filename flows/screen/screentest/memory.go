// Package screentest helps test screening and its stores: Memory, a
// screen.Store in memory for tests of code that screens calls, and Rules,
// the screening scenarios every screen.Store must pass (flows/store runs
// them on SQLite). A store under Rules also keeps records
// (records.Backend), as flows/store does: open complaints and callbacks
// spare their numbers.
package screentest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/flows/screen"
)

// Memory is a screen.Store in memory, with the semantics of the SQLite one;
// its Records are the callbacks and complaints that spare their numbers.
// Err, when set, makes every screening method fail with it (for fail-open
// tests). The zero value is ready to use and safe for concurrent use.
type Memory struct {
	mu        sync.Mutex
	entries   map[string]screen.Entry
	attempts  map[string][]time.Time
	flags     map[string]screen.Flag
	cut       map[string][]time.Time
	proposals []screen.Proposal // by ID
	nextID    int64
	prunes    int

	// Records keeps the callbacks and complaints; Memory passes its
	// methods on, so it is a records.Backend too.
	records.Memory
	Err error
}

var (
	_ screen.Store    = (*Memory)(nil)
	_ records.Backend = (*Memory)(nil)
)

func (m *Memory) lock() error {
	m.mu.Lock()
	if m.entries == nil {
		m.entries = map[string]screen.Entry{}
		m.attempts = map[string][]time.Time{}
		m.flags = map[string]screen.Flag{}
		m.cut = map[string][]time.Time{}
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

// CountCalls implements screen.Counter.
func (m *Memory) CountCalls(ctx context.Context, number string, t time.Time, window time.Duration) (int, *screen.Flag, error) {
	defer m.mu.Unlock()
	if err := m.lock(); err != nil {
		return 0, nil, err
	}
	n := 0
	for _, a := range m.attempts[number] {
		if a.After(t.Add(-window)) {
			n++
		}
	}
	if f, ok := m.flags[number]; ok && f.Until.After(t) {
		return n, &f, nil
	}
	return n, nil, nil
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

// RecordCutShort implements screen.Counter.
func (m *Memory) RecordCutShort(ctx context.Context, number string, t time.Time) error {
	defer m.mu.Unlock()
	if err := m.lock(); err != nil {
		return err
	}
	m.cut[number] = append(m.cut[number], t)
	return nil
}

// Exemption implements screen.Counter over the records.
func (m *Memory) Exemption(ctx context.Context, number string, cutSince time.Time) (screen.Exemption, error) {
	err := m.lock()
	cut := slices.ContainsFunc(m.cut[number], func(at time.Time) bool { return at.After(cutSince) })
	m.mu.Unlock()
	if err != nil {
		return "", err
	}
	cs, err := m.Memory.Complaints(ctx, records.Filter{Open: true})
	if err != nil {
		return "", err
	}
	if slices.ContainsFunc(cs, func(c records.Complaint) bool { return c.Caller == number }) {
		return screen.ExemptComplaint, nil
	}
	cbs, err := m.Memory.Callbacks(ctx, records.Filter{Open: true})
	if err != nil {
		return "", err
	}
	if slices.ContainsFunc(cbs, func(c records.Callback) bool { return c.Caller == number || c.Number == number }) {
		return screen.ExemptCallback, nil
	}
	if cut {
		return screen.ExemptCutShort, nil
	}
	return screen.ExemptNone, nil
}

// Prune implements screen.Counter.
func (m *Memory) Prune(ctx context.Context, t time.Time, window, spare time.Duration) error {
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
	for n, as := range m.cut {
		if as = slices.DeleteFunc(as, func(a time.Time) bool { return !a.After(t.Add(-spare)) }); len(as) == 0 {
			delete(m.cut, n)
		} else {
			m.cut[n] = as
		}
	}
	for n, f := range m.flags {
		if !f.Until.After(t) {
			delete(m.flags, n)
		}
	}
	return nil
}

// Propose implements screen.Proposals.
func (m *Memory) Propose(ctx context.Context, p screen.Proposal) (screen.Proposal, error) {
	defer m.mu.Unlock()
	if err := m.lock(); err != nil {
		return screen.Proposal{}, err
	}
	for i, o := range m.proposals {
		if o.Number == p.Number && o.Status == screen.Proposed {
			o.Calls = max(o.Calls, p.Calls)
			if p.Until.After(o.Until) {
				o.Until = p.Until
			}
			m.proposals[i] = o
			return o, nil
		}
	}
	p.ID = int64(len(m.proposals)) + 1
	p.Status = screen.Proposed
	p.DecidedBy, p.DecidedAt, p.EntryID = "", nil, 0
	m.proposals = append(m.proposals, p)
	return p, nil
}

// Proposals implements screen.Proposals.
func (m *Memory) Proposals(ctx context.Context, all bool) ([]screen.Proposal, error) {
	defer m.mu.Unlock()
	if err := m.lock(); err != nil {
		return nil, err
	}
	var out []screen.Proposal
	for _, p := range m.proposals {
		if all || p.Status == screen.Proposed {
			out = append(out, p)
		}
	}
	return out, nil
}

// Proposal implements screen.Proposals.
func (m *Memory) Proposal(ctx context.Context, id int64) (screen.Proposal, error) {
	defer m.mu.Unlock()
	if err := m.lock(); err != nil {
		return screen.Proposal{}, err
	}
	if id < 1 || id > int64(len(m.proposals)) {
		return screen.Proposal{}, screen.ErrNotFound
	}
	return m.proposals[id-1], nil
}

// DecideProposal implements screen.Proposals.
func (m *Memory) DecideProposal(ctx context.Context, id int64, d screen.Decision) (screen.Proposal, error) {
	defer m.mu.Unlock()
	if err := m.lock(); err != nil {
		return screen.Proposal{}, err
	}
	if err := d.Validate(); err != nil {
		return screen.Proposal{}, err
	}
	if id < 1 || id > int64(len(m.proposals)) {
		return screen.Proposal{}, screen.ErrNotFound
	}
	p := m.proposals[id-1]
	if p.Status != screen.Proposed {
		return screen.Proposal{}, screen.ErrDecided
	}
	if d.Status == screen.Confirmed {
		e := *d.Entry
		if old, ok := m.entries[e.Pattern]; ok {
			e.ID = old.ID
		} else {
			m.nextID++
			e.ID = m.nextID
		}
		m.entries[e.Pattern] = e
		p.EntryID = e.ID
	}
	at := d.At
	p.Status, p.DecidedBy, p.DecidedAt = d.Status, d.By, &at
	m.proposals[id-1] = p
	return p, nil
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
