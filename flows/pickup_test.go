package flows

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/flows/queue"
	"github.com/kefu-hotline/kefu/prompts"
)

// fakeBoard is a Distributor whose offers the test sends, recording what
// the runner reports.
type fakeBoard struct {
	mu     sync.Mutex
	offers chan agents.Offer
	ticket *queue.Ticket
	log    []string
}

func (b *fakeBoard) Wait(t *queue.Ticket) <-chan agents.Offer {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ticket = t
	return b.offers
}

// offer sends the waiting caller an offer of agent id.
func (b *fakeBoard) offer(id string) {
	b.mu.Lock()
	tk := b.ticket
	b.mu.Unlock()
	b.offers <- agents.Offer{Ticket: tk, Queue: "customers", RingTimeout: 15 * time.Second, Waited: tk.Waited(time.Now()),
		Agents: []agents.Target{{ID: id, Contact: "sip:" + id + "@127.0.0.1"}}}
}

func (b *fakeBoard) record(format string, args ...any) {
	b.mu.Lock()
	b.log = append(b.log, fmt.Sprintf(format, args...))
	b.mu.Unlock()
}

func (b *fakeBoard) Answered(o agents.Offer, id string) bool {
	b.record("answered %s", id)
	return o.Ticket.Leave(time.Now(), queue.Answered) == queue.Answered
}
func (b *fakeBoard) Missed(_ agents.Offer, id string, why agents.Miss) {
	b.record("missed %s %d", id, why)
}
func (b *fakeBoard) Released(_ agents.Offer, id string) { b.record("released %s", id) }
func (b *fakeBoard) Ended(id string)                    { b.record("ended %s", id) }

// ringingCall is a fake call whose agents answer as the test says: each
// id rings for its delay and answers, or never (NoAnswer after the offer's
// timeout); the answered agent talks for talk, then hangs up.
type ringingCall struct {
	*fakeCall
	answerAfter map[string]time.Duration
	talk        time.Duration
	transferTo  string // what the agent transfers the caller to after talk
	whispered   []string
}

func (c *ringingCall) Ring(ctx context.Context, req RingRequest) (AgentLeg, []RingOutcome, error) {
	out := make([]RingOutcome, len(req.Targets))
	d, ok := c.answerAfter[req.Targets[0].ID]
	if !ok {
		d = req.Timeout
	}
	select {
	case <-ctx.Done():
		out[0] = RingOutcome{ID: req.Targets[0].ID, Result: RingCancelled}
		return nil, out, context.Cause(ctx)
	case <-time.After(d):
	}
	if !ok {
		out[0] = RingOutcome{ID: req.Targets[0].ID, Result: RingNoAnswer}
		return nil, out, nil
	}
	out[0] = RingOutcome{ID: req.Targets[0].ID, Result: RingAnswered}
	return &fakeLeg{c: c, id: req.Targets[0].ID}, out, nil
}

type fakeLeg struct {
	c  *ringingCall
	id string
}

