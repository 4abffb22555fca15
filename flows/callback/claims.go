package callback

import (
	"context"
	"errors"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
)

// Claims let several kefu nodes on one store share the callbacks and the
// follow-ups: every node loads them all, and one node at a time makes
// each. A node claims one when it is due, with a lease it renews while
// the call runs; when a node dies its leases run out within Lease and
// another node takes its callbacks over (the attempt it left running is
// marked interrupted: not counted, made again). flows/store/pg implements
// it; one node on its own needs none.
type Claims interface {
	// Claim takes the callback or follow-up (kind: ClaimCallback,
	// ClaimFollowUp) id for owner until until, when it is still open, due
	// at now and held by no other owner past now; false otherwise.
	Claim(ctx context.Context, kind string, id int64, owner string, now, until time.Time) (bool, error)
	// Renew extends owner's claims of kind on ids to until.
	Renew(ctx context.Context, kind string, ids []int64, owner string, until time.Time) error
	// Release gives up owner's claim of kind on id.
	Release(ctx context.Context, kind string, id int64, owner string) error
}

// The kinds of claims, as flows/store/pg names them.
const (
	ClaimCallback = "callback"
	ClaimFollowUp = "followup"
)

// DefaultLease is how long a claim lasts unless renewed: a dead node's
// callbacks are taken over this long after its last renewal. Claims are
// renewed every third of it.
const DefaultLease = 6 * time.Second

// claimTimeout bounds one use of the claims.
const claimTimeout = 3 * time.Second

// claimer is a node's side of Claims.
type claimer struct {
	c     Claims
	kind  string
	owner string
	lease time.Duration
}

// claim claims id now; false when another node has it, it is no longer
// due or open, or the claims are unreachable (then nobody makes it).
func (c claimer) claim(ctx context.Context, id int64) bool {
	ctx, cancel := context.WithTimeout(ctx, claimTimeout)
	defer cancel()
	now := time.Now()
	ok, err := c.c.Claim(ctx, c.kind, id, c.owner, now, now.Add(c.lease))
	return err == nil && ok
}

// renew extends the claims on ids.
func (c claimer) renew(ctx context.Context, ids []int64) error {
	ctx, cancel := context.WithTimeout(ctx, claimTimeout)
	defer cancel()
	return c.c.Renew(ctx, c.kind, ids, c.owner, time.Now().Add(c.lease))
}

// release gives up the claim on id, even when ctx has ended.
func (c claimer) release(ctx context.Context, id int64) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), claimTimeout)
	defer cancel()
	_ = c.c.Release(ctx, c.kind, id, c.owner)
}

// hold renews the claim on id every third of the lease until stop is
// closed.
func (c claimer) hold(ctx context.Context, id int64, stop <-chan struct{}) {
	t := time.NewTicker(c.lease / 3)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
			_ = c.renew(ctx, []int64{id})
		}
	}
}

// claimed claims e, which the schedule would put in its queue now, and
// reads it back from the book (another node may have made an attempt
// meanwhile). false: another node makes it now, or it was closed, or is
// not due any more; e is rescheduled then, or forgotten when closed.
func (s *Scheduler) claimed(ctx context.Context, e *entry) bool {
	now := time.Now()
	ok := s.claims.claim(ctx, e.p.ID)
	rctx, cancel := context.WithTimeout(ctx, claimTimeout)
	p, err := s.cfg.Book.PendingOne(rctx, e.p.ID)
	cancel()
	switch {
	case errors.Is(err, records.ErrNotFound):
		if ok {
			s.claims.release(ctx, e.p.ID)
		}
		delete(s.entries, e.p.ID)
		return false
	case err == nil:
		e.p = p
	}
	if ok && err == nil && !p.NotBefore.After(now) {
		return true
	}
	if ok {
		s.claims.release(ctx, e.p.ID)
	}
	if !ok || err != nil {
		// Another node makes it (or the book is unreachable): look again
		// once its lease could have run out.
		e.p.NotBefore = later(e.p.NotBefore, now.Add(s.claims.lease))
	}
	s.schedule(e, now)
	return false
}

// renew extends the claims of the callbacks this node is making, all in
// one go; Run calls it every third of the lease.
func (s *Scheduler) renew(ctx context.Context) {
	var ids []int64
	for id, e := range s.entries {
		if e.state == running {
			ids = append(ids, id)
		}
	}
	if len(ids) > 0 {
		_ = s.claims.renew(ctx, ids)
	}
}

// refresh schedules the open callbacks of the book this node does not
// know yet: those other nodes took in, which it makes if they do not.
func (s *Scheduler) refresh(ctx context.Context, now time.Time) {
	rctx, cancel := context.WithTimeout(ctx, claimTimeout)
	ps, err := s.cfg.Book.Pending(rctx)
	cancel()
	if err != nil {
		return
	}
	for _, p := range ps {
		if s.entries[p.ID] == nil {
			s.add(p, now)
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
