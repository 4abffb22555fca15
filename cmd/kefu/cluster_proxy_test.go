package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestIntegrationClusterProxy: the shared line behind Kamailio (issue
// 17). Two callers dial the proxy; its dispatcher gives them to the two
// nodes in turn, where they wait at positions 1 and 2 of one line (the
// second hears one ahead). The agent's phone (`kefu agent`) registers
// through the proxy, so its binding is shared with the proxy's Path; it
// is offered the first caller, then the second, each rung through the
// proxy by the node that holds the caller.
func TestIntegrationClusterProxy(t *testing.T) {
	t.Parallel()
	c := startHotline(t, hotlineOptions{config: configFile(t, clusterConfig)})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	var wg sync.WaitGroup
	outs := make([]string, 2)
	call := func(i int, from string) {
		wg.Go(func() {
			cmd := exec.CommandContext(ctx, kefuBinary(t), "dial", "-from", "sip:"+from+"@127.0.0.1", "-for", "45s", "-max", "60s",
				"sip:hotline@"+c.proxy.sip)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				outs[i] = fmt.Sprintf("kefu dial: %v\n%s", err, out.String())
				return
			}
			outs[i] = out.String()
		})
	}
	// joinedAt is the node whose log has the line, -1 if none within 20 s.
	joinedAt := func(line string) int {
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			for i, n := range c.nodes {
				if strings.Contains(n.log.String(), line) {
					return i
				}
			}
			<-time.After(100 * time.Millisecond)
		}
		return -1
	}
	call(0, "13800000001")
	first := joinedAt("joined customers at position 1")
	if first < 0 {
		t.Fatal("the first caller did not join at position 1 on either node")
	}
	call(1, "13800000002")
	second := joinedAt("joined customers at position 2")
	switch {
	case second < 0:
		t.Fatalf("the second caller did not join at position 2\n%s\n%s",
			grepLines(c.nodes[0].log.String(), "joined"), grepLines(c.nodes[1].log.String(), "joined"))
	case second == first:
		t.Fatalf("both callers on node %d: the dispatcher did not alternate", first)
	}
	a, b := c.nodes[first], c.nodes[second]
	if !b.waitLog(`"detail":"queue.position"`, 15*time.Second) {
		t.Errorf("the second caller did not hear their position\n%s", grepLines(b.log.String(), "prompt"))
	}
	if strings.Contains(a.log.String(), `"detail":"queue.position"`) {
		t.Errorf("the first caller heard a position")
	}

	invites := c.proxy.stat(t, "core", "rcv_requests_invite") // the callers' (and any retransmissions)
	ph := startPhone(t, &agent{t: t, sip: c.proxy.sip}, "-id", "8001", "-password", "secret-8001",
		"-answer-after", "500ms", "-hangup-after", "3s", "-for", "90s")
	ph.wait(t, "registered", 10*time.Second)
	offer := ph.wait(t, "offered", 20*time.Second)
	if !strings.Contains(fmt.Sprint(offer["from"]), "13800000001") {
		t.Errorf("the agent was offered first %v; want the first caller", offer)
	}
	if !a.waitLog(`"agent":"8001"`, 20*time.Second) {
		t.Errorf("node %d did not bridge the first caller to 8001\n%s", first, grepLines(a.log.String(), "offer"))
	}
	offer = ph.nth(t, "offered", 2, 30*time.Second)
	if !strings.Contains(fmt.Sprint(offer["from"]), "13800000002") {
		t.Errorf("the agent was offered second %v; want the second caller", offer)
	}
	if !b.waitLog(`"agent":"8001"`, 20*time.Second) {
		t.Errorf("node %d did not bridge the second caller to 8001\n%s", second, grepLines(b.log.String(), "offer"))
	}
	// The nodes rang the phone through the proxy (the Path it
	// registered with), not at its contact directly.
	if n := c.proxy.stat(t, "core", "rcv_requests_invite") - invites; n < 2 {
		t.Errorf("the proxy relayed %d INVITEs to the agent's phone; want one from each node", n)
	} else {
		t.Logf("INVITEs the proxy took after the phone registered (the nodes' to the agent): %d", n)
	}
	wg.Wait()
	for i, o := range outs {
		if strings.HasPrefix(o, "kefu dial:") {
			t.Errorf("caller %d: %s", i+1, o)
		}
	}
	sa, sb := agentStates(t, a)["8001"], agentStates(t, b)["8001"]
	if sa.CallsToday != 2 || sb.CallsToday != 2 || sa.State != sb.State {
		t.Errorf("agent on node %d %+v, on node %d %+v; want the same, two calls", first, sa, second, sb)
	}
}

// nth returns the n-th event named ev, waiting up to within for it.
func (p *phone) nth(t *testing.T, ev string, n int, within time.Duration) map[string]any {
	t.Helper()
	deadline := time.After(within)
	for {
		p.mu.Lock()
		k := 0
		for _, e := range p.events {
			if e["ev"] == ev {
				if k++; k == n {
					p.mu.Unlock()
					return e
				}
			}
		}
		p.mu.Unlock()
		select {
		case <-p.seen:
		case <-deadline:
			t.Fatalf("no %s #%d within %v: %v", ev, n, within, p.events)
		}
	}
}

// stat is one of Kamailio's statistics (kamcmd stats.get_statistics).
func (p *proxy) stat(t *testing.T, group, name string) int {
	t.Helper()
	out, err := exec.Command("kamcmd", "-s", p.ctl, "stats.get_statistics", name).CombinedOutput()
	if err != nil {
		t.Fatalf("kamcmd stats.get_statistics %s: %v\n%s", name, err, out)
	}
	m := regexp.MustCompile(regexp.QuoteMeta(group+":"+name) + ` = (\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("kamcmd stats.get_statistics %s: %s", name, out)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}
