package pg

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kefu-hotline/kefu/flows/store"
)

// Purge removes from the store what it holds of callers from before
// before, as flows/store's Purge does (CS-PRIVACY): closed callbacks and
// complaints, survey answers, the repeat-call counters and flags, decided
// proposals and expired nuisance entries; open callbacks and complaints
// stay (KeptOpen). One durable transaction. Every node may run it: a
// second run finds nothing more to remove.
func (s *Store) Purge(ctx context.Context, before time.Time) (store.Purged, error) {
	var p store.Purged
	cut := at(before)
	err := s.writeDurably(ctx, func(tx pgx.Tx) error {
		var err error
		if p.Recordings, err = textColumn(ctx, tx, `SELECT recording FROM complaints WHERE at < $1 AND replied_at IS NOT NULL AND recording <> '' ORDER BY id`, cut); err != nil {
			return err
		}
		if p.KeptRecordings, err = textColumn(ctx, tx, `SELECT recording FROM complaints WHERE at < $1 AND replied_at IS NULL AND recording <> '' ORDER BY id`, cut); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM complaints WHERE at < $1 AND replied_at IS NULL) +
	(SELECT count(*) FROM callbacks WHERE at < $1 AND done_at IS NULL)`, cut).Scan(&p.KeptOpen); err != nil {
			return err
		}
		for _, d := range []struct {
			n   *int
			sql string
		}{
			{new(int), `DELETE FROM followups WHERE complaint_id IN (SELECT id FROM complaints WHERE at < $1 AND replied_at IS NOT NULL)`},
			{&p.Complaints, `DELETE FROM complaints WHERE at < $1 AND replied_at IS NOT NULL`},
			{new(int), `DELETE FROM callback_attempts WHERE callback_id IN (SELECT id FROM callbacks WHERE at < $1 AND done_at IS NOT NULL)`},
			{&p.Callbacks, `DELETE FROM callbacks WHERE at < $1 AND done_at IS NOT NULL`},
			{&p.Surveys, `DELETE FROM survey_answers WHERE at < $1`},
			{&p.Counters, `DELETE FROM call_attempts WHERE at < $1`},
			{&p.Counters, `DELETE FROM cut_calls WHERE at < $1`},
			{&p.Counters, `DELETE FROM repeat_flags WHERE until < $1`},
			{&p.Proposals, `DELETE FROM nuisance_proposals WHERE status <> 'proposed' AND decided_at < $1`},
			{&p.Entries, `DELETE FROM nuisance WHERE expires_at IS NOT NULL AND expires_at < $1`},
		} {
			tag, err := tx.Exec(ctx, d.sql, cut)
			if err != nil {
				return err
			}
			*d.n += int(tag.RowsAffected())
		}
		return nil
	})
	if err != nil {
		return store.Purged{}, fmt.Errorf("store: purge before %s: %w", before.UTC().Format(time.RFC3339), err)
	}
	return p, nil
}

// textColumn runs a query of one text column.
func textColumn(ctx context.Context, tx pgx.Tx, q string, args ...any) ([]string, error) {
	rows, err := tx.Query(ctx, q, args...)
	return collect(rows, err, func(r scanner) (string, error) {
		var s string
		err := r.Scan(&s)
		return s, err
	})
}
