package pg

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kefu-hotline/kefu/flows/records"
)

// Claims: several nodes load the same open callbacks and follow-ups, and
// one node at a time makes each (issue 17). A node claims one when it is
// due, with a lease (lease_owner, lease_until) it renews while the call
// runs; a node that dies stops renewing, and once its lease has run out
// another node claims the callback and marks the attempt the dead node
// left running as interrupted (not counted), as a node does for its own
// at start.

// The kinds of claims.
const (
	ClaimCallback = "callback"
	ClaimFollowUp = "followup"
)

// claimSQL claims a row of a table that is open and due at $2 and not
// held by another owner past $2: $1 id, $3 owner, $4 until. Locked rows
// (another node claiming it this very moment) are skipped, not waited
// for. It returns the id of the row it claimed.
func claimSQL(table, open string) string {
	return `WITH c AS (
	SELECT id FROM ` + table + `
	WHERE id = $1 AND ` + open + ` AND (not_before IS NULL OR not_before <= $2)
		AND (lease_until IS NULL OR lease_until <= $2 OR lease_owner = $3)
	FOR UPDATE SKIP LOCKED)
UPDATE ` + table + ` t SET lease_owner = $3, lease_until = $4 FROM c WHERE t.id = c.id RETURNING t.id`
}

var claimQueries = map[string]struct{ claim, table string }{
	ClaimCallback: {claimSQL("callbacks", "done_at IS NULL"), "callbacks"},
	ClaimFollowUp: {claimSQL("followups", "outcome = ''"), "followups"},
}

// Claim takes the callback or follow-up (kind) id for owner until until,
// when it is still open, due at now, and no other owner holds it past
// now; false otherwise. A node claims a callback only when it is not
// making it, so an attempt still running in the book was left by a node
// that died or stopped: it is marked interrupted, ended at now.
func (s *Store) Claim(ctx context.Context, kind string, id int64, owner string, now, until time.Time) (bool, error) {
	q, ok := claimQueries[kind]
	if !ok {
		return false, fmt.Errorf("store: claim %q: %w", kind, records.ErrInvalid)
	}
	claimed := false
	err := s.write(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, q.claim, id, at(now), owner, at(until))
		got, err := collect(rows, err, func(r scanner) (int64, error) {
			var n int64
			return n, r.Scan(&n)
		})
		if err != nil || len(got) == 0 {
			return err
		}
		claimed = true
		if kind != ClaimCallback {
			return nil
		}
		_, err = tx.Exec(ctx, `UPDATE callback_attempts SET ended = greatest($1, started), result = $2, counts = false
WHERE callback_id = $3 AND ended IS NULL`, at(now), records.AttemptInterrupted, id)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: claim %s %d: %w", kind, id, err)
	}
	return claimed, nil
}

// Renew extends owner's claims of kind on ids to until.
func (s *Store) Renew(ctx context.Context, kind string, ids []int64, owner string, until time.Time) error {
	q, ok := claimQueries[kind]
	if !ok {
		return fmt.Errorf("store: renew %q: %w", kind, records.ErrInvalid)
	}
	if len(ids) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE `+q.table+` SET lease_until = $1 WHERE id = ANY($2) AND lease_owner = $3`, at(until), ids, owner)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: renew %s claims: %w", kind, err)
	}
	return nil
}

// Release gives up owner's claim of kind on id.
func (s *Store) Release(ctx context.Context, kind string, id int64, owner string) error {
	q, ok := claimQueries[kind]
	if !ok {
		return fmt.Errorf("store: release %q: %w", kind, records.ErrInvalid)
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE `+q.table+` SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2`, id, owner)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: release %s %d: %w", kind, id, err)
	}
	return nil
}
