package console

import (
	"math"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/queue"
)

// fig makes a queue's cumulative figures: answered (of which within 20 s),
// abandoned, timed out, and the answered callers' waits summed.
func fig(name string, answered, within, abandoned, timedOut int64, wait time.Duration) queue.Figures {
	return queue.Figures{Queue: name,
		Answered: queue.WaitStats{Count: answered, Total: queue.Duration(wait),
			Buckets: []queue.Bucket{{UpTo: queue.Duration(10 * time.Second)}, {UpTo: queue.Duration(20 * time.Second), Count: within}}},
		Abandoned: queue.WaitStats{Count: abandoned}, TimedOut: queue.WaitStats{Count: timedOut}}
}

// TestDayBook: the day's figures are the queues' since midnight (or since
// kefu started), over all queues, against CS-SLA's 85 %; the charts count
// answered and abandoned callers per slot and the most calls seen; a new
// day starts from zero, and a queue counted afresh is not negative.
func TestDayBook(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	at := func(d, hm string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", d+" "+hm, sh)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	b := newDayBook()
	day, per := b.update(at("2026-03-02", "09:00"), []queue.Figures{fig("a", 0, 0, 0, 0, 0), fig("b", 0, 0, 0, 0, 0)}, 3, 1)
	if day.AnswerRate != 1 || day.ServiceLevel != 1 || day.Target != 0.85 || day.Calls != 3 || day.Waiting != 1 || len(per) != 2 {
		t.Fatalf("before anyone left a queue: %+v %+v", day, per)
	}
	day, per = b.update(at("2026-03-02", "09:02"), []queue.Figures{fig("a", 8, 6, 1, 1, 80*time.Second), fig("b", 2, 2, 0, 0, 10*time.Second)}, 5, 0)
	if day.Answered != 10 || day.Abandoned != 1 || day.TimedOut != 1 || math.Abs(day.AnswerRate-10.0/12) > 1e-9 ||
		math.Abs(day.ServiceLevel-0.8) > 1e-9 || day.AverageWait != 9 {
		t.Errorf("at 09:02: %+v", day)
	}
	if per[0].Answered != 8 || per[1].AnswerRate != 1 || per[0].AverageWait != 10 {
		t.Errorf("per queue: %+v", per)
	}
	p := b.current()
	if p.Slot != 9*12 || p.Answered != 10 || p.Abandoned != 1 || p.Calls != 5 || p.Waiting != 1 {
		t.Errorf("slot at 09:02: %+v", p)
	}
	// The next slot counts only what happened in it.
	b.update(at("2026-03-02", "09:05"), []queue.Figures{fig("a", 9, 7, 1, 1, 90*time.Second), fig("b", 2, 2, 0, 0, 10*time.Second)}, 1, 0)
	if p := b.current(); p.Slot != 9*12+1 || p.Answered != 1 || p.Abandoned != 0 || p.Calls != 1 {
		t.Errorf("slot at 09:05: %+v", p)
	}
	if s := b.series(); len(s.Points) != 9*12+2 || s.Points[9*12].Answered != 10 {
		t.Errorf("series: %d points", len(s.Points))
	}
	// A reload that counts queue b afresh: b starts again from zero.
	day, _ = b.update(at("2026-03-02", "09:06"), []queue.Figures{fig("a", 9, 7, 1, 1, 90*time.Second), fig("b", 1, 1, 0, 0, 5*time.Second)}, 1, 0)
	if day.Answered != 10 {
		t.Errorf("after b was counted afresh: %+v", day)
	}
	// Midnight: a new day.
	day, _ = b.update(at("2026-03-03", "00:01"), []queue.Figures{fig("a", 10, 8, 1, 1, 100*time.Second), fig("b", 1, 1, 0, 0, 5*time.Second)}, 0, 0)
	if day.Date != "2026-03-03" || day.Answered != 1 || day.Abandoned != 0 || day.AverageWait != 10 {
		t.Errorf("the next day: %+v", day)
	}
	if s := b.series(); len(s.Points) != 1 || s.Points[0].Answered != 1 {
		t.Errorf("the next day's series: %+v", s.Points)
	}
}
