package callback_test

import (
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/flows/callback"
	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/prompts"
)

// filter keeps the log lines that start with one of the prefixes.
func filter(log []string, prefixes ...string) []string {
	var out []string
	for _, l := range log {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				out = append(out, l)
				break
			}
		}
	}
	return out
}

// TestKeepsPlace: a callback left by a caller who joined between two
// other callers is served between them: after the one who joined
// earlier, before the one who joined later, though it was left after
// both joined. The agent hears the whisper, the customer is called
// through the trunk and the two are put through; the callback is done.
func TestKeepsPlace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, []agents.Agent{fixed("8001", "customers")}, defaults)
		w.phone.agentAnswer["8001"] = 2 * time.Second
		if err := w.board.Pause("8001", "meeting"); err != nil {
			t.Fatal(err)
		}
		w.start()
		t0 := time.Now()
		w.call("customers", "early", 0, time.Minute)
		time.Sleep(time.Minute)
		w.call("customers", "later", 0, time.Minute)
		time.Sleep(time.Minute)
		cb := w.leave("13800000001", "customers", 0, t0.Add(30*time.Second))
		synctest.Wait()
		if st := w.s.Stats(); st.Queued != 1 {
			t.Fatalf("stats %+v: want the callback in its queue", st)
		}
		if err := w.board.Ready("8001"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		got := filter(w.phone.events(), "caller", "ring", "dial", "bridged", "agent 8001 hears")
		want := []string{
			"caller early talks to 8001",
			"ring 8001 for 1",
			"agent 8001 hears callback.whisper digit.0 digit.0 digit.0 digit.yao",
			"dial 13800000001 via carrier",
			"bridged 8001",
			"caller later talks to 8001",
		}
		if !slices.Equal(got, want) {
			t.Errorf("log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if a, o := w.attempts(cb.ID), w.outcome(cb.ID); a != records.AttemptAnswered || o != records.OutcomeDone {
			t.Errorf("attempts %q, outcome %q", a, o)
		}
		if st := w.s.Stats(); st != (callback.Stats{}) {
			t.Errorf("stats after: %+v", st)
		}
		f := w.qm.Figures(time.Now())[0]
		if f.Answered.Count != 2 {
			t.Errorf("queue figures count %d answered, want the two callers only", f.Answered.Count)
		}
	})
}

// TestNeverMoreAgentsThanFree: with two agents, one of them talking to
// a caller who joined before every callback, five callbacks ring one
// agent at a time at most, then two; they are made in their callers'
// order (joined), not the order they were left in, and the caller who
// joined first is served first. (A callback takes about 70 s: the ring,
// the whisper, the customer's phone, the greeting, a minute's talk.)
func TestNeverMoreAgentsThanFree(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		set := defaults
		set.MaxCalls = 10
		w := newWorld(t, []agents.Agent{fixed("8001", "customers"), fixed("8002", "customers")}, set)
		w.phone.agentAnswer["8001"] = time.Second
		w.phone.agentAnswer["8002"] = time.Second
		w.board.Pause("8001", "x")
		w.board.Pause("8002", "x")
		w.start()
		t0 := time.Now()
		w.call("customers", "first", 0, 90*time.Second)
		time.Sleep(6 * time.Minute)
		var ids []int64
		for i, joined := range []time.Duration{5, 1, 4, 2, 3} { // left in this order; joined at these minutes
			c := w.leave("1380000000"+string(rune('1'+i)), "customers", 0, t0.Add(joined*time.Minute))
			ids = append(ids, c.ID)
		}
		w.board.Ready("8001")
		w.board.Ready("8002")
		synctest.Wait()
		time.Sleep(30 * time.Second)
		synctest.Wait()
		if w.phone.busy() != 1 {
			t.Errorf("%d agents on callbacks while one talks to the caller, want 1", w.phone.busy())
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		log := w.phone.events()
		if !slices.Contains(log, "caller first talks to 8001") {
			t.Errorf("the caller who joined first was not served first:\n%s", strings.Join(log, "\n"))
		}
		got := filter(log, "ring")
		want := []string{"ring 8002 for 2", "ring 8002 for 4", "ring 8001 for 5", "ring 8002 for 3", "ring 8001 for 1"}
		if !slices.Equal(got, want) {
			t.Errorf("served:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if w.phone.maxRinging != 2 {
			t.Errorf("at most %d agents on callbacks at once, want 2", w.phone.maxRinging)
		}
		for _, id := range ids {
			if w.outcome(id) != records.OutcomeDone {
				t.Errorf("callback %d: %q", id, w.outcome(id))
			}
		}
	})
}

