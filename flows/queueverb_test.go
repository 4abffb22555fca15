package flows

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kefu-hotline/kefu/flows/queue"
	"github.com/kefu-hotline/kefu/flows/records"
)

const queueFlow = `
queues:
  - name: customers
    max_wait: 3m30s
  - name: nuisance
    yields: true
routes:
  - to: "*"
    flow: f
flows:
  f:
    steps:
      - name: wait
        queue:
          queue: customers
          on_answer: served
          on_timeout: sorry
      - name: served
        say: {prompt: ack}
        next: end
      - name: sorry
        say: {prompt: queue.callback}
      - name: callback
        collect: {callback: queue_timeout, on_fail: end}
      - name: end
        close: {}
        exception: a test flow, where a reply to the closing question ends the call
`

func loadQueueFlow(t *testing.T) (*Config, *Flow) {
	t.Helper()
	_, cat := loadDefault(t)
	cfg, err := Parse("q.yaml", []byte(queueFlow))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.CheckPrompts("q.yaml", []byte(queueFlow), cat); err != nil {
		t.Fatal(err)
	}
	f, _ := cfg.Flow("f")
	return cfg, f
}

// TestQueueTimeline: a caller second in line hears the true ask
// (CS-PROMISE: 正在为您转接), music, the apology at 2 min followed by "one
// caller ahead of you, about 2 minutes" (the queue answered a caller
// before, so there are figures to quote), again at 3 min, and at the 3m30s
// maximum wait the thanks (CS-HOLD-RESUME) before the callback offer; the
// number left is stored with the queue's name.
func TestQueueTimeline(t *testing.T) {
	cfg, f := loadQueueFlow(t)
	_, cat := loadDefault(t)
	qs, err := cfg.Queues()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	if _, err := qs.Join("customers", "done", 0, start.Add(-2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if tk, err := qs.Next(start.Add(-time.Minute), "customers"); err != nil || tk == nil {
		t.Fatalf("Next = %v, %v", tk, err)
	}
	if _, err := qs.Join("customers", "ahead", 0, start.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	callback, _ := cat.Get("queue.callback")
	resume, _ := cat.Get("hold.resume")
	ask, _ := cat.Get("callback.ask")
	keysAt := 210*time.Second + resume.Duration() + callback.Duration() + ask.Duration() + time.Second
	readBack := 12*300*time.Millisecond + time.Second
	for _, id := range []string{"callback.confirm", "callback.confirm.end", "callback.keys"} {
		p, _ := cat.Get(id)
		readBack += p.Duration()
	}
	digits, _ := cat.Number("13900001111")
	for _, p := range digits {
		readBack += p.Duration()
	}
	script := append(keys(keysAt, "13900001111#"), keys(keysAt+readBack, "1")...)
	s := NewSimulation(start, script)
	s.Queues, s.Records = qs, &records.Memory{}
	s.Info = CallInfo{Caller: "13812345678", CallID: "c2"}
	if _, err := s.Run(t.Context(), cfg, f, cat); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range s.Trace {
		if e.What == "announce" || e.What == "prompt_start" && (strings.HasPrefix(e.Detail, "queue.") || strings.HasPrefix(e.Detail, "hold.")) {
			got = append(got, strings.TrimPrefix(s.Elapsed(e.At).Round(time.Second).String()+" "+e.Detail, ""))
		}
	}
	joined := strings.Join(got, "\n")
	for _, want := range []string{"0s queue.connecting", "at 2m0s", "hold.apology", "queue.position", "queue.wait", "at 3m0s", "3m30s hold.resume", "queue.callback"} {
		if !strings.Contains(joined, want) {
			t.Errorf("timeline lacks %q:\n%s", want, joined)
		}
	}
	if !strings.Contains(timeline(s), "prompt_start num.liang") {
		t.Errorf("two minutes not read as 两分钟:\n%s", timeline(s))
	}
	fig := qs.Figures(s.Now())[0]
	if fig.TimedOut.Count != 1 || fig.Waiting != 1 {
		t.Errorf("figures %+v: want one timed out, one still waiting", fig)
	}
	cbs, _ := s.Records.(*records.Memory).Callbacks(t.Context(), records.Filter{})
	if len(cbs) != 1 || cbs[0].Queue != "customers" || cbs[0].Reason != "queue_timeout" || !cbs[0].Joined.Equal(start) {
		t.Errorf("callbacks %+v\n%s", cbs, timeline(s))
	}
}

// TestQueueTaken: an agent (Manager.Next) takes the caller off hold; the
// music stops, the resume phrase thanks the caller (CS-HOLD-RESUME) and
// the flow goes on; a caller who hangs up while waiting counts abandoned.
func TestQueueTaken(t *testing.T) {
	cfg, f := loadQueueFlow(t)
	_, cat := loadDefault(t)
	synctest.Test(t, func(t *testing.T) {
		qs, err := cfg.Queues()
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel, call, _ := startFake(t, cfg, cat)
		r := NewRunner(cfg, f, call, cat, Options{Queues: qs, Info: CallInfo{CallID: "c1"}})
		time.AfterFunc(45*time.Second, func() {
			if tk, err := qs.Next(time.Now(), "customers"); err != nil || tk == nil || tk.CallID() != "c1" {
				t.Errorf("Next = %v, %v", tk, err)
			}
		})
		time.AfterFunc(90*time.Second, func() { cancel(ErrCallerHangup) })
		_ = r.Run(ctx)
		var ids []string
		for _, p := range call.played {
			ids = append(ids, p.id)
		}
		if got := strings.Join(ids, " "); !strings.HasPrefix(got, "queue.connecting hold.resume ack close.ask") {
			t.Errorf("played %s", got)
		}
		for _, p := range call.played {
			if p.id == "hold.resume" && p.start != 45*time.Second {
				t.Errorf("resume at %v, want at 45s when taken", p.start)
			}
		}
		if fig := qs.Figures(time.Now())[0]; fig.Answered.Count != 1 || fig.Waiting != 0 {
			t.Errorf("figures %+v", fig)
		}
	})
}

// TestQueueAbandoned: hanging up in the queue is an abandoned call with
// its wait.
func TestQueueAbandoned(t *testing.T) {
	cfg, f := loadQueueFlow(t)
	_, cat := loadDefault(t)
	qs, _ := cfg.Queues()
	s := NewSimulation(time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC), []CallerAction{{At: 50 * time.Second, Hangup: true}})
	s.Queues = qs
	if _, err := s.Run(t.Context(), cfg, f, cat); err == nil {
		t.Fatal("want the caller's hang-up")
	}
	fig := qs.Figures(s.Now())[0]
	if fig.Abandoned.Count != 1 || fig.Waiting != 0 || fig.Abandoned.Max != queue.Duration(50*time.Second) {
		t.Errorf("figures %+v", fig)
	}
}

// TestQueueUnknown: a queue step must name a declared queue.
func TestQueueUnknown(t *testing.T) {
	bad := strings.Replace(queueFlow, "queue: customers\n", "queue: customer\n", 1)
	if _, err := Parse("q.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), `no queue named "customer"`) {
		t.Fatalf("err = %v", err)
	}
}

// TestQueuePromisesOnlyWhatIsReal is CS-PROMISE: with no answered caller
// yet there is no figure, so the apology gives the place in line but no
// expected wait; and a queue step with on_unstaffed sends the caller there
// at once while no agent can take the queue's callers.
func TestQueuePromisesOnlyWhatIsReal(t *testing.T) {
	cfg, f := loadQueueFlow(t)
	_, cat := loadDefault(t)
	qs, err := cfg.Queues()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	if _, err := qs.Join("customers", "ahead", 0, start.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	s := NewSimulation(start, []CallerAction{{At: 150 * time.Second, Hangup: true}})
	s.Queues, s.Records = qs, &records.Memory{}
	if _, err := s.Run(t.Context(), cfg, f, cat); err != nil && err != ErrCallerHangup {
		t.Fatal(err)
	}
	if tl := timeline(s); !strings.Contains(tl, "prompt_start queue.position") || strings.Contains(tl, "queue.wait") {
		t.Errorf("want the place in line and no expected wait without figures:\n%s", tl)
	}

	unstaffed := strings.Replace(queueFlow, "          on_timeout: sorry\n", "          on_timeout: sorry\n          on_unstaffed: sorry\n", 1)
	cfg2, err := Parse("q.yaml", []byte(unstaffed))
	if err != nil {
		t.Fatal(err)
	}
	f2, _ := cfg2.Flow("f")
	s2 := NewSimulation(start, []CallerAction{{At: 20 * time.Second, Hangup: true}})
	s2.Records = &records.Memory{}
	if _, err := s2.Run(t.Context(), cfg2, f2, cat); err != nil && err != ErrCallerHangup {
		t.Fatal(err)
	}
	if tl := timeline(s2); !strings.Contains(tl, "  0.000 prompt_start queue.callback") || strings.Contains(tl, "music") {
		t.Errorf("want the offer at once, no music, with nobody to take the queue:\n%s", tl)
	}
}
