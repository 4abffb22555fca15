package pg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kefu-hotline/kefu/flows/records"
)

// Follow-up calls (CS-FOLLOWUP), as flows/store keeps them: a promise to a
// customer, so every change commits durably.

var _ records.FollowUpBook = (*Store)(nil)

const followUpColumns = `id, complaint_id, number, resolved, resolved_by, due, attempts, not_before, outcome, dtmf, score, done_at`

// ResolveComplaint implements records.FollowUpBook.
func (s *Store) ResolveComplaint(ctx context.Context, id int64, t time.Time, by string) (records.FollowUp, error) {
	t, err := records.CheckMark(id, t, by)
	var f records.FollowUp
	if err == nil {
		t = at(t)
		err = s.writeDurably(ctx, func(tx pgx.Tx) error {
			var caller string
			switch err := tx.QueryRow(ctx, `SELECT caller FROM complaints WHERE id = $1 FOR UPDATE`, id).Scan(&caller); {
			case errors.Is(err, pgx.ErrNoRows):
				return records.ErrNotFound
			case err != nil:
				return err
			}
			if caller == "" || caller == "anonymous" {
				return fmt.Errorf("caller withheld, nobody to call back: %w", records.ErrInvalid)
			}
			if _, err := tx.Exec(ctx, `UPDATE complaints SET replied_by = CASE WHEN replied_at IS NULL THEN $3 ELSE replied_by END,
	replied_at = coalesce(replied_at, $1) WHERE id = $2`, t, id, by); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO followups (complaint_id, number, resolved, resolved_by, due) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (complaint_id) DO NOTHING`, id, caller, t, by, at(t.Add(records.FollowUpWithin))); err != nil {
				return err
			}
			var err error
			f, err = scanFollowUp(tx.QueryRow(ctx, `SELECT `+followUpColumns+` FROM followups WHERE complaint_id = $1`, id))
			return err
		})
	}
	if err != nil {
		return records.FollowUp{}, fmt.Errorf("store: resolve complaint %d: %w", id, err)
	}
	return f, nil
}

// PendingFollowUps implements records.FollowUpBook.
func (s *Store) PendingFollowUps(ctx context.Context) ([]records.FollowUp, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+followUpColumns+` FROM followups WHERE outcome = '' ORDER BY due, id`)
	out, err := collect(rows, err, scanFollowUp)
	if err != nil {
		return nil, fmt.Errorf("store: pending follow-ups: %w", err)
	}
	return out, nil
}

// FollowUpTried implements records.FollowUpBook.
func (s *Store) FollowUpTried(ctx context.Context, id int64, notBefore time.Time) error {
	err := s.writeDurably(ctx, func(tx pgx.Tx) error {
		return oneRow(tx.Exec(ctx, `UPDATE followups SET
	attempts = attempts + CASE outcome WHEN '' THEN 1 ELSE 0 END,
	not_before = CASE outcome WHEN '' THEN $1 ELSE not_before END
WHERE id = $2`, nullable(&notBefore), id))
	})
	if err != nil {
		return fmt.Errorf("store: follow-up %d tried: %w", id, err)
	}
	return nil
}

// FinishFollowUp implements records.FollowUpBook.
func (s *Store) FinishFollowUp(ctx context.Context, id int64, outcome string, t time.Time, key string, score int) error {
	if key != "" && (outcome != records.FollowUpAnswered || score < records.MinScore || score > records.MaxScore) ||
		t.IsZero() || outcome != records.FollowUpAnswered && outcome != records.FollowUpNoAnswer && outcome != records.FollowUpCancelled {
		return fmt.Errorf("store: finish follow-up %d: %w", id, records.ErrInvalid)
	}
	err := s.writeDurably(ctx, func(tx pgx.Tx) error {
		var (
			open      bool
			complaint int64
			number    string
		)
		switch err := tx.QueryRow(ctx, `SELECT outcome = '', complaint_id, number FROM followups WHERE id = $1 FOR UPDATE`, id).
			Scan(&open, &complaint, &number); {
		case errors.Is(err, pgx.ErrNoRows):
			return records.ErrNotFound
		case err != nil:
			return err
		}
		if !open {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE followups SET outcome = $1, done_at = $2, dtmf = $3, score = $4 WHERE id = $5`,
			outcome, at(t), key, score, id); err != nil {
			return err
		}
		if key == "" {
			return nil
		}
		_, err := tx.Exec(ctx, `INSERT INTO survey_answers (call_id, caller, survey, score, dtmf, at, flow, version) VALUES ($1, $2, $3, $4, $5, $6, $7, '')`,
			records.FollowUpCallID(complaint), number, records.FollowUpSurvey, score, key, at(t), records.FollowUpSurvey)
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
		notBefore, doneAt *time.Time
	)
	if err := r.Scan(&f.ID, &f.ComplaintID, &f.Number, &f.Resolved, &f.By, &f.Due, &f.Attempts, &notBefore, &f.Outcome, &f.Key, &f.Score, &doneAt); err != nil {
		return records.FollowUp{}, err
	}
	f.Resolved, f.Due, f.NotBefore, f.DoneAt = f.Resolved.UTC(), f.Due.UTC(), utc(notBefore), utc(doneAt)
	return f, nil
}
