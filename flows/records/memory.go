package records

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Memory keeps records in memory, with the semantics of the SQLite store:
// for virtual-time simulation and tests. The zero value is ready to use
// and safe for concurrent use. Err, when set before use, makes every
// method fail with it (for tests of error paths).
type Memory struct {
	mu         sync.Mutex
	callbacks  []Callback // by ID
	complaints []Complaint
	surveys    []SurveyAnswer
	dropped    map[int64]bool       // complaints dropped (nothing said); their IDs stay taken
	book       map[int64]*bookEntry // the callback scheduler's state of a callback (memoryattempts.go)
	attempts   []Attempt            // by ID
	followUps  []FollowUp           // by ID (memoryfollowups.go)

	Err error
}

var _ Backend = (*Memory)(nil)

// lock takes the lock and returns why the call must fail, if it must.
func (m *Memory) lock(ctx context.Context) error {
	m.mu.Lock()
	if err := ctx.Err(); err != nil {
		return err
	}
	return m.Err
}

// AddCallback implements Store.
func (m *Memory) AddCallback(ctx context.Context, c Callback) (Callback, error) {
	c, err := PrepareCallback(c)
	if err != nil {
		return Callback{}, fmt.Errorf("records: add callback: %w", err)
	}
	defer m.mu.Unlock()
	if err := m.lock(ctx); err != nil {
		return Callback{}, fmt.Errorf("records: add callback: %w", err)
	}
	c.ID = int64(len(m.callbacks)) + 1
	m.callbacks = append(m.callbacks, c)
	return c, nil
}

// AddComplaint implements Store.
func (m *Memory) AddComplaint(ctx context.Context, c Complaint) (Complaint, error) {
	c, err := PrepareComplaint(c)
	if err != nil {
		return Complaint{}, fmt.Errorf("records: add complaint: %w", err)
	}
	defer m.mu.Unlock()
	if err := m.lock(ctx); err != nil {
		return Complaint{}, fmt.Errorf("records: add complaint: %w", err)
	}
	c.ID = int64(len(m.complaints)) + 1
	m.complaints = append(m.complaints, c)
	return c, nil
}

// FinishComplaint implements Store.
func (m *Memory) FinishComplaint(ctx context.Context, id int64, end ComplaintEnd) error {
	if err := m.recording(ctx, id, end, false, func(c *Complaint, end ComplaintEnd) {
		c.State, c.Recording, c.Duration = end.State, end.Recording, end.Duration
	}); err != nil {
		return fmt.Errorf("records: finish complaint %d: %w", id, err)
	}
	return nil
}

// DropComplaint implements Store.
func (m *Memory) DropComplaint(ctx context.Context, id int64) error {
	if err := m.recording(ctx, id, ComplaintEnd{}, true, func(c *Complaint, _ ComplaintEnd) {
		if m.dropped == nil {
			m.dropped = map[int64]bool{}
		}
		m.dropped[c.ID] = true
	}); err != nil {
		return fmt.Errorf("records: drop complaint %d: %w", id, err)
	}
	return nil
}

// recording checks id and end, then, under the lock, runs set on the
// complaint id if it is being recorded.
func (m *Memory) recording(ctx context.Context, id int64, end ComplaintEnd, drop bool, set func(*Complaint, ComplaintEnd)) error {
	end, err := PrepareEnd(id, end, drop)
	if err != nil {
		return err
	}
	defer m.mu.Unlock()
	if err := m.lock(ctx); err != nil {
		return err
	}
	if id > int64(len(m.complaints)) || m.dropped[id] || m.complaints[id-1].State != Recording {
		return ErrNotFound
	}
	set(&m.complaints[id-1], end)
	return nil
}

// AddSurvey implements Store.
func (m *Memory) AddSurvey(ctx context.Context, a SurveyAnswer) (SurveyAnswer, error) {
	a, err := PrepareSurvey(a)
	if err != nil {
		return SurveyAnswer{}, fmt.Errorf("records: add survey answer: %w", err)
	}
	defer m.mu.Unlock()
	if err := m.lock(ctx); err != nil {
		return SurveyAnswer{}, fmt.Errorf("records: add survey answer: %w", err)
	}
	a.ID = int64(len(m.surveys)) + 1
	m.surveys = append(m.surveys, a)
	return a, nil
}

// Callbacks implements Lister.
func (m *Memory) Callbacks(ctx context.Context, f Filter) ([]Callback, error) {
	out, err := list(ctx, m, f, func() []Callback { return m.callbacks }, func(c Callback) (time.Time, int64, bool) { return c.At, c.ID, c.Done },
		func(c Callback) bool { return f.CallID == "" || c.CallID == f.CallID })
	if err != nil {
		return nil, fmt.Errorf("records: callbacks: %w", err)
	}
	return out, nil
}

