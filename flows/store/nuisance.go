package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kefu-hotline/kefu/flows/screen"
)

// Errors from here never name a number or pattern: the caller (the screen
// Manager) adds it masked.

const entryColumns = `id, pattern, reason, added_by, added_at, expires_at, action, code, target`

// PutEntry adds e to the nuisance list, or replaces the entry with the same
// pattern (keeping its ID), and returns it as stored. It commits durably
// (synchronous=FULL): list edits are rare and made by people.
func (s *SQLite) PutEntry(ctx context.Context, e screen.Entry) (screen.Entry, error) {
	var out screen.Entry
	err := s.writeDurably(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = putEntry(ctx, tx, e)
		return err
	})
	if err != nil {
		return screen.Entry{}, fmt.Errorf("store: put nuisance entry: %w", err)
	}
	return out, nil
}

// putEntry adds or replaces e in tx and returns it as stored.
func putEntry(ctx context.Context, tx *sql.Tx, e screen.Entry) (screen.Entry, error) {
	var exp sql.NullInt64
	if e.ExpiresAt != nil {
		exp = sql.NullInt64{Int64: micros(*e.ExpiresAt), Valid: true}
	}
	err := tx.QueryRowContext(ctx, `
INSERT INTO nuisance (pattern, reason, added_by, added_at, expires_at, action, code, target)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (pattern) DO UPDATE SET
	reason = excluded.reason, added_by = excluded.added_by, added_at = excluded.added_at,
	expires_at = excluded.expires_at, action = excluded.action, code = excluded.code,
	target = excluded.target
RETURNING id`,
		e.Pattern, e.Reason, e.AddedBy, micros(e.AddedAt), exp,
		string(e.Action.Kind), e.Action.Code, e.Action.Target).Scan(&e.ID)
	if err != nil {
		return screen.Entry{}, err
	}
	e.AddedAt = fromMicros(micros(e.AddedAt))
	if e.ExpiresAt != nil {
		t := fromMicros(exp.Int64)
		e.ExpiresAt = &t
	}
	return e, nil
}

// DeleteEntry removes the entry with this pattern; screen.ErrNotFound when
// there is none. It commits durably, like PutEntry.
func (s *SQLite) DeleteEntry(ctx context.Context, pattern string) error {
	err := s.writeDurably(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM nuisance WHERE pattern = ?`, pattern)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return screen.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: delete nuisance entry: %w", err)
	}
	return nil
}

// Entries returns the whole nuisance list, expired entries included, by
// pattern.
func (s *SQLite) Entries(ctx context.Context) ([]screen.Entry, error) {
	es, err := scanEntries(s.r.QueryContext(ctx, `SELECT `+entryColumns+` FROM nuisance ORDER BY pattern`))
	if err != nil {
		return nil, fmt.Errorf("store: nuisance list: %w", err)
	}
	return es, nil
}

// MatchEntries returns the entries whose pattern is one of patterns and
// that are active at t: one lookup on the pattern index, with the
// patterns passed as one JSON array so the statement is prepared once.
func (s *SQLite) MatchEntries(ctx context.Context, patterns []string, t time.Time) ([]screen.Entry, error) {
	if len(patterns) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(patterns)
	if err != nil {
		return nil, fmt.Errorf("store: match nuisance list: %w", err)
	}
	rows, err := s.hot.match.QueryContext(ctx, string(list), micros(t))
	es, err := scanEntries(rows, err)
	if err != nil {
		return nil, fmt.Errorf("store: match nuisance list: %w", err)
	}
	return es, nil
}

// scanEntries reads the rows of a query for entryColumns.
func scanEntries(rows *sql.Rows, err error) ([]screen.Entry, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []screen.Entry
	for rows.Next() {
		var (
			e       screen.Entry
			added   int64
			expires sql.NullInt64
			kind    string
			code    int
			target  string
		)
		if err := rows.Scan(&e.ID, &e.Pattern, &e.Reason, &e.AddedBy, &added, &expires, &kind, &code, &target); err != nil {
			return nil, err
		}
		e.AddedAt = fromMicros(added)
		if expires.Valid {
			t := fromMicros(expires.Int64)
			e.ExpiresAt = &t
		}
		e.Action = screen.Action{Kind: screen.Kind(kind), Code: code, Target: target}
		out = append(out, e)
	}
	return out, rows.Err()
}
