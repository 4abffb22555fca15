package callback

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/kefu-hotline/kefu/flows/queue"
	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/media/amd"
	"github.com/kefu-hotline/kefu/prompts"
)

// The prompts of a follow-up call (CS-FOLLOWUP).
const (
	// PromptFollowUp opens it: 「您好,这里是{company},您之前反映的问题已经
	// 处理,」 — the survey question follows.
	PromptFollowUp = "followup.greet"
	// PromptFollowUpBye ends it: 「感谢您的配合,再见!」.
	PromptFollowUpBye = "followup.bye"
	// The survey's question and thanks (CS-SURVEY).
	PromptSurveyAsk    = "survey.ask"
	PromptSurveyThanks = "survey.thanks"
	// PromptFollowUpWhisper is what the agent a follow-up's customer is
	// handed to hears first: 「回访客户,尾号」, then the last four digits.
	PromptFollowUpWhisper = "followup.whisper"
	// PromptConnecting tells that customer they are being put through:
	// 「正在为您转接,请您稍等,不要挂机」 (CS-PROMISE).
	PromptConnecting = "queue.connecting"
)

// FollowUpPrompts lists the prompts follow-up calls need, for kefu check.
func FollowUpPrompts() []string {
	return []string{PromptFollowUp, PromptFollowUpBye, PromptSurveyAsk, PromptSurveyThanks, PromptFollowUpWhisper, PromptConnecting}
}

// DefaultScores are the scores of the keys the default survey question
// names: 满意请按一 (3), 一般请按二 (2), 不满意请按三 (1).
var DefaultScores = map[rune]int{'1': 3, '2': 2, '3': 1}

// Dialer places kefu's calls straight to customers (follow-ups); package
// sip implements it on the trunks.
type Dialer interface {
	// Up reports whether the trunk takes calls now.
	Up(trunk string) bool
	// Call calls the number through the trunk, ringing up to Timeout;
	// Answered comes with the line.
	Call(ctx context.Context, d Dial) (Line, Result, error)
}

// Line is a customer's call kefu placed, answered.
type Line interface {
	// Listen hears the customer's side from the answer on until the
	// answering-machine detector decides; ErrCustomerGone when they hang
	// up first.
	Listen(ctx context.Context, o amd.Options) (amd.Decision, error)
	// Say plays prompts to the customer; ErrCustomerGone when they hang
	// up meanwhile.
	Say(ctx context.Context, ps ...*prompts.Prompt) error
	// Keys delivers the keys the customer presses (RFC 4733 or SIP
	// INFO), from the answer on.
	Keys() <-chan rune
	// Put puts the customer through to the agent who took them (a
	// follow-up handed to an agent): the Customer's Bridge relays the
	// two; its Hangup, like the line's, ends the customer's call.
	Put(a Agent) Customer
	// Gone is closed when the customer hangs up.
	Gone() <-chan struct{}
	// Hangup ends the call, once.
	Hangup()
}

// FollowUpSettings are how follow-up calls are made now.
type FollowUpSettings struct {
	Trunk  string
	Ring   time.Duration
	Prefix string
	// Attempts calls that do not reach the customer close the follow-up
	// as no answer, as does its due time passing; Retry apart.
	Attempts int
	Retry    time.Duration
	// AMD, when set, is the answering-machine detection run at the
	// answer: a machine is hung up on, and the call counts as one that
	// did not reach the customer.
	AMD *amd.Options
	// Queue, when set, is the queue whose agents take the customers who
	// answer the survey with one of AgentKeys, waiting up to MaxWait
	// (handoff.go).
	Queue     string
	AgentKeys string
	MaxWait   time.Duration
}

// FollowUpConfig wires FollowUps.
type FollowUpConfig struct {
	Book   records.FollowUpBook
	Dialer Dialer
	// Settings says how follow-ups are made now; false: not now (no
	// trunk, the service closed or down).
	Settings func() (FollowUpSettings, bool)
	Prompts  func() *prompts.Catalog
	// Scores maps the keys of the survey question to scores; default
	// DefaultScores.
	Scores map[rune]int
	Logger *slog.Logger
	// Poll is how often the book is read for follow-ups that are due
	// (default 30 s); Poke reads it at once.
	Poll time.Duration
	// MaxCalls bounds follow-up calls at once (default 1).
	MaxCalls int
	// KeyWait is how long the question waits for a key (default 5 s).
	KeyWait time.Duration
	// OnCall, if set, is told each call's result (metrics).
	OnCall func(result string)
	// Queues, Board and Phone hand customers to agents (Settings'
	// Queue): required for it.
	Queues *queue.Manager
	Board  Board
	Phone  Phone
	// Claims, when several nodes share the book, has each follow-up
	// called by one node at a time (claims.go); Node names this one,
	// Lease is a claim's lease (default DefaultLease). nil: this node
	// makes them all.
	Claims Claims
	Node   string
	Lease  time.Duration
}

