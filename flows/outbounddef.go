package flows

import "strings"

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
