package pg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kefu-hotline/kefu/flows/screen"
)

// The list entries the repeat-call rule proposes (screen.Proposals). A
// proposal is written on the flagging call's way (synchronous_commit
// off, like the flag); a person's decision commits durably.

const proposalColumns = `id, number, reason, calls, since, until, status, decided_by, decided_at, entry_id`

// Propose records p as the open proposal for its number, or merges it into
// the open one: the larger calls, the later until.
func (s *Store) Propose(ctx context.Context, p screen.Proposal) (screen.Proposal, error) {
	var out screen.Proposal
	err := s.write(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = scanProposal(tx.QueryRow(ctx, `
INSERT INTO nuisance_proposals AS p (number, reason, calls, since, until) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (number) WHERE status = 'proposed' DO UPDATE SET
	calls = greatest(p.calls, excluded.calls), until = greatest(p.until, excluded.until)
RETURNING `+proposalColumns, p.Number, p.Reason, p.Calls, at(p.Since), at(p.Until)))
		return err
	})
	if err != nil {
		return screen.Proposal{}, fmt.Errorf("store: propose a nuisance entry: %w", err)
	}
	return out, nil
}

// Proposals returns the open proposals, or all of them, by ID.
func (s *Store) Proposals(ctx context.Context, all bool) ([]screen.Proposal, error) {
	q := `SELECT ` + proposalColumns + ` FROM nuisance_proposals WHERE status = 'proposed' ORDER BY id`
	if all {
		q = `SELECT ` + proposalColumns + ` FROM nuisance_proposals ORDER BY id`
	}
	rows, err := s.pool.Query(ctx, q)
	out, err := collect(rows, err, scanProposal)
	if err != nil {
		return nil, fmt.Errorf("store: proposed nuisance entries: %w", err)
	}
	return out, nil
}

// Proposal returns proposal id; screen.ErrNotFound when there is none.
func (s *Store) Proposal(ctx context.Context, id int64) (screen.Proposal, error) {
	p, err := scanProposal(s.pool.QueryRow(ctx, `SELECT `+proposalColumns+` FROM nuisance_proposals WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		err = screen.ErrNotFound
	}
	if err != nil {
		return screen.Proposal{}, fmt.Errorf("store: proposed nuisance entry: %w", err)
	}
	return p, nil
}

// DecideProposal closes open proposal id with d and, for a confirmation,
// puts d.Entry on the list, in one durable transaction. The proposal's
// row is locked first, so of people deciding it at once on any nodes one
// wins and the others find it decided.
func (s *Store) DecideProposal(ctx context.Context, id int64, d screen.Decision) (screen.Proposal, error) {
	if err := d.Validate(); err != nil {
		return screen.Proposal{}, fmt.Errorf("store: decide proposal: %w", err)
	}
	var (
		out   screen.Proposal
		added *screen.Entry
	)
	err := s.writeDurably(ctx, func(tx pgx.Tx) error {
		var status string
		switch err := tx.QueryRow(ctx, `SELECT status FROM nuisance_proposals WHERE id = $1 FOR UPDATE`, id).Scan(&status); {
		case errors.Is(err, pgx.ErrNoRows):
			return screen.ErrNotFound
		case err != nil:
			return err
		case status != string(screen.Proposed):
			return screen.ErrDecided
		}
		var entry *int64
		if d.Status == screen.Confirmed {
			e, err := putEntry(ctx, tx, *d.Entry)
			if err != nil {
				return err
			}
			entry, added = &e.ID, &e
		}
		var err error
		out, err = scanProposal(tx.QueryRow(ctx, `
UPDATE nuisance_proposals SET status = $1, decided_by = $2, decided_at = $3, entry_id = $4 WHERE id = $5
RETURNING `+proposalColumns, string(d.Status), d.By, at(d.At), entry, id))
		return err
	})
	if err != nil {
		return screen.Proposal{}, fmt.Errorf("store: decide proposal: %w", err)
	}
	if added != nil && s.cache != nil {
		s.cache.putEntry(*added)
	}
	return out, nil
}

func scanProposal(r scanner) (screen.Proposal, error) {
	var (
		p       screen.Proposal
		status  string
		decided *time.Time
		entry   *int64
	)
	if err := r.Scan(&p.ID, &p.Number, &p.Reason, &p.Calls, &p.Since, &p.Until, &status, &p.DecidedBy, &decided, &entry); err != nil {
		return screen.Proposal{}, err
	}
	p.Since, p.Until, p.Status = p.Since.UTC(), p.Until.UTC(), screen.Status(status)
	if entry != nil {
		p.EntryID = *entry
	}
	if decided != nil {
		t := decided.UTC()
		p.DecidedAt = &t
	}
	return p, nil
}