// FollowUps makes the follow-up calls of resolved complaints (CS-FOLLOWUP):
// within 24 h of the resolution, in service hours, kefu calls the
// complaint's caller through a trunk, says that the problem was dealt
// with, asks the survey question, and stores the key pressed with the
// complaint and as a survey answer. A call that does not reach the
// customer is tried again after Retry, up to Attempts, and never after the
// follow-up is due.
type FollowUps struct {
	cfg    FollowUpConfig
	log    *slog.Logger
	poke   chan struct{}
	claims *claimer // nil: no other node

	mu      sync.Mutex
	running map[int64]bool
	wg      sync.WaitGroup
}

// NewFollowUps checks cfg and fills its defaults.
func NewFollowUps(cfg FollowUpConfig) (*FollowUps, error) {
	if cfg.Book == nil || cfg.Dialer == nil || cfg.Settings == nil || cfg.Prompts == nil {
		return nil, errors.New("callback: follow-ups need Book, Dialer, Settings and Prompts")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Scores == nil {
		cfg.Scores = DefaultScores
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 30 * time.Second
	}
	if cfg.MaxCalls <= 0 {
		cfg.MaxCalls = 1
	}
	if cfg.KeyWait <= 0 {
		cfg.KeyWait = 5 * time.Second
	}
	f := &FollowUps{cfg: cfg, log: cfg.Logger, poke: make(chan struct{}, 1), running: map[int64]bool{}}
	if cfg.Claims != nil {
		if cfg.Lease <= 0 {
			cfg.Lease = DefaultLease
		}
		f.claims = &claimer{c: cfg.Claims, kind: ClaimFollowUp, owner: cfg.Node, lease: cfg.Lease}
	}
	return f, nil
}

// Poke makes FollowUps read the book now (a complaint was resolved).
func (f *FollowUps) Poke() {
	select {
	case f.poke <- struct{}{}:
	default:
	}
}

// Run makes the follow-ups as they fall due until ctx ends; then it ends
// the calls in progress (their follow-ups are made again) and returns.
func (f *FollowUps) Run(ctx context.Context) {
	t := time.NewTicker(f.cfg.Poll)
	defer t.Stop()
	for {
		f.round(ctx)
		select {
		case <-ctx.Done():
			f.wg.Wait()
			return
		case <-t.C:
		case <-f.poke:
		}
	}
}

// round starts the calls of the follow-ups that are due, and closes
// those whose day ran out.
func (f *FollowUps) round(ctx context.Context) {
	ps, err := f.cfg.Book.PendingFollowUps(ctx)
	if err != nil {
		if ctx.Err() == nil {
			f.log.Error("follow-ups unreadable", "error", err.Error())
		}
		return
	}
	now := time.Now()
	set, on := f.cfg.Settings()
	for _, p := range ps {
		f.mu.Lock()
		busy, n := f.running[p.ID], len(f.running)
		f.mu.Unlock()
		switch {
		case busy:
		case !now.Before(p.Due):
			f.finish(ctx, p, records.FollowUpNoAnswer, "", 0)
			f.log.Info("follow-up not made within its day", "followup", p.ID, "complaint", p.ComplaintID, "attempts", p.Attempts)
		case !on || p.NotBefore.After(now) || n >= f.cfg.MaxCalls || !f.cfg.Dialer.Up(set.Trunk):
		case f.claims != nil && !f.claims.claim(ctx, p.ID): // another node calls it
		default:
			f.mu.Lock()
			f.running[p.ID] = true
			f.mu.Unlock()
			f.wg.Go(func() {
				defer func() {
					f.mu.Lock()
					delete(f.running, p.ID)
					f.mu.Unlock()
					f.Poke()
				}()
				held := make(chan struct{})
				if f.claims != nil {
					go f.claims.hold(ctx, p.ID, held)
				}
				f.call(ctx, p, set)
				close(held)
				if f.claims != nil {
					f.claims.release(ctx, p.ID)
				}
			})
		}
	}
}

// finish closes p, written even when ctx has ended.
func (f *FollowUps) finish(ctx context.Context, p records.FollowUp, outcome, key string, score int) {
	if err := f.cfg.Book.FinishFollowUp(context.WithoutCancel(ctx), p.ID, outcome, time.Now(), key, score); err != nil {
		f.log.Error("follow-up's end not stored", "followup", p.ID, "error", err.Error())
	}
}

// call makes one follow-up call and writes what became of it.
func (f *FollowUps) call(ctx context.Context, p records.FollowUp, set FollowUpSettings) {
	log := f.log.With("followup", p.ID, "complaint", p.ComplaintID, "trunk", set.Trunk)
	line, res, err := f.cfg.Dialer.Call(ctx, Dial{Trunk: set.Trunk, Number: set.Prefix + p.Number, Timeout: set.Ring})
	result := attemptResult(res)
	switch {
	case ctx.Err() != nil:
		if line != nil {
			line.Hangup()
		}
		return // made again after the next start
	case res == Answered && line != nil:
		result = f.answered(ctx, log, p, line, set)
	case res == TrunkDown:
		log.Info("follow-up not placed: the trunk took no call", "error", fmt.Sprint(err))
	default:
		f.tried(ctx, log, p, set)
	}
	if f.cfg.OnCall != nil {
		f.cfg.OnCall(result)
	}
	log.Info("follow-up call", "result", result, "attempt", p.Attempts+1)
}

// answered is an answered follow-up: a machine is hung up on (the call
// did not reach the customer), a person hears the follow-up.
func (f *FollowUps) answered(ctx context.Context, log *slog.Logger, p records.FollowUp, line Line, set FollowUpSettings) string {
	if set.AMD != nil {
		d, err := line.Listen(ctx, *set.AMD)
		switch {
		case ctx.Err() != nil:
			line.Hangup()
			return records.AttemptInterrupted // made again after the next start
		case errors.Is(err, ErrCustomerGone):
			line.Hangup()
			f.tried(ctx, log, p, set)
			return records.AttemptHungUp
		case err != nil:
			log.Warn("follow-up: answering-machine detection failed: taken for a person", "error", err.Error())
		case d.Verdict == amd.Machine:
			line.Hangup()
			log.Info("follow-up: an answering machine answered: hung up", "reason", d.Reason, "after_s", d.After.Seconds())
			f.tried(ctx, log, p, set)
			return records.AttemptMachine
		default:
			log.Debug("follow-up: a person answered", "reason", d.Reason, "after_s", d.After.Seconds())
		}
	}
	return f.talk(ctx, log, p, line, set)
}

// tried writes a call that did not reach the customer.
func (f *FollowUps) tried(ctx context.Context, log *slog.Logger, p records.FollowUp, set FollowUpSettings) {
	if p.Attempts+1 >= set.Attempts {
		f.finish(ctx, p, records.FollowUpNoAnswer, "", 0)
		return
	}
	if err := f.cfg.Book.FollowUpTried(context.WithoutCancel(ctx), p.ID, time.Now().Add(set.Retry)); err != nil {
		log.Error("follow-up attempt not stored", "error", err.Error())
	}
}

// talk is an answered follow-up: the news, the question (asked twice at
// most), the answer stored, the thanks and the goodbye.
func (f *FollowUps) talk(ctx context.Context, log *slog.Logger, p records.FollowUp, line Line, set FollowUpSettings) string {
	defer line.Hangup()
	cat := f.cfg.Prompts()
	say := func(ids ...string) error {
		var ps []*prompts.Prompt
		for _, id := range ids {
			pr, ok := cat.Get(id)
			if !ok {
				return fmt.Errorf("no prompt %s", id)
			}
			ps = append(ps, pr)
		}
		return line.Say(ctx, ps...)
	}
	if err := say(PromptFollowUp); err != nil {
		if ctx.Err() != nil {
			return records.AttemptInterrupted // made again after the next start
		}
		f.tried(ctx, log, p, set) // hung up at once: not reached
		return records.AttemptHungUp
	}
	for range 2 {
		drain(line.Keys())
		if err := say(PromptSurveyAsk); err != nil {
			break
		}
		key := waitKey(ctx, line, f.cfg.KeyWait)
		if score, ok := f.cfg.Scores[key]; ok && ctx.Err() == nil {
			f.finish(ctx, p, records.FollowUpAnswered, string(key), score)
			log.Info("follow-up answered", "key", string(key), "score", score)
			if set.Queue != "" && strings.ContainsRune(set.AgentKeys, key) && f.cfg.Board != nil {
				f.handOff(ctx, log, p, line, set, cat)
				return records.AttemptAnswered
			}
			_ = say(PromptSurveyThanks, PromptFollowUpBye)
			return records.AttemptAnswered
		}
		if key == 0 && isGone(line) {
			break
		}
	}
	if ctx.Err() != nil {
		return records.AttemptInterrupted // made again after the next start
	}
	f.finish(ctx, p, records.FollowUpAnswered, "", 0)
	if !isGone(line) {
		_ = say(PromptFollowUpBye)
	}
	return records.AttemptAnswered
}

// waitKey is the first key within wait, or 0.
func waitKey(ctx context.Context, line Line, wait time.Duration) rune {
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case k := <-line.Keys():
		return k
	case <-t.C:
	case <-line.Gone():
	case <-ctx.Done():
	}
	return 0
}

func drain(keys <-chan rune) {
	for {
		select {
		case <-keys:
		default:
			return
		}
	}
}

func isGone(line Line) bool {
	select {
	case <-line.Gone():
		return true
	default:
		return false
	}
}
