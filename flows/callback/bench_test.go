package callback_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/flows/callback"
	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/prompts"
)

// BenchmarkScheduleEvent is what one change costs the scheduler with
// 10,000 callbacks pending in two queues (half waiting for their next
// attempt's time, half ready, the trunk's lines full): every change of
// the board, every Poke and every callback's time coming costs one such
// pass. Issue 13 asks for a few milliseconds of CPU a minute: the
// minute's cost is this times the changes in it.
func BenchmarkScheduleEvent(b *testing.B) {
	cat, err := catalog()
	if err != nil {
		b.Fatal(err)
	}
	as := []agents.Agent{fixed("8001", "customers"), fixed("8002", "vip")}
	w := newWorld(&testing.T{}, as, defaults)
	for _, a := range as {
		w.board.SignOut(a.ID) // nobody answers: the callbacks only wait
	}
	ctx := context.Background()
	now := time.Now()
	for i := range 10_000 {
		q := []string{"customers", "vip"}[i%2]
		c, err := w.book.AddCallback(ctx, records.Callback{CallID: fmt.Sprint(i), Number: "13800000000", Reason: "queue_timeout",
			Queue: q, At: now, Joined: now.Add(-time.Duration(i) * time.Second), Priority: i % 3})
		if err != nil {
			b.Fatal(err)
		}
		if i%2 == 1 {
			a, _ := w.book.StartAttempt(ctx, records.Attempt{CallbackID: c.ID, Round: 1, Started: now})
			a.Ended, a.Result, a.Counts = now, records.AttemptNoAnswer, true
			_ = w.book.EndAttempt(ctx, a, now.Add(time.Hour+time.Duration(i)*time.Second))
		}
	}
	s, err := callback.New(callback.Config{Queues: w.qm, Board: w.board, Phone: w.phone, Book: w.book,
		Settings: func(kind string) (callback.Settings, bool) { st := defaults; st.Queue = kind; return st, true },
		Prompts:  func() *prompts.Catalog { return cat }})
	if err != nil {
		b.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- s.Run(rctx) }()
	for s.Stats().Waiting+s.Stats().Ready+s.Stats().Queued < 10_000 {
		time.Sleep(time.Millisecond)
	}
	b.Logf("loaded 10,000 callbacks in %v: %+v", time.Since(start).Round(time.Millisecond), s.Stats())
	b.ResetTimer()
	for b.Loop() {
		s.Cancel(ctx, -1) // no such callback: one pass of the loop
	}
	b.StopTimer()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}
