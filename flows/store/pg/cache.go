package pg

import (
	"sync"
	"time"

	"github.com/kefu-hotline/kefu/flows/screen"
)

// cache is what screening reads on every INVITE, held in memory: the
// nuisance list, the repeat-call flags, each number's recorded calls, and
// what spares a number (open complaints and callbacks, calls cut short).
// The listener (listen.go) loads it whole and keeps it fresh from the
// database's notifications; this node's own writes go in as they commit.
//
// It answers only while it is live (loaded, and its listener connected);
// otherwise reads go to the database, which is never behind.
//
// Times are kept as stored (UTC microseconds, see at), so that comparing
// them gives what the database's comparisons give.
type cache struct {
	mu      sync.RWMutex
	live    bool
	entries map[string]screen.Entry // by pattern
	flags   map[string]screen.Flag  // by number
	calls   map[string][]call       // by number, in no particular order
	spare   map[string]spare        // by number; absent: nothing spares it
	// keep is how long a number's calls stay after its latest: the
	// longest window counted with so far (0: all stay until a prune).
	keep time.Duration
}

// call is one recorded call (call_attempts): its row id, so that a call
// seen both in a load and in a notification counts once, and its time.
type call struct {
	id int64
	at time.Time
}

// spare is what spares one number from the repeat-call rule.
type spare struct {
	complaint bool      // a complaint it made is not replied to
	callback  bool      // a callback it left, or to it, is open
	cut       time.Time // the latest call from it kefu cut short; zero: none
}

// snapshot is the cache's content as loaded at once.
type snapshot struct {
	entries map[string]screen.Entry
	flags   map[string]screen.Flag
	calls   map[string][]call
	spare   map[string]spare
}

func newSnapshot() snapshot {
	return snapshot{entries: map[string]screen.Entry{}, flags: map[string]screen.Flag{},
		calls: map[string][]call{}, spare: map[string]spare{}}
}

func newCache() *cache {
	s := newSnapshot()
	return &cache{entries: s.entries, flags: s.flags, calls: s.calls, spare: s.spare}
}

// replace makes s the cache's content and the cache live.
func (c *cache) replace(s snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries, c.flags, c.calls, c.spare = s.entries, s.flags, s.calls, s.spare
	c.live = true
}

// down stops the cache answering: reads go to the database until the
// next replace.
func (c *cache) down() {
	c.mu.Lock()
	c.live = false
	c.mu.Unlock()
}

// isLive reports whether the cache answers.
func (c *cache) isLive() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.live
}

// match returns the entries whose pattern is one of patterns and that are
// active at t; ok is false when the cache does not answer.
func (c *cache) match(patterns []string, t time.Time) (es []screen.Entry, ok bool) {
	t = at(t)
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !c.live {
		return nil, false
	}
	for _, p := range patterns {
		if e, found := c.entries[p]; found && e.Active(t) {
			es = append(es, copyEntry(e))
		}
	}
	return es, true
}

// copyEntry is e with its own expiry, so that no caller shares the
// cache's.
func copyEntry(e screen.Entry) screen.Entry {
	if e.ExpiresAt != nil {
		x := *e.ExpiresAt
		e.ExpiresAt = &x
	}
	return e
}

// count returns number's calls later than t-window and its flag active at
// t, as CountCalls does; ok is false when the cache does not answer.
func (c *cache) count(number string, t time.Time, window time.Duration) (n int, flag *screen.Flag, ok bool) {
	now, cutoff := at(t), at(t.Add(-window))
	c.mu.RLock()
	if !c.live {
		c.mu.RUnlock()
		return 0, nil, false
	}
	for _, k := range c.calls[number] {
		if k.at.After(cutoff) {
			n++
		}
	}
	if f, found := c.flags[number]; found && f.Until.After(now) {
		flag = &f
	}
	keep := c.keep
	c.mu.RUnlock()
	if window > keep {
		c.mu.Lock()
		c.keep = max(c.keep, window)
		c.mu.Unlock()
	}
	return n, flag, true
}

