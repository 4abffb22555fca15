package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/ops"
	"github.com/prometheus/client_golang/prometheus"
)

// board is the agents' board with the offers' outcomes counted for
// /metrics (kefu_agent_offers_total).
type board struct {
	*agents.Board
	offers *prometheus.CounterVec
}

// newBoard builds the agents' board on the configuration's queues; it
// lives as long as kefu runs, across reloads (agents keep their states).
func newBoard(snap *flows.Bundle, reg prometheus.Registerer, log *slog.Logger) (*board, error) {
	as, rs := snap.Config.Roster()
	b, err := agents.NewBoard(snap.Queues, as, rs, time.Now, agents.WithLogger(log))
	if err != nil {
		return nil, fmt.Errorf("agents: %w", err)
	}
	bd := &board{Board: b, offers: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kefu_agent_offers_total",
		Help: "Offers of callers to agents' phones, by outcome (answered, no_answer, busy, declined, failed, released).",
	}, []string{"outcome"})}
	reg.MustRegister(bd.offers, ops.NewAgentCollector(b))
	useBoard(snap, bd)
	return bd, nil
}

// Answered implements flows.Distributor.
func (b *board) Answered(o agents.Offer, id string) bool {
	b.offers.WithLabelValues("answered").Inc()
	return b.Board.Answered(o, id)
}

// Missed implements flows.Distributor.
func (b *board) Missed(o agents.Offer, id string, why agents.Miss) {
	b.offers.WithLabelValues(why.String()).Inc()
	b.Board.Missed(o, id, why)
}

// Released implements flows.Distributor.
func (b *board) Released(o agents.Offer, id string) {
	b.offers.WithLabelValues("released").Inc()
	b.Board.Released(o, id)
}

// useBoard gives a configuration the board: its queues count the agents
// serving them (CS-PROMISE), its calls are offered to them, and agents'
// feature codes change their state.
func useBoard(snap *flows.Bundle, b *board) {
	snap.Agents, snap.Desk = b, b
	snap.Queues.Agents = b.Serving
}

// reconfigureAgents carries the queues and the board over to a reloaded
// configuration: waiting callers keep their places (the queue manager is
// reconfigured, not replaced) and agents their states. A configuration the
// queues or the board refuse is refused whole, before anything changed.
func reconfigureAgents(old, snap *flows.Bundle, b *board) error {
	cfgs := snap.Config.QueueConfigs()
	as, rs := snap.Config.Roster()
	if _, err := agents.NewBoard(snap.Queues, as, rs, time.Now); err != nil {
		return fmt.Errorf("agents: %w", err)
	}
	if err := old.Queues.Reconfigure(cfgs); err != nil {
		return fmt.Errorf("queues: %w", err)
	}
	snap.Queues = old.Queues
	if err := b.Reconfigure(snap.Queues, as, rs); err != nil {
		return fmt.Errorf("agents: %w", err)
	}
	useBoard(snap, b)
	return nil
}
