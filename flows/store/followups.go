package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
)

// Follow-up calls (CS-FOLLOWUP): a promise to a customer, so every change
// commits durably.

var _ records.FollowUpBook = (*SQLite)(nil)

const followUpColumns = `id, complaint_id, number, resolved, resolved_by, due, attempts, not_before, outcome, dtmf, score, done_at`

// ResolveComplaint implements records.FollowUpBook.
func (s *SQLite) ResolveComplaint(ctx context.Context, id int64, at time.Time, by string) (records.FollowUp, error) {
	at, err := records.CheckMark(id, at, by)
	var f records.FollowUp
	if err == nil {
		err = s.writeDurably(ctx, func(tx *sql.Tx) error {
			var caller string
			if err := tx.QueryRowContext(ctx, `SELECT caller FROM complaints WHERE id = ?`, id).Scan(&caller); err != nil {
				if errors.Is(err, sql.ErrNoRows) {
					return records.ErrNotFound
				}
				return err
			}
			if caller == "" || caller == "anonymous" {
				return fmt.Errorf("caller withheld, nobody to call back: %w", records.ErrInvalid)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE complaints SET replied_by = CASE WHEN replied_at IS NULL THEN ?3 ELSE replied_by END,
	replied_at = coalesce(replied_at, ?1) WHERE id = ?2`, micros(at), id, by); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO followups (complaint_id, number, resolved, resolved_by, due) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (complaint_id) DO NOTHING`, id, caller, micros(at), by, micros(at.Add(records.FollowUpWithin))); err != nil {
				return err
			}
			var err error
			f, err = scanFollowUp(tx.QueryRowContext(ctx, `SELECT `+followUpColumns+` FROM followups WHERE complaint_id = ?`, id))
			return err
		})
	}
	if err != nil {
		return records.FollowUp{}, fmt.Errorf("store: resolve complaint %d: %w", id, err)
	}
	return f, nil
}

// PendingFollowUps implements records.FollowUpBook.
func (s *SQLite) PendingFollowUps(ctx context.Context) ([]records.FollowUp, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+followUpColumns+` FROM followups WHERE outcome = '' ORDER BY due, id`)
	if err != nil {
		return nil, fmt.Errorf("store: pending follow-ups: %w", err)
	}
	defer rows.Close()
	var out []records.FollowUp
	for rows.Next() {
		f, err := scanFollowUp(rows)
		if err != nil {
			return nil, fmt.Errorf("store: pending follow-ups: %w", err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: pending follow-ups: %w", err)
	}
	return out, nil
}

// FollowUpTried implements records.FollowUpBook.
func (s *SQLite) FollowUpTried(ctx context.Context, id int64, notBefore time.Time) error {
	err := s.writeDurably(ctx, func(tx *sql.Tx) error {
		return oneRow(tx.ExecContext(ctx, `UPDATE followups SET
	attempts = attempts + CASE outcome WHEN '' THEN 1 ELSE 0 END,
	not_before = CASE outcome WHEN '' THEN ? ELSE not_before END
WHERE id = ?`, nullMicros(notBefore), id))
	})
	if err != nil {
		return fmt.Errorf("store: follow-up %d tried: %w", id, err)
	}
	return nil
}

// FinishFollowUp implements records.FollowUpBook.
func (s *SQLite) FinishFollowUp(ctx context.Context, id int64, outcome string, at time.Time, key string, score int) error {
	if key != "" && (outcome != records.FollowUpAnswered || score < records.MinScore || score > records.MaxScore) ||
		at.IsZero() || outcome != records.FollowUpAnswered && outcome != records.FollowUpNoAnswer && outcome != records.FollowUpCancelled {
		return fmt.Errorf("store: finish follow-up %d: %w", id, records.ErrInvalid)
	}
	err := s.writeDurably(ctx, func(tx *sql.Tx) error {
		var open bool
		var complaint int64
		var number string
		if err := tx.QueryRowContext(ctx, `SELECT outcome = '', complaint_id, number FROM followups WHERE id = ?`, id).Scan(&open, &complaint, &number); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return records.ErrNotFound
			}
			return err
		}
		if !open {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE followups SET outcome = ?, done_at = ?, dtmf = ?, score = ? WHERE id = ?`,
			outcome, micros(at), key, score, id); err != nil {
			return err
		}
		if key == "" {
			return nil
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO survey_answers (call_id, caller, survey, score, dtmf, at, flow, version) VALUES (?, ?, ?, ?, ?, ?, ?, '')`,
			records.FollowUpCallID(complaint), number, records.FollowUpSurvey, score, key, micros(at), records.FollowUpSurvey)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: finish follow-up %d: %w", id, err)
	}
	return nil
}

func scanFollowUp(r scanner) (records.FollowUp, error) {
	var (
		f                 records.FollowUp
		resolved, due     int64
		notBefore, doneAt sql.NullInt64
	)
	if err := r.Scan(&f.ID, &f.ComplaintID, &f.Number, &resolved, &f.By, &due, &f.Attempts, &notBefore, &f.Outcome, &f.Key, &f.Score, &doneAt); err != nil {
		return records.FollowUp{}, err
	}
	f.Resolved, f.Due = fromMicros(resolved), fromMicros(due)
	if notBefore.Valid {
		f.NotBefore = fromMicros(notBefore.Int64)
	}
	if doneAt.Valid {
		f.DoneAt = fromMicros(doneAt.Int64)
	}
	return f, nil
}
