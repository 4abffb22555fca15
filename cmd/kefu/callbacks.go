package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/flows/callback"
	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/media/amd"
	"github.com/kefu-hotline/kefu/prompts"
	"github.com/kefu-hotline/kefu/sip"
	"github.com/prometheus/client_golang/prometheus"
)

// callbacks are the callbacks kefu makes itself (issue 13): the trunks
// (sip.Outbound keeps them registered and places the calls) and the
// scheduler (flows/callback) that puts each callback left in a queue back
// in it at its caller's place and calls the customer once an agent takes
// it. Made in two steps: the records first (flows store callbacks
// through them from the first call on), the rest once the SIP agent and
// the board exist.
type callbacks struct {
	st      dataStore
	current func() *flows.Bundle
	log     *slog.Logger
	node    string // this process among the nodes of a shared store (claims)

	sched     atomic.Pointer[callback.Scheduler] // once started
	followUps atomic.Pointer[callback.FollowUps]
	out       *sip.Outbound

	cancel context.CancelFunc
	done   sync.WaitGroup
}

// newCallbacks makes the records side: callbacks stored go to the
// scheduler once it runs.
func newCallbacks(st dataStore, current func() *flows.Bundle, log *slog.Logger) *callbacks {
	return &callbacks{st: st, current: current, log: log, node: nodeName()}
}

// claims has each callback and follow-up made by one node at a time on a
// store several nodes share; nil on the embedded one.
func (c *callbacks) claims() callback.Claims {
	if s, ok := c.st.(sharedStore); ok {
		return s.Store
	}
	return nil
}

// nodeName names this process among the nodes sharing a store: the host,
// the process id and a random part, so a node started again is another.
func nodeName() string {
	host, _ := os.Hostname()
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// records is the store a configuration's flows keep their records in:
// the data store, with the callbacks they leave handed to the scheduler.
func (c *callbacks) records() records.Store { return callbackRecords{dataStore: c.st, c: c} }

// callbackRecords is the data store with the scheduler told of every new
// callback.
type callbackRecords struct {
	dataStore
	c *callbacks
}

// AddCallback implements records.Store.
func (r callbackRecords) AddCallback(ctx context.Context, cb records.Callback) (records.Callback, error) {
	saved, err := r.dataStore.AddCallback(ctx, cb)
	if err == nil {
		if s := r.c.sched.Load(); s != nil {
			s.Add(ctx, saved)
		}
	}
	return saved, err
}

// start builds the trunks and the scheduler on the SIP agent and the
// board, and runs them until shutdown.
func (c *callbacks) start(agent *sip.Agent, b *board, reg prometheus.Registerer) error {
	snap := c.current()
	var poke atomic.Pointer[callback.Scheduler]
	c.out = agent.NewOutbound(reg, func() {
		if s := poke.Load(); s != nil {
			s.Poke()
		}
	})
	if err := c.out.Configure(snap.Config.Trunks); err != nil {
		return fmt.Errorf("trunks: %w", err)
	}
	attempts := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kefu_callback_attempts_total",
		Help: "Attempts of the callbacks kefu makes, by result: answered, no_answer, busy, declined, failed, hung_up, machine, agent_gone, trunk_down, interrupted.",
	}, []string{"result"})
	s, err := callback.New(callback.Config{
		Queues: snap.Queues, Board: b, Phone: c.out, Book: c.st, Settings: c.settings,
		Prompts:   func() *prompts.Catalog { return c.current().Catalog },
		Logger:    c.log,
		OnAttempt: func(_, result string) { attempts.WithLabelValues(result).Inc() },
		Claims:    c.claims(), Node: c.node,
	})
	if err != nil {
		return err
	}
	followUpCalls := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kefu_followup_calls_total",
		Help: "Follow-up calls of resolved complaints (CS-FOLLOWUP), by result: answered, no_answer, busy, declined, failed, hung_up, trunk_down.",
	}, []string{"result"})
	reg.MustRegister(attempts, followUpCalls, callbackCollector{s})
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	if book, ok := c.st.(records.FollowUpBook); ok {
		fu, err := callback.NewFollowUps(callback.FollowUpConfig{
			Book: book, Dialer: c.out, Settings: c.followUpSettings,
			Prompts: func() *prompts.Catalog { return c.current().Catalog },
			Logger:  c.log,
			OnCall:  func(result string) { followUpCalls.WithLabelValues(result).Inc() },
			Queues:  snap.Queues, Board: b, Phone: c.out,
			Claims: c.claims(), Node: c.node,
		})
		if err != nil {
			cancel()
			return err
		}
		c.followUps.Store(fu)
		c.done.Go(func() { fu.Run(ctx) })
	} else {
		c.log.Warn("follow-up calls are made with the embedded store only (CS-FOLLOWUP): resolved complaints get none")
	}
	c.done.Add(2)
	go func() {
		defer c.done.Done()
		c.out.Run(ctx)
	}()
	go func() {
		defer c.done.Done()
		if err := s.Run(ctx); err != nil {
			c.log.Error("callbacks stopped: the open callbacks are not made", "error", err.Error())
		}
	}()
	poke.Store(s)
	c.sched.Store(s)
	go func() { // the service hours open with no event of their own: look again now and then
		t := time.NewTicker(servicePoll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.Poke()
			}
		}
	}()
	return nil
}

