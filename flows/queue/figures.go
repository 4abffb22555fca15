package queue

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Figures is one queue's figures at a moment (CS-SLA): the callers
// waiting now, and the callers who left with how long they had waited.
// The counts only grow (Prometheus counters); Waiting, LongestWait,
// AverageWait and EstimatedWait are gauges. It marshals to JSON for the
// ops API, durations in seconds.
type Figures struct {
	Queue       string   `json:"queue"`
	Yields      bool     `json:"yields"`               // the lower-class (nuisance) queue
	Draining    bool     `json:"draining,omitempty"`   // removed by a reload; reported until its last caller leaves
	Waiting     int      `json:"waiting"`              // callers in the queue now
	LongestWait Duration `json:"longest_wait_seconds"` // of the callers waiting now; 0 when none
	MaxWait     Duration `json:"max_wait_seconds"`     // the configured limit; 0 when none
	// Agents is how many agents serve the queue now (signed in, not
	// paused: Manager.Agents).
	Agents int `json:"agents"`

	Answered  WaitStats `json:"answered"`  // taken by a transfer or an agent; time to answer
	Abandoned WaitStats `json:"abandoned"` // hung up while waiting
	TimedOut  WaitStats `json:"timed_out"` // reached MaxWait: callback offered or routed on

	// AverageWait is the mean wait of the last Window answered callers
	// (0 before the first).
	AverageWait Duration `json:"average_wait_seconds"`
	// EstimatedWait is the wait quoted to a caller joining now behind
	// everyone waiting: (Waiting+1) × the per-place time.
	EstimatedWait Duration `json:"estimated_wait_seconds"`
}

// WaitStats sums up the waits of the callers who left a queue one way.
// Buckets are cumulative, as in a Prometheus histogram: Buckets[i].Count
// callers waited at most Buckets[i].UpTo; Count is the +Inf bucket.
type WaitStats struct {
	Count   int64    `json:"count"`
	Total   Duration `json:"total_seconds"`
	Mean    Duration `json:"mean_seconds"`
	Max     Duration `json:"max_seconds"`
	Buckets []Bucket `json:"buckets"`
}

// Bucket is one cumulative bucket of a WaitStats.
type Bucket struct {
	UpTo  Duration `json:"le_seconds"`
	Count int64    `json:"count"`
}

// waitBounds are the upper bounds of the wait buckets; 30 s is the
// CS-SLA answer target.
var waitBounds = [...]time.Duration{
	10 * time.Second, 20 * time.Second, 30 * time.Second, time.Minute,
	2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 30 * time.Minute,
}

// Figures returns the figures of every queue at now, in configured order,
// then those of removed queues that still have callers (Reconfigure).
func (m *Manager) Figures(now time.Time) []Figures {
	out := m.figures(now)
	if m.Agents != nil {
		// Outside m.mu: the agents' board locks itself first, then us.
		for i := range out {
			out[i].Agents = m.Agents(out[i].Queue)
		}
	}
	return out
}

func (m *Manager) figures(now time.Time) []Figures {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Figures, 0, len(m.order))
	for _, q := range m.order {
		f := Figures{
			Queue:         q.cfg.Name,
			Yields:        q.cfg.Yields,
			Draining:      q.draining,
			Waiting:       q.waiting,
			MaxWait:       Duration(q.cfg.MaxWait),
			Answered:      q.answered.figures(),
			Abandoned:     q.abandoned.figures(),
			TimedOut:      q.timedOut.figures(),
			AverageWait:   Duration(q.recent.mean()),
			EstimatedWait: Duration(q.estimate(q.waiting + 1)),
		}
		for _, l := range q.lines { // the longest waiter heads one of the lines
			f.LongestWait = max(f.LongestWait, Duration(waitBetween(l.tickets[0].joined, now)))
		}
		out = append(out, f)
	}
	return out
}

// waitStats accumulates the waits behind a WaitStats.
type waitStats struct {
	count      int64
	total, max time.Duration
	buckets    [len(waitBounds)]int64 // not cumulative
}

func (s *waitStats) add(w time.Duration) {
	s.count++
	s.total += w
	s.max = max(s.max, w)
	for i, b := range waitBounds {
		if w <= b {
			s.buckets[i]++
			break
		}
	}
}

func (s *waitStats) figures() WaitStats {
	f := WaitStats{Count: s.count, Total: Duration(s.total), Max: Duration(s.max), Buckets: make([]Bucket, len(waitBounds))}
	if s.count > 0 {
		f.Mean = Duration(s.total / time.Duration(s.count))
	}
	var sum int64
	for i, b := range waitBounds {
		sum += s.buckets[i]
		f.Buckets[i] = Bucket{UpTo: Duration(b), Count: sum}
	}
	return f
}

// window is a ring of the last answered waits and the positions at which
// those callers joined, with running sums.
type window struct {
	waits  []time.Duration
	places []int
	next   int // where the next sample goes
	n      int // samples held
	sumW   time.Duration
	sumP   int
}

func newWindow(size int) window {
	return window{waits: make([]time.Duration, size), places: make([]int, size)}
}

func (r *window) add(w time.Duration, place int) {
	if r.n == len(r.waits) {
		r.sumW -= r.waits[r.next]
		r.sumP -= r.places[r.next]
	} else {
		r.n++
	}
	r.waits[r.next], r.places[r.next] = w, place
	r.sumW += w
	r.sumP += place
	r.next = (r.next + 1) % len(r.waits)
}

// perPlace is Σwait / Σplace over the window; ok is false while empty.
func (r *window) perPlace() (time.Duration, bool) {
	if r.sumP == 0 {
		return 0, false
	}
	return r.sumW / time.Duration(r.sumP), true
}

// mean is the mean wait over the window, 0 while empty.
func (r *window) mean() time.Duration {
	if r.n == 0 {
		return 0
	}
	return r.sumW / time.Duration(r.n)
}

// Duration is a time.Duration that marshals to JSON as a number of
// seconds, the unit of the ops API and of Prometheus.
type Duration time.Duration

// Seconds is d in seconds, for a Prometheus gauge or histogram.
func (d Duration) Seconds() float64 { return time.Duration(d).Seconds() }

// String formats d as time.Duration does.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes d as seconds: 90*time.Second is 90, 1500ms is 1.5.
func (d Duration) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, d.Seconds(), 'f', -1, 64), nil
}

// UnmarshalJSON reads seconds as MarshalJSON writes them.
func (d *Duration) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.Abs(f) > math.MaxInt64/1e9 {
		return fmt.Errorf("queue: %q is not a duration in seconds", b)
	}
	*d = Duration(math.Round(f * 1e9))
	return nil
}
