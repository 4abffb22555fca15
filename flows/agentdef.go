package flows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/kefu-hotline/kefu/flows/agents"
)

// Strategies say which free agent of a queue is offered the next caller.
var Strategies = []string{"longest_idle", "ring_all", "round_robin", "fewest_calls"}

// AgentDef is one agent (坐席) as ops configure them: their phone signs in
// by registering to kefu with ID as the user and Password (or HA1), or
// kefu reaches a fixed Contact through the PBX.
type AgentDef struct {
	// ID is the agent's number (工号), digits only; it is the SIP user
	// their phone registers as.
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
	// Password is the digest password of the agent's phone; HA1 may be
	// given instead (MD5 of "id:realm:password", realm "kefu"), which
	// then allows MD5 digest only.
	Password string `yaml:"password"`
	HA1      string `yaml:"ha1"`
	// Contact is a fixed SIP URI reached through the PBX (a desk phone
	// that does not register); such an agent is signed in from the start.
	Contact string `yaml:"contact"`
	// Queues are the queues the agent takes callers from, each with a
	// level: level 1 agents are offered first, level 2 only when no level
	// 1 agent is free.
	Queues []Membership `yaml:"queues"`
}

// Membership is one queue an agent works in: a queue name, or
// {name: cantonese, level: 2}.
type Membership struct {
	Queue string `yaml:"name"`
	Level int    `yaml:"level"` // 1 (default) or 2
}

// UnmarshalYAML accepts a bare queue name as well as a mapping.
func (m *Membership) UnmarshalYAML(n ast.Node) error {
	if s, ok := n.(*ast.StringNode); ok {
		*m = Membership{Queue: s.Value, Level: 1}
		return nil
	}
	type plain Membership
	var p plain
	if err := yaml.NodeToValue(n, &p, yaml.Strict(), yaml.DisallowUnknownField()); err != nil {
		return errAt(n, "a queue of an agent is a name or {name: NAME, level: 1|2}: %v", err)
	}
	*m = Membership(p)
	if m.Level == 0 {
		m.Level = 1
	}
	return nil
}

// validateAgents checks the agents: ids of digits, each once, a way to
// reach them (a password to register with, or a fixed contact), and
// queues that exist.
func (c *Config) validateAgents(p *problems) {
	seen := map[string]int{}
	for i, a := range c.Agents {
		path := fmt.Sprintf("$.agents[%d]", i)
		switch {
		case a.ID == "":
			p.at(path, "agent without an id: give their number (工号), e.g. id: \"8001\"")
		case strings.Trim(a.ID, "0123456789") != "":
			p.at(path+".id", "agent id %q: digits only (their phone registers with it as the SIP user)", a.ID)
		}
		if j, dup := seen[a.ID]; dup && a.ID != "" {
			p.at(path+".id", "agent id %q is also agents[%d]: each agent once", a.ID, j)
		}
		seen[a.ID] = i
		switch {
		case a.Contact != "" && (a.Password != "" || a.HA1 != ""):
			p.at(path+".contact", "agent %s: a fixed contact does not register; leave out its password", a.ID)
		case a.Contact != "" && (!strings.HasPrefix(a.Contact, "sip:") || !strings.Contains(a.Contact, "@")):
			p.at(path+".contact", "agent %s: contact %q is not a SIP URI such as sip:8003@pbx.example.com", a.ID, a.Contact)
		case a.Contact == "" && a.Password == "" && a.HA1 == "":
			p.at(path, "agent %s has no password: their phone signs in with it (or give contact: for a phone reached through the PBX)", a.ID)
		case a.Password != "" && a.HA1 != "":
			p.at(path+".ha1", "agent %s: give a password or its ha1, not both", a.ID)
		case a.HA1 != "" && (len(a.HA1) != 32 || strings.Trim(strings.ToLower(a.HA1), "0123456789abcdef") != ""):
			p.at(path+".ha1", "agent %s: ha1 is 32 hex digits, the MD5 of \"%s:kefu:PASSWORD\"", a.ID, a.ID)
		}
		if len(a.Queues) == 0 {
			p.at(path, "agent %s takes no queue: add queues: [NAME]", a.ID)
		}
		for k, m := range a.Queues {
			qp := fmt.Sprintf("%s.queues[%d]", path, k)
			if !c.hasQueue(m.Queue) {
				p.at(qp, "agent %s: no queue named %q (queues: %s)", a.ID, m.Queue, strings.Join(c.queueNames(), ", "))
			}
			if m.Level != 1 && m.Level != 2 {
				p.at(qp, "agent %s: level %d in %s: use 1 (offered first) or 2", a.ID, m.Level, m.Queue)
			}
		}
	}
	for i, q := range c.QueueDefs {
		if q.Strategy != "" && !slices.Contains(Strategies, q.Strategy) {
			p.at(fmt.Sprintf("$.queues[%d].strategy", i), "queue %s: strategy %q: use one of %s", q.Name, q.Strategy, strings.Join(Strategies, ", "))
		}
		if q.MaxMissed < 0 {
			p.at(fmt.Sprintf("$.queues[%d].max_missed", i), "queue %s: max_missed %d is negative", q.Name, q.MaxMissed)
		}
		if rt := q.RingTimeout.or(agents.DefaultRingTimeout); rt < 5*time.Second || rt > 2*time.Minute {
			p.at(fmt.Sprintf("$.queues[%d].ring_timeout", i), "queue %s: ring_timeout %v: between 5s and 2m", q.Name, rt)
		}
	}
}

func (c *Config) hasQueue(name string) bool {
	for _, q := range c.QueueDefs {
		if q.Name == name {
			return true
		}
	}
	return false
}

func (c *Config) queueNames() []string {
	out := make([]string, 0, len(c.QueueDefs))
	for _, q := range c.QueueDefs {
		out = append(out, q.Name)
	}
	return out
}

// Roster is the config's agents and their queues' rules, as the
// distribution board (flows/agents) takes them.
func (c *Config) Roster() ([]agents.Agent, []agents.Rules) {
	as := make([]agents.Agent, 0, len(c.Agents))
	for _, a := range c.Agents {
		ms := make([]agents.Membership, 0, len(a.Queues))
		for _, m := range a.Queues {
			ms = append(ms, agents.Membership{Queue: m.Queue, Level: m.Level})
		}
		as = append(as, agents.Agent{ID: a.ID, Name: a.Name, Queues: ms, Contact: a.Contact})
	}
	rs := make([]agents.Rules, 0, len(c.QueueDefs))
	for _, q := range c.QueueDefs {
		wrap := q.WrapUp.or(agents.DefaultWrapUp)
		if wrap == 0 {
			wrap = -1 // wrap_up: 0s: straight back to available
		}
		rs = append(rs, agents.Rules{Queue: q.Name, Strategy: agents.Strategy(q.Strategy),
			RingTimeout: q.RingTimeout.or(agents.DefaultRingTimeout), WrapUp: wrap, MaxMissed: q.MaxMissed})
	}
	return as, rs
}