// exemption says what spares number, as Exemption does; ok is false when
// the cache does not answer.
func (c *cache) exemption(number string, cutSince time.Time) (screen.Exemption, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !c.live {
		return screen.ExemptNone, false
	}
	sp := c.spare[number]
	switch {
	case sp.complaint:
		return screen.ExemptComplaint, true
	case sp.callback:
		return screen.ExemptCallback, true
	case sp.cut.After(at(cutSince)):
		return screen.ExemptCutShort, true
	}
	return screen.ExemptNone, true
}

// putEntry sets the entry for e.Pattern.
func (c *cache) putEntry(e screen.Entry) {
	c.mu.Lock()
	c.entries[e.Pattern] = copyEntry(e)
	c.mu.Unlock()
}

// deleteEntry removes the entry for pattern.
func (c *cache) deleteEntry(pattern string) {
	c.mu.Lock()
	delete(c.entries, pattern)
	c.mu.Unlock()
}

// putFlag sets number's flag.
func (c *cache) putFlag(f screen.Flag) {
	c.mu.Lock()
	c.flags[f.Number] = f
	c.mu.Unlock()
}

// deleteFlag removes number's flag.
func (c *cache) deleteFlag(number string) {
	c.mu.Lock()
	delete(c.flags, number)
	c.mu.Unlock()
}

// forget removes number's flag and its calls (DeleteFlag).
func (c *cache) forget(number string) {
	c.mu.Lock()
	delete(c.flags, number)
	delete(c.calls, number)
	c.mu.Unlock()
}

// addCall adds call k of number, once, and drops the number's calls that
// are older than the longest window by now.
func (c *cache) addCall(number string, k call) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[number] = addCall(c.calls[number], k, c.keep)
}

// addCall adds k to ks unless it is there, dropping the calls older than
// k by more than keep (keep 0: none).
func addCall(ks []call, k call, keep time.Duration) []call {
	out := ks[:0]
	seen := false
	for _, x := range ks {
		seen = seen || x.id == k.id
		if keep == 0 || x.at.After(k.at.Add(-keep)) {
			out = append(out, x)
		}
	}
	if !seen {
		out = append(out, k)
	}
	return out
}

// trimCalls drops number's calls at or before cutoff, as RecordAttempt
// does in the database.
func (c *cache) trimCalls(number string, cutoff time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ks := c.calls[number][:0]
	for _, k := range c.calls[number] {
		if k.at.After(cutoff) {
			ks = append(ks, k)
		}
	}
	if len(ks) == 0 {
		delete(c.calls, number)
	} else {
		c.calls[number] = ks
	}
}

// setSpare sets what spares number.
func (c *cache) setSpare(number string, sp spare) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if sp == (spare{}) {
		delete(c.spare, number)
	} else {
		c.spare[number] = sp
	}
}

// cutShort records a call from number cut short at t.
func (c *cache) cutShort(number string, t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sp := c.spare[number]
	if t.After(sp.cut) {
		sp.cut = t
		c.spare[number] = sp
	}
}

// prune drops what Prune deletes in the database: calls at or before
// t-window, flags ended at or before t, calls cut short at or before
// t-spare.
func (c *cache) prune(t time.Time, window, spareFor time.Duration) {
	now, calls, cuts := at(t), at(t.Add(-window)), at(t.Add(-spareFor))
	c.mu.Lock()
	defer c.mu.Unlock()
	for n, ks := range c.calls {
		kept := ks[:0]
		for _, k := range ks {
			if k.at.After(calls) {
				kept = append(kept, k)
			}
		}
		if len(kept) == 0 {
			delete(c.calls, n)
		} else {
			c.calls[n] = kept
		}
	}
	for n, f := range c.flags {
		if !f.Until.After(now) {
			delete(c.flags, n)
		}
	}
	for n, sp := range c.spare {
		if !sp.cut.IsZero() && !sp.cut.After(cuts) {
			sp.cut = time.Time{}
			if sp == (spare{}) {
				delete(c.spare, n)
			} else {
				c.spare[n] = sp
			}
		}
	}
}
