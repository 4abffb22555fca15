package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/flows/cluster"
	"github.com/kefu-hotline/kefu/flows/cluster/pgline"
	"github.com/kefu-hotline/kefu/flows/store/pg"
	"github.com/kefu-hotline/kefu/ops"
	"github.com/kefu-hotline/kefu/sip/flood"
	"github.com/kefu-hotline/kefu/sip/registrar"
	"github.com/prometheus/client_golang/prometheus"
)

// board is the agents' board with the offers' outcomes counted for
// /metrics (kefu_agent_offers_total): the node's own (cluster.Local), or,
// with -store postgres://…, the line and agents' states every node on
// that database shares (flows/cluster/pgline).
type board struct {
	agentLine
	offers *prometheus.CounterVec
	reg    *registrar.Registrar // the agents' phones' registrations, once made
	close  func()               // stops the shared line; nil for the local board
}

// agentLine is cluster.Agents under a name that does not hide its
// Agents method when embedded.
type agentLine = cluster.Agents

// lineOpenTimeout bounds joining the shared line at start.
const lineOpenTimeout = 30 * time.Second

// newBoard builds the agents' board on the configuration's queues; it
// lives as long as kefu runs, across reloads (agents keep their states).
// store is -store: a postgres:// URL shares the queues' line and the
// agents with the other nodes on that database.
func newBoard(snap *flows.Bundle, store string, reg prometheus.Registerer, log *slog.Logger) (*board, error) {
	as, rs := snap.Config.Roster()
	var (
		b     cluster.Agents
		close func()
		err   error
	)
	if pg.IsURL(store) {
		ctx, cancel := context.WithTimeout(context.Background(), lineOpenTimeout)
		defer cancel()
		var l *pgline.Line
		if l, err = pgline.Open(ctx, store, snap.Queues, as, rs, pgline.Options{Logger: log}); err == nil {
			b, close = l, l.Close
			log.Info("queues: one line with the other nodes on the store; agents' states shared", "node", l.Node())
		}
	} else {
		b, err = cluster.Local(snap.Queues, as, rs, time.Now, log)
	}
	if err != nil {
		return nil, fmt.Errorf("agents: %w", err)
	}
	bd := &board{agentLine: b, close: close, offers: prometheus.NewCounterVec(prometheus.CounterOpts{
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
	return b.agentLine.Answered(o, id)
}

// Missed implements flows.Distributor.
func (b *board) Missed(o agents.Offer, id string, why agents.Miss) {
	b.offers.WithLabelValues(why.String()).Inc()
	b.agentLine.Missed(o, id, why)
}

// Released implements flows.Distributor.
func (b *board) Released(o agents.Offer, id string) {
	b.offers.WithLabelValues("released").Inc()
	b.agentLine.Released(o, id)
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
	if _, err := agents.Check(snap.Queues, as, rs); err != nil {
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
	if b.reg != nil {
		// An agent no longer configured (or now at a fixed contact) is
		// signed out: their phone's registration is dropped.
		keep := map[string]bool{}
		for _, a := range snap.Config.Agents {
			keep[a.ID] = a.Contact == ""
		}
		for _, a := range old.Config.Agents {
			if !keep[a.ID] {
				b.reg.Remove(a.ID)
			}
		}
	}
	return nil
}

// registrarStore is where the registrar keeps the phones' bindings: in
// memory for one node; in the shared store's database with -store
// postgres://…, so that every node can ring an agent whose phone
// registered through any of them, and a REGISTER challenged by one node
// may bring its credentials to another.
func registrarStore(st dataStore) registrar.Store {
	if s, ok := st.(sharedStore); ok {
		return registrar.Shared(s.Store)
	}
	return registrar.NewMemory()
}

// newRegistrar makes kefu the registrar of the agents' phones: the
// passwords come from the running configuration (a reload takes effect at
// once), a registration signs the agent in at its contact and its end
// (un-register, expiry) out, and a source that keeps failing the digest is
// banned by the flood guard.
func newRegistrar(current func() *flows.Bundle, st dataStore, b *board, guard *flood.Guard, log *slog.Logger) (*registrar.Registrar, error) {
	reg, err := registrar.New(registrar.Config{
		Realm: registrar.DefaultRealm,
		Store: registrarStore(st),
		Lookup: func(id string) (registrar.Secret, bool) {
			for _, a := range current().Config.Agents {
				if a.ID == id && a.Contact == "" {
					return registrar.Secret{Password: a.Password, HA1: a.HA1}, true
				}
			}
			return registrar.Secret{}, false
		},
		OnChange: func(id, contact string, signedIn bool) {
			var err error
			if signedIn {
				err = b.SignIn(id, contact)
			} else {
				err = b.Unregister(id)
			}
			if err != nil {
				log.Warn("agent registration not taken", "agent", id, "signed_in", signedIn, "error", err.Error())
			}
		},
		OnFailure: func(src netip.Addr) {
			log.Warn("repeated failed sign-ins: source banned", "source", src.String())
			if guard != nil {
				guard.Ban(src, time.Now())
			}
		},
	})
	b.reg = reg
	return reg, err
}
