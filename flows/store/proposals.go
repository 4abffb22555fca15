package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kefu-hotline/kefu/flows/screen"
)

// The list entries the repeat-call rule proposes (screen.Proposals). A
// proposal is written on the flagging call's way (synchronous=NORMAL, like
// the flag); a person's decision commits durably, as list edits do.

const proposalColumns = `id, number, reason, calls, since, until, status, decided_by, decided_at, entry_id`

// Propose records p as the open proposal for its number, or merges it into
// the open one: the larger calls, the later until.
func (s *SQLite) Propose(ctx context.Context, p screen.Proposal) (screen.Proposal, error) {
	var out screen.Proposal
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = scanProposal(tx.QueryRowContext(ctx, `
INSERT INTO nuisance_proposals (number, reason, calls, since, until) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (number) WHERE status = 'proposed' DO UPDATE SET
	calls = max(calls, excluded.calls), until = max(until, excluded.until)
RETURNING `+proposalColumns, p.Number, p.Reason, p.Calls, micros(p.Since), micros(p.Until)))
		return err
	})
	if err != nil {
		return screen.Proposal{}, fmt.Errorf("store: propose a nuisance entry: %w", err)
	}
	return out, nil
}

// Proposals returns the open proposals, or all of them, by ID.
func (s *SQLite) Proposals(ctx context.Context, all bool) ([]screen.Proposal, error) {
	q := `SELECT ` + proposalColumns + ` FROM nuisance_proposals WHERE status = 'proposed' ORDER BY id`
	if all {
		q = `SELECT ` + proposalColumns + ` FROM nuisance_proposals ORDER BY id`
	}
	rows, err := s.r.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("store: proposed nuisance entries: %w", err)
	}
	defer rows.Close()
	var out []screen.Proposal
	for rows.Next() {
		p, err := scanProposal(rows)
		if err != nil {
			return nil, fmt.Errorf("store: proposed nuisance entries: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: proposed nuisance entries: %w", err)
	}
	return out, nil
}

// Proposal returns proposal id; screen.ErrNotFound when there is none.
func (s *SQLite) Proposal(ctx context.Context, id int64) (screen.Proposal, error) {
	p, err := scanProposal(s.r.QueryRowContext(ctx, `SELECT `+proposalColumns+` FROM nuisance_proposals WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = screen.ErrNotFound
	}
	if err != nil {
		return screen.Proposal{}, fmt.Errorf("store: proposed nuisance entry: %w", err)
	}
	return p, nil
}

// DecideProposal closes open proposal id with d and, for a confirmation,
// puts d.Entry on the list, in one durable transaction.
func (s *SQLite) DecideProposal(ctx context.Context, id int64, d screen.Decision) (screen.Proposal, error) {
	if err := d.Validate(); err != nil {
		return screen.Proposal{}, fmt.Errorf("store: decide proposal: %w", err)
	}
	var out screen.Proposal
	err := s.writeDurably(ctx, func(tx *sql.Tx) error {
		var status string
		switch err := tx.QueryRowContext(ctx, `SELECT status FROM nuisance_proposals WHERE id = ?`, id).Scan(&status); {
		case errors.Is(err, sql.ErrNoRows):
			return screen.ErrNotFound
		case err != nil:
			return err
		case status != string(screen.Proposed):
			return screen.ErrDecided
		}
		var entry sql.NullInt64
		if d.Status == screen.Confirmed {
			e, err := putEntry(ctx, tx, *d.Entry)
			if err != nil {
				return err
			}
			entry = sql.NullInt64{Int64: e.ID, Valid: true}
		}
		var err error
		out, err = scanProposal(tx.QueryRowContext(ctx, `
UPDATE nuisance_proposals SET status = ?, decided_by = ?, decided_at = ?, entry_id = ? WHERE id = ?
RETURNING `+proposalColumns, string(d.Status), d.By, micros(d.At), entry, id))
		return err
	})
	if err != nil {
		return screen.Proposal{}, fmt.Errorf("store: decide proposal: %w", err)
	}
	return out, nil
}

func scanProposal(r scanner) (screen.Proposal, error) {
	var (
		p            screen.Proposal
		since, until int64
		status       string
		decided      sql.NullInt64
		entry        sql.NullInt64
	)
	if err := r.Scan(&p.ID, &p.Number, &p.Reason, &p.Calls, &since, &until, &status, &p.DecidedBy, &decided, &entry); err != nil {
		return screen.Proposal{}, err
	}
	p.Since, p.Until, p.Status, p.EntryID = fromMicros(since), fromMicros(until), screen.Status(status), entry.Int64
	if decided.Valid {
		t := fromMicros(decided.Int64)
		p.DecidedAt = &t
	}
	return p, nil
}
