// Package cluster is what kefu's calls need of the agents who take a
// hotline's queued callers, whether one node serves the hotline or
// several share it (issue 17).
//
// A node's calls join the queues of a queue.Manager and wait there with
// a ticket; an Agents offers them to agents, takes the outcome of each
// offer, and keeps the agents' states, which the agents' phones (feature
// codes, registrations) and the ops API change. Two implementations:
//
//   - Local (the default, and the quick start): flows/agents.Board, one
//     node's own board in memory, exactly as kefu has always worked.
//   - flows/cluster/pgline: the line and the agents' states in PostgreSQL,
//     shared by every node on one database. A waiting caller's media stays
//     on the node that answered it (the owner); every node sees every
//     node's callers in its queue.Manager (so positions and the order are
//     the same everywhere), exactly one node reserves a free agent for the
//     longest-waiting eligible caller, and the owner rings and bridges.
//
// The package sits between flows and cmd: it imports flows and its
// sub-packages (never sip, net or ops), and flows never imports it.
package cluster

import (
	"log/slog"
	"time"

	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/flows/callback"
	"github.com/kefu-hotline/kefu/flows/queue"
)

// Agents is the agents' side of a hotline as a node uses it: the
// distribution the queue verb and the callback scheduler wait on, the
// desk the agents' feature codes and the ops API change, the sign-in of
// registered phones, and the states shown.
type Agents interface {
	flows.Distributor // Wait, Answered, Missed, Released, Ended
	flows.AgentDesk   // Ready, Pause, SignOut
	callback.Board    // Serving, Subscribe (and the Distributor's methods)

	// Agents is every agent's state, sorted by id (the ops API).
	Agents() []agents.Status

	// SignIn records an agent's registration at contact; Unregister its
	// end (see agents.Board).
	SignIn(id, contact string) error
	Unregister(id string) error
	// Agent is one agent's state.
	Agent(id string) (agents.Status, bool)
	// Reconfigure applies a reloaded configuration: qm is the queue
	// manager the calls wait in (the same one, reconfigured).
	Reconfigure(qm *queue.Manager, as []agents.Agent, rs []agents.Rules) error
}

var _ Agents = (*agents.Board)(nil)

// Local is one node's own board, in memory: agents.NewBoard. It is what
// kefu runs with when no shared store is configured.
func Local(qm *queue.Manager, as []agents.Agent, rs []agents.Rules, now func() time.Time, log *slog.Logger) (Agents, error) {
	b, err := agents.NewBoard(qm, as, rs, now, agents.WithLogger(log))
	if err != nil {
		return nil, err
	}
	return b, nil
}
