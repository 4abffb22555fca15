package flows

import (
	"strings"
	"time"
)

// Callbacks are settings of the callbacks kefu makes that belong to no
// queue (issue 13).
//
//	callbacks:
//	  queue: customers   # where callbacks left outside any queue wait
type Callbacks struct {
	// Queue is the queue the callbacks left outside any queue
	// (CS-SYSTEM-DOWN's, after hours, a menu's) wait in for an agent, at
	// the place of the time they were left; default the first queue that
	// does not yield. Its callback rules (trunk, attempts, retry) are
	// theirs.
	Queue string `yaml:"queue"`
}

// validateCallbacks checks that the callbacks' queue is one of kefu's.
func (c *Config) validateCallbacks(p *problems) {
	if c.Callbacks == nil || c.Callbacks.Queue == "" {
		return
	}
	if !c.hasQueue(c.Callbacks.Queue) {
		p.at("$.callbacks.queue", "callbacks: no queue named %q (queues: %s)", c.Callbacks.Queue, strings.Join(c.queueNames(), ", "))
	}
}

// FollowUps are settings of the follow-up calls of resolved complaints
// (CS-FOLLOWUP) beyond those they share with callbacks.
//
//	followups:
//	  queue: complaints   # a customer still not satisfied is put through to this queue's agents
//	  agent_keys: "3"     # the survey keys that do so (default 3: 不满意请按三)
//	  max_wait: 2m        # how long they wait for an agent before the goodbye
type FollowUps struct {
	// Queue, when set, is the queue whose agents take the customers who
	// answer the follow-up's survey question with one of AgentKeys: the
	// answer is stored, the customer hears 「正在为您转接,请您稍等,不要挂机」
	// and the hold music, and the first free agent of the queue (at the
	// customer's place among its callers) is rung like a callback's:
	// the phone shows 回访 and the number, the agent hears 「回访客户不满意,
	// 尾号」 and its last four digits, then the two talk.
	Queue string `yaml:"queue"`
	// AgentKeys are the keys that hand the customer to an agent; default
	// "3" (the default question's 不满意).
	AgentKeys string `yaml:"agent_keys"`
	// MaxWait bounds the customer's wait for an agent; then they hear the
	// goodbye. Default 2m.
	MaxWait *Duration `yaml:"max_wait"`
}

// DefaultFollowUpMaxWait is how long a follow-up's customer waits for an
// agent by default.
const DefaultFollowUpMaxWait = 2 * time.Minute

// FollowUpHandOff is where a follow-up's customer who answers the survey
// with one of the keys is put through to an agent, and how long they
// wait; "" when follow-ups are not handed to agents.
func (c *Config) FollowUpHandOff() (queue, keys string, maxWait time.Duration) {
	f := c.FollowUps
	if f == nil || f.Queue == "" {
		return "", "", 0
	}
	return f.Queue, orStr(f.AgentKeys, "3"), f.MaxWait.or(DefaultFollowUpMaxWait)
}

// validateFollowUps checks the follow-ups' queue and keys.
func (c *Config) validateFollowUps(p *problems) {
	f := c.FollowUps
	if f == nil {
		return
	}
	if f.Queue != "" && !c.hasQueue(f.Queue) {
		p.at("$.followups.queue", "followups: no queue named %q (queues: %s)", f.Queue, strings.Join(c.queueNames(), ", "))
	}
	if f.Queue == "" && (f.AgentKeys != "" || f.MaxWait != nil) {
		p.at("$.followups", "followups: agent_keys and max_wait need a queue whose agents take the customers")
	}
	if strings.Trim(f.AgentKeys, "0123456789*#") != "" {
		p.at("$.followups.agent_keys", "followups: agent_keys %q: keys 0-9, * and #", f.AgentKeys)
	}
	if d := f.MaxWait.or(DefaultFollowUpMaxWait); d < 10*time.Second || d > 30*time.Minute {
		p.at("$.followups.max_wait", "followups: max_wait %v: between 10s and 30m", d)
	}
}