// servicePoll is how often the scheduler looks again whether the service
// hours have opened (a look costs about a microsecond).
const servicePoll = 15 * time.Second

// settings says how callbacks of a kind (the queue they were left in)
// are made under the configuration in force: through the queue's trunk,
// with its attempts and delay, in the queue they were left in (one left
// outside any queue: the first queue that does not yield, in the order
// they were left). None for a queue that is gone or has them off, when
// no trunk is configured, and for now while the service is down
// (CS-SYSTEM-DOWN: the hotline's route leads to a system-down flow) or
// closed (outside the service hours, CS-AFTER-HOURS): those wait until it
// is back.
func (c *callbacks) settings(kind string) (callback.Settings, bool) {
	snap := c.current()
	cfg := snap.Config
	q := cfg.CallbackQueue(kind)
	if q == "" || !snap.Queues.Has(q) || cfg.ServiceDown() || !cfg.InService(time.Now()) {
		return callback.Settings{}, false
	}
	rules, on := cfg.CallbackRulesFor(q)
	if !on {
		return callback.Settings{}, false
	}
	t, ok := cfg.Trunk(rules.Trunk)
	if !ok {
		return callback.Settings{}, false
	}
	return callback.Settings{Queue: q, Trunk: t.Name, MaxCalls: t.Calls(), Ring: t.Ring(), Prefix: t.Prefix,
		Attempts: rules.Attempts, Retry: rules.Retry.D(), AMD: amdOf(cfg)}, true
}

// amdOf is the configuration's answering-machine detection, nil when off.
func amdOf(cfg *flows.Config) *amd.Options {
	if o, on := cfg.AMD(); on {
		return &o
	}
	return nil
}

// followUpSettings says how follow-up calls are made now: through the
// first trunk, with the attempts and delay of callbacks left outside any
// queue, the answering-machine detection, and the queue whose agents take
// the customers still not satisfied (followups:); none without a trunk,
// or while the service is down or closed.
func (c *callbacks) followUpSettings() (callback.FollowUpSettings, bool) {
	cfg := c.current().Config
	if len(cfg.Trunks) == 0 || cfg.ServiceDown() || !cfg.InService(time.Now()) {
		return callback.FollowUpSettings{}, false
	}
	t := cfg.Trunks[0]
	rules, _ := cfg.CallbackRulesFor("")
	q, keys, wait := cfg.FollowUpHandOff()
	return callback.FollowUpSettings{Trunk: t.Name, Ring: t.Ring(), Prefix: t.Prefix, Attempts: rules.Attempts, Retry: rules.Retry.D(),
		AMD: amdOf(cfg), Queue: q, AgentKeys: keys, MaxWait: wait}, true
}