// Complaints implements Lister.
func (m *Memory) Complaints(ctx context.Context, f Filter) ([]Complaint, error) {
	out, err := list(ctx, m, f, func() []Complaint { return m.complaints }, func(c Complaint) (time.Time, int64, bool) { return c.At, c.ID, c.Replied },
		func(c Complaint) bool {
			return !m.dropped[c.ID] && (f.CallID == "" || c.CallID == f.CallID) && (f.State == "" || c.State == f.State)
		})
	if err != nil {
		return nil, fmt.Errorf("records: complaints: %w", err)
	}
	return out, nil
}

// Surveys implements Lister; f.Open does not apply.
func (m *Memory) Surveys(ctx context.Context, f Filter) ([]SurveyAnswer, error) {
	f.Open = false
	out, err := list(ctx, m, f, func() []SurveyAnswer { return m.surveys }, func(a SurveyAnswer) (time.Time, int64, bool) { return a.At, a.ID, false },
		func(a SurveyAnswer) bool { return f.CallID == "" || a.CallID == f.CallID })
	if err != nil {
		return nil, fmt.Errorf("records: survey answers: %w", err)
	}
	return out, nil
}

// list returns copies of the records in all that f selects, in list
// order. all returns the records; it runs under m's lock, as match does,
// which applies the rest of f. key reads a record's At, ID and whether it
// is closed.
func list[T any](ctx context.Context, m *Memory, f Filter, all func() []T, key func(T) (time.Time, int64, bool), match func(T) bool) ([]T, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	defer m.mu.Unlock()
	if err := m.lock(ctx); err != nil {
		return nil, err
	}
	var out []T
	for _, r := range all() {
		at, _, closed := key(r)
		if (f.Open && closed) || at.Before(f.Since) || !match(r) {
			continue
		}
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b T) int {
		ta, ia, _ := key(a)
		tb, ib, _ := key(b)
		if f.Newest {
			return cmp.Or(tb.Compare(ta), cmp.Compare(ib, ia))
		}
		return cmp.Or(ta.Compare(tb), cmp.Compare(ia, ib))
	})
	out = out[min(f.Offset, len(out)):]
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// MarkCallbackDone implements Lister.
func (m *Memory) MarkCallbackDone(ctx context.Context, id int64, at time.Time, by string) error {
	if err := m.mark(ctx, id, at, by, func(n int64) bool { return n <= int64(len(m.callbacks)) }, func(at time.Time) {
		if c := &m.callbacks[id-1]; !c.Done {
			c.Done, c.DoneAt, c.Outcome, c.DoneBy = true, at, OutcomeDone, by
		}
	}); err != nil {
		return fmt.Errorf("records: callback %d done: %w", id, err)
	}
	return nil
}

// MarkComplaintReplied implements Lister.
func (m *Memory) MarkComplaintReplied(ctx context.Context, id int64, at time.Time, by string) error {
	if err := m.mark(ctx, id, at, by, func(n int64) bool { return n <= int64(len(m.complaints)) && !m.dropped[n] }, func(at time.Time) {
		if c := &m.complaints[id-1]; !c.Replied {
			c.Replied, c.RepliedAt, c.RepliedBy = true, at, by
		}
	}); err != nil {
		return fmt.Errorf("records: complaint %d replied: %w", id, err)
	}
	return nil
}

// mark checks id and at, then, under the lock, runs set with at as
// stored when exists(id) (IDs are 1 + the index; a dropped complaint keeps
// its place).
func (m *Memory) mark(ctx context.Context, id int64, at time.Time, by string, exists func(int64) bool, set func(time.Time)) error {
	at, err := CheckMark(id, at, by)
	if err != nil {
		return err
	}
	defer m.mu.Unlock()
	if err := m.lock(ctx); err != nil {
		return err
	}
	if !exists(id) {
		return ErrNotFound
	}
	set(at)
	return nil
}

// Summary implements Lister.
func (m *Memory) Summary(ctx context.Context, now, since time.Time) (Summary, error) {
	defer m.mu.Unlock()
	if err := m.lock(ctx); err != nil {
		return Summary{}, fmt.Errorf("records: summary: %w", err)
	}
	var s Summary
	for _, c := range m.callbacks {
		if !c.Done {
			s.OpenCallbacks++
		}
	}
	for _, c := range m.complaints {
		if m.dropped[c.ID] {
			continue
		}
		if !c.Replied {
			s.OpenComplaints++
			if c.State == Interrupted {
				s.Interrupted++
			}
		}
		if c.Overdue(now) {
			s.Overdue++
		}
		if c.At.Before(since) {
			continue
		}
		s.Complaints++
		if c.Replied && c.RepliedAt.After(c.Deadline) {
			s.RepliedLate++
		}
	}
	sum := 0
	for _, a := range m.surveys {
		if !a.At.Before(since) {
			s.Surveys++
			sum += a.Score
		}
	}
	if s.Surveys > 0 {
		s.MeanScore = float64(sum) / float64(s.Surveys)
	}
	return s, nil
}
