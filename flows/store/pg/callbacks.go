package pg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kefu-hotline/kefu/flows/records"
)

// The callback scheduler's book (issue 13), as flows/store keeps it:
// attempts and outcomes commit durably, since each is a promise to a
// customer kept or put off.

var _ records.AttemptBook = (*Store)(nil)

// pendingQuery selects the open callbacks with the attempts of their
// round that count.
const pendingQuery = `SELECT ` + callbackColumns + `, round, not_before,
	(SELECT count(*) FROM callback_attempts a WHERE a.callback_id = c.id AND a.round = c.round AND a.counts)
FROM callbacks c WHERE done_at IS NULL`

// Pending implements records.AttemptBook: oldest first.
func (s *Store) Pending(ctx context.Context) ([]records.Pending, error) {
	rows, err := s.pool.Query(ctx, pendingQuery+` ORDER BY at, id`)
	out, err := collect(rows, err, scanPending)
	if err != nil {
		return nil, fmt.Errorf("store: pending callbacks: %w", err)
	}
	return out, nil
}

// PendingOne implements records.AttemptBook.
func (s *Store) PendingOne(ctx context.Context, id int64) (records.Pending, error) {
	p, err := scanPending(s.pool.QueryRow(ctx, pendingQuery+` AND id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		err = records.ErrNotFound
	}
	if err != nil {
		return records.Pending{}, fmt.Errorf("store: callback %d: %w", id, err)
	}
	return p, nil
}

func scanPending(r scanner) (records.Pending, error) {
	var (
		p                       records.Pending
		done, joined, notBefore *time.Time
	)
	c := &p.Callback
	if err := r.Scan(&c.ID, &c.CallID, &c.Caller, &c.Number, &c.Reason, &c.Queue, &c.At, &done, &joined, &c.Priority, &c.Outcome, &c.DoneBy,
		&p.Round, &notBefore, &p.Attempts); err != nil {
		return records.Pending{}, err
	}
	c.At, c.Joined, p.NotBefore = c.At.UTC(), utc(joined), utc(notBefore)
	return p, nil
}

// StartAttempt implements records.AttemptBook: records.ErrNotFound when
// the callback is closed (ops cancelled it meanwhile) or is none.
func (s *Store) StartAttempt(ctx context.Context, a records.Attempt) (records.Attempt, error) {
	if a.Started.IsZero() || a.CallbackID <= 0 || a.Round <= 0 {
		return records.Attempt{}, fmt.Errorf("store: start attempt: %w", records.ErrInvalid)
	}
	a.Started, a.Ended, a.Result, a.Counts, a.Talk = at(a.Started), time.Time{}, "", false, 0
	err := s.writeDurably(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `
INSERT INTO callback_attempts (callback_id, round, started, agent, trunk)
SELECT id, $1, $2, $3, $4 FROM callbacks WHERE id = $5 AND done_at IS NULL
RETURNING id`, a.Round, a.Started, a.Agent, a.Trunk, a.CallbackID).Scan(&a.ID)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		err = records.ErrNotFound
	}
	if err != nil {
		return records.Attempt{}, fmt.Errorf("store: start attempt of callback %d: %w", a.CallbackID, err)
	}
	return a, nil
}

// EndAttempt implements records.AttemptBook.
func (s *Store) EndAttempt(ctx context.Context, a records.Attempt, notBefore time.Time) error {
	if a.Ended.IsZero() || a.Result == "" || a.Talk < 0 {
		return fmt.Errorf("store: end attempt: %w", records.ErrInvalid)
	}
	err := s.writeDurably(ctx, func(tx pgx.Tx) error {
		if err := oneRow(tx.Exec(ctx, `UPDATE callback_attempts SET ended = $1, result = $2, counts = $3, talk = $4 WHERE id = $5`,
			at(a.Ended), a.Result, a.Counts, a.Talk.Microseconds(), a.ID)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE callbacks SET not_before = $1 WHERE id = $2 AND done_at IS NULL`,
			nullable(&notBefore), a.CallbackID)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: end attempt %d: %w", a.ID, err)
	}
	return nil
}

// CloseCallback implements records.AttemptBook.
func (s *Store) CloseCallback(ctx context.Context, id int64, outcome string, t time.Time) error {
	if outcome != records.OutcomeDone && outcome != records.OutcomeNoAnswer && outcome != records.OutcomeCancelled {
		return fmt.Errorf("store: close callback %d: outcome %q: %w", id, outcome, records.ErrInvalid)
	}
	t, err := records.CheckMark(id, t)
	if err == nil {
		err = s.writeDurably(ctx, func(tx pgx.Tx) error {
			return oneRow(tx.Exec(ctx, `UPDATE callbacks SET
	outcome = CASE WHEN done_at IS NULL THEN $1 ELSE outcome END,
	done_at = coalesce(done_at, $2)
WHERE id = $3`, outcome, t, id))
		})
	}
	if err != nil {
		return fmt.Errorf("store: close callback %d: %w", id, err)
	}
	return nil
}

// InterruptAttempts implements records.AttemptBook.
func (s *Store) InterruptAttempts(ctx context.Context, t time.Time) (int, error) {
	var n int64
	err := s.writeDurably(ctx, func(tx pgx.Tx) error {
		// Not the attempts another node is making: their callbacks are
		// claimed (claims.go) past t.
		tag, err := tx.Exec(ctx, `UPDATE callback_attempts SET ended = greatest($1, started), result = $2, counts = false
WHERE ended IS NULL AND callback_id NOT IN (SELECT id FROM callbacks WHERE lease_until > $1)`,
			at(t), records.AttemptInterrupted)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: interrupted attempts: %w", err)
	}
	return int(n), nil
}

// Reopen implements records.AttemptBook.
func (s *Store) Reopen(ctx context.Context, id int64) error {
	err := s.writeDurably(ctx, func(tx pgx.Tx) error {
		return oneRow(tx.Exec(ctx, `UPDATE callbacks SET
	round = round + CASE WHEN done_at IS NULL AND outcome = '' THEN 0 ELSE 1 END,
	done_at = NULL, done_by = '', outcome = '', not_before = NULL
WHERE id = $1`, id))
	})
	if err != nil {
		return fmt.Errorf("store: reopen callback %d: %w", id, err)
	}
	return nil
}

// Attempts implements records.AttemptBook: oldest first.
func (s *Store) Attempts(ctx context.Context, id int64) ([]records.Attempt, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, callback_id, round, started, ended, agent, trunk, result, counts, talk
FROM callback_attempts WHERE callback_id = $1 ORDER BY started, id`, id)
	out, err := collect(rows, err, func(r scanner) (records.Attempt, error) {
		var (
			a     records.Attempt
			ended *time.Time
			talk  int64
		)
		if err := r.Scan(&a.ID, &a.CallbackID, &a.Round, &a.Started, &ended, &a.Agent, &a.Trunk, &a.Result, &a.Counts, &talk); err != nil {
			return records.Attempt{}, err
		}
		a.Started, a.Ended, a.Talk = a.Started.UTC(), utc(ended), time.Duration(talk)*time.Microsecond
		return a, nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: attempts of callback %d: %w", id, err)
	}
	return out, nil
}