// reloaded applies a reloaded configuration: its trunks, and a fresh
// look at what may be made now.
func (c *callbacks) reloaded(snap *flows.Bundle) {
	if c.out == nil {
		return
	}
	if err := c.out.Configure(snap.Config.Trunks); err != nil {
		c.log.Error("trunks not reconfigured", "error", err.Error())
	}
	if s := c.sched.Load(); s != nil {
		s.Poke()
	}
}

// shutdown takes the callbacks out of the queues at once, lets the
// callbacks being made finish until ctx ends (kefu's grace), then hangs
// them up (they are made again after the next start) and removes the
// trunks' registrations.
func (c *callbacks) shutdown(ctx context.Context) {
	s := c.sched.Load()
	if s == nil {
		return
	}
	s.Drain(ctx)
	s.Idle(ctx)
	c.cancel()
	c.done.Wait()
}

// callbackCollector exports where the open callbacks are.
type callbackCollector struct{ s *callback.Scheduler }

var callbacksDesc = prometheus.NewDesc("kefu_callbacks",
	"Open callbacks kefu makes, by state: waiting (for the next attempt's time), ready (for a trunk line or a queue that takes them), queued (at their place in their queue), calling.",
	[]string{"state"}, nil)

// Describe implements prometheus.Collector.
func (c callbackCollector) Describe(ch chan<- *prometheus.Desc) { ch <- callbacksDesc }

// Collect implements prometheus.Collector.
func (c callbackCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.Stats()
	for _, v := range []struct {
		state string
		n     int
	}{{"waiting", st.Waiting}, {"ready", st.Ready}, {"queued", st.Queued}, {"calling", st.Calling}} {
		ch <- prometheus.MustNewConstMetric(callbacksDesc, prometheus.GaugeValue, float64(v.n), v.state)
	}
}

// desk is what the ops API does with callbacks (ops.CallbackDesk).
type desk struct{ c *callbacks }

// Attempts implements ops.CallbackDesk.
func (d desk) Attempts(ctx context.Context, id int64) ([]records.Attempt, error) {
	return d.c.st.Attempts(ctx, id)
}

// Cancel implements ops.CallbackDesk: closed in the book, then out of
// the schedule.
func (d desk) Cancel(ctx context.Context, id int64, at time.Time) error {
	if err := d.c.st.CloseCallback(ctx, id, records.OutcomeCancelled, at); err != nil {
		return err
	}
	if s := d.c.sched.Load(); s != nil {
		s.Cancel(ctx, id)
	}
	return nil
}

// Requeue implements ops.CallbackDesk: opened in the book, then
// scheduled.
func (d desk) Requeue(ctx context.Context, id int64) error {
	if err := d.c.st.Reopen(ctx, id); err != nil {
		return err
	}
	if s := d.c.sched.Load(); s != nil {
		return s.Requeue(ctx, id)
	}
	return nil
}

// Resolve implements ops.CallbackDesk: the complaint resolved in the
// book, its follow-up made as soon as it may be.
func (d desk) Resolve(ctx context.Context, id int64, at time.Time, by string) (records.FollowUp, error) {
	book, ok := d.c.st.(records.FollowUpBook)
	if !ok {
		return records.FollowUp{}, fmt.Errorf("follow-up calls need the embedded store: %w", records.ErrInvalid)
	}
	f, err := book.ResolveComplaint(ctx, id, at, by)
	if err == nil {
		if fu := d.c.followUps.Load(); fu != nil {
			fu.Poke()
		}
	}
	return f, err
}

// Trunks implements ops.CallbackDesk.
func (d desk) Trunks() []sip.TrunkStatus {
	if d.c.out == nil {
		return nil
	}
	return d.c.out.Trunks()
}
