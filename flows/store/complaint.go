package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kefu-hotline/kefu/flows/records"
)

// Complaint returns complaint id (for its recording: the ops API serves
// it); records.ErrNotFound when there is none.
func (s *SQLite) Complaint(ctx context.Context, id int64) (records.Complaint, error) {
	c, err := scanComplaint(s.r.QueryRowContext(ctx, `SELECT `+complaintColumns+` FROM complaints WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = records.ErrNotFound
	}
	if err != nil {
		return records.Complaint{}, fmt.Errorf("store: complaint %d: %w", id, err)
	}
	return c, nil
}