// TestTrunkLines: a trunk with one line makes one callback at a time,
// though two agents are free; the second agent takes callers meanwhile
// (the callback waiting for a line does not hold the agent), and the
// callbacks keep their order.
func TestTrunkLines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		set := defaults
		set.MaxCalls = 1
		w := newWorld(t, []agents.Agent{fixed("8001", "customers"), fixed("8002", "customers")}, set)
		w.phone.agentAnswer["8001"] = time.Second
		w.phone.agentAnswer["8002"] = time.Second
		w.start()
		t0 := time.Now()
		a := w.leave("13800000001", "customers", 0, t0)
		b := w.leave("13800000002", "customers", 0, t0)
		time.Sleep(10 * time.Second)
		w.call("customers", "caller", 0, time.Minute)
		time.Sleep(time.Hour)
		synctest.Wait()
		if w.phone.maxRinging != 1 {
			t.Errorf("%d callbacks at once on a trunk of one line", w.phone.maxRinging)
		}
		got := filter(w.phone.events(), "caller", "ring", "dial")
		// The first callback ends (67 s) before the caller's talk with
		// 8002 (70 s): the second goes to 8001.
		want := []string{"ring 8001 for 1", "dial 13800000001 via carrier", "caller caller talks to 8002", "ring 8001 for 2", "dial 13800000002 via carrier"}
		if !slices.Equal(got, want) {
			t.Errorf("log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if w.outcome(a.ID) != records.OutcomeDone || w.outcome(b.ID) != records.OutcomeDone {
			t.Errorf("outcomes %q %q", w.outcome(a.ID), w.outcome(b.ID))
		}
	})
}

// TestAttempts: no answer, busy and a customer who hangs up during the
// greeting each count, 10 minutes apart; after the third the callback is
// closed as no answer. A customer busy once and then answering is done
// after two attempts. The agent hears that the customer was not reached.
func TestAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, []agents.Agent{fixed("8001", "customers")}, defaults)
		w.phone.agentAnswer["8001"] = time.Second
		w.phone.scripts["13800000001"] = []custScript{
			{res: callback.NoAnswer, after: time.Hour},
			{res: callback.Busy, after: 2 * time.Second},
			{res: callback.Answered, after: 2 * time.Second, talk: 2 * time.Second, ends: callback.PartyCustomer},
		}
		w.phone.scripts["13800000002"] = []custScript{
			{res: callback.Busy, after: time.Second},
			{res: callback.Answered, after: 5 * time.Second, talk: 3 * time.Minute, ends: callback.PartyAgent},
		}
		w.start()
		start := time.Now()
		a := w.leave("13800000001", "customers", 0, start.Add(-time.Minute))
		b := w.leave("13800000002", "customers", 0, start.Add(-30*time.Second))
		var dials []string
		for range 7 * 60 {
			synctest.Wait()
			for _, l := range filter(w.phone.events(), "dial") {
				dials = append(dials, time.Since(start).Round(time.Second).String()+" "+l)
			}
			time.Sleep(10 * time.Second)
		}
		// Sampled every 10 s: the first dial is 4 s in (the agent's ring,
		// the whisper), the first rings out after 30 s.
		want := []string{
			"10s dial 13800000001 via carrier",    // no answer
			"50s dial 13800000002 via carrier",    // busy
			"10m50s dial 13800000001 via carrier", // 10 min after the first ended: busy
			"10m50s dial 13800000002 via carrier", // answered, talks 3 min
			"20m50s dial 13800000001 via carrier", // hangs up during the greeting: the last attempt
		}
		if !slices.Equal(dials, want) {
			t.Errorf("dials:\n%s\nwant:\n%s", strings.Join(dials, "\n"), strings.Join(want, "\n"))
		}
		if got := w.attempts(a.ID); got != "no_answer busy hung_up" || w.outcome(a.ID) != records.OutcomeNoAnswer {
			t.Errorf("callback a: attempts %q, outcome %q", got, w.outcome(a.ID))
		}
		if got := w.attempts(b.ID); got != "busy answered" || w.outcome(b.ID) != records.OutcomeDone {
			t.Errorf("callback b: attempts %q, outcome %q", got, w.outcome(b.ID))
		}
		as, _ := w.book.Attempts(t.Context(), a.ID)
		if gap := as[1].Started.Sub(as[0].Ended); gap < 10*time.Minute || gap > 10*time.Minute+20*time.Second {
			t.Errorf("retry after %v, want 10 min (and the agent's ring)", gap)
		}
		if st := w.s.Stats(); st != (callback.Stats{}) {
			t.Errorf("stats %+v", st)
		}
	})
}

