package flood

import (
	"sync"
	"time"
)

// Method classes, each with its own buckets in every entry.
const (
	classInvite = iota
	classRegister
	classOptions
	classOther
	numClasses
)

// state is what the guard remembers about one source or one caller.
type state struct {
	tat         [numClasses]int64 // GCRA theoretical arrival time per class, ns
	strikeStart int64             // start of the current strike window, ns
	bannedUntil int64             // ns; sources only
	strikes     int32             // denials since strikeStart; sources only
}

// idle reports whether s holds nothing worth remembering at now: every
// bucket is full again, no ban is running and no strike window is open.
// Forgetting an idle entry changes no future verdict.
func (s *state) idle(now, window int64) bool {
	for _, t := range s.tat {
		if t > now {
			return false
		}
	}
	return s.bannedUntil <= now && (s.strikes == 0 || now-s.strikeStart > window)
}

// Sharding: a power of two, at most maxShards, each holding at least
// minPerShard keys, so small tables (tests) have one exact bound.
const (
	maxShards   = 32
	minPerShard = 64
)

// table maps keys to state with a hard bound on its size. Each shard is a
// map plus an intrusive LRU list over a slice of nodes, so a lookup of an
// existing key allocates nothing and eviction is O(1).
type table[K comparable] struct {
	shards []shard[K]
	mask   uint64
	window int64     // strike window, for idle
	clone  func(K) K // copies a key before it is stored, or nil
}

func newTable[K comparable](maxKeys int, window time.Duration, clone func(K) K) *table[K] {
	n := 1
	for n < maxShards && n*2*minPerShard <= maxKeys {
		n *= 2
	}
	t := &table[K]{shards: make([]shard[K], n), mask: uint64(n - 1), window: int64(window), clone: clone}
	for i := range t.shards {
		t.shards[i] = shard[K]{idx: make(map[K]int32), cap: maxKeys / n, head: none, tail: none, free: none}
	}
	return t
}

// shard returns the shard for a key hashing to h.
func (t *table[K]) shard(h uint64) *shard[K] {
	return &t.shards[h&t.mask]
}

// counts returns how many keys are tracked and how many entries were
// evicted while they still held state.
func (t *table[K]) counts() (n int, evicted uint64) {
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		n += len(s.idx)
		evicted += s.evicted
		s.mu.Unlock()
	}
	return n, evicted
}

const none = -1

type node[K comparable] struct {
	key        K
	prev, next int32 // LRU list (next also links the free list)
	st         state
}

type shard[K comparable] struct {
	mu               sync.Mutex
	idx              map[K]int32
	nodes            []node[K]
	head, tail, free int32 // head is the most recently used
	cap              int
	evicted          uint64
	_                [64]byte // keep shards' locks off each other's cache lines
}

// get returns the state for key, creating it if needed, and marks it most
// recently used. The caller holds s.mu; the pointer is valid until it
// releases it.
func (s *shard[K]) get(t *table[K], key K, now int64) *state {
	if i, ok := s.idx[key]; ok {
		s.toFront(i)
		return &s.nodes[i].st
	}
	// Forget idle entries at the cold end as we go, so the table follows
	// the live set instead of filling up to its bound.
	for range 2 {
		if s.tail == none || !s.nodes[s.tail].st.idle(now, t.window) {
			break
		}
		s.remove(s.tail)
	}
	if len(s.idx) >= s.cap {
		if !s.nodes[s.tail].st.idle(now, t.window) {
			s.evicted++
		}
		s.remove(s.tail)
	}
	if t.clone != nil {
		key = t.clone(key)
	}
	var i int32
	if s.free != none {
		i = s.free
		s.free = s.nodes[i].next
	} else {
		i = int32(len(s.nodes))
		if len(s.nodes) == cap(s.nodes) { // grow, but never past the bound
			grown := make([]node[K], len(s.nodes), min(max(2*len(s.nodes), 16), s.cap))
			copy(grown, s.nodes)
			s.nodes = grown
		}
		s.nodes = append(s.nodes, node[K]{})
	}
	s.nodes[i] = node[K]{key: key, prev: none, next: none}
	s.idx[key] = i
	s.pushFront(i)
	return &s.nodes[i].st
}

func (s *shard[K]) toFront(i int32) {
	if s.head == i {
		return
	}
	s.unlink(i)
	s.pushFront(i)
}

func (s *shard[K]) pushFront(i int32) {
	n := &s.nodes[i]
	n.prev, n.next = none, s.head
	if s.head != none {
		s.nodes[s.head].prev = i
	}
	s.head = i
	if s.tail == none {
		s.tail = i
	}
}

func (s *shard[K]) unlink(i int32) {
	n := &s.nodes[i]
	if n.prev != none {
		s.nodes[n.prev].next = n.next
	} else {
		s.head = n.next
	}
	if n.next != none {
		s.nodes[n.next].prev = n.prev
	} else {
		s.tail = n.prev
	}
}

// remove forgets node i and puts it on the free list.
func (s *shard[K]) remove(i int32) {
	s.unlink(i)
	delete(s.idx, s.nodes[i].key)
	s.nodes[i] = node[K]{prev: none, next: s.free} // drop the key's memory
	s.free = i
}
