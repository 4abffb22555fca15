package ops

import (
	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/prometheus/client_golang/prometheus"
)

// agentCollector exposes the agents' states at scrape time.
type agentCollector struct {
	board  AgentBoard
	states *prometheus.Desc
	calls  *prometheus.Desc
}

// NewAgentCollector returns a collector of the agents: how many are in
// each state (offline, available, ringing, on_call, wrap_up, paused), and
// the calls each answered today.
func NewAgentCollector(board AgentBoard) prometheus.Collector {
	return &agentCollector{
		board:  board,
		states: prometheus.NewDesc("kefu_agents", "Agents by state.", []string{"state"}, nil),
		calls:  prometheus.NewDesc("kefu_agent_calls_today", "Calls the agent answered since midnight.", []string{"agent"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *agentCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.states; ch <- c.calls }

// Collect implements prometheus.Collector.
func (c *agentCollector) Collect(ch chan<- prometheus.Metric) {
	counts := map[agents.State]int{}
	for _, s := range c.board.Agents() {
		counts[s.State]++
		ch <- prometheus.MustNewConstMetric(c.calls, prometheus.GaugeValue, float64(s.CallsToday), s.ID)
	}
	for _, st := range agents.States() {
		ch <- prometheus.MustNewConstMetric(c.states, prometheus.GaugeValue, float64(counts[st]), st.String())
	}
}