// TestFirstWhenAgentSignsIn: a callback whose caller joined before
// everyone waiting is offered first the moment an agent becomes ready:
// it waits in its queue while nobody serves it.
func TestFirstWhenAgentSignsIn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, []agents.Agent{fixed("8001", "customers")}, defaults)
		w.phone.agentAnswer["8001"] = time.Second
		w.board.SignOut("8001")
		w.start()
		t0 := time.Now()
		time.Sleep(time.Minute)
		w.leave("13800000001", "customers", 0, t0)
		w.call("customers", "caller", 0, time.Minute)
		synctest.Wait()
		if w.board.Serving("customers") != 0 || w.s.Stats().Queued != 1 {
			t.Fatalf("serving %d, stats %+v", w.board.Serving("customers"), w.s.Stats())
		}
		w.board.Ready("8001")
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		got := filter(w.phone.events(), "caller", "ring")
		if want := []string{"ring 8001 for 1", "caller caller talks to 8001"}; !slices.Equal(got, want) {
			t.Errorf("served %v, want %v", got, want)
		}
	})
}

// TestNotCounted: an agent who hangs up while the customer's phone rings
// does not count against the attempts; the callback is tried again a
// minute later.
func TestNotCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, []agents.Agent{fixed("8001", "customers")}, defaults)
		w.phone.agentAnswer["8001"] = time.Second
		w.phone.agentHangs["8001"] = true
		w.start()
		cb := w.leave("13800000001", "customers", 0, time.Now())
		time.Sleep(30 * time.Second)
		synctest.Wait()
		w.phone.mu.Lock()
		w.phone.agentHangs["8001"] = false
		w.phone.mu.Unlock()
		if p, err := w.book.PendingOne(t.Context(), cb.ID); err != nil || p.Attempts != 0 || time.Until(p.NotBefore) < 20*time.Second {
			t.Fatalf("after the agent left: %+v %v; want no attempt counted, the next in about a minute", p, err)
		}
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		if got := w.attempts(cb.ID); got != "agent_gone answered" || w.outcome(cb.ID) != records.OutcomeDone {
			t.Errorf("attempts %q, outcome %q", got, w.outcome(cb.ID))
		}
	})
}

// TestTrunkDown: while the trunk is down no callback waits in a queue;
// once it is up (Poke) the callback is made.
func TestTrunkDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, []agents.Agent{fixed("8001", "customers")}, defaults)
		w.phone.agentAnswer["8001"] = time.Second
		w.phone.down["carrier"] = true
		w.start()
		cb := w.leave("13800000001", "customers", 0, time.Now())
		time.Sleep(time.Hour)
		synctest.Wait()
		if st := w.s.Stats(); st.Ready != 1 || st.Queued != 0 || len(w.phone.events()) != 0 {
			t.Fatalf("with the trunk down: %+v", st)
		}
		w.phone.mu.Lock()
		w.phone.down["carrier"] = false
		w.phone.mu.Unlock()
		w.s.Poke()
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		if w.outcome(cb.ID) != records.OutcomeDone {
			t.Errorf("after the trunk came up: %q", w.outcome(cb.ID))
		}
	})
}

