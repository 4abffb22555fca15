package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/flows/store/pg/pgtest"
)

// clusterConfig is one queue that one registered agent serves, with the
// caller's position read out every 4 s.
const clusterConfig = `
queues:
  - name: customers
    ring_timeout: 10s
    wrap_up: 1s
agents:
  - {id: "8001", password: secret-8001, queues: [customers]}
routes:
  - to: "*"
    flow: f
flows:
  f:
    steps:
      - name: wait
        queue:
          queue: customers
          on_answer: after
          on_timeout: after
          announce: [{every: 4s, prompt: hold.apology}]
      - name: after
        close: {}
        exception: a test flow, the closing after the agent
`

// TestIntegrationClusterLine: two kefu nodes on one PostgreSQL
// (-store), one queue. A caller answered by node A waits at position 1;
// a caller answered by node B after them is at position 2 and hears so
// (one ahead). One agent, whose phone registers with node A, is offered
// the first caller (media on A), then the second (media on B, rung by
// B); /api/agents says the same on both nodes.
func TestIntegrationClusterLine(t *testing.T) {
	integration(t)
	t.Parallel()
	srv := pgtest.Need(t, pgtest.Options{})
	dsn, err := srv.NewSchema(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	cfg := configFile(t, clusterConfig)
	a := startAgent(t, "-config", cfg, "-store", dsn)
	b := startAgent(t, "-config", cfg, "-store", dsn)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	var wg sync.WaitGroup
	outs := make([]string, 2)
	call := func(i int, node *agent, from string) {
		wg.Go(func() {
			cmd := exec.CommandContext(ctx, kefuBinary(t), "dial", "-from", "sip:"+from+"@127.0.0.1", "-for", "45s", "-max", "60s", "sip:hotline@"+node.sip)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				outs[i] = fmt.Sprintf("kefu dial: %v\n%s", err, out.String())
				return
			}
			outs[i] = out.String()
		})
	}
	call(0, a, "13800000001")
	if !a.waitLog("joined customers at position 1", 20*time.Second) {
		t.Fatalf("node A: the first caller not at position 1\n%s", grepLines(a.log.String(), "joined"))
	}
	call(1, b, "13800000002")
	if !b.waitLog("joined customers at position 2", 20*time.Second) {
		t.Fatalf("node B: the second caller not at position 2\n%s", grepLines(b.log.String(), "joined"))
	}
	// The announcement after 4 s: one caller ahead (queue.position, then
	// the count); the first caller hears none.
	if !b.waitLog(`"detail":"queue.position"`, 15*time.Second) {
		t.Errorf("node B: the second caller did not hear their position\n%s", grepLines(b.log.String(), "prompt"))
	}
	if strings.Contains(a.log.String(), `"detail":"queue.position"`) {
		t.Errorf("node A: the first caller heard a position")
	}
	for _, n := range []*agent{a, b} {
		if st := agentStates(t, n)["8001"]; st.State != agents.Offline {
			t.Errorf("agent before signing in, on %s: %+v", n.http, st)
		}
	}
	ph := startPhone(t, a, "-id", "8001", "-password", "secret-8001", "-answer-after", "500ms", "-hangup-after", "3s", "-for", "90s")
	ph.wait(t, "registered", 10*time.Second)
	first := ph.wait(t, "offered", 15*time.Second)
	if !strings.Contains(fmt.Sprint(first["from"]), "13800000001") {
		t.Errorf("the agent was offered first %v; want the first caller", first)
	}
	if !a.waitLog(`"agent":"8001"`, 20*time.Second) {
		t.Errorf("node A did not bridge the first caller to 8001")
	}
	// The second offer comes from node B once the first call and the
	// wrap-up are over.
	deadline := time.After(30 * time.Second)
	var second map[string]any
	for second == nil {
		ph.mu.Lock()
		n := 0
		for _, e := range ph.events {
			if e["ev"] == "offered" {
				if n++; n == 2 {
					second = e
				}
			}
		}
		ph.mu.Unlock()
		if second != nil {
			break
		}
		select {
		case <-ph.seen:
		case <-deadline:
			t.Fatalf("no second offer: %v", ph.events)
		}
	}
	if !strings.Contains(fmt.Sprint(second["from"]), "13800000002") {
		t.Errorf("the agent was offered second %v; want the second caller", second)
	}
	if !b.waitLog(`"agent":"8001"`, 20*time.Second) {
		t.Errorf("node B did not bridge the second caller to 8001\n%s", grepLines(b.log.String(), "offer"))
	}
	wg.Wait()
	for i, o := range outs {
		if strings.HasPrefix(o, "kefu dial:") {
			t.Errorf("caller %d: %s", i+1, o)
		}
	}
	sa, sb := agentStates(t, a)["8001"], agentStates(t, b)["8001"]
	if sa.CallsToday != 2 || sb.CallsToday != 2 || sa.State != sb.State {
		t.Errorf("agent on A %+v, on B %+v; want the same, two calls", sa, sb)
	}
}
