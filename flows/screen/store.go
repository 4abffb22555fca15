package screen

import (
	"context"
	"errors"
	"fmt"
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

// Exemption is why the repeat-call rule spares a number (CS-ANGRY): a
// customer who calls again and again about a problem is no nuisance.
type Exemption string

// The exemptions.
const (
	ExemptNone      Exemption = ""
	ExemptComplaint Exemption = "complaint" // the number has a complaint not yet answered
	ExemptCallback  Exemption = "callback"  // the number is owed a callback (as caller or as the number left)
	ExemptCutShort  Exemption = "cut_short" // kefu cut one of its calls short recently (system down, a line fault, a dropped call)
)

// Status is where a proposed list entry stands.
type Status string

// The statuses of a proposal.
const (
	Proposed  Status = "proposed"  // waiting for a person
	Confirmed Status = "confirmed" // a person put the number on the list
	Rejected  Status = "rejected"  // a person judged it a customer
)

// Proposal is a nuisance-list entry the repeat-call rule proposes when it
// flags a number (CS-NUISANCE: "proposes a list entry that a person
// confirms"): the number, why (the calls counted), when. The flag alone
// lasts a limited time; only a person puts a number on the list.
type Proposal struct {
	ID     int64     `json:"id"`
	Number string    `json:"number"`
	Reason string    `json:"reason"` // the calls counted, in words
	Calls  int       `json:"calls"`  // calls served within the window, at the most
	Since  time.Time `json:"since"`  // when the number first went over the limit
	Until  time.Time `json:"until"`  // when its flag ends, as last extended
	Status Status    `json:"status"`
	// DecidedBy, DecidedAt and EntryID: who confirmed or rejected it and
	// when, and the list entry a confirmation made.
	DecidedBy string     `json:"decided_by,omitempty"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
	EntryID   int64      `json:"entry_id,omitempty"`
}

// Decision closes a proposal: confirmed, with the list entry to put, or
// rejected; by whom and when.
type Decision struct {
	Status Status // Confirmed or Rejected
	By     string
	At     time.Time
	Entry  *Entry // Confirmed: the entry for the proposal's number
}

// Validate checks that d can close a proposal: a status of Confirmed with
// an entry, or Rejected without one, and who decided. The error wraps
// ErrInvalid.
func (d Decision) Validate() error {
	switch {
	case d.By == "":
		return invalid("by", "is required")
	case d.Status == Confirmed && d.Entry == nil:
		return invalid("entry", "a confirmation puts an entry on the list")
	case d.Status == Rejected && d.Entry != nil:
		return invalid("entry", "a rejection puts nothing on the list")
	case d.Status != Confirmed && d.Status != Rejected:
		return invalid("status", fmt.Sprintf("%q: confirmed or rejected", d.Status))
	}
	return nil
}

// Errors the Manager and the stores return; test them with errors.Is.
var (
	ErrInvalid  = errors.New("invalid")
	ErrNotFound = errors.New("not found")
	// ErrDecided is a proposal someone already confirmed or rejected.
	ErrDecided = errors.New("already decided")
)

// Store is the persistence screening needs. flows/store implements it on
// SQLite; every method is safe for concurrent use and honours ctx.
type Store interface {
	List
	Counter
	Proposals
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

// Counter keeps the repeat-call state: the calls kefu served, the flags,
// and what spares a number.
type Counter interface {
	// CountCalls returns, without writing anything, how many recorded
	// calls from number are later than t-window and the flag active at t
	// (nil when there is none).
	CountCalls(ctx context.Context, number string, t time.Time, window time.Duration) (count int, flag *Flag, err error)
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
	// RecordCutShort records that kefu cut a call from number short at t.
	RecordCutShort(ctx context.Context, number string, t time.Time) error
	// Exemption says whether number is spared by the repeat-call rule: an
	// open complaint whose caller it is, an open callback whose caller or
	// callback number it is, or a call cut short later than cutSince.
	Exemption(ctx context.Context, number string, cutSince time.Time) (Exemption, error)
	// Prune deletes calls recorded at or before t-window, flags that ended
	// at or before t, and calls cut short at or before t-spare.
	Prune(ctx context.Context, t time.Time, window, spare time.Duration) error
}

// Proposals keeps the list entries the repeat-call rule proposes.
type Proposals interface {
	// Propose records p as the open proposal for p.Number, or merges it
	// into the one already open (the larger Calls, the later Until; the
	// ID, Since and Reason stay). It returns the proposal as stored.
	Propose(ctx context.Context, p Proposal) (Proposal, error)
	// Proposals returns the proposals by ID: the open ones, or all when
	// all is true.
	Proposals(ctx context.Context, all bool) ([]Proposal, error)
	// Proposal returns proposal id; ErrNotFound when there is none.
	Proposal(ctx context.Context, id int64) (Proposal, error)
	// DecideProposal closes open proposal id with d, in one transaction
	// with putting d.Entry on the list when it is confirmed, and returns
	// it as stored; ErrNotFound when there is no such proposal,
	// ErrDecided when it is closed already.
	DecideProposal(ctx context.Context, id int64, d Decision) (Proposal, error)
}
