package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ErrSchemaTooNew is returned by Open for a database written by a newer
// kefu: its schema version is past the last migration this binary knows.
var ErrSchemaTooNew = errors.New("database schema is newer than this kefu")

// migrations are the schema, one step per version: migrations[i] takes the
// database from version i to i+1 (PRAGMA user_version holds the version).
// Append only: a released step is never edited, a change is a new step.
var migrations = []string{
	// 1: the nuisance list and the repeat-call counters (issue 6).
	`
CREATE TABLE nuisance (
	id         INTEGER PRIMARY KEY,
	pattern    TEXT    NOT NULL UNIQUE,  -- "13812345678" (exact) or "400*" (prefix)
	reason     TEXT    NOT NULL,
	added_by   TEXT    NOT NULL,
	added_at   INTEGER NOT NULL,         -- unix microseconds
	expires_at INTEGER,                  -- unix microseconds; NULL: until removed
	action     TEXT    NOT NULL CHECK (action IN ('reject', 'route')),
	code       INTEGER NOT NULL DEFAULT 0,   -- reject: SIP status
	target     TEXT    NOT NULL DEFAULT ''   -- route: route name
) STRICT;

CREATE TABLE call_attempts (
	id     INTEGER PRIMARY KEY,
	number TEXT    NOT NULL,
	at     INTEGER NOT NULL              -- unix microseconds
) STRICT;
CREATE INDEX call_attempts_number_at ON call_attempts (number, at);
CREATE INDEX call_attempts_at ON call_attempts (at);

CREATE TABLE repeat_flags (
	number TEXT    PRIMARY KEY,
	since  INTEGER NOT NULL,             -- unix microseconds
	until  INTEGER NOT NULL,             -- unix microseconds
	calls  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX repeat_flags_until ON repeat_flags (until);
`,
	// 2: what calls leave for people to act on: callbacks (CS-SYSTEM-DOWN,
	// CS-ESCALATE), complaints with a reply deadline (CS-COMPLAINT-CLOSE,
	// CS-SLA) and survey answers (CS-SURVEY). The partial indexes serve
	// the open lists and counts; the plain ones the since queries.
	`
CREATE TABLE callbacks (
	id      INTEGER PRIMARY KEY,
	call_id TEXT    NOT NULL,
	caller  TEXT    NOT NULL,
	number  TEXT    NOT NULL CHECK (number <> ''),  -- the number to call back
	reason  TEXT    NOT NULL,
	queue   TEXT    NOT NULL,
	at      INTEGER NOT NULL,            -- unix microseconds
	done_at INTEGER                      -- unix microseconds; NULL: still to call
) STRICT;
CREATE INDEX callbacks_at ON callbacks (at);
CREATE INDEX callbacks_open_at ON callbacks (at) WHERE done_at IS NULL;

CREATE TABLE complaints (
	id         INTEGER PRIMARY KEY,
	call_id    TEXT    NOT NULL,
	caller     TEXT    NOT NULL,
	class      TEXT    NOT NULL,
	at         INTEGER NOT NULL,         -- unix microseconds
	deadline   INTEGER NOT NULL CHECK (deadline >= at),  -- unix microseconds
	recording  TEXT    NOT NULL,         -- path relative to the data directory; '' if none
	duration   INTEGER NOT NULL CHECK (duration >= 0),   -- of the recording, microseconds
	replied_at INTEGER                   -- unix microseconds; NULL: not answered yet
) STRICT;
CREATE INDEX complaints_at ON complaints (at);
CREATE INDEX complaints_open_at ON complaints (at) WHERE replied_at IS NULL;
CREATE INDEX complaints_open_deadline ON complaints (deadline) WHERE replied_at IS NULL;

CREATE TABLE survey_answers (
	id      INTEGER PRIMARY KEY,
	call_id TEXT    NOT NULL,
	caller  TEXT    NOT NULL,
	survey  TEXT    NOT NULL,
	score   INTEGER NOT NULL CHECK (score BETWEEN 1 AND 9),
	dtmf    TEXT    NOT NULL,            -- the key pressed; '' if none
	at      INTEGER NOT NULL,            -- unix microseconds
	flow    TEXT    NOT NULL,
	version TEXT    NOT NULL
) STRICT;
CREATE INDEX survey_answers_at ON survey_answers (at);
`,
	// 3: the repeat-call rule spares customers (CS-ANGRY): the calls kefu
	// cut short, lookups of a number's open complaints and callbacks;
	// and the list entries it proposes for a person to confirm
	// (CS-NUISANCE). At most one open proposal per number.
	`
CREATE TABLE cut_calls (
	id     INTEGER PRIMARY KEY,
	number TEXT    NOT NULL,
	at     INTEGER NOT NULL              -- unix microseconds
) STRICT;
CREATE INDEX cut_calls_number_at ON cut_calls (number, at);
CREATE INDEX cut_calls_at ON cut_calls (at);

CREATE INDEX complaints_open_caller ON complaints (caller) WHERE replied_at IS NULL;
CREATE INDEX callbacks_open_caller ON callbacks (caller) WHERE done_at IS NULL;
CREATE INDEX callbacks_open_number ON callbacks (number) WHERE done_at IS NULL;

CREATE TABLE nuisance_proposals (
	id         INTEGER PRIMARY KEY,
	number     TEXT    NOT NULL,
	reason     TEXT    NOT NULL,
	calls      INTEGER NOT NULL,
	since      INTEGER NOT NULL,         -- unix microseconds
	until      INTEGER NOT NULL,         -- unix microseconds
	status     TEXT    NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'confirmed', 'rejected')),
	decided_by TEXT    NOT NULL DEFAULT '',
	decided_at INTEGER,                  -- unix microseconds; NULL while proposed
	entry_id   INTEGER                   -- the list entry a confirmation made
) STRICT;
CREATE UNIQUE INDEX nuisance_proposals_open ON nuisance_proposals (number) WHERE status = 'proposed';
`,
	// 4: no complaint is lost (issue 16): the record verb writes the row
	// when the recording starts (state 'recording') and finishes it after;
	// a start-up after a crash finds the rows still 'recording' and marks
	// them 'interrupted'. Rows from before are finished recordings. Ops
	// find a call's records by its SIP Call-ID.
	`
ALTER TABLE complaints ADD COLUMN state TEXT NOT NULL DEFAULT 'recorded'
	CHECK (state IN ('recording', 'recorded', 'interrupted'));
CREATE INDEX complaints_recording ON complaints (at) WHERE state = 'recording';
CREATE INDEX complaints_interrupted ON complaints (at) WHERE state = 'interrupted';
CREATE INDEX complaints_call_id ON complaints (call_id);
CREATE INDEX callbacks_call_id ON callbacks (call_id);
CREATE INDEX survey_answers_call_id ON survey_answers (call_id);
`,
	// 5: kefu makes the callbacks itself (issue 13). A callback keeps its
	// caller's place in line (joined, priority); each call kefu places
	// for it is an attempt (callback_attempts: ended NULL while it runs,
	// or when kefu stopped during it), counted against the queue's
	// limit or not (the agent hung up first, kefu stopped); a re-queue by
	// ops starts a new round of attempts. not_before is the next try
	// after an attempt that did not reach the customer; outcome says how
	// a closed callback ended (done_at is set for every outcome).
	`
ALTER TABLE callbacks ADD COLUMN joined INTEGER;          -- unix microseconds; NULL: at
ALTER TABLE callbacks ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE callbacks ADD COLUMN outcome TEXT NOT NULL DEFAULT ''
	CHECK (outcome IN ('', 'done', 'no_answer', 'cancelled'));
ALTER TABLE callbacks ADD COLUMN round INTEGER NOT NULL DEFAULT 1;
ALTER TABLE callbacks ADD COLUMN not_before INTEGER;      -- unix microseconds; NULL: now
UPDATE callbacks SET outcome = 'done' WHERE done_at IS NOT NULL;

CREATE TABLE callback_attempts (
	id          INTEGER PRIMARY KEY,
	callback_id INTEGER NOT NULL REFERENCES callbacks (id),
	round       INTEGER NOT NULL,
	started     INTEGER NOT NULL,        -- unix microseconds
	ended       INTEGER,                 -- unix microseconds; NULL: in progress, or cut off by a stop
	agent       TEXT    NOT NULL,
	trunk       TEXT    NOT NULL,
	result      TEXT    NOT NULL DEFAULT '',
	counts      INTEGER NOT NULL DEFAULT 0 CHECK (counts IN (0, 1)),
	talk        INTEGER NOT NULL DEFAULT 0 CHECK (talk >= 0)   -- microseconds
) STRICT;
CREATE INDEX callback_attempts_callback ON callback_attempts (callback_id, round);
CREATE INDEX callback_attempts_running ON callback_attempts (started) WHERE ended IS NULL;
`,
	// 6: a record says who closed it (issue 16): the person who marked a
	// callback done or a complaint replied to through the ops API; ''
	// when kefu closed it (a callback it made) or before this version.
	`
ALTER TABLE callbacks ADD COLUMN done_by TEXT NOT NULL DEFAULT '';
ALTER TABLE complaints ADD COLUMN replied_by TEXT NOT NULL DEFAULT '';
`,
	// 7: follow-up calls (issue 13, CS-FOLLOWUP): a complaint ops resolved
	// is called back within 24 h to ask the survey question; one per
	// complaint, with its attempts, its outcome and the key pressed.
	`
CREATE TABLE followups (
	id           INTEGER PRIMARY KEY,
	complaint_id INTEGER NOT NULL UNIQUE REFERENCES complaints (id),
	number       TEXT    NOT NULL,          -- the complaint's caller
	resolved     INTEGER NOT NULL,          -- unix microseconds
	resolved_by  TEXT    NOT NULL,
	due          INTEGER NOT NULL,          -- unix microseconds
	attempts     INTEGER NOT NULL DEFAULT 0,
	not_before   INTEGER,                   -- unix microseconds; NULL: now
	outcome      TEXT    NOT NULL DEFAULT '' CHECK (outcome IN ('', 'answered', 'no_answer', 'cancelled')),
	dtmf         TEXT    NOT NULL DEFAULT '',
	score        INTEGER NOT NULL DEFAULT 0,
	done_at      INTEGER                    -- unix microseconds; NULL: open
) STRICT;
CREATE INDEX followups_open_due ON followups (due) WHERE outcome = '';
`,
	// 8: nothing here. The step of flows/store/pg that announces changes
	// to the caches of several nodes (issue 17); one node has no one to
	// tell. The steps stay numbered alike on both.
	`SELECT 1;`,
	// 9: nothing here either: flows/store/pg's agents' registrations
	// and shared secrets, for several nodes.
	`SELECT 1;`,
	// 10: nothing here: flows/store/pg's claims of callbacks and
	// follow-ups by one node of several.
	`SELECT 1;`,
}

// SchemaVersion is the schema version this binary brings a database to.
func SchemaVersion() int { return len(migrations) }

// migrate applies the steps the database has not had yet, all in one
// immediate transaction, so two processes opening the same new directory
// cannot both run them, and a crash half-way leaves the old version.
func (s *SQLite) migrate(ctx context.Context) error {
	return inTx(ctx, s.w, func(tx *sql.Tx) error {
		var v int
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
			return fmt.Errorf("store: schema version: %w", err)
		}
		if v > len(migrations) {
			return fmt.Errorf("store: %s is at schema version %d, this kefu knows up to %d: %w",
				s.path, v, len(migrations), ErrSchemaTooNew)
		}
		for i := v; i < len(migrations); i++ {
			if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
				return fmt.Errorf("store: migrate to schema version %d: %w", i+1, err)
			}
		}
		if v == len(migrations) {
			return nil
		}
		// PRAGMA takes no parameters; the value is an int we computed.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
			return fmt.Errorf("store: set schema version: %w", err)
		}
		return nil
	})
}
