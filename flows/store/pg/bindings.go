package pg

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The agents' registrations (sip/registrar's shared store, issue 17): each
// agent's bindings as one document the registrar writes and reads, with
// the time the first of them expires, so that any node can call an agent
// registered through another, and a refresh, an un-register or a sweep on
// any node sees what the others did. And the secrets every node must
// share, such as the key that signs the registrar's nonces.

// bindingsLock is the class of the advisory transaction locks (two 32-bit
// keys: "kefu" + 2, and the agent id's hash) that serialise the updates
// of one agent's bindings across nodes.
const bindingsLock = 0x6b656677

// UpdateBindings gives fn the agent's bindings document (nil: none) and
// stores what it returns with next, the first expiry (nil: deletes it),
// in one transaction holding the agent's lock: updates of one agent on
// any node run one after the other, each seeing the one before. An error
// from fn rolls back and is returned as it is.
func (s *Store) UpdateBindings(ctx context.Context, id string, fn func(doc []byte) (time.Time, []byte, error)) error {
	var fnErr error
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, int32(bindingsLock), id); err != nil {
			return err
		}
		var doc []byte
		switch err := tx.QueryRow(ctx, `SELECT bindings FROM agent_bindings WHERE agent = $1`, id).Scan(&doc); {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return err
		}
		next, out, err := fn(doc)
		if err != nil {
			fnErr = err
			return err
		}
		if out == nil {
			_, err = tx.Exec(ctx, `DELETE FROM agent_bindings WHERE agent = $1`, id)
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO agent_bindings (agent, bindings, next_expiry) VALUES ($1, $2, $3)
ON CONFLICT (agent) DO UPDATE SET bindings = excluded.bindings, next_expiry = excluded.next_expiry`, id, out, at(next))
		return err
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("store: agent bindings: %w", err)
	}
	return nil
}

// BindingsDoc returns the agent's bindings document, nil when it has
// none.
func (s *Store) BindingsDoc(ctx context.Context, id string) ([]byte, error) {
	var doc []byte
	switch err := s.pool.QueryRow(ctx, `SELECT bindings FROM agent_bindings WHERE agent = $1`, id).Scan(&doc); {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("store: agent bindings: %w", err)
	}
	return doc, nil
}

// AllBindings returns every agent's bindings document.
func (s *Store) AllBindings(ctx context.Context) (map[string][]byte, error) {
	rows, err := s.pool.Query(ctx, `SELECT agent, bindings FROM agent_bindings`)
	type row struct {
		id  string
		doc []byte
	}
	rs, err := collect(rows, err, func(r scanner) (row, error) {
		var x row
		err := r.Scan(&x.id, &x.doc)
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: agent bindings: %w", err)
	}
	out := make(map[string][]byte, len(rs))
	for _, x := range rs {
		out[x.id] = x.doc
	}
	return out, nil
}

// DueBindings returns the agents with a binding expired at now.
func (s *Store) DueBindings(ctx context.Context, now time.Time) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT agent FROM agent_bindings WHERE next_expiry <= $1 ORDER BY agent`, ceil(now))
	ids, err := collect(rows, err, func(r scanner) (string, error) {
		var id string
		err := r.Scan(&id)
		return id, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: agent bindings due: %w", err)
	}
	return ids, nil
}

// Secret returns the secret called name: size random bytes drawn by
// whichever node asked first, the same for every node on the database.
func (s *Store) Secret(ctx context.Context, name string, size int) ([]byte, error) {
	b := make([]byte, size)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("store: secret: %w", err)
	}
	var out []byte
	err := s.writeDurably(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO kefu_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, name, b); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT value FROM kefu_secrets WHERE name = $1`, name).Scan(&out)
	})
	if err != nil {
		return nil, fmt.Errorf("store: secret: %w", err)
	}
	return out, nil
}
