package pg

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kefu-hotline/kefu/flows/screen"
)

// countFlagQuery returns a number's calls later than a cutoff and its flag
// active at a time: $1 number, $2 cutoff, $3 time.
const countFlagQuery = `SELECT
	(SELECT count(*) FROM call_attempts WHERE number = $1 AND at > $2),
	f.number, f.since, f.until, f.calls
FROM (SELECT 1) one LEFT JOIN repeat_flags f ON f.number = $1 AND f.until > $3`

// numberLock is the class of the advisory transaction locks (two 32-bit
// keys: "kefu" and the number's hash) that serialize the calls of one
// number across nodes: RecordAttempt's count includes every call
// committed before it.
const numberLock = 0x6b656675

// CountCalls returns how many recorded calls from number are later than
// t-window and the flag active at t (nil when none); it writes nothing.
// It reads the cache when it answers (WithCache): the calls other nodes
// recorded in the last milliseconds may be missing from its count.
func (s *Store) CountCalls(ctx context.Context, number string, t time.Time, window time.Duration) (int, *screen.Flag, error) {
	if s.cache != nil {
		if n, flag, ok := s.cache.count(number, t, window); ok {
			return n, flag, nil
		}
	}
	n, flag, err := scanCountFlag(s.pool.QueryRow(ctx, countFlagQuery, number, at(t.Add(-window)), at(t)))
	if err != nil {
		return 0, nil, fmt.Errorf("store: count calls: %w", err)
	}
	return n, flag, nil
}

// scanCountFlag reads the row of countFlagQuery.
func scanCountFlag(r scanner) (int, *screen.Flag, error) {
	var (
		n            int
		fnum         *string
		since, until *time.Time
		calls        *int
	)
	if err := r.Scan(&n, &fnum, &since, &until, &calls); err != nil || fnum == nil {
		return n, nil, err
	}
	return n, &screen.Flag{Number: *fnum, Since: utc(since), Until: utc(until), Calls: *calls}, nil
}

// RecordAttempt records a call from number at t and returns, from the same
// transaction, how many recorded calls from number are later than
// t-window (this one included) and the flag active at t (nil when none).
// The transaction first takes the number's advisory lock, so calls from
// one number on any node are counted one after the other and get distinct
// counts (each statement after the lock reads what committed before it).
// The number's calls that left the window are deleted on the way.
//
// It is one round trip: the statements go as one pipeline with a single
// Sync, which PostgreSQL runs as one implicit transaction (all or
// nothing), committed with synchronous_commit off (set_config local to
// that transaction).
func (s *Store) RecordAttempt(ctx context.Context, number string, t time.Time, window time.Duration) (int, *screen.Flag, error) {
	now, cutoff := at(t), at(t.Add(-window))
	var (
		n    int
		id   int64
		flag *screen.Flag
	)
	b := &pgx.Batch{}
	b.Queue(`SELECT set_config('synchronous_commit', 'off', true)`)
	b.Queue(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, int32(numberLock), number)
	b.Queue(`DELETE FROM call_attempts WHERE number = $1 AND at <= $2`, number, cutoff)
	b.Queue(`INSERT INTO call_attempts (number, at) VALUES ($1, $2) RETURNING id`, number, now).QueryRow(func(r pgx.Row) error {
		return r.Scan(&id)
	})
	b.Queue(countFlagQuery, number, cutoff, now).QueryRow(func(r pgx.Row) error {
		var err error
		n, flag, err = scanCountFlag(r)
		return err
	})
	if err := s.counted(s.pool.SendBatch(ctx, b).Close()); err != nil {
		return 0, nil, fmt.Errorf("store: record call: %w", err)
	}
	if s.cache != nil {
		s.cache.trimCalls(number, cutoff)
		s.cache.addCall(number, call{id: id, at: now})
	}
	return n, flag, nil
}

// PutFlag flags f.Number. With a flag already active at f.Since, the two
// merge: Since stays, Until is the later one, Calls the larger. It returns
// the flag as stored.
func (s *Store) PutFlag(ctx context.Context, f screen.Flag) (screen.Flag, error) {
	var out screen.Flag
	err := s.write(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = scanFlag(tx.QueryRow(ctx, `
INSERT INTO repeat_flags AS r (number, since, until, calls) VALUES ($1, $2, $3, $4)
ON CONFLICT (number) DO UPDATE SET
	since = CASE WHEN r.until > excluded.since THEN r.since ELSE excluded.since END,
	calls = CASE WHEN r.until > excluded.since THEN greatest(r.calls, excluded.calls) ELSE excluded.calls END,
	until = CASE WHEN r.until > excluded.since THEN greatest(r.until, excluded.until) ELSE excluded.until END
RETURNING number, since, until, calls`,
			f.Number, at(f.Since), at(f.Until), f.Calls))
		return err
	})
	if err != nil {
		return screen.Flag{}, fmt.Errorf("store: put flag: %w", err)
	}
	if s.cache != nil {
		s.cache.putFlag(out)
	}
	return out, nil
}

