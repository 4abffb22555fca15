package console

import (
	"time"

	"github.com/kefu-hotline/kefu/flows/queue"
)

// SlotMinutes is the width of one point of the day's charts.
const SlotMinutes = 5

const slotsPerDay = 24 * 60 / SlotMinutes

// today is the figures of the callers who left a queue today (CS-SLA).
type today struct {
	Answered  int64 `json:"answered"`
	Abandoned int64 `json:"abandoned"`
	TimedOut  int64 `json:"timed_out"`
	// AnswerRate is answered / (answered + abandoned + timed out); 1
	// before anyone left a queue.
	AnswerRate float64 `json:"answer_rate"`
	// ServiceLevel is the share of the answered callers answered within
	// 20 s; 1 before any.
	ServiceLevel float64 `json:"service_level"`
	// AverageWait is the mean wait of the answered callers.
	AverageWait float64 `json:"average_wait_seconds"`
}

// dayFigures is the hotline's day: today's figures over all queues, the
// target they are held to, and the calls and callers now.
type dayFigures struct {
	Date string `json:"date"` // in the hotline's zone
	today
	Target  float64 `json:"target"` // CS-SLA's answer rate
	Calls   int     `json:"calls"`  // in progress now
	Waiting int     `json:"waiting"`
}

// point is one slot of the day's charts: the callers answered and
// abandoned in it, and the most calls and waiting callers seen.
type point struct {
	Slot      int   `json:"i"` // SlotMinutes-minute slots since midnight
	Answered  int64 `json:"a"`
	Abandoned int64 `json:"b"`
	Calls     int   `json:"c"`
	Waiting   int   `json:"w"`
}

// series is the day's charts so far.
type series struct {
	SlotMinutes int     `json:"slot_minutes"`
	Points      []point `json:"points"` // slots 0 to now
}

// counts are a queue's cumulative figures (they only grow while kefu
// runs; queue.Figures).
type counts struct {
	answered, abandoned, timedOut, within int64
	wait                                  time.Duration // answered callers' waits, summed
}

func countsOf(f queue.Figures) counts {
	c := counts{answered: f.Answered.Count, abandoned: f.Abandoned.Count, timedOut: f.TimedOut.Count, wait: time.Duration(f.Answered.Total)}
	c.within = int64(serviceLevel(f.Answered)*float64(f.Answered.Count) + 0.5)
	return c
}

func (c counts) sub(d counts) counts {
	return counts{c.answered - d.answered, c.abandoned - d.abandoned, c.timedOut - d.timedOut, c.within - d.within, c.wait - d.wait}
}

func (c counts) add(d counts) counts {
	return counts{c.answered + d.answered, c.abandoned + d.abandoned, c.timedOut + d.timedOut, c.within + d.within, c.wait + d.wait}
}

func (c counts) less(d counts) bool {
	return c.answered < d.answered || c.abandoned < d.abandoned || c.timedOut < d.timedOut
}

func (c counts) today() today {
	t := today{Answered: c.answered, Abandoned: c.abandoned, TimedOut: c.timedOut, AnswerRate: 1, ServiceLevel: 1}
	if n := c.answered + c.abandoned + c.timedOut; n > 0 {
		t.AnswerRate = float64(c.answered) / float64(n)
	}
	if c.answered > 0 {
		t.ServiceLevel = float64(c.within) / float64(c.answered)
		t.AverageWait = (c.wait / time.Duration(c.answered)).Seconds()
	}
	return t
}

// dayBook turns the queues' cumulative figures into today's: it keeps
// them as they were at midnight (or when kefu started, or a queue was
// added) and the charts' slots. It is used by one goroutine at a time.
type dayBook struct {
	date  string
	base  map[string]counts // per queue, at the start of the day
	last  map[string]counts // per queue, at the last sample
	slots []point
	slot  int
}

func newDayBook() *dayBook {
	return &dayBook{base: map[string]counts{}, last: map[string]counts{}}
}

// update takes a sample at now (in the hotline's zone): the figures of
// each queue, the calls in progress and the callers waiting. It returns
// the day's figures and each queue's today, in figs' order.
func (b *dayBook) update(now time.Time, figs []queue.Figures, calls, waiting int) (dayFigures, []today) {
	if d := now.Format(time.DateOnly); d != b.date {
		// A new day: what was counted until now belongs to the last one.
		b.date = d
		b.base = b.last
		b.last = map[string]counts{}
		for q, c := range b.base {
			b.last[q] = c
		}
		b.slots = b.slots[:0]
	}
	b.slot = min((now.Hour()*60+now.Minute())/SlotMinutes, slotsPerDay-1)
	for len(b.slots) <= b.slot {
		b.slots = append(b.slots, point{Slot: len(b.slots)})
	}
	p := &b.slots[b.slot]
	p.Calls, p.Waiting = max(p.Calls, calls), max(p.Waiting, waiting)

	var sum counts
	per := make([]today, len(figs))
	for i, f := range figs {
		c := countsOf(f)
		base, last := b.base[f.Queue], b.last[f.Queue]
		if c.less(last) { // counted afresh (a new queue of the same name)
			base, last = counts{}, counts{}
			b.base[f.Queue] = base
		}
		d := c.sub(last)
		p.Answered += d.answered
		p.Abandoned += d.abandoned
		b.last[f.Queue] = c
		t := c.sub(base)
		per[i] = t.today()
		sum = sum.add(t)
	}
	return dayFigures{Date: b.date, today: sum.today(), Target: ServiceLevelTarget, Calls: calls, Waiting: waiting}, per
}

// current is the slot of the last sample.
func (b *dayBook) current() point {
	if len(b.slots) == 0 {
		return point{}
	}
	return b.slots[b.slot]
}

// series returns the charts so far.
func (b *dayBook) series() series {
	return series{SlotMinutes: SlotMinutes, Points: append([]point{}, b.slots...)}
}
