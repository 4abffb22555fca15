package agents

import "github.com/kefu-hotline/kefu/flows/queue"

// Plan is a checked configuration of agents, as a board other than Board
// (the shared one of flows/cluster/pgline) distributes by: the agents
// with their levels filled in (1 for 0), every queue's rules with the
// defaults filled in, and the queues agents work in, first use first.
type Plan struct {
	Agents []Agent
	Rules  map[string]Rules
	Queues []string
}

// Check validates agents and rules against the queues of qm as NewBoard
// does, and returns the plan NewBoard would distribute by.
func Check(qm *queue.Manager, agents []Agent, rules []Rules) (Plan, error) {
	c, err := check(qm, agents, rules)
	if err != nil {
		return Plan{}, err
	}
	return Plan{Agents: c.agents, Rules: c.rules, Queues: c.order}, nil
}