// TestCancel: a callback ops cancel while it waits in its queue leaves
// it, uncounted; one closed in the book before its agent answers is not
// made (the agent's call ends).
func TestCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, []agents.Agent{fixed("8001", "customers")}, defaults)
		w.phone.agentAnswer["8001"] = 5 * time.Second
		w.board.Pause("8001", "x")
		w.start()
		a := w.leave("13800000001", "customers", 0, time.Now())
		synctest.Wait()
		if err := w.book.CloseCallback(t.Context(), a.ID, records.OutcomeCancelled, time.Now()); err != nil {
			t.Fatal(err)
		}
		w.s.Cancel(t.Context(), a.ID)
		synctest.Wait()
		if st, f := w.s.Stats(), w.qm.Figures(time.Now())[0]; st != (callback.Stats{}) || f.Waiting != 0 || f.Abandoned.Count+f.Answered.Count != 0 {
			t.Errorf("after the cancel: %+v, queue %+v", st, f)
		}
		b := w.leave("13800000002", "customers", 0, time.Now())
		w.board.Ready("8001")
		time.Sleep(2 * time.Second) // ringing the agent
		if err := w.book.CloseCallback(t.Context(), b.ID, records.OutcomeDone, time.Now()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := filter(w.phone.events(), "ring", "dial", "agent 8001 hangs up"); !slices.Equal(got, []string{"ring 8001 for 2", "agent 8001 hangs up"}) {
			t.Errorf("log %v", got)
		}
		if w.attempts(b.ID) != "" || w.s.Stats() != (callback.Stats{}) {
			t.Errorf("attempts %q, stats %+v", w.attempts(b.ID), w.s.Stats())
		}
		if st, _ := w.board.Agent("8001"); st.State != agents.Available {
			t.Errorf("agent after: %v", st.State)
		}
	})
}

// TestRestart: kefu stops while a callback is being made: the attempt is
// written as interrupted, does not count, and the next start makes the
// callback again.
func TestRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, []agents.Agent{fixed("8001", "customers")}, defaults)
		w.phone.agentAnswer["8001"] = time.Second
		w.start()
		cb := w.leave("13800000001", "customers", 0, time.Now())
		time.Sleep(30 * time.Second) // on the phone
		w.stop()
		if got := w.attempts(cb.ID); got != records.AttemptInterrupted {
			t.Fatalf("attempts after the stop: %q", got)
		}
		w2 := newWorld(t, []agents.Agent{fixed("8001", "customers")}, defaults)
		w2.book = w.book
		w2.phone.agentAnswer["8001"] = time.Second
		var err error
		w2.s, err = callback.New(callback.Config{Queues: w2.qm, Board: w2.board, Phone: w2.phone, Book: w.book,
			Settings: func(string) (callback.Settings, bool) { s := defaults; s.Queue = "customers"; return s, true },
			Prompts:  func() *prompts.Catalog { c, _ := catalog(); return c }})
		if err != nil {
			t.Fatal(err)
		}
		w2.start()
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		if got := w.attempts(cb.ID); got != "interrupted answered" || w.outcome(cb.ID) != records.OutcomeDone {
			t.Errorf("after the restart: attempts %q, outcome %q", got, w.outcome(cb.ID))
		}
	})
}

// TestDrain: Drain takes the callbacks waiting in queues out and puts no
// more in; a call in progress goes on.
func TestDrain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, []agents.Agent{fixed("8001", "customers")}, defaults)
		w.phone.agentAnswer["8001"] = time.Second
		w.start()
		a := w.leave("13800000001", "customers", 0, time.Now().Add(-time.Minute))
		w.leave("13800000002", "customers", 0, time.Now())
		time.Sleep(20 * time.Second) // a is on the phone, b waits
		w.s.Drain(t.Context())
		if st := w.s.Stats(); st.Queued != 0 || st.Calling != 1 || st.Ready != 1 {
			t.Errorf("after Drain: %+v", st)
		}
		w.s.Idle(t.Context())
		if w.outcome(a.ID) != records.OutcomeDone || w.s.Stats().Ready != 1 {
			t.Errorf("the call in progress: %q; stats %+v", w.outcome(a.ID), w.s.Stats())
		}
	})
}
