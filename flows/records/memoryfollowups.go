package records

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
)

var _ FollowUpBook = (*Memory)(nil)

// ResolveComplaint implements FollowUpBook.
func (m *Memory) ResolveComplaint(ctx context.Context, id int64, at time.Time, by string) (FollowUp, error) {
	at, err := CheckMark(id, at, by)
	if err != nil {
		return FollowUp{}, fmt.Errorf("records: resolve complaint %d: %w", id, err)
	}
	defer m.mu.Unlock()
	if err := m.lock(ctx); err != nil {
		return FollowUp{}, fmt.Errorf("records: resolve complaint %d: %w", id, err)
	}
	if id > int64(len(m.complaints)) || m.dropped[id] {
		return FollowUp{}, fmt.Errorf("records: resolve complaint %d: %w", id, ErrNotFound)
	}
	c := &m.complaints[id-1]
	if withheld(c.Caller) {
		return FollowUp{}, fmt.Errorf("records: resolve complaint %d: %w", id, invalid("Caller", "withheld: nobody to call back"))
	}
	if !c.Replied {
		c.Replied, c.RepliedAt, c.RepliedBy = true, at, by
	}
	for _, f := range m.followUps {
		if f.ComplaintID == id {
			return f, nil
		}
	}
	f := FollowUp{ID: int64(len(m.followUps)) + 1, ComplaintID: id, Number: c.Caller, Resolved: at, By: by, Due: at.Add(FollowUpWithin)}
	m.followUps = append(m.followUps, f)
	return f, nil
}

// withheld reports whether a caller's number is withheld.
func withheld(caller string) bool { return caller == "" || caller == "anonymous" }

// PendingFollowUps implements FollowUpBook.
func (m *Memory) PendingFollowUps(ctx context.Context) ([]FollowUp, error) {
	defer m.mu.Unlock()
	if err := m.lock(ctx); err != nil {
		return nil, fmt.Errorf("records: pending follow-ups: %w", err)
	}
	var out []FollowUp
	for _, f := range m.followUps {
		if f.Outcome == "" {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b FollowUp) int { return cmp.Or(a.Due.Compare(b.Due), cmp.Compare(a.ID, b.ID)) })
	return out, nil
}

// FollowUpTried implements FollowUpBook.
func (m *Memory) FollowUpTried(ctx context.Context, id int64, notBefore time.Time) error {
	defer m.mu.Unlock()
	if err := m.lock(ctx); err != nil {
		return fmt.Errorf("records: follow-up %d tried: %w", id, err)
	}
	if id <= 0 || id > int64(len(m.followUps)) {
		return fmt.Errorf("records: follow-up %d tried: %w", id, ErrNotFound)
	}
	if f := &m.followUps[id-1]; f.Outcome == "" {
		f.Attempts++
		f.NotBefore = normalize(notBefore)
	}
	return nil
}

// FinishFollowUp implements FollowUpBook.
func (m *Memory) FinishFollowUp(ctx context.Context, id int64, outcome string, at time.Time, key string, score int) error {
	if err := checkFollowUpEnd(outcome, at, key, score); err != nil {
		return fmt.Errorf("records: finish follow-up %d: %w", id, err)
	}
	defer m.mu.Unlock()
	if err := m.lock(ctx); err != nil {
		return fmt.Errorf("records: finish follow-up %d: %w", id, err)
	}
	if id <= 0 || id > int64(len(m.followUps)) {
		return fmt.Errorf("records: finish follow-up %d: %w", id, ErrNotFound)
	}
	f := &m.followUps[id-1]
	if f.Outcome != "" {
		return nil
	}
	f.Outcome, f.DoneAt, f.Key, f.Score = outcome, normalize(at), key, score
	if key != "" {
		m.surveys = append(m.surveys, SurveyAnswer{ID: int64(len(m.surveys)) + 1, CallID: FollowUpCallID(f.ComplaintID),
			Caller: f.Number, Survey: FollowUpSurvey, Score: score, Key: key, At: normalize(at), Flow: FollowUpSurvey})
	}
	return nil
}

// FollowUpCallID is the call id a follow-up's survey answer is stored
// under: the complaint's.
func FollowUpCallID(complaintID int64) string { return fmt.Sprintf("followup-%d", complaintID) }

// checkFollowUpEnd checks how a follow-up ends.
func checkFollowUpEnd(outcome string, at time.Time, key string, score int) error {
	switch {
	case outcome != FollowUpAnswered && outcome != FollowUpNoAnswer && outcome != FollowUpCancelled:
		return invalid("outcome", "want answered, no_answer or cancelled")
	case at.IsZero():
		return invalid("at", "required")
	case key != "" && (outcome != FollowUpAnswered || score < MinScore || score > MaxScore):
		return invalid("Score", fmt.Sprintf("a key needs an answer scored %d to %d", MinScore, MaxScore))
	}
	return nil
}
