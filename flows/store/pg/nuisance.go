package pg

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kefu-hotline/kefu/flows/screen"
)

// Errors from here never name a number or pattern: the caller (the screen
// Manager) adds it masked.

const entryColumns = `id, pattern, reason, added_by, added_at, expires_at, action, code, target`

// PutEntry adds e to the nuisance list, or replaces the entry with the same
// pattern (keeping its ID), and returns it as stored. It commits durably.
func (s *Store) PutEntry(ctx context.Context, e screen.Entry) (screen.Entry, error) {
	var out screen.Entry
	err := s.writeDurably(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = putEntry(ctx, tx, e)
		return err
	})
	if err != nil {
		return screen.Entry{}, fmt.Errorf("store: put nuisance entry: %w", err)
	}
	if s.cache != nil {
		s.cache.putEntry(out)
	}
	return out, nil
}

// putEntry adds or replaces e in tx and returns it as stored.
func putEntry(ctx context.Context, tx pgx.Tx, e screen.Entry) (screen.Entry, error) {
	e.AddedAt = at(e.AddedAt)
	if e.ExpiresAt != nil {
		t := at(*e.ExpiresAt)
		e.ExpiresAt = &t
	}
	err := tx.QueryRow(ctx, `
INSERT INTO nuisance (pattern, reason, added_by, added_at, expires_at, action, code, target)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (pattern) DO UPDATE SET
	reason = excluded.reason, added_by = excluded.added_by, added_at = excluded.added_at,
	expires_at = excluded.expires_at, action = excluded.action, code = excluded.code,
	target = excluded.target
RETURNING id`,
		e.Pattern, e.Reason, e.AddedBy, e.AddedAt, nullable(e.ExpiresAt),
		string(e.Action.Kind), e.Action.Code, e.Action.Target).Scan(&e.ID)
	if err != nil {
		return screen.Entry{}, err
	}
	return e, nil
}

// DeleteEntry removes the entry with this pattern; screen.ErrNotFound when
// there is none. It commits durably.
func (s *Store) DeleteEntry(ctx context.Context, pattern string) error {
	err := s.writeDurably(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM nuisance WHERE pattern = $1`, pattern)
		if err == nil && tag.RowsAffected() == 0 {
			err = screen.ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("store: delete nuisance entry: %w", err)
	}
	if s.cache != nil {
		s.cache.deleteEntry(pattern)
	}
	return nil
}

// Entries returns the whole nuisance list, expired entries included, by
// pattern (byte order, as SQLite sorts).
func (s *Store) Entries(ctx context.Context) ([]screen.Entry, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+entryColumns+` FROM nuisance ORDER BY pattern COLLATE "C"`)
	es, err := collect(rows, err, scanEntry)
	if err != nil {
		return nil, fmt.Errorf("store: nuisance list: %w", err)
	}
	return es, nil
}

// MatchEntries returns the entries whose pattern is one of patterns and
// that are active at t: from the cache when it answers (WithCache), else
// one lookup on the pattern index.
func (s *Store) MatchEntries(ctx context.Context, patterns []string, t time.Time) ([]screen.Entry, error) {
	if len(patterns) == 0 {
		return nil, nil
	}
	if s.cache != nil {
		if es, ok := s.cache.match(patterns, t); ok {
			return es, nil
		}
	}
	rows, err := s.pool.Query(ctx, `SELECT `+entryColumns+` FROM nuisance
WHERE pattern = ANY($1) AND (expires_at IS NULL OR expires_at > $2)`, patterns, at(t))
	es, err := collect(rows, err, scanEntry)
	if err != nil {
		return nil, fmt.Errorf("store: match nuisance list: %w", err)
	}
	return es, nil
}

func scanEntry(r scanner) (screen.Entry, error) {
	var (
		e       screen.Entry
		added   time.Time
		expires *time.Time
		kind    string
	)
	if err := r.Scan(&e.ID, &e.Pattern, &e.Reason, &e.AddedBy, &added, &expires, &kind, &e.Action.Code, &e.Action.Target); err != nil {
		return screen.Entry{}, err
	}
	e.AddedAt, e.Action.Kind = added.UTC(), screen.Kind(kind)
	if expires != nil {
		t := expires.UTC()
		e.ExpiresAt = &t
	}
	return e, nil
}
