package records

import (
	"context"
	"fmt"
)

// Count implements Lister.
func (m *Memory) Count(ctx context.Context, kind Kind, f Filter) (int, error) {
	f.Limit, f.Offset = 0, 0
	var (
		n   int
		err error
	)
	switch kind {
	case Callbacks:
		var l []Callback
		l, err = m.Callbacks(ctx, f)
		n = len(l)
	case Complaints:
		var l []Complaint
		l, err = m.Complaints(ctx, f)
		n = len(l)
	case Surveys:
		var l []SurveyAnswer
		l, err = m.Surveys(ctx, f)
		n = len(l)
	default:
		return 0, fmt.Errorf("records: count %q: %w", kind, invalid("kind", "not callbacks, complaints or surveys"))
	}
	return n, err
}
