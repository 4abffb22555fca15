package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
)

// The callback scheduler's book (issue 13): attempts and outcomes commit
// durably, since each is a promise to a customer kept or put off.

var _ records.AttemptBook = (*SQLite)(nil)

// pendingQuery selects the open callbacks with the attempts of their
// round that count, oldest first.
const pendingQuery = `SELECT ` + callbackColumns + `, round, not_before,
	(SELECT count(*) FROM callback_attempts a WHERE a.callback_id = c.id AND a.round = c.round AND a.counts = 1)
FROM callbacks c WHERE done_at IS NULL`

// Pending implements records.AttemptBook.
func (s *SQLite) Pending(ctx context.Context) ([]records.Pending, error) {
	rows, err := s.r.QueryContext(ctx, pendingQuery+` ORDER BY at, id`)
	if err != nil {
		return nil, fmt.Errorf("store: pending callbacks: %w", err)
	}
	defer rows.Close()
	var out []records.Pending
	for rows.Next() {
		p, err := scanPending(rows)
		if err != nil {
			return nil, fmt.Errorf("store: pending callbacks: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: pending callbacks: %w", err)
	}
	return out, nil
}

// PendingOne implements records.AttemptBook.
func (s *SQLite) PendingOne(ctx context.Context, id int64) (records.Pending, error) {
	p, err := scanPending(s.r.QueryRowContext(ctx, pendingQuery+` AND id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = records.ErrNotFound
	}
	if err != nil {
		return records.Pending{}, fmt.Errorf("store: callback %d: %w", id, err)
	}
	return p, nil
}

func scanPending(r scanner) (records.Pending, error) {
	var (
		p            records.Pending
		at           int64
		done, joined sql.NullInt64
		notBefore    sql.NullInt64
	)
	c := &p.Callback
	if err := r.Scan(&c.ID, &c.CallID, &c.Caller, &c.Number, &c.Reason, &c.Queue, &at, &done, &joined, &c.Priority, &c.Outcome, &c.DoneBy,
		&p.Round, &notBefore, &p.Attempts); err != nil {
		return records.Pending{}, err
	}
	c.At = fromMicros(at)
	if joined.Valid {
		c.Joined = fromMicros(joined.Int64)
	}
	if notBefore.Valid {
		p.NotBefore = fromMicros(notBefore.Int64)
	}
	return p, nil
}

// StartAttempt implements records.AttemptBook.
func (s *SQLite) StartAttempt(ctx context.Context, a records.Attempt) (records.Attempt, error) {
	if a.Started.IsZero() || a.CallbackID <= 0 || a.Round <= 0 {
		return records.Attempt{}, fmt.Errorf("store: start attempt: %w", records.ErrInvalid)
	}
	a.Started, a.Ended, a.Result, a.Counts, a.Talk = fromMicros(micros(a.Started)), time.Time{}, "", false, 0
	err := s.writeDurably(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `
INSERT INTO callback_attempts (callback_id, round, started, agent, trunk)
SELECT id, ?, ?, ?, ? FROM callbacks WHERE id = ? AND done_at IS NULL
RETURNING id`, a.Round, micros(a.Started), a.Agent, a.Trunk, a.CallbackID).Scan(&a.ID)
	})
	if errors.Is(err, sql.ErrNoRows) {
		err = records.ErrNotFound // closed meanwhile (ops cancelled it)
	}
	if err != nil {
		return records.Attempt{}, fmt.Errorf("store: start attempt of callback %d: %w", a.CallbackID, err)
	}
	return a, nil
}

// EndAttempt implements records.AttemptBook.
func (s *SQLite) EndAttempt(ctx context.Context, a records.Attempt, notBefore time.Time) error {
	if a.Ended.IsZero() || a.Result == "" || a.Talk < 0 {
		return fmt.Errorf("store: end attempt: %w", records.ErrInvalid)
	}
	err := s.writeDurably(ctx, func(tx *sql.Tx) error {
		if err := oneRow(tx.ExecContext(ctx, `UPDATE callback_attempts SET ended = ?, result = ?, counts = ?, talk = ? WHERE id = ?`,
			micros(a.Ended), a.Result, a.Counts, a.Talk.Microseconds(), a.ID)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE callbacks SET not_before = ? WHERE id = ? AND done_at IS NULL`,
			nullMicros(notBefore), a.CallbackID)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: end attempt %d: %w", a.ID, err)
	}
	return nil
}

// CloseCallback implements records.AttemptBook.
func (s *SQLite) CloseCallback(ctx context.Context, id int64, outcome string, at time.Time) error {
	if outcome != records.OutcomeDone && outcome != records.OutcomeNoAnswer && outcome != records.OutcomeCancelled {
		return fmt.Errorf("store: close callback %d: outcome %q: %w", id, outcome, records.ErrInvalid)
	}
	at, err := records.CheckMark(id, at)
	if err == nil {
		err = s.writeDurably(ctx, func(tx *sql.Tx) error {
			return oneRow(tx.ExecContext(ctx, `UPDATE callbacks SET
	outcome = CASE WHEN done_at IS NULL THEN ?1 ELSE outcome END,
	done_at = coalesce(done_at, ?2)
WHERE id = ?3`, outcome, micros(at), id))
		})
	}
	if err != nil {
		return fmt.Errorf("store: close callback %d: %w", id, err)
	}
	return nil
}

// InterruptAttempts implements records.AttemptBook.
func (s *SQLite) InterruptAttempts(ctx context.Context, at time.Time) (int, error) {
	var n int64
	err := s.writeDurably(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE callback_attempts SET ended = max(?, started), result = ?, counts = 0 WHERE ended IS NULL`,
			micros(at), records.AttemptInterrupted)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: interrupted attempts: %w", err)
	}
	return int(n), nil
}

// Reopen implements records.AttemptBook.
func (s *SQLite) Reopen(ctx context.Context, id int64) error {
	err := s.writeDurably(ctx, func(tx *sql.Tx) error {
		return oneRow(tx.ExecContext(ctx, `UPDATE callbacks SET
	round = round + CASE WHEN done_at IS NULL AND outcome = '' THEN 0 ELSE 1 END,
	done_at = NULL, done_by = '', outcome = '', not_before = NULL
WHERE id = ?`, id))
	})
	if err != nil {
		return fmt.Errorf("store: reopen callback %d: %w", id, err)
	}
	return nil
}

// Attempts implements records.AttemptBook.
func (s *SQLite) Attempts(ctx context.Context, id int64) ([]records.Attempt, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, callback_id, round, started, ended, agent, trunk, result, counts, talk
FROM callback_attempts WHERE callback_id = ? ORDER BY started, id`, id)
	if err != nil {
		return nil, fmt.Errorf("store: attempts of callback %d: %w", id, err)
	}
	defer rows.Close()
	var out []records.Attempt
	for rows.Next() {
		var (
			a       records.Attempt
			started int64
			ended   sql.NullInt64
			talk    int64
		)
		if err := rows.Scan(&a.ID, &a.CallbackID, &a.Round, &started, &ended, &a.Agent, &a.Trunk, &a.Result, &a.Counts, &talk); err != nil {
			return nil, fmt.Errorf("store: attempts of callback %d: %w", id, err)
		}
		a.Started, a.Talk = fromMicros(started), time.Duration(talk)*time.Microsecond
		if ended.Valid {
			a.Ended = fromMicros(ended.Int64)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: attempts of callback %d: %w", id, err)
	}
	return out, nil
}

// nullMicros is t as stored, or NULL for the zero time.
func nullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: micros(t), Valid: true}
}
