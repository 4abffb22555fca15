package store

import (
	"context"
	"fmt"

	"github.com/kefu-hotline/kefu/flows/records"
)

// Count implements records.Lister: the records of kind f selects, however
// many Limit and Offset would show.
func (s *SQLite) Count(ctx context.Context, kind records.Kind, f records.Filter) (int, error) {
	if err := f.Validate(); err != nil {
		return 0, fmt.Errorf("store: count %s: %w", kind, err)
	}
	var table, closed string
	switch kind {
	case records.Callbacks:
		table, closed, f.State = "callbacks", "done_at", ""
	case records.Complaints:
		table, closed = "complaints", "replied_at"
	case records.Surveys:
		table, f.Open, f.State = "survey_answers", false, ""
	default:
		return 0, fmt.Errorf("store: count %q: %w", kind, records.ErrInvalid)
	}
	var n int
	q := `SELECT count(*) FROM ` + table + filterWhere(f, closed)
	if err := s.r.QueryRowContext(ctx, q, ceilMicros(f.Since), nil, f.CallID).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count %s: %w", kind, err)
	}
	return n, nil
}
