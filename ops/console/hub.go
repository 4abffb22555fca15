package console

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/kefu-hotline/kefu/ops"
)

// Sampling periods of the live view.
const (
	// DefaultInterval is how often the hub samples while someone
	// watches: a call shows on the page within this time (and the time
	// the page takes to draw it).
	DefaultInterval = 500 * time.Millisecond
	// idleInterval is how often it samples while nobody watches, for the
	// day's charts.
	idleInterval = 30 * time.Second
	// subBuffer is how many frames a watcher may fall behind before it
	// is dropped (its page connects again and gets a fresh snapshot).
	subBuffer = 64
)

// frame is one server-sent event, encoded once for all watchers; the
// masked form for viewers is made on first use.
type frame struct {
	event string
	data  []byte

	once   sync.Once
	masked []byte
}

// bytes returns the event as it goes on the wire.
func (f *frame) bytes(viewer bool) []byte {
	if !viewer {
		return encodeEvent(f.event, f.data)
	}
	f.once.Do(func() { f.masked = encodeEvent(f.event, ops.MaskJSON(f.data)) })
	return f.masked
}

// encodeEvent writes an event of the text/event-stream format: its data
// is one line of JSON.
func encodeEvent(event string, data []byte) []byte {
	b := make([]byte, 0, len(event)+len(data)+16)
	b = append(b, "event: "...)
	b = append(b, event...)
	b = append(b, "\ndata: "...)
	b = append(b, data...)
	return append(b, "\n\n"...)
}

// watcher is one page's stream.
type watcher struct {
	ch   chan *frame
	gone chan struct{} // closed when the hub dropped it
}

// hub samples the source, turns each change into a frame and hands it to
// every watcher. One goroutine (run) samples; tick is that goroutine's
// one step.
type hub struct {
	src      Source
	now      func() time.Time
	interval time.Duration
	log      *slog.Logger

	mu   sync.Mutex
	subs map[*watcher]struct{}
	last *live
	book *dayBook
	wake chan struct{}
}

func newHub(src Source, now func() time.Time, interval time.Duration, log *slog.Logger) *hub {
	return &hub{src: src, now: now, interval: interval, log: log, subs: map[*watcher]struct{}{}, book: newDayBook(),
		wake: make(chan struct{}, 1)}
}

// run samples every interval while someone watches, every idleInterval
// otherwise, until ctx ends.
func (h *hub) run(ctx context.Context) {
	period := idleInterval
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			h.tick()
		case <-h.wake:
		}
		h.mu.Lock()
		want := idleInterval
		if len(h.subs) > 0 {
			want = h.interval
		}
		h.mu.Unlock()
		if want != period {
			period = want
			t.Reset(period)
		}
	}
}

// tick takes a sample and sends what changed since the last one.
func (h *hub) tick() {
	h.mu.Lock()
	defer h.mu.Unlock()
	l, err := sample(h.src, h.book, h.now())
	if err != nil {
		h.log.Error("console: sample", "error", err)
		return
	}
	prev := h.last
	h.last = l
	if prev == nil || len(h.subs) == 0 {
		return
	}
	f := changes(prev, l)
	if f == nil {
		return
	}
	for w := range h.subs {
		select {
		case w.ch <- f:
		default:
			// Too slow: drop it rather than hold everyone up.
			delete(h.subs, w)
			close(w.gone)
		}
	}
}

// subscribe adds a watcher and returns it with the snapshot it starts
// from; every change after the snapshot comes on its channel.
func (h *hub) subscribe() (*watcher, *frame, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.last == nil {
		l, err := sample(h.src, h.book, h.now())
		if err != nil {
			return nil, nil, err
		}
		h.last = l
	}
	snap, err := h.snapshot()
	if err != nil {
		return nil, nil, err
	}
	w := &watcher{ch: make(chan *frame, subBuffer), gone: make(chan struct{})}
	h.subs[w] = struct{}{}
	select {
	case h.wake <- struct{}{}:
	default:
	}
	return w, snap, nil
}

