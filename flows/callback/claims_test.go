package callback_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/flows/callback"
	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/prompts"
)

// memClaims are claims with leases over a book in memory, as
// flows/store/pg keeps them, for schedulers standing for nodes.
type memClaims struct {
	book   *records.Memory
	mu     sync.Mutex
	owner  map[int64]string
	until  map[int64]time.Time
	claims []string // "node id", in order
}

func (c *memClaims) Claim(ctx context.Context, kind string, id int64, owner string, now, until time.Time) (bool, error) {
	if kind != callback.ClaimCallback {
		return false, errors.New("callbacks only")
	}
	p, err := c.book.PendingOne(ctx, id)
	if errors.Is(err, records.ErrNotFound) || err == nil && p.NotBefore.After(now) {
		return false, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if o := c.owner[id]; o != "" && o != owner && c.until[id].After(now) {
		return false, nil
	}
	c.owner[id], c.until[id] = owner, until
	c.claims = append(c.claims, owner+" "+strconv.FormatInt(id, 10))
	return true, nil
}

func (c *memClaims) Renew(_ context.Context, _ string, ids []int64, owner string, until time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		if c.owner[id] == owner {
			c.until[id] = until
		}
	}
	return nil
}

func (c *memClaims) Release(_ context.Context, _ string, id int64, owner string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.owner[id] == owner {
		delete(c.owner, id)
		delete(c.until, id)
	}
	return nil
}

// node is a world whose scheduler claims its callbacks in claims, on
// book.
func node(t *testing.T, name string, book *records.Memory, claims callback.Claims) *world {
	t.Helper()
	w := newWorld(t, []agents.Agent{fixed("8001", "customers")}, defaults)
	w.book = book
	w.phone.agentAnswer["8001"] = time.Second
	var err error
	w.s, err = callback.New(callback.Config{Queues: w.qm, Board: w.board, Phone: w.phone, Book: book,
		Settings: func(string) (callback.Settings, bool) { s := defaults; s.Queue = "customers"; return s, true },
		Prompts:  func() *prompts.Catalog { c, _ := catalog(); return c },
		Claims:   claims, Node: name})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestClaimsOneNodeAtATime: two nodes on one book, each with an agent of
// its own. A callback left on node A and one stored in the book while A
// makes the first (both nodes learn of it from the book) are each made
// once, by one node. Every claim is given up when its call ends.
func TestClaimsOneNodeAtATime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		book := &records.Memory{}
		claims := &memClaims{book: book, owner: map[int64]string{}, until: map[int64]time.Time{}}
		a, b := node(t, "a", book, claims), node(t, "b", book, claims)
		a.start()
		b.start()
		first := a.leave("13800000001", "customers", 0, time.Now())
		time.Sleep(10 * time.Second) // A calls the customer
		second, err := book.AddCallback(context.Background(), records.Callback{CallID: "call-2", Caller: "13800000002",
			Number: "13800000002", Reason: "queue_timeout", Queue: "customers", At: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		for _, cb := range []records.Callback{first, second} {
			if got := a.attempts(cb.ID); got != records.AttemptAnswered || a.outcome(cb.ID) != records.OutcomeDone {
				t.Errorf("callback %d: attempts %q, outcome %q; want one, answered", cb.ID, got, a.outcome(cb.ID))
			}
		}
		var dials []string
		for _, w := range []*world{a, b} {
			for _, e := range w.phone.events() {
				if strings.HasPrefix(e, "dial ") {
					dials = append(dials, e)
				}
			}
		}
		if len(dials) != 2 || strings.Count(strings.Join(dials, ","), "13800000001") != 1 || strings.Count(strings.Join(dials, ","), "13800000002") != 1 {
			t.Errorf("dialled %q; want each customer once", dials)
		}
		claims.mu.Lock()
		defer claims.mu.Unlock()
		if len(claims.owner) != 0 {
			t.Errorf("claims left: %v", claims.owner)
		}
	})
}
