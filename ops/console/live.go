package console

import (
	"encoding/json"
	"time"

	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/flows/queue"
	"github.com/kefu-hotline/kefu/ops"
	"github.com/kefu-hotline/kefu/sip"
)

// Source is what the live view watches.
type Source struct {
	// Calls returns the calls in progress, numbers masked (sip.Agent).
	Calls func() []sip.CallInfo
	// Agents returns the agents' states (agents.Board); nil: no agents.
	Agents func() []agents.Status
	// Current returns the configuration in force: its queues, its time
	// zone, its version.
	Current func() *flows.Bundle
}

// callRow is a call in progress on the wire. It holds nothing that
// changes by itself with time (the page counts the seconds from Started),
// so a call is sent again only when something happens to it.
type callRow struct {
	CallID   string    `json:"call_id"`
	Caller   string    `json:"caller"` // masked
	Called   string    `json:"called"`
	Flow     string    `json:"flow"`
	Version  string    `json:"version"`
	State    string    `json:"state"`
	Started  time.Time `json:"started"`
	Answered time.Time `json:"answered,omitzero"`
	Codec    string    `json:"codec,omitempty"`
	Step     string    `json:"step,omitempty"`
	Line     string    `json:"line,omitempty"`
	Held     bool      `json:"held,omitempty"`
	// Queue and Position: the caller waits there; Agent talks to them or
	// rings for them.
	Queue    string `json:"queue,omitempty"`
	Position int    `json:"position,omitempty"`
	Agent    string `json:"agent,omitempty"`
}

// waiterRow is a caller waiting in a queue; the page counts the wait from
// Joined.
type waiterRow struct {
	Queue    string    `json:"queue"`
	CallID   string    `json:"call_id"`
	Caller   string    `json:"caller"` // masked
	Position int       `json:"position"`
	Priority int       `json:"priority"`
	Joined   time.Time `json:"joined"`
	Estimate float64   `json:"estimated_wait_seconds"`
}

// queueRow is a queue's state now and its figures today.
type queueRow struct {
	Queue    string  `json:"queue"`
	Yields   bool    `json:"yields,omitempty"`
	Draining bool    `json:"draining,omitempty"`
	Waiting  int     `json:"waiting"`
	Agents   int     `json:"agents"`
	Estimate float64 `json:"estimated_wait_seconds"`
	MaxWait  float64 `json:"max_wait_seconds,omitempty"`
	today
}

// agentRow is an agent's state with the masked caller they have.
type agentRow struct {
	agents.Status
	Caller string `json:"caller,omitempty"`
}

// live is one sample of what the page shows.
type live struct {
	at      time.Time
	version string
	calls   map[string][]byte // call id → its row's JSON
	order   []string          // call ids, newest first
	waiting []byte
	queues  []byte
	agents  []byte
	day     []byte
	point   point // this sample's slot of the day's series
}

// sample reads src at now. Each part is kept as JSON so that the next
// sample can tell what changed by comparing bytes.
func sample(src Source, book *dayBook, now time.Time) (*live, error) {
	cur := src.Current()
	loc := cur.Config.Location()
	if loc == nil {
		loc = time.Local
	}
	calls := src.Calls()
	var sts []agents.Status
	if src.Agents != nil {
		sts = src.Agents()
	}
	var (
		figs    []queue.Figures
		waiters []queue.Waiter
	)
	if cur.Queues != nil {
		figs = cur.Queues.Figures(now)
		waiters = cur.Queues.Waiters(now)
	}
	l := &live{at: now, version: cur.Version, calls: make(map[string][]byte, len(calls)), order: make([]string, 0, len(calls))}
	callers := make(map[string]string, len(calls))
	for _, c := range calls {
		callers[c.CallID] = c.Caller
	}
	byCall := make(map[string]*queue.Waiter, len(waiters))
	wrows := make([]waiterRow, 0, len(waiters))
	for i := range waiters {
		w := &waiters[i]
		byCall[w.CallID] = w
		wrows = append(wrows, waiterRow{Queue: w.Queue, CallID: w.CallID, Caller: callers[w.CallID], Position: w.Position,
			Priority: w.Priority, Joined: at(w.Joined, loc), Estimate: w.Estimate.Seconds()})
	}
	agentOf := make(map[string]string, len(sts))
	arows := make([]agentRow, 0, len(sts))
	for _, s := range sts {
		if s.CallID != "" {
			agentOf[s.CallID] = s.ID
		}
		s.Since, s.LastEnded = at(s.Since, loc), at(s.LastEnded, loc)
		arows = append(arows, agentRow{Status: s, Caller: callers[s.CallID]})
	}
	for _, c := range calls {
		row := callRow{CallID: c.CallID, Caller: c.Caller, Called: c.Called, Flow: c.Flow, Version: c.Version, State: c.State,
			Started: at(c.Started, loc), Codec: c.Codec, Step: c.Step, Line: c.Line, Held: c.Held, Agent: agentOf[c.CallID]}
		row.Answered = at(c.Answered, loc)
		if w := byCall[c.CallID]; w != nil {
			row.Queue, row.Position = w.Queue, w.Position
		}
		b, err := json.Marshal(row)
		if err != nil {
			return nil, err
		}
		if _, dup := l.calls[c.CallID]; !dup {
			l.order = append(l.order, c.CallID)
		}
		l.calls[c.CallID] = b
	}
	day, qtoday := book.update(now.In(loc), figs, len(calls), len(waiters))
	qrows := make([]queueRow, 0, len(figs))
	for i, f := range figs {
		qrows = append(qrows, queueRow{Queue: f.Queue, Yields: f.Yields, Draining: f.Draining, Waiting: f.Waiting, Agents: f.Agents,
			Estimate: f.EstimatedWait.Seconds(), MaxWait: f.MaxWait.Seconds(), today: qtoday[i]})
	}
	l.point = book.current()
	var err error
	if l.waiting, err = json.Marshal(wrows); err == nil {
		if l.queues, err = json.Marshal(qrows); err == nil {
			if l.agents, err = json.Marshal(arows); err == nil {
				l.day, err = json.Marshal(day)
			}
		}
	}
	return l, err
}

// at is t in the hotline's zone to the millisecond (the page needs no
// more, and a viewer's masking takes a run of 7 digits for a number); a
// zero time stays zero.
func at(t time.Time, loc *time.Location) time.Time {
	if t.IsZero() {
		return t
	}
	return t.In(loc).Truncate(time.Millisecond)
}

// ServiceLevelTarget is CS-SLA's answer rate: at least 85 % of the callers
// who queue are answered.
const ServiceLevelTarget = 0.85

// serviceLevel is the share of the answered callers answered within 20 s
// (CS-SLA), as ops.ServiceLevel computes it for Prometheus.
func serviceLevel(w queue.WaitStats) float64 { return ops.ServiceLevel(w) }
