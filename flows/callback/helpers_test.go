package callback_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/flows/callback"
	"github.com/kefu-hotline/kefu/flows/queue"
	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/media/amd"
	"github.com/kefu-hotline/kefu/prompts"
)

// catalog is the part of the default zh-CN set callbacks and follow-ups
// use (their prompts, the survey's and the digits), loaded once outside
// the bubbles.
var catalog = sync.OnceValues(func() (*prompts.Catalog, error) {
	src := "../../prompts/zh-CN/"
	text, err := os.ReadFile(src + prompts.TextFile)
	if err != nil {
		return nil, err
	}
	fsys := fstest.MapFS{}
	var lines []string
	for l := range strings.SplitSeq(string(text), "\n") {
		id, _, _ := strings.Cut(l, "\t")
		if !strings.HasPrefix(id, "callback.") && !strings.HasPrefix(id, "digit.") && !strings.HasPrefix(id, "followup.") && !strings.HasPrefix(id, "survey.") && id != "queue.connecting" {
			continue
		}
		b, err := os.ReadFile(src + id + ".mp3")
		if err != nil {
			return nil, err
		}
		fsys["zh-CN/"+id+".mp3"] = &fstest.MapFile{Data: b}
		lines = append(lines, l)
	}
	fsys["zh-CN/"+prompts.TextFile] = &fstest.MapFile{Data: []byte(strings.Join(lines, "\n") + "\n")}
	return prompts.LoadDir(fsys, "zh-CN")
})

// world is a callback scheduler on a real queue manager, board of agents
// and book in memory, with a scripted phone; use it in a synctest bubble.
type world struct {
	t     *testing.T
	qm    *queue.Manager
	board *agents.Board
	book  *records.Memory
	phone *fakePhone
	s     *callback.Scheduler
	set   callback.Settings
	down  atomic.Bool // the service is down: no callback may be made

	cancel context.CancelFunc
	done   chan error
}

// newWorld builds the world: one queue "customers" (and "vip") and the
// agents given; the scheduler is not running yet.
func newWorld(t *testing.T, as []agents.Agent, set callback.Settings) *world {
	t.Helper()
	return newWorldWrap(t, as, set, -1)
}

