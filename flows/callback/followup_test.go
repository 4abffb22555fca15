package callback_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kefu-hotline/kefu/flows/callback"
	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/flows/records/recordstest"
	"github.com/kefu-hotline/kefu/media/amd"
	"github.com/kefu-hotline/kefu/prompts"
)

// fakeDialer calls customers by script: each call's result, and for an
// answered one the key pressed after the question (0: none) and when.
type fakeDialer struct {
	mu      sync.Mutex
	scripts []dialScript
	calls   []time.Time
	lines   []*fakeLine
}

type dialScript struct {
	res     callback.Result
	key     rune
	after   time.Duration // after the question starts
	machine bool          // an answering machine answers
}

func (d *fakeDialer) Up(string) bool { return true }

func (d *fakeDialer) Call(ctx context.Context, dl callback.Dial) (callback.Line, callback.Result, error) {
	d.mu.Lock()
	d.calls = append(d.calls, time.Now())
	sc := dialScript{res: callback.NoAnswer}
	if len(d.scripts) > 0 {
		sc, d.scripts = d.scripts[0], d.scripts[1:]
	}
	d.mu.Unlock()
	time.Sleep(5 * time.Second)
	if sc.res != callback.Answered {
		return nil, sc.res, nil
	}
	l := &fakeLine{sc: sc, keys: make(chan rune, 4), gone: make(chan struct{})}
	d.mu.Lock()
	d.lines = append(d.lines, l)
	d.mu.Unlock()
	return l, callback.Answered, nil
}

type fakeLine struct {
	mu   sync.Mutex
	sc   dialScript
	keys chan rune
	gone chan struct{}
	said []string
}

func (l *fakeLine) Say(ctx context.Context, ps ...*prompts.Prompt) error {
	for _, p := range ps {
		l.mu.Lock()
		l.said = append(l.said, p.ID)
		l.mu.Unlock()
		if p.ID == callback.PromptSurveyAsk && l.sc.key != 0 {
			k, after := l.sc.key, l.sc.after
			time.AfterFunc(after, func() { l.keys <- k })
		}
		if !sleep(ctx, p.Duration()) {
			return ctx.Err()
		}
	}
	return nil
}

// Put puts the line through to the agent: they talk for a minute, then
// the agent hangs up.
func (l *fakeLine) Put(a callback.Agent) callback.Customer {
	l.mu.Lock()
	l.said = append(l.said, "put through to "+a.ID())
	l.mu.Unlock()
	return lineCustomer{}
}

type lineCustomer struct{}

func (lineCustomer) Listen(context.Context, amd.Options) (amd.Decision, error) {
	return amd.Decision{Verdict: amd.Human}, nil
}
func (lineCustomer) Say(context.Context, ...*prompts.Prompt) error { return nil }
func (lineCustomer) Bridge(ctx context.Context) (callback.Party, error) {
	if !sleep(ctx, time.Minute) {
		return "", ctx.Err()
	}
	return callback.PartyAgent, nil
}
func (lineCustomer) Hangup() {}

func (l *fakeLine) Listen(ctx context.Context, o amd.Options) (amd.Decision, error) {
	if l.sc.machine {
		time.Sleep(3 * time.Second)
		return amd.Decision{Verdict: amd.Machine, Reason: amd.ReasonBeep, After: 3 * time.Second}, nil
	}
	time.Sleep(time.Second)
	return amd.Decision{Verdict: amd.Human, Reason: amd.ReasonShortGreeting, After: time.Second}, nil
}

func (l *fakeLine) Keys() <-chan rune     { return l.keys }
func (l *fakeLine) Gone() <-chan struct{} { return l.gone }
func (l *fakeLine) Hangup()               {}

