package queue_test

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kefu-hotline/kefu/flows/queue"
)

// TestConcurrent runs callers, agents, an ops reader and reloads at once
// (run it with -race): every caller leaves exactly once, and the figures
// add up.
func TestConcurrent(t *testing.T) {
	const callers, calls = 16, 200
	m := newManager(t, queue.Config{Name: "a"}, queue.Config{Name: "b", MaxWait: time.Minute}, queue.Config{Name: "n", Yields: true})
	names := []string{"a", "b", "n"}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := range callers {
		wg.Go(func() {
			for i := range calls {
				now := at(time.Duration(i) * time.Second)
				tk, err := m.Join(names[(g+i)%3], fmt.Sprintf("c%d-%d", g, i), i%3, now)
				if err != nil {
					t.Error(err)
					return
				}
				_ = tk.Changed()
				if tk.Position() < 0 || tk.EstimatedWait() < 0 || tk.Waited(now) != 0 {
					t.Error("bad reading while waiting")
				}
				tk.Expired(now)
				if i%2 == 0 {
					tk.Leave(now.Add(time.Second), queue.Abandoned)
				} else {
					tk.Leave(now.Add(time.Minute), queue.TimedOut)
				}
				if tk.Position() != 0 {
					t.Error("position after leaving")
				}
			}
		})
	}
	var agents sync.WaitGroup
	for range 4 {
		agents.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := m.Next(t0); err != nil {
					t.Error(err)
				}
				m.Figures(t0)
				m.Heads(names, nil, nil)
			}
		})
	}
	agents.Go(func() { // reloads that keep the queues, changing their settings
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			w := 1 + i%30
			if err := m.Reconfigure([]queue.Config{{Name: "a", Window: w}, {Name: "b", MaxWait: time.Duration(w) * time.Minute}, {Name: "n", Yields: true}}); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	close(stop)
	agents.Wait()

	var total int64
	for _, f := range m.Figures(t0) {
		if f.Waiting != 0 || f.LongestWait != 0 {
			t.Errorf("%s: %d still waiting", f.Queue, f.Waiting)
		}
		total += f.Answered.Count + f.Abandoned.Count + f.TimedOut.Count
	}
	if total != callers*calls {
		t.Errorf("%d callers counted; want %d", total, callers*calls)
	}
}

// TestHoldLoop drives a ticket the way the flow runner does, in a synctest
// bubble: announcements every minute read out position and estimate, a
// position change is read out at once, and the flow ends when an agent
// takes the call or MaxWait passes.
func TestHoldLoop(t *testing.T) {
	for _, tc := range []struct {
		name   string
		agents []time.Duration // when an agent takes the next caller, from the start
		want   []string
	}{
		{"answered", []time.Duration{90 * time.Second, 150 * time.Second}, []string{
			"1m0s: number 2, about 2 min",
			"1m30s: now number 1, about 2 min", // one answer after 90 s from place 1
			"2m0s: number 1, about 2 min",
			"2m30s: answered after 2m30s",
		}},
		{"max wait", nil, []string{
			"1m0s: number 2, about 2 min",
			"2m0s: number 2, about 2 min",
			"2m50s: callback offer after 2m50s",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				m := newManager(t, queue.Config{Name: "support", MaxWait: 170 * time.Second})
				join(t, m, "support", "ahead", 0, start)
				tk := join(t, m, "support", "me", 0, start)
				var said []string
				say := func(format string, args ...any) {
					said = append(said, time.Since(start).String()+": "+fmt.Sprintf(format, args...))
				}
				done := make(chan struct{})
				go func() { // the flow's queue verb
					defer close(done)
					deadline, _ := tk.Deadline()
					expire := time.NewTimer(time.Until(deadline))
					every := time.NewTicker(time.Minute)
					defer every.Stop()
					for {
						select {
						case <-tk.Changed():
							if tk.Outcome() != queue.Waiting {
								say("%v after %v", tk.Outcome(), tk.Waited(time.Now()))
								return
							}
							say("now number %d, about %d min", tk.Position(), queue.SpokenMinutes(tk.EstimatedWait()))
						case <-every.C:
							say("number %d, about %d min", tk.Position(), queue.SpokenMinutes(tk.EstimatedWait()))
						case <-expire.C:
							if tk.Leave(time.Now(), queue.TimedOut) == queue.TimedOut {
								say("callback offer after %v", tk.Waited(time.Now()))
								return
							}
						}
					}
				}()
				for _, d := range tc.agents {
					<-time.After(time.Until(start.Add(d)))
					if _, err := m.Next(time.Now()); err != nil {
						t.Error(err)
					}
					synctest.Wait()
				}
				<-done
				if fmt.Sprint(said) != fmt.Sprint(tc.want) {
					t.Errorf("said\n%q\nwant\n%q", said, tc.want)
				}
			})
		})
	}
}

// benchIDs are call ids made before the timer runs.
func benchIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = "call-" + strconv.Itoa(i)
	}
	return ids
}

// fill joins n callers to queue "q", their priorities cycling through
// prios distinct values.
func fill(b *testing.B, n, prios int) (*queue.Manager, []*queue.Ticket) {
	m := newManager(b, queue.Config{Name: "q"})
	ts := make([]*queue.Ticket, n)
	for i := range ts {
		ts[i] = join(b, m, "q", "waiting-"+strconv.Itoa(i), i%prios, t0)
	}
	return m, ts
}

// BenchmarkJoinPositionLeave: with 1,000 callers waiting (and 10,000,
// to show the cost does not grow with the line), one more joins, reads
// its position, and hangs up.
func BenchmarkJoinPositionLeave(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run("waiting="+strconv.Itoa(n), func(b *testing.B) {
			m, _ := fill(b, n, 1)
			ids := benchIDs(1024)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				tk, err := m.Join("q", ids[i%len(ids)], 0, t0)
				if err != nil || tk.Position() != n+1 {
					b.Fatal(err)
				}
				tk.Leave(t0, queue.Abandoned)
				i++
			}
		})
	}
}

// BenchmarkChurn: with 1,000 callers waiting, one joins and reads its
// position, and an agent takes the head of the line (FIFO, so an id is
// free again 1,000 rounds later).
func BenchmarkChurn(b *testing.B) {
	m, _ := fill(b, 1000, 1)
	ids := benchIDs(2048)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		tk, err := m.Join("q", ids[i%len(ids)], 0, t0)
		if err != nil || tk.Position() != 1001 {
			b.Fatal(err)
		}
		m.Next(t0)
		i++
	}
}

// BenchmarkLeaveMiddle: with 1,000 callers waiting, the one in the middle
// of the line hangs up (the worst place: the half behind it is copied),
// and a caller joins at the back. ns/op includes the benchmark's own copy
// of its list of tickets, of the same size.
func BenchmarkLeaveMiddle(b *testing.B) {
	m, ts := fill(b, 1000, 1)
	b.ReportAllocs()
	for b.Loop() {
		mid := ts[500]
		mid.Leave(t0, queue.Abandoned)
		copy(ts[500:], ts[501:])
		ts[len(ts)-1], _ = m.Join("q", mid.CallID(), 0, t0)
	}
	if ts[500].Position() != 501 {
		b.Fatal("position")
	}
}

// BenchmarkPositionRound: every one of 1,000 waiting callers in 5
// priorities reads its position, as a periodic announcement does; ns/op
// is per caller.
func BenchmarkPositionRound(b *testing.B) {
	_, ts := fill(b, 1000, 5)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ts[i%len(ts)].Position()
		i++
	}
}
