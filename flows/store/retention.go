package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Purged is what Purge removed, and what it kept on purpose.
type Purged struct {
	Callbacks  int // callbacks done before the cutoff
	Complaints int // complaints replied to, left before the cutoff
	Surveys    int // survey answers
	Counters   int // repeat-call counts, calls cut short, flags that ended
	Proposals  int // decided proposals
	Entries    int // nuisance entries that expired
	// Recordings are the files of the complaints removed, relative to
	// the data directory: delete them (Purge leaves the files to its
	// caller, after its transaction).
	Recordings []string
	// KeptOpen counts the callbacks not done and complaints not replied
	// to from before the cutoff: kept until someone closes them, since
	// removing them would lose a customer's request.
	KeptOpen int
	// KeptRecordings are the files of those open complaints.
	KeptRecordings []string
}

// Purge removes from the store what it holds of callers from before
// before (CS-PRIVACY; PIPL: personal information kept no longer than
// needed): closed callbacks and complaints, survey answers, the
// repeat-call counters and flags, decided proposals and expired nuisance
// entries. Open callbacks and complaints stay (KeptOpen), and so do the
// nuisance entries in force and the proposals awaiting a decision. One
// durable transaction.
func (s *SQLite) Purge(ctx context.Context, before time.Time) (Purged, error) {
	var p Purged
	cut := micros(before)
	err := s.writeDurably(ctx, func(tx *sql.Tx) error {
		var err error
		if p.Recordings, err = textColumn(ctx, tx, `SELECT recording FROM complaints WHERE at < ? AND replied_at IS NOT NULL AND recording <> ''`, cut); err != nil {
			return err
		}
		if p.KeptRecordings, err = textColumn(ctx, tx, `SELECT recording FROM complaints WHERE at < ? AND replied_at IS NULL AND recording <> ''`, cut); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM complaints WHERE at < ?1 AND replied_at IS NULL) +
	(SELECT count(*) FROM callbacks WHERE at < ?1 AND done_at IS NULL)`, cut).Scan(&p.KeptOpen); err != nil {
			return err
		}
		for _, d := range []struct {
			n   *int
			sql string
		}{
			{new(int), `DELETE FROM followups WHERE complaint_id IN (SELECT id FROM complaints WHERE at < ? AND replied_at IS NOT NULL)`},
			{&p.Complaints, `DELETE FROM complaints WHERE at < ? AND replied_at IS NOT NULL`},
			{new(int), `DELETE FROM callback_attempts WHERE callback_id IN (SELECT id FROM callbacks WHERE at < ? AND done_at IS NOT NULL)`},
			{&p.Callbacks, `DELETE FROM callbacks WHERE at < ? AND done_at IS NOT NULL`},
			{&p.Surveys, `DELETE FROM survey_answers WHERE at < ?`},
			{&p.Counters, `DELETE FROM call_attempts WHERE at < ?`},
			{&p.Counters, `DELETE FROM cut_calls WHERE at < ?`},
			{&p.Counters, `DELETE FROM repeat_flags WHERE until < ?`},
			{&p.Proposals, `DELETE FROM nuisance_proposals WHERE status <> 'proposed' AND decided_at < ?`},
			{&p.Entries, `DELETE FROM nuisance WHERE expires_at IS NOT NULL AND expires_at < ?`},
		} {
			res, err := tx.ExecContext(ctx, d.sql, cut)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			*d.n += int(n)
		}
		return nil
	})
	if err != nil {
		return Purged{}, fmt.Errorf("store: purge before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	return p, nil
}

// textColumn runs a query of one text column.
func textColumn(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
