package callback

import (
	"container/heap"
	"time"
)

// before reports whether callback a is served before b: the higher
// priority, then the caller who joined first, then the older record.
func before(a, b *entry) bool {
	switch {
	case a.p.Priority != b.p.Priority:
		return a.p.Priority > b.p.Priority
	case !a.place.Equal(b.place):
		return a.place.Before(b.place)
	}
	return a.p.ID < b.p.ID
}

// line is the callbacks of one kind (their queue) that may be made now,
// in serve order: a heap on before.
type line []*entry

func (l line) Len() int           { return len(l) }
func (l line) Less(i, j int) bool { return before(l[i], l[j]) }
func (l line) Swap(i, j int) {
	l[i], l[j] = l[j], l[i]
	l[i].idx, l[j].idx = i, j
}

func (l *line) Push(x any) {
	e := x.(*entry)
	e.idx = len(*l)
	*l = append(*l, e)
}

func (l *line) Pop() any {
	old := *l
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*l = old[:len(old)-1]
	e.idx = -1
	return e
}

func (l line) peek() *entry {
	if len(l) == 0 {
		return nil
	}
	return l[0]
}

// sleepers are the callbacks waiting for their next attempt's time: a
// heap on NotBefore.
type sleepers []*entry

func (s sleepers) Len() int { return len(s) }
func (s sleepers) Less(i, j int) bool {
	return s[i].p.NotBefore.Before(s[j].p.NotBefore)
}
func (s sleepers) Swap(i, j int) {
	s[i], s[j] = s[j], s[i]
	s[i].idx, s[j].idx = i, j
}

func (s *sleepers) Push(x any) {
	e := x.(*entry)
	e.idx = len(*s)
	*s = append(*s, e)
}

func (s *sleepers) Pop() any {
	old := *s
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*s = old[:len(old)-1]
	e.idx = -1
	return e
}

// next is when the first sleeper wakes; ok is false when none sleeps.
func (s sleepers) next() (time.Time, bool) {
	if len(s) == 0 {
		return time.Time{}, false
	}
	return s[0].p.NotBefore, true
}

var (
	_ heap.Interface = (*line)(nil)
	_ heap.Interface = (*sleepers)(nil)
)
