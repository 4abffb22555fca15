package screen

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/kefu-hotline/kefu/flows/callerid"
)

// Limits on the free-text fields of a list entry.
const (
	MaxReasonLen  = 200 // characters
	MaxAddedByLen = 64  // characters
)

// Manager is the ops surface of screening, for the HTTP API and the CLI:
// list, add and remove nuisance entries with validation, see or clear the
// numbers the repeat-call rule flagged, and confirm or reject the list
// entries it proposed. Its values marshal to JSON as
// they are; its errors wrap ErrInvalid (a bad request: *ValidationError
// names the field) or ErrNotFound, and never show a number unmasked.
type Manager struct {
	st  Store
	now func() time.Time
	opt options
}

// NewManager makes a Manager over st. now is its clock (for added_at and
// expiry); it panics when st or now is nil.
func NewManager(st Store, now func() time.Time, opts ...Option) *Manager {
	if st == nil || now == nil {
		panic("screen: NewManager needs a store and a clock")
	}
	return &Manager{st: st, now: now, opt: buildOptions(opts)}
}

// AddRequest is a new nuisance entry as ops give it.
type AddRequest struct {
	Pattern   string     `json:"pattern"`              // "13812345678" or "400*"; see ParsePattern
	Reason    string     `json:"reason"`               // required: why (for the next person reading the list)
	AddedBy   string     `json:"added_by"`             // required: who
	ExpiresAt *time.Time `json:"expires_at,omitempty"` // optional end, in the future
	TTL       string     `json:"ttl,omitempty"`        // or a duration from now: "24h", "30m" (not both)
	Action    Action     `json:"action"`               // zero: route to the nuisance path; a rejection is ops' choice
}

// List returns the nuisance entries by pattern; expired ones only when
// all is true.
func (m *Manager) List(ctx context.Context, all bool) ([]Entry, error) {
	es, err := m.st.Entries(ctx)
	if err != nil {
		return nil, fmt.Errorf("nuisance list: %w", err)
	}
	if all {
		return es, nil
	}
	now := m.now()
	out := es[:0]
	for _, e := range es {
		if e.Active(now) {
			out = append(out, e)
		}
	}
	return out, nil
}

// Add validates r and puts it on the list, replacing an entry with the same
// pattern (so adding a number again updates its reason, action or expiry).
// It returns the entry as stored.
func (m *Manager) Add(ctx context.Context, r AddRequest) (Entry, error) {
	e, err := m.validate(r)
	if err != nil {
		return Entry{}, err
	}
	stored, err := m.st.PutEntry(ctx, e)
	if err != nil {
		return Entry{}, fmt.Errorf("add nuisance entry %q: %w", MaskPattern(e.Pattern), err)
	}
	return stored, nil
}

// validate turns a request into an entry, or says what is wrong with it.
func (m *Manager) validate(r AddRequest) (Entry, error) {
	now := m.now()
	p, err := ParsePattern(r.Pattern)
	if err != nil {
		return Entry{}, err
	}
	e := Entry{Pattern: p, Reason: r.Reason, AddedBy: r.AddedBy, AddedAt: now}
	if err := text("reason", r.Reason, MaxReasonLen); err != nil {
		return Entry{}, err
	}
	if err := text("added_by", r.AddedBy, MaxAddedByLen); err != nil {
		return Entry{}, err
	}
	switch {
	case r.ExpiresAt != nil && r.TTL != "":
		return Entry{}, invalid("ttl", "give expires_at or ttl, not both")
	case r.ExpiresAt != nil:
		if !r.ExpiresAt.After(now) {
			return Entry{}, invalid("expires_at", "is not in the future")
		}
		t := *r.ExpiresAt
		e.ExpiresAt = &t
	case r.TTL != "":
		d, err := time.ParseDuration(r.TTL)
		if err != nil || d <= 0 {
			return Entry{}, invalid("ttl", fmt.Sprintf("%q: give a positive duration such as 24h or 30m", r.TTL))
		}
		t := now.Add(d)
		e.ExpiresAt = &t
	}
	if e.Action, err = r.Action.normalize(false); err != nil {
		return Entry{}, err
	}
	if e.Action.Kind == Route && m.opt.checkTarget != nil {
		if err := m.opt.checkTarget(e.Action.Target); err != nil {
			return Entry{}, invalid("target", err.Error())
		}
	}
	return e, nil
}

// text checks a required free-text field.
func text(field, s string, max int) error {
	switch n := utf8.RuneCountInString(s); {
	case !utf8.ValidString(s):
		return invalid(field, "is not valid UTF-8")
	case n == 0:
		return invalid(field, "is required")
	case n > max:
		return invalid(field, fmt.Sprintf("is %d characters; at most %d", n, max))
	}
	return nil
}

// Remove takes the entry with this pattern off the list (the pattern is
// written as for Add); ErrNotFound when there is none.
func (m *Manager) Remove(ctx context.Context, pattern string) error {
	p, err := ParsePattern(pattern)
	if err != nil {
		return err
	}
	if err := m.st.DeleteEntry(ctx, p); err != nil {
		return fmt.Errorf("remove nuisance entry %q: %w", MaskPattern(p), err)
	}
	return nil
}

// Flags returns the numbers the repeat-call rule has flagged now.
func (m *Manager) Flags(ctx context.Context) ([]Flag, error) {
	fs, err := m.st.Flags(ctx, m.now())
	if err != nil {
		return nil, fmt.Errorf("repeat-call flags: %w", err)
	}
	return fs, nil
}

// ClearFlag lets a flagged number call again at once, forgetting its
// recent calls too (a real customer who called back during an outage);
// ErrNotFound when the number has neither.
func (m *Manager) ClearFlag(ctx context.Context, number string) error {
	n := counterKey(number)
	if n == "" {
		return invalid("number", "is required")
	}
	if err := m.st.DeleteFlag(ctx, n); err != nil {
		return fmt.Errorf("clear flag of %q: %w", callerid.Mask(n), err)
	}
	return nil
}
