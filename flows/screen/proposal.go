package screen

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kefu-hotline/kefu/flows/callerid"
)

// DecideRequest is a person's decision on a proposed list entry. By is
// required. A confirmation may set the entry's reason (default: the
// proposal's), its end (ExpiresAt or TTL; default: until removed) and its
// action (default: the nuisance path), as for AddRequest.
type DecideRequest struct {
	By        string     `json:"by"`
	Reason    string     `json:"reason,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	TTL       string     `json:"ttl,omitempty"`
	Action    Action     `json:"action"`
}

// Proposals returns the list entries the repeat-call rule proposed, by ID:
// those waiting for a person, or all when all is true.
func (m *Manager) Proposals(ctx context.Context, all bool) ([]Proposal, error) {
	ps, err := m.st.Proposals(ctx, all)
	if err != nil {
		return nil, fmt.Errorf("proposed nuisance entries: %w", err)
	}
	return ps, nil
}

// Confirm puts the number of proposal id on the nuisance list, added by
// r.By, and closes the proposal as confirmed with the entry's ID. It
// returns the proposal as closed; ErrNotFound when there is no such
// proposal, ErrDecided when someone decided it already, an ErrInvalid for
// a bad request.
func (m *Manager) Confirm(ctx context.Context, id int64, r DecideRequest) (Proposal, error) {
	if err := text("by", r.By, MaxAddedByLen); err != nil {
		return Proposal{}, err
	}
	p, err := m.open(ctx, id)
	if err != nil {
		return Proposal{}, err
	}
	reason := r.Reason
	if reason == "" {
		reason = truncate(fmt.Sprintf("proposal %d: %s", p.ID, p.Reason), MaxReasonLen)
	}
	e, err := m.validate(AddRequest{Pattern: p.Number, Reason: reason, AddedBy: r.By, ExpiresAt: r.ExpiresAt, TTL: r.TTL, Action: r.Action})
	if err != nil {
		return Proposal{}, err
	}
	out, err := m.st.DecideProposal(ctx, id, Decision{Status: Confirmed, By: r.By, At: e.AddedAt, Entry: &e})
	if err != nil {
		return Proposal{}, fmt.Errorf("confirm proposal %d: %w", id, err)
	}
	m.opt.log.InfoContext(ctx, "proposed nuisance entry confirmed", "proposal", id, "number", callerid.Mask(p.Number), "by", r.By, "entry", out.EntryID)
	return out, nil
}

// Reject closes proposal id as rejected by r.By (the request's other
// fields do not apply): a person judged the number a customer. Its flag
// and counted calls go too, so it is served normally at once. The errors
// are those of Confirm.
func (m *Manager) Reject(ctx context.Context, id int64, r DecideRequest) (Proposal, error) {
	if err := text("by", r.By, MaxAddedByLen); err != nil {
		return Proposal{}, err
	}
	p, err := m.open(ctx, id)
	if err != nil {
		return Proposal{}, err
	}
	out, err := m.st.DecideProposal(ctx, id, Decision{Status: Rejected, By: r.By, At: m.now()})
	if err != nil {
		return Proposal{}, fmt.Errorf("reject proposal %d: %w", id, err)
	}
	if err := m.st.DeleteFlag(ctx, p.Number); err != nil && !errors.Is(err, ErrNotFound) {
		return out, fmt.Errorf("reject proposal %d: clear the flag: %w", id, err)
	}
	m.opt.log.InfoContext(ctx, "proposed nuisance entry rejected", "proposal", id, "number", callerid.Mask(p.Number), "by", r.By)
	return out, nil
}

// open returns proposal id if it is still waiting for a person.
func (m *Manager) open(ctx context.Context, id int64) (Proposal, error) {
	p, err := m.st.Proposal(ctx, id)
	if err != nil {
		return Proposal{}, fmt.Errorf("proposal %d: %w", id, err)
	}
	if p.Status != Proposed {
		return Proposal{}, fmt.Errorf("proposal %d is %s: %w", id, p.Status, ErrDecided)
	}
	return p, nil
}

// truncate cuts s to at most n characters.
func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}