func (l *fakeLeg) ID() string { return l.id }
func (l *fakeLeg) Whisper(ctx context.Context, p *prompts.Prompt) error {
	l.c.mu.Lock()
	l.c.whispered = append(l.c.whispered, p.ID)
	l.c.mu.Unlock()
	select {
	case <-time.After(p.Duration()):
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
func (l *fakeLeg) Bridge(ctx context.Context, _ *prompts.Prompt) (string, error) {
	select {
	case <-time.After(l.c.talk):
		return l.c.transferTo, nil
	case <-ctx.Done():
		return "", context.Cause(ctx)
	}
}
func (l *fakeLeg) Hangup() {}

func (c *ringingCall) ids() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ids []string
	for _, p := range c.played {
		ids = append(ids, p.id)
	}
	return strings.Join(ids, " ")
}

// TestPickUpAfterAMiss: the first agent offered lets it ring out (a miss),
// the second answers; the caller, who waited 58 s, hears the apology of
// CS-GREET-BUSY while the agent hears the whisper (the queue, just
// joined), and after the agent hangs up the flow goes on (on_answer).
func TestPickUpAfterAMiss(t *testing.T) {
	cfg, f := loadQueueFlow(t)
	_, cat := loadDefault(t)
	synctest.Test(t, func(t *testing.T) {
		qs, err := cfg.Queues()
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel, fc, _ := startFake(t, cfg, cat)
		call := &ringingCall{fakeCall: fc, answerAfter: map[string]time.Duration{"8002": 3 * time.Second}, talk: time.Minute}
		board := &fakeBoard{offers: make(chan agents.Offer, 1)}
		r := NewRunner(cfg, f, call, cat, Options{Queues: qs, Agents: board, Info: CallInfo{CallID: "c1"}})
		time.AfterFunc(40*time.Second, func() { board.offer("8001") })
		time.AfterFunc(55*time.Second, func() { board.offer("8002") })
		time.AfterFunc(5*time.Minute, func() { cancel(ErrCallerHangup) })
		_ = r.Run(ctx)
		want := []string{fmt.Sprintf("missed 8001 %d", agents.NoAnswer), "answered 8002", "ended 8002"}
		if !slices.Equal(board.log, want) {
			t.Errorf("board heard %q, want %q", board.log, want)
		}
		if got := call.ids(); !strings.HasPrefix(got, "queue.connecting greet.busy ack") {
			t.Errorf("caller heard %s", got)
		}
		if got := strings.Join(call.whispered, " "); got != "whisper.customers whisper.just" {
			t.Errorf("agent heard %s", got)
		}
		for _, p := range call.played {
			if p.id == "greet.busy" && p.start != 58*time.Second {
				t.Errorf("apology at %v, want at 58s when the agent answered", p.start)
			}
			if p.id == "ack" && p.start < 58*time.Second+time.Minute {
				t.Errorf("on_answer at %v, before the agent hung up", p.start)
			}
		}
		if r.vars[VarAgent] != "8002" {
			t.Errorf("agent variable %q", r.vars[VarAgent])
		}
	})
}

// TestPickUpCallerHangsUp: the caller hanging up during the talk ends the
// agent's call (Ended) and the flow.
func TestPickUpCallerHangsUp(t *testing.T) {
	cfg, f := loadQueueFlow(t)
	_, cat := loadDefault(t)
	synctest.Test(t, func(t *testing.T) {
		qs, _ := cfg.Queues()
		ctx, cancel, fc, _ := startFake(t, cfg, cat)
		call := &ringingCall{fakeCall: fc, answerAfter: map[string]time.Duration{"8001": time.Second}, talk: time.Hour}
		board := &fakeBoard{offers: make(chan agents.Offer, 1)}
		r := NewRunner(cfg, f, call, cat, Options{Queues: qs, Agents: board, Info: CallInfo{CallID: "c1"}})
		time.AfterFunc(5*time.Second, func() { board.offer("8001") })
		time.AfterFunc(2*time.Minute, func() { cancel(ErrCallerHangup) })
		if err := r.Run(ctx); err == nil {
			t.Fatal("want the caller's hang-up")
		}
		if want := []string{"answered 8001", "ended 8001"}; !slices.Equal(board.log, want) {
			t.Errorf("board heard %q, want %q", board.log, want)
		}
		if got := call.ids(); !strings.HasPrefix(got, "queue.connecting hold.resume") || strings.Contains(got, "ack") {
			t.Errorf("caller heard %s (a 6 s wait: the thanks, not the apology; no on_answer)", got)
		}
		if fig := qs.Figures(time.Now())[0]; fig.Answered.Count != 1 || fig.Abandoned.Count != 0 {
			t.Errorf("figures %+v", fig)
		}
	})
}

// TestAgentTransfersToQueue: an agent sends the caller on with their
// phone's transfer key (CS-ESCALATE made real): the caller hears the true
// ask again and waits in the supervisors queue.
func TestAgentTransfersToQueue(t *testing.T) {
	_, cat := loadDefault(t)
	y := strings.Replace(queueFlow, "  - name: nuisance\n", "  - name: supervisors\n  - name: nuisance\n", 1)
	cfg, err := Parse("q.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	f, _ := cfg.Flow("f")
	if !cfg.AgentTransferTarget("supervisors") || cfg.AgentTransferTarget("nuisance") || cfg.AgentTransferTarget("13800138000") {
		t.Fatal("transfer targets: want kefu's queues but the nuisance one, nothing else")
	}
	synctest.Test(t, func(t *testing.T) {
		qs, _ := cfg.Queues()
		ctx, cancel, fc, _ := startFake(t, cfg, cat)
		call := &ringingCall{fakeCall: fc, answerAfter: map[string]time.Duration{"8001": time.Second}, talk: 30 * time.Second, transferTo: "supervisors"}
		board := &fakeBoard{offers: make(chan agents.Offer, 1)}
		r := NewRunner(cfg, f, call, cat, Options{Queues: qs, Agents: board, Info: CallInfo{CallID: "c1"}})
		time.AfterFunc(5*time.Second, func() { board.offer("8001") })
		time.AfterFunc(2*time.Minute, func() {
			board.mu.Lock()
			if q := board.ticket.Queue(); q != "supervisors" {
				t.Errorf("the caller waits in %s, want supervisors", q)
			}
			board.mu.Unlock()
			cancel(ErrCallerHangup)
		})
		_ = r.Run(ctx)
		if got := call.ids(); !strings.HasPrefix(got, "queue.connecting hold.resume queue.connecting") {
			t.Errorf("caller heard %s", got)
		}
		if want := []string{"answered 8001", "ended 8001"}; !slices.Equal(board.log, want) {
			t.Errorf("board heard %q, want %q", board.log, want)
		}
	})
}
