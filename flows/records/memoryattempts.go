package records

import (
	"context"
	"fmt"
	"time"
)

var _ AttemptBook = (*Memory)(nil)

// bookEntry is a callback's scheduling state in Memory.
type bookEntry struct {
	round     int
	notBefore time.Time
}

// entry returns callback id's scheduling state; m.mu is held and id
// exists.
func (m *Memory) entry(id int64) *bookEntry {
	if m.book == nil {
		m.book = map[int64]*bookEntry{}
	}
	e := m.book[id]
	if e == nil {
		e = &bookEntry{round: 1}
		m.book[id] = e
	}
	return e
}

// pending is callback c's Pending; m.mu is held.
func (m *Memory) pending(c Callback) Pending {
	e := m.entry(c.ID)
	p := Pending{Callback: c, Round: e.round, NotBefore: e.notBefore}
	for _, a := range m.attempts {
		if a.CallbackID == c.ID && a.Round == e.round && a.Counts {
			p.Attempts++
		}
	}
	return p
}

// Pending implements AttemptBook.
func (m *Memory) Pending(ctx context.Context) ([]Pending, error) {
	open, err := m.Callbacks(ctx, Filter{Open: true})
	if err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	if err := m.lock(ctx); err != nil {
		return nil, fmt.Errorf("records: pending callbacks: %w", err)
	}
	out := make([]Pending, 0, len(open))
	for _, c := range open {
		if !m.callbacks[c.ID-1].Done { // not closed meanwhile
			out = append(out, m.pending(m.callbacks[c.ID-1]))
		}
	}
	return out, nil
}

// PendingOne implements AttemptBook.
func (m *Memory) PendingOne(ctx context.Context, id int64) (Pending, error) {
	defer m.mu.Unlock()
	if err := m.lock(ctx); err != nil {
		return Pending{}, fmt.Errorf("records: callback %d: %w", id, err)
	}
	if id <= 0 || id > int64(len(m.callbacks)) || m.callbacks[id-1].Done {
		return Pending{}, fmt.Errorf("records: callback %d: %w", id, ErrNotFound)
	}
	return m.pending(m.callbacks[id-1]), nil
}

// StartAttempt implements AttemptBook.
func (m *Memory) StartAttempt(ctx context.Context, a Attempt) (Attempt, error) {
	if a.Started.IsZero() || a.CallbackID <= 0 || a.Round <= 0 {
		return Attempt{}, fmt.Errorf("records: start attempt: %w", ErrInvalid)
	}
	defer m.mu.Unlock()
	if err := m.lock(ctx); err != nil {
		return Attempt{}, fmt.Errorf("records: start attempt: %w", err)
	}
	if a.CallbackID > int64(len(m.callbacks)) || m.callbacks[a.CallbackID-1].Done {
		return Attempt{}, fmt.Errorf("records: start attempt of callback %d: %w", a.CallbackID, ErrNotFound)
	}
	a.Started, a.Ended, a.Result, a.Counts, a.Talk = normalize(a.Started), time.Time{}, "", false, 0
	a.ID = int64(len(m.attempts)) + 1
	m.attempts = append(m.attempts, a)
	return a, nil
}

// EndAttempt implements AttemptBook.
func (m *Memory) EndAttempt(ctx context.Context, a Attempt, notBefore time.Time) error {
	if a.Ended.IsZero() || a.Result == "" || a.Talk < 0 {
		return fmt.Errorf("records: end attempt: %w", ErrInvalid)
	}
	defer m.mu.Unlock()
	if err := m.lock(ctx); err != nil {
		return fmt.Errorf("records: end attempt: %w", err)
	}
	if a.ID <= 0 || a.ID > int64(len(m.attempts)) {
		return fmt.Errorf("records: end attempt %d: %w", a.ID, ErrNotFound)
	}
	st := &m.attempts[a.ID-1]
	st.Ended, st.Result, st.Counts, st.Talk = normalize(a.Ended), a.Result, a.Counts, a.Talk.Truncate(time.Microsecond)
	if c := m.callbacks[st.CallbackID-1]; !c.Done {
		m.entry(c.ID).notBefore = normalize(notBefore)
	}
	return nil
}

// CloseCallback implements AttemptBook.
func (m *Memory) CloseCallback(ctx context.Context, id int64, outcome string, at time.Time) error {
	if outcome != OutcomeDone && outcome != OutcomeNoAnswer && outcome != OutcomeCancelled {
		return fmt.Errorf("records: close callback %d: outcome %q: %w", id, outcome, ErrInvalid)
	}
	if err := m.mark(ctx, id, at, "", func(n int64) bool { return n <= int64(len(m.callbacks)) }, func(at time.Time) {
		if c := &m.callbacks[id-1]; !c.Done {
			c.Done, c.DoneAt, c.Outcome = true, at, outcome
		}
	}); err != nil {
		return fmt.Errorf("records: close callback %d: %w", id, err)
	}
	return nil
}

// InterruptAttempts implements AttemptBook.
func (m *Memory) InterruptAttempts(ctx context.Context, at time.Time) (int, error) {
	defer m.mu.Unlock()
	if err := m.lock(ctx); err != nil {
		return 0, fmt.Errorf("records: interrupted attempts: %w", err)
	}
	n := 0
	for i := range m.attempts {
		if a := &m.attempts[i]; a.Ended.IsZero() {
			a.Ended, a.Result, a.Counts = normalize(at), AttemptInterrupted, false
			if a.Ended.Before(a.Started) {
				a.Ended = a.Started
			}
			n++
		}
	}
	return n, nil
}

// Reopen implements AttemptBook.
func (m *Memory) Reopen(ctx context.Context, id int64) error {
	defer m.mu.Unlock()
	if err := m.lock(ctx); err != nil {
		return fmt.Errorf("records: reopen callback %d: %w", id, err)
	}
	if id <= 0 || id > int64(len(m.callbacks)) {
		return fmt.Errorf("records: reopen callback %d: %w", id, ErrNotFound)
	}
	c, e := &m.callbacks[id-1], m.entry(id)
	if c.Done {
		e.round++
	}
	c.Done, c.DoneAt, c.DoneBy, c.Outcome, e.notBefore = false, time.Time{}, "", "", time.Time{}
	return nil
}

// Attempts implements AttemptBook.
func (m *Memory) Attempts(ctx context.Context, id int64) ([]Attempt, error) {
	defer m.mu.Unlock()
	if err := m.lock(ctx); err != nil {
		return nil, fmt.Errorf("records: attempts of callback %d: %w", id, err)
	}
	var out []Attempt
	for _, a := range m.attempts {
		if a.CallbackID == id {
			out = append(out, a)
		}
	}
	return out, nil
}