// unsubscribe removes w.
func (h *hub) unsubscribe(w *watcher) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[w]; ok {
		delete(h.subs, w)
		close(w.gone)
	}
}

// snapshotJSON is the first event of a stream: everything the page shows.
type snapshotJSON struct {
	Now     time.Time         `json:"now"`
	Version string            `json:"version"`
	Zone    string            `json:"zone"`
	Calls   []json.RawMessage `json:"calls"`
	Waiting json.RawMessage   `json:"waiting"`
	Queues  json.RawMessage   `json:"queues"`
	Agents  json.RawMessage   `json:"agents"`
	Day     json.RawMessage   `json:"day"`
	Series  series            `json:"series"`
}

// snapshot encodes h.last; h.mu is held.
func (h *hub) snapshot() (*frame, error) {
	l := h.last
	s := snapshotJSON{Now: l.at.Truncate(time.Millisecond), Version: l.version, Zone: zoneName(h.src), Calls: make([]json.RawMessage, 0, len(l.order)),
		Waiting: l.waiting, Queues: l.queues, Agents: l.agents, Day: l.day, Series: h.book.series()}
	for _, id := range l.order {
		s.Calls = append(s.Calls, l.calls[id])
	}
	b, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	return &frame{event: "snapshot", data: b}, nil
}

// zoneName is the hotline's time zone, for the page's clocks.
func zoneName(src Source) string {
	if tz := src.Current().Config.Timezone; tz != "" {
		return tz
	}
	if loc := src.Current().Config.Location(); loc != nil {
		return loc.String()
	}
	return "Local"
}

// updateJSON is a change: only the parts that changed are there.
type updateJSON struct {
	Now     time.Time       `json:"now"`
	Version string          `json:"version,omitempty"`
	Calls   *callsDiff      `json:"calls,omitempty"`
	Waiting json.RawMessage `json:"waiting,omitempty"`
	Queues  json.RawMessage `json:"queues,omitempty"`
	Agents  json.RawMessage `json:"agents,omitempty"`
	Day     json.RawMessage `json:"day,omitempty"`
	Point   *point          `json:"point,omitempty"`
}

// callsDiff is the calls that started or changed (set) and those that
// ended (del, by call id).
type callsDiff struct {
	Set []json.RawMessage `json:"set"`
	Del []string          `json:"del"`
}

// changes returns the update from prev to cur, or nil when nothing the
// page shows changed.
func changes(prev, cur *live) *frame {
	u := updateJSON{Now: cur.at.Truncate(time.Millisecond)}
	changed := false
	if cur.version != prev.version {
		u.Version, changed = cur.version, true
	}
	var d callsDiff
	for _, id := range cur.order {
		if old, ok := prev.calls[id]; !ok || !bytes.Equal(old, cur.calls[id]) {
			d.Set = append(d.Set, cur.calls[id])
		}
	}
	for _, id := range prev.order {
		if _, ok := cur.calls[id]; !ok {
			d.Del = append(d.Del, id)
		}
	}
	if d.Set != nil || d.Del != nil {
		if d.Set == nil {
			d.Set = []json.RawMessage{}
		}
		if d.Del == nil {
			d.Del = []string{}
		}
		u.Calls, changed = &d, true
	}
	part := func(dst *json.RawMessage, old, now []byte) {
		if !bytes.Equal(old, now) {
			*dst, changed = now, true
		}
	}
	part(&u.Waiting, prev.waiting, cur.waiting)
	part(&u.Queues, prev.queues, cur.queues)
	part(&u.Agents, prev.agents, cur.agents)
	part(&u.Day, prev.day, cur.day)
	if cur.point != prev.point {
		p := cur.point
		u.Point, changed = &p, true
	}
	if !changed {
		return nil
	}
	b, err := json.Marshal(u)
	if err != nil {
		return nil
	}
	return &frame{event: "update", data: b}
}
