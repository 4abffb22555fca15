package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/kefu-hotline/kefu/flows/screen"
)

// CountCalls returns how many recorded calls from number are later than
// t-window and the flag active at t (nil when none), on a reader: it
// writes nothing and waits for no writer.
func (s *SQLite) CountCalls(ctx context.Context, number string, t time.Time, window time.Duration) (int, *screen.Flag, error) {
	n, flag, err := scanCountFlag(s.hot.peek.QueryRowContext(ctx, number, micros(t.Add(-window)), micros(t)))
	if err != nil {
		return 0, nil, fmt.Errorf("store: count calls: %w", err)
	}
	return n, flag, nil
}

// scanCountFlag reads the row of countFlagQuery.
func scanCountFlag(r scanner) (int, *screen.Flag, error) {
	var (
		n            int
		fnum         sql.NullString
		since, until sql.NullInt64
		calls        sql.NullInt64
	)
	if err := r.Scan(&n, &fnum, &since, &until, &calls); err != nil || !fnum.Valid {
		return n, nil, err
	}
	return n, &screen.Flag{Number: fnum.String, Since: fromMicros(since.Int64), Until: fromMicros(until.Int64), Calls: int(calls.Int64)}, nil
}

// RecordAttempt records a call from number at t and returns, from the same
// write transaction, how many recorded calls from number are later than
// t-window (this one included) and the flag active at t (nil when none).
// The writer serializes these transactions, so simultaneous calls from one
// number get distinct counts: both count. The number's calls that have left
// the window are deleted on the way, so a busy number's rows stay few.
func (s *SQLite) RecordAttempt(ctx context.Context, number string, t time.Time, window time.Duration) (int, *screen.Flag, error) {
	now, cutoff := micros(t), micros(t.Add(-window))
	var (
		n    int
		flag *screen.Flag
	)
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.StmtContext(ctx, s.hot.trim).ExecContext(ctx, number, cutoff); err != nil {
			return err
		}
		if _, err := tx.StmtContext(ctx, s.hot.insert).ExecContext(ctx, number, now); err != nil {
			return err
		}
		var err error
		n, flag, err = scanCountFlag(tx.StmtContext(ctx, s.hot.countFlag).QueryRowContext(ctx, number, cutoff, now))
		return err
	})
	if err != nil {
		return 0, nil, fmt.Errorf("store: record call: %w", err)
	}
	return n, flag, nil
}

// PutFlag flags f.Number. With a flag already active at f.Since, the two
// merge: Since stays, Until is the later one, Calls the larger. It returns
// the flag as stored.
func (s *SQLite) PutFlag(ctx context.Context, f screen.Flag) (screen.Flag, error) {
	var out screen.Flag
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = scanFlag(tx.QueryRowContext(ctx, `
INSERT INTO repeat_flags (number, since, until, calls) VALUES (?, ?, ?, ?)
ON CONFLICT (number) DO UPDATE SET
	since = CASE WHEN until > excluded.since THEN since ELSE excluded.since END,
	calls = CASE WHEN until > excluded.since THEN max(calls, excluded.calls) ELSE excluded.calls END,
	until = CASE WHEN until > excluded.since THEN max(until, excluded.until) ELSE excluded.until END
RETURNING number, since, until, calls`,
			f.Number, micros(f.Since), micros(f.Until), f.Calls))
		return err
	})
	if err != nil {
		return screen.Flag{}, fmt.Errorf("store: put flag: %w", err)
	}
	return out, nil
}

// Flags returns the flags active at t, by number.
func (s *SQLite) Flags(ctx context.Context, t time.Time) ([]screen.Flag, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT number, since, until, calls FROM repeat_flags WHERE until > ? ORDER BY number`, micros(t))
	if err != nil {
		return nil, fmt.Errorf("store: flags: %w", err)
	}
	defer rows.Close()
	var out []screen.Flag
	for rows.Next() {
		f, err := scanFlag(rows)
		if err != nil {
			return nil, fmt.Errorf("store: flags: %w", err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: flags: %w", err)
	}
	return out, nil
}

// DeleteFlag forgets number's flag and its recorded calls;
// screen.ErrNotFound when there was neither. It commits durably: an ops
// action.
func (s *SQLite) DeleteFlag(ctx context.Context, number string) error {
	err := s.writeDurably(ctx, func(tx *sql.Tx) error {
		var total int64
		for _, q := range []string{
			`DELETE FROM repeat_flags WHERE number = ?`,
			`DELETE FROM call_attempts WHERE number = ?`,
		} {
			res, err := tx.ExecContext(ctx, q, number)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			total += n
		}
		if total == 0 {
			return screen.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: clear flag: %w", err)
	}
	return nil
}

// RecordCutShort records that kefu cut a call from number short at t.
func (s *SQLite) RecordCutShort(ctx context.Context, number string, t time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO cut_calls (number, at) VALUES (?, ?)`, number, micros(t))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: record a call cut short: %w", err)
	}
	return nil
}

// Exemption says why the repeat-call rule spares number, if it does: an
// open complaint it made, an open callback it left or is the number of,
// a call cut short later than cutSince. One read, on the partial indexes
// of the open records.
func (s *SQLite) Exemption(ctx context.Context, number string, cutSince time.Time) (screen.Exemption, error) {
	var ex string
	err := s.r.QueryRowContext(ctx, `SELECT CASE
	WHEN EXISTS (SELECT 1 FROM complaints WHERE caller = ?1 AND replied_at IS NULL) THEN 'complaint'
	WHEN EXISTS (SELECT 1 FROM callbacks WHERE caller = ?1 AND done_at IS NULL)
		OR EXISTS (SELECT 1 FROM callbacks WHERE number = ?1 AND done_at IS NULL) THEN 'callback'
	WHEN EXISTS (SELECT 1 FROM cut_calls WHERE number = ?1 AND at > ?2) THEN 'cut_short'
	ELSE '' END`, number, micros(cutSince)).Scan(&ex)
	if err != nil {
		return "", fmt.Errorf("store: exemptions: %w", err)
	}
	return screen.Exemption(ex), nil
}

// Prune deletes calls recorded at or before t-window, flags that ended at
// or before t, and calls cut short at or before t-spare.
func (s *SQLite) Prune(ctx context.Context, t time.Time, window, spare time.Duration) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		for _, q := range []struct {
			sql string
			arg time.Time
		}{
			{`DELETE FROM call_attempts WHERE at <= ?`, t.Add(-window)},
			{`DELETE FROM repeat_flags WHERE until <= ?`, t},
			{`DELETE FROM cut_calls WHERE at <= ?`, t.Add(-spare)},
		} {
			if _, err := tx.ExecContext(ctx, q.sql, micros(q.arg)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: prune: %w", err)
	}
	return nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanFlag(r scanner) (screen.Flag, error) {
	var (
		f            screen.Flag
		since, until int64
	)
	if err := r.Scan(&f.Number, &since, &until, &f.Calls); err != nil {
		return screen.Flag{}, err
	}
	f.Since, f.Until = fromMicros(since), fromMicros(until)
	return f, nil
}
