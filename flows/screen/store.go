package screen

import (
	"context"
	"errors"
	"time"
)

// Entry is one line of the nuisance list: a number or a number prefix, why
// and by whom it was added, until when, and what to do with its calls.
type Entry struct {
	ID        int64      `json:"id"`
	Pattern   string     `json:"pattern"` // "13812345678" (exact) or "400*" (prefix); see ParsePattern
	Reason    string     `json:"reason"`
	AddedBy   string     `json:"added_by"`
	AddedAt   time.Time  `json:"added_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"` // nil: until removed
	Action    Action     `json:"action"`
}

// Active reports whether the entry is in effect at t: not yet expired (an
// entry expiring at t is no longer in effect at t).
func (e Entry) Active(t time.Time) bool {
	return e.ExpiresAt == nil || e.ExpiresAt.After(t)
}

// Flag is a number the repeat-call rule made a nuisance: since the call
// that went over the limit, until a block time after the last such call.
type Flag struct {
	Number string    `json:"number"`
	Since  time.Time `json:"since"`
	Until  time.Time `json:"until"`
	Calls  int       `json:"calls"` // calls in the window at the last call over the limit
}

// Errors the Manager and the stores return; test them with errors.Is.
var (
	ErrInvalid  = errors.New("invalid")
	ErrNotFound = errors.New("not found")
)

// Store is the persistence screening needs. flows/store implements it on
// SQLite; every method is safe for concurrent use and honours ctx.
type Store interface {
	List
	Counter
}

// List is the nuisance list.
type List interface {
	// PutEntry adds e, or replaces the entry with the same pattern, and
	// returns it as stored (with its ID).
	PutEntry(ctx context.Context, e Entry) (Entry, error)
	// DeleteEntry removes the entry with this pattern; ErrNotFound when
	// there is none.
	DeleteEntry(ctx context.Context, pattern string) error
	// Entries returns every entry, expired ones included, by pattern.
	Entries(ctx context.Context) ([]Entry, error)
	// MatchEntries returns the entries whose pattern is one of patterns and
	// that are active at t.
	MatchEntries(ctx context.Context, patterns []string, t time.Time) ([]Entry, error)
}

// Counter keeps the repeat-call state.
type Counter interface {
	// RecordAttempt records a call from number at t and, atomically with
	// it, returns how many recorded calls from number are later than
	// t-window (this one included: concurrent calls get distinct counts)
	// and the flag active at t, nil when there is none.
	RecordAttempt(ctx context.Context, number string, t time.Time, window time.Duration) (count int, flag *Flag, err error)
	// PutFlag flags f.Number, merging with an active flag: the later Until
	// wins, Since stays that of the flag already active. It returns the
	// flag as stored.
	PutFlag(ctx context.Context, f Flag) (Flag, error)
	// Flags returns the flags active at t, by number.
	Flags(ctx context.Context, t time.Time) ([]Flag, error)
	// DeleteFlag forgets number's flag and its recorded calls; ErrNotFound
	// when there is neither.
	DeleteFlag(ctx context.Context, number string) error
	// Prune deletes calls recorded at or before t-window and flags that
	// ended at or before t.
	Prune(ctx context.Context, t time.Time, window time.Duration) error
}
