package records

import (
	"context"
	"fmt"
)

// Complaint returns complaint id; ErrNotFound when there is none (or it
// was dropped).
func (m *Memory) Complaint(ctx context.Context, id int64) (Complaint, error) {
	defer m.mu.Unlock()
	if err := m.lock(ctx); err != nil {
		return Complaint{}, fmt.Errorf("records: complaint %d: %w", id, err)
	}
	if id <= 0 || id > int64(len(m.complaints)) || m.dropped[id] {
		return Complaint{}, fmt.Errorf("records: complaint %d: %w", id, ErrNotFound)
	}
	return m.complaints[id-1], nil
}