func followUpPrompts(t *testing.T) *prompts.Catalog {
	cat, err := catalog()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// TestFollowUps (CS-FOLLOWUP): a resolved complaint's caller is called;
// no answer twice (10 minutes apart), then they answer and press 1
// during the question: the answer (score 3) is stored with the complaint
// as a survey answer, and no further call is made. A follow-up whose day
// runs out closes as no answer.
func TestFollowUps(t *testing.T) {
	cat := followUpPrompts(t)
	synctest.Test(t, func(t *testing.T) {
		book := &records.Memory{}
		ctx := t.Context()
		c, _ := book.AddComplaint(ctx, recordstest.Complaint("c1", time.Now().Add(-time.Hour)))
		d := &fakeDialer{scripts: []dialScript{{res: callback.NoAnswer}, {res: callback.Busy}, {res: callback.Answered, key: '1', after: 2 * time.Second}}}
		fu, err := callback.NewFollowUps(callback.FollowUpConfig{Book: book, Dialer: d,
			Settings: func() (callback.FollowUpSettings, bool) {
				return callback.FollowUpSettings{Trunk: "carrier", Ring: 30 * time.Second, Attempts: 3, Retry: 10 * time.Minute}, true
			},
			Prompts: func() *prompts.Catalog { return cat }})
		if err != nil {
			t.Fatal(err)
		}
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { fu.Run(rctx); close(done) }()
		if _, err := book.ResolveComplaint(ctx, c.ID, time.Now(), "ops"); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		fu.Poke()
		time.Sleep(time.Hour)
		synctest.Wait()
		if len(d.calls) != 3 {
			t.Fatalf("%d calls, want 3", len(d.calls))
		}
		for i := 1; i < 3; i++ { // 10 min after the last call (5 s of ringing), read every 30 s
			if gap := d.calls[i].Sub(d.calls[i-1]); gap < 10*time.Minute || gap > 10*time.Minute+35*time.Second {
				t.Errorf("call %d %v after the one before, want 10 min", i+1, gap)
			}
		}
		if d.calls[0].Sub(start) != 0 {
			t.Errorf("the first call %v after the resolution, want at once", d.calls[0].Sub(start))
		}
		as, _ := book.Surveys(ctx, records.Filter{CallID: records.FollowUpCallID(c.ID)})
		if len(as) != 1 || as[0].Score != 3 || as[0].Key != "1" {
			t.Errorf("survey answers %+v", as)
		}
		if ps, _ := book.PendingFollowUps(ctx); len(ps) != 0 {
			t.Errorf("pending after the answer: %+v", ps)
		}

		// Nobody answers all day: closed when it is due.
		c2, _ := book.AddComplaint(ctx, recordstest.Complaint("c2", time.Now()))
		d.mu.Lock()
		d.scripts = nil
		d.mu.Unlock()
		f2, _ := book.ResolveComplaint(ctx, c2.ID, time.Now(), "ops")
		fu.Poke()
		time.Sleep(25 * time.Hour)
		synctest.Wait()
		if ps, _ := book.PendingFollowUps(ctx); len(ps) != 0 {
			t.Errorf("a follow-up still open a day later: %+v", ps)
		}
		if as, _ := book.Surveys(ctx, records.Filter{CallID: records.FollowUpCallID(f2.ComplaintID)}); len(as) != 0 {
			t.Errorf("an answer for a follow-up nobody answered: %+v", as)
		}
		cancel()
		<-done
	})
}

// TestFollowUpMachine: a follow-up call a voicemail answers is hung up
// on before anything is said and counts as a call that did not reach the
// customer; the next, 10 minutes later, reaches them.
func TestFollowUpMachine(t *testing.T) {
	cat := followUpPrompts(t)
	synctest.Test(t, func(t *testing.T) {
		book := &records.Memory{}
		ctx := t.Context()
		c, _ := book.AddComplaint(ctx, recordstest.Complaint("c1", time.Now().Add(-time.Hour)))
		d := &fakeDialer{scripts: []dialScript{{res: callback.Answered, machine: true}, {res: callback.Answered, key: '3', after: time.Second}}}
		o := amd.DefaultOptions()
		var results []string
		fu, err := callback.NewFollowUps(callback.FollowUpConfig{Book: book, Dialer: d,
			Settings: func() (callback.FollowUpSettings, bool) {
				return callback.FollowUpSettings{Trunk: "carrier", Ring: 30 * time.Second, Attempts: 3, Retry: 10 * time.Minute, AMD: &o}, true
			},
			Prompts: func() *prompts.Catalog { return cat },
			OnCall:  func(r string) { results = append(results, r) }})
		if err != nil {
			t.Fatal(err)
		}
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { fu.Run(rctx); close(done) }()
		if _, err := book.ResolveComplaint(ctx, c.ID, time.Now(), "ops"); err != nil {
			t.Fatal(err)
		}
		fu.Poke()
		time.Sleep(time.Hour)
		synctest.Wait()
		if len(d.calls) != 2 || d.calls[1].Sub(d.calls[0]) < 10*time.Minute {
			t.Fatalf("calls at %v, want 2, 10 min apart", d.calls)
		}
		if got := strings.Join(results, " "); got != "machine answered" {
			t.Errorf("results %q", got)
		}
		as, _ := book.Surveys(ctx, records.Filter{CallID: records.FollowUpCallID(c.ID)})
		if len(as) != 1 || as[0].Key != "3" {
			t.Errorf("survey answers %+v", as)
		}
		cancel()
		<-done
	})
}