// newWorldWrap is newWorld with the queues' wrap-up.
func newWorldWrap(t *testing.T, as []agents.Agent, set callback.Settings, wrap time.Duration) *world {
	t.Helper()
	cat, err := catalog()
	if err != nil {
		t.Fatal(err)
	}
	qm, err := queue.NewManager([]queue.Config{{Name: "customers"}, {Name: "vip"}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := agents.NewBoard(qm, as, []agents.Rules{
		{Queue: "customers", RingTimeout: 15 * time.Second, WrapUp: wrap},
		{Queue: "vip", RingTimeout: 15 * time.Second, WrapUp: wrap},
	}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	qm.Agents = b.Serving
	w := &world{t: t, qm: qm, board: b, book: &records.Memory{}, phone: newFakePhone(), set: set}
	if w.set.Queue == "" {
		w.set.Queue = "customers"
	}
	w.s, err = callback.New(callback.Config{
		Queues: qm, Board: b, Phone: w.phone, Book: w.book,
		Settings: func(kind string) (callback.Settings, bool) {
			if w.down.Load() {
				return callback.Settings{}, false
			}
			s := w.set
			if kind != "" {
				s.Queue = kind
			}
			return s, true
		},
		Prompts: func() *prompts.Catalog { return cat },
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// defaults are a trunk of two lines, a 30 s ring, 3 attempts 10 min apart.
var defaults = callback.Settings{Trunk: "carrier", MaxCalls: 2, Ring: 30 * time.Second, Attempts: 3, Retry: 10 * time.Minute}

func fixed(id string, queues ...string) agents.Agent {
	a := agents.Agent{ID: id, Name: "agent " + id, Contact: "sip:" + id + "@pbx.test"}
	for _, q := range queues {
		a.Queues = append(a.Queues, agents.Membership{Queue: q})
	}
	return a
}

// start runs the scheduler until the test ends (or stop).
func (w *world) start() {
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel, w.done = cancel, make(chan error, 1)
	go func() { w.done <- w.s.Run(ctx) }()
	w.t.Cleanup(w.stop)
}

// stop ends Run and waits for it.
func (w *world) stop() {
	if w.cancel == nil {
		return
	}
	w.cancel()
	if err := <-w.done; err != nil {
		w.t.Errorf("Run: %v", err)
	}
	w.cancel = nil
}

// leave stores a callback left in queue by a caller who joined at joined,
// and hands it to the scheduler, as the collect verb and kefu run do.
func (w *world) leave(number, queueName string, prio int, joined time.Time) records.Callback {
	w.t.Helper()
	c, err := w.book.AddCallback(context.Background(), records.Callback{CallID: "call-" + number, Caller: number, Number: number,
		Reason: "queue_timeout", Queue: queueName, At: time.Now(), Joined: joined, Priority: prio})
	if err != nil {
		w.t.Fatal(err)
	}
	w.s.Add(context.Background(), c)
	return c
}

// call is a caller waiting in a queue, served by the first agent offered
// (as the queue verb does), talking for talk; the phone's log says when.
func (w *world) call(queueName, id string, prio int, talk time.Duration) *queue.Ticket {
	t, err := w.qm.Join(queueName, id, prio, time.Now())
	if err != nil {
		w.t.Fatal(err)
	}
	offers := w.board.Wait(t)
	go func() {
		for o := range offers {
			a := o.Agents[0].ID
			for _, other := range o.Agents[1:] {
				w.board.Released(o, other.ID)
			}
			if !w.board.Answered(o, a) {
				continue
			}
			w.phone.mu.Lock()
			w.phone.note("caller %s talks to %s", id, a)
			w.phone.mu.Unlock()
			time.Sleep(talk)
			w.board.Ended(a)
			return
		}
	}()
	return t
}

// attempts is the results of callback id's attempts, in order.
func (w *world) attempts(id int64) string {
	as, err := w.book.Attempts(context.Background(), id)
	if err != nil {
		w.t.Fatal(err)
	}
	var out []string
	for _, a := range as {
		out = append(out, a.Result)
	}
	return strings.Join(out, " ")
}

// outcome is callback id's outcome ("" while open).
func (w *world) outcome(id int64) string {
	cbs, err := w.book.Callbacks(context.Background(), records.Filter{})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, c := range cbs {
		if c.ID == id {
			return c.Outcome
		}
	}
	return "?"
}

// custScript is how the customer's phone answers one dial.
type custScript struct {
	res   callback.Result
	after time.Duration // rings this long before res (at most the dial's timeout)
	talk  time.Duration // answered: talks this long
	ends  callback.Party
	// answers is who answers: "" a person, "machine" an answering
	// machine (told apart when the settings detect them).
	answers string
}

// fakePhone is a scripted SIP side: agents answer after agentAnswer (no
// entry: they let it ring out), customers by the scripts of their number
// in turn (no script left: they answer and talk for a minute).
type fakePhone struct {
	mu          sync.Mutex
	down        map[string]bool
	agentAnswer map[string]time.Duration
	agentHangs  map[string]bool // the agent hangs up while the customer rings
	scripts     map[string][]custScript
	log         []string // "ring 8001 for 1", "dial 13800000001", ...
	ringing     int      // agents' phones ringing or on a callback now
	maxRinging  int
}

func newFakePhone() *fakePhone {
	return &fakePhone{down: map[string]bool{}, agentAnswer: map[string]time.Duration{}, agentHangs: map[string]bool{}, scripts: map[string][]custScript{}}
}

func (p *fakePhone) note(format string, args ...any) {
	p.log = append(p.log, fmt.Sprintf(format, args...))
}

// events returns the log since the last call.
func (p *fakePhone) events() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.log
	p.log = nil
	return out
}

func (p *fakePhone) Up(trunk string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.down[trunk]
}

func (p *fakePhone) Ring(ctx context.Context, r callback.Ring) (callback.Agent, []callback.Rang, error) {
	p.mu.Lock()
	a := r.Agents[0]
	wait, ok := p.agentAnswer[a.ID]
	p.note("ring %s for %d", a.ID, r.CallbackID)
	p.ringing++
	p.maxRinging = max(p.maxRinging, p.ringing)
	p.mu.Unlock()
	out := []callback.Rang{{ID: a.ID, Result: callback.Answered}}
	for _, other := range r.Agents[1:] {
		out = append(out, callback.Rang{ID: other.ID, Result: callback.Cancelled})
	}
	if !ok || wait >= r.Timeout {
		sleep(ctx, r.Timeout)
		p.done()
		out[0].Result = callback.NoAnswer
		return nil, out, ctx.Err()
	}
	if !sleep(ctx, wait) {
		p.done()
		out[0].Result = callback.Cancelled
		return nil, out, ctx.Err()
	}
	return &fakeAgent{p: p, id: a.ID}, out, nil
}

// busy is how many agents are on callbacks now.
func (p *fakePhone) busy() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ringing
}

func (p *fakePhone) done() {
	p.mu.Lock()
	p.ringing--
	p.mu.Unlock()
}

// sleep waits d or until ctx ends; false when ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

type fakeAgent struct {
	p    *fakePhone
	id   string
	once sync.Once
}

func (a *fakeAgent) ID() string { return a.id }

func (a *fakeAgent) Say(ctx context.Context, ps ...*prompts.Prompt) error {
	var d time.Duration
	var ids []string
	for _, p := range ps {
		d += p.Duration()
		ids = append(ids, p.ID)
	}
	a.p.mu.Lock()
	a.p.note("agent %s hears %s", a.id, strings.Join(ids, " "))
	a.p.mu.Unlock()
	if !sleep(ctx, d) {
		return ctx.Err()
	}
	return nil
}

func (a *fakeAgent) Dial(ctx context.Context, d callback.Dial) (callback.Customer, callback.Result, error) {
	a.p.mu.Lock()
	a.p.note("dial %s via %s", d.Number, d.Trunk)
	sc := custScript{res: callback.Answered, after: 3 * time.Second, talk: time.Minute, ends: callback.PartyAgent}
	if s := a.p.scripts[d.Number]; len(s) > 0 {
		sc, a.p.scripts[d.Number] = s[0], s[1:]
	}
	hangs := a.p.agentHangs[a.id]
	a.p.mu.Unlock()
	if hangs {
		sleep(ctx, time.Second)
		return nil, callback.AgentGone, nil
	}
	if !sleep(ctx, min(sc.after, d.Timeout)) {
		return nil, callback.Cancelled, ctx.Err()
	}
	if sc.res != callback.Answered {
		return nil, sc.res, nil
	}
	if sc.after > d.Timeout {
		return nil, callback.NoAnswer, nil
	}
	return &fakeCustomer{a: a, sc: sc}, callback.Answered, nil
}

func (a *fakeAgent) Hangup() {
	a.once.Do(func() {
		a.p.mu.Lock()
		a.p.note("agent %s hangs up", a.id)
		a.p.ringing--
		a.p.mu.Unlock()
	})
}

type fakeCustomer struct {
	a  *fakeAgent
	sc custScript
}

func (c *fakeCustomer) Say(ctx context.Context, ps ...*prompts.Prompt) error {
	var d time.Duration
	for _, p := range ps {
		d += p.Duration()
	}
	if c.sc.ends == callback.PartyCustomer && c.sc.talk < d {
		sleep(ctx, c.sc.talk)
		return callback.ErrCustomerGone
	}
	if !sleep(ctx, d) {
		return ctx.Err()
	}
	c.sc.talk -= d
	return nil
}

func (c *fakeCustomer) Bridge(ctx context.Context) (callback.Party, error) {
	c.a.p.mu.Lock()
	c.a.p.note("bridged %s", c.a.id)
	c.a.p.mu.Unlock()
	if !sleep(ctx, c.sc.talk) {
		return "", ctx.Err()
	}
	return c.sc.ends, nil
}

func (c *fakeCustomer) Hangup() {}

// listen is a person's answer by default; a script's machine a machine.
func (c *fakeCustomer) Listen(ctx context.Context, o amd.Options) (amd.Decision, error) {
	c.a.p.mu.Lock()
	c.a.p.note("listen %s", c.sc.answers)
	c.a.p.mu.Unlock()
	d := amd.Decision{Verdict: amd.Human, Reason: amd.ReasonShortGreeting, After: 1500 * time.Millisecond}
	if c.sc.answers == "machine" {
		d = amd.Decision{Verdict: amd.Machine, Reason: amd.ReasonLongGreeting, After: 2800 * time.Millisecond}
	}
	if !sleep(ctx, d.After) {
		return amd.Decision{}, ctx.Err()
	}
	return d, nil
}
