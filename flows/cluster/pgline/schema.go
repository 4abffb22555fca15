package pgline

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The line's tables are its own, with their own version, apart from the
// store's (flows/store/pg): the store migrates its tables, the line its.
//
//   - kefu_line: one row per caller waiting in any queue on any node
//     (callbacks too): queue, priority, join time, owner node, and the
//     agents reserved for it (offered) with the reservation's number
//     (resv). The owner renews expires; a dead owner's rows expire.
//   - kefu_line_agents: one row per agent: state and everything the
//     strategies look at (idle since, calls today, missed in a row),
//     the registered contact, the node ringing or bridging them.
//   - kefu_line_nodes: the nodes alive (their heartbeat).
//   - kefu_line_rr: round robin's cursor per queue and level.
//   - kefu_line_waits: the answered callers' waits and join positions,
//     the newest of each queue (see waits.go).
var migrations = []string{
	`CREATE TABLE kefu_line (
	call_id  text PRIMARY KEY,
	queue    text NOT NULL,
	priority integer NOT NULL,
	joined   bigint NOT NULL, -- unix nanoseconds: the order is exact on every node
	owner    text NOT NULL,
	offered  text[] NOT NULL DEFAULT '{}',
	resv     bigint NOT NULL DEFAULT 0,
	tried    text[] NOT NULL DEFAULT '{}',
	last_missed text NOT NULL DEFAULT '',
	expires  timestamptz NOT NULL
);
CREATE INDEX kefu_line_order ON kefu_line (queue, priority DESC, joined, call_id);
CREATE INDEX kefu_line_owner ON kefu_line (owner);
CREATE TABLE kefu_line_agents (
	id          text PRIMARY KEY,
	state       smallint NOT NULL DEFAULT 0,
	reason      text NOT NULL DEFAULT '',
	since       timestamptz NOT NULL,
	signed_in   timestamptz NOT NULL,
	last_ended  timestamptz NOT NULL,
	call_id     text NOT NULL DEFAULT '',
	call_queue  text NOT NULL DEFAULT '',
	calls       integer NOT NULL DEFAULT 0,
	day         integer NOT NULL DEFAULT 0,
	missed      integer NOT NULL DEFAULT 0,
	then_state  text NOT NULL DEFAULT '',
	then_reason text NOT NULL DEFAULT '',
	contact     text NOT NULL DEFAULT '',
	registered  boolean NOT NULL DEFAULT false,
	wrap_until  timestamptz NOT NULL,
	node        text NOT NULL DEFAULT '',
	ver         bigint NOT NULL DEFAULT 0 -- every write: ver+1 where ver is what was read
);
CREATE TABLE kefu_line_nodes (
	node    text PRIMARY KEY,
	expires timestamptz NOT NULL
);
CREATE TABLE kefu_line_rr (
	queue text NOT NULL,
	level integer NOT NULL,
	last  text NOT NULL,
	PRIMARY KEY (queue, level)
)`,
	// Step 2: call ids compare bytewise, as Go compares them, whatever
	// the database's collation (the order of callers who joined at the
	// same nanosecond); the answered callers' waits every node's
	// estimate rests on.
	`ALTER TABLE kefu_line ALTER COLUMN call_id TYPE text COLLATE "C";
CREATE TABLE kefu_line_waits (
	id    bigserial PRIMARY KEY,
	queue text NOT NULL,
	wait  bigint NOT NULL, -- nanoseconds
	place integer NOT NULL,
	at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX kefu_line_waits_recent ON kefu_line_waits (queue, id DESC)`,
}

// SchemaVersion is the version of the line's tables this binary brings a
// database to.
func SchemaVersion() int { return len(migrations) }

// migrateLock is the advisory lock the line's migrations run under:
// "kefu", 0x11 (the store's are "kefu", 1).
const migrateLock = 0x6b656675_00000011

// decideLock is the advisory lock one distribution decision holds, on
// whichever node it runs: "kefu", 0x12.
const decideLock = 0x6b656675_00000012

// ErrSchemaTooNew: the database's line tables are newer than this kefu.
var ErrSchemaTooNew = errors.New("the line's tables are newer than this kefu")

// migrate brings the line's tables up to date in one transaction under
// the migration lock: nodes starting together wait for the first.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLock)); err != nil {
			return fmt.Errorf("line: migration lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS kefu_line_schema (
	one     boolean PRIMARY KEY DEFAULT true CHECK (one),
	version integer NOT NULL
)`); err != nil {
			return fmt.Errorf("line: schema version: %w", err)
		}
		var v int
		switch err := tx.QueryRow(ctx, `SELECT version FROM kefu_line_schema`).Scan(&v); {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return fmt.Errorf("line: schema version: %w", err)
		}
		if v > len(migrations) {
			return fmt.Errorf("line: database at version %d, this kefu knows %d: %w", v, len(migrations), ErrSchemaTooNew)
		}
		for i := v; i < len(migrations); i++ {
			if _, err := tx.Exec(ctx, migrations[i]); err != nil {
				return fmt.Errorf("line: schema step %d: %w", i+1, err)
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO kefu_line_schema (version) VALUES ($1)
ON CONFLICT (one) DO UPDATE SET version = excluded.version`, len(migrations))
		if err != nil {
			return fmt.Errorf("line: schema version: %w", err)
		}
		return nil
	})
}