// Flags returns the flags active at t, by number.
func (s *Store) Flags(ctx context.Context, t time.Time) ([]screen.Flag, error) {
	rows, err := s.pool.Query(ctx, `SELECT number, since, until, calls FROM repeat_flags WHERE until > $1 ORDER BY number COLLATE "C"`, at(t))
	out, err := collect(rows, err, scanFlag)
	if err != nil {
		return nil, fmt.Errorf("store: flags: %w", err)
	}
	return out, nil
}

// DeleteFlag forgets number's flag and its recorded calls;
// screen.ErrNotFound when there was neither. It commits durably: an ops
// action. The caches of every node hear of it (the flag's trigger, and a
// notification for the calls, which have no delete trigger: the prunes
// delete too many).
func (s *Store) DeleteFlag(ctx context.Context, number string) error {
	err := s.writeDurably(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, s.channel, notice("A", number)); err != nil {
			return err
		}
		var total int64
		for _, q := range []string{
			`DELETE FROM repeat_flags WHERE number = $1`,
			`DELETE FROM call_attempts WHERE number = $1`,
		} {
			tag, err := tx.Exec(ctx, q, number)
			if err != nil {
				return err
			}
			total += tag.RowsAffected()
		}
		if total == 0 {
			return screen.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: clear flag: %w", err)
	}
	if s.cache != nil {
		s.cache.forget(number)
	}
	return nil
}

// RecordCutShort records that kefu cut a call from number short at t.
func (s *Store) RecordCutShort(ctx context.Context, number string, t time.Time) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO cut_calls (number, at) VALUES ($1, $2)`, number, at(t))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: record a call cut short: %w", err)
	}
	if s.cache != nil {
		s.cache.cutShort(number, at(t))
	}
	return nil
}

// Exemption says why the repeat-call rule spares number, if it does: an
// open complaint it made, an open callback it left or is the number of,
// a call cut short later than cutSince. From the cache when it answers
// (WithCache), else one read on the partial indexes of the open records.
func (s *Store) Exemption(ctx context.Context, number string, cutSince time.Time) (screen.Exemption, error) {
	if s.cache != nil {
		if ex, ok := s.cache.exemption(number, cutSince); ok {
			return ex, nil
		}
	}
	var ex string
	err := s.pool.QueryRow(ctx, `SELECT CASE
	WHEN EXISTS (SELECT 1 FROM complaints WHERE caller = $1 AND replied_at IS NULL) THEN 'complaint'
	WHEN EXISTS (SELECT 1 FROM callbacks WHERE caller = $1 AND done_at IS NULL)
		OR EXISTS (SELECT 1 FROM callbacks WHERE number = $1 AND done_at IS NULL) THEN 'callback'
	WHEN EXISTS (SELECT 1 FROM cut_calls WHERE number = $1 AND at > $2) THEN 'cut_short'
	ELSE '' END`, number, at(cutSince)).Scan(&ex)
	if err != nil {
		return "", fmt.Errorf("store: exemptions: %w", err)
	}
	return screen.Exemption(ex), nil
}

// Prune deletes calls recorded at or before t-window, flags that ended at
// or before t, and calls cut short at or before t-spare.
func (s *Store) Prune(ctx context.Context, t time.Time, window, spare time.Duration) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(`DELETE FROM call_attempts WHERE at <= $1`, at(t.Add(-window)))
		b.Queue(`DELETE FROM repeat_flags WHERE until <= $1`, at(t))
		b.Queue(`DELETE FROM cut_calls WHERE at <= $1`, at(t.Add(-spare)))
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("store: prune: %w", err)
	}
	if s.cache != nil {
		s.cache.prune(t, window, spare)
	}
	return nil
}

func scanFlag(r scanner) (screen.Flag, error) {
	var f screen.Flag
	if err := r.Scan(&f.Number, &f.Since, &f.Until, &f.Calls); err != nil {
		return screen.Flag{}, err
	}
	f.Since, f.Until = f.Since.UTC(), f.Until.UTC()
	return f, nil
}

// notice is a cache notification of kind about key (listen.go), or "*"
// (load everything again) when it would be longer than PostgreSQL takes.
func notice(kind, key string) string {
	if m := kind + "\t" + key; len(m) <= maxNotice {
		return m
	}
	return "*"
}

// maxNotice is the longest notification the store sends: PostgreSQL takes
// payloads shorter than 8000 bytes.
const maxNotice = 7000
