package main

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The two-node tests (issue 17): two kefu nodes behind Kamailio's
// dispatcher (deploy/kamailio) on one PostgreSQL (proxy_harness_test.go).

// hotlineMenu is a hotline of one menu: key 1 hears the goodbye and kefu
// hangs up (its BYE goes back through the proxy).
const hotlineMenu = `
routes:
  - to: "*"
    flow: menu
flows:
  menu:
    steps:
      - name: main
        menu:
          prompt: menu.main
          choices:
            "1": one
          retries: 1
          on_timeout: bye
          on_invalid: bye
      - name: one
        say: {prompt: close.bye}
      - name: end
        hangup: {}
      - name: bye
        say: {prompt: close.hangup}
      - name: hangup
        hangup: {}
`

// TestIntegrationProxyCalls: calls through the proxy alternate between
// the two nodes (node 0 reached over UDP, node 1 over TCP); `kefu dial
// -keys` through the proxy reaches the menu on either node, its INFO
// following the dialog (answered 200, the choice taken), and kefu's BYE
// comes back through the proxy (over TCP it needs its Content-Length). A
// number listed through node 0's API is refused on both nodes, and so is a
// caller whose trunk asserts that number (P-Asserted-Identity).
func TestIntegrationProxyCalls(t *testing.T) {
	t.Parallel()
	c := startHotline(t, hotlineOptions{config: configFile(t, hotlineMenu), tcp: []int{1}})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	prev := -1
	var setup []float64
	for i := range 4 {
		before := c.answered()
		evs, code, out := dialAt(t, ctx, c.proxy.sip, "-from", fmt.Sprintf("sip:1380000000%d@127.0.0.1", i), "-keys", "1@1s", "-for", "20s", "-max", "40s")
		if code != 0 {
			t.Fatalf("call %d: kefu dial exit %d\n%s", i, code, out)
		}
		node := c.answeredBy(before)
		if node < 0 || (prev >= 0 && node == prev) {
			t.Errorf("call %d answered by node %d after node %d: want the nodes in turn", i, node, prev)
		}
		prev = node
		if k, ok := find(evs, "key"); !ok || k.Code != 200 {
			t.Errorf("call %d (node %d): the key's INFO got %+v, want 200\n%s", i, node, k, out)
		}
		if _, ok := find(evs, "bye_received"); !ok {
			t.Errorf("call %d (node %d): kefu's BYE did not come back through the proxy\n%s", i, node, out)
		}
		inv, _ := find(evs, "invite")
		ans, _ := find(evs, "answered")
		setup = append(setup, ans.T-inv.T)
	}
	for j, n := range c.nodes {
		if got := strings.Count(n.log.String(), `"what":"choice","detail":"1 -> one"`); got != 2 {
			t.Errorf("node %d took key 1 in %d menus, want 2", j, got)
		}
	}
	t.Logf("INVITE to answer through the proxy (the default answer_delay, 0.5 s): %v s", setup)

	// A number listed through node 0 is refused on both.
	if code := c.nodes[0].api("POST", "/api/nuisance", `{"pattern":"13900000077","reason":"abuse","added_by":"test","action":{"kind":"reject","code":486}}`, nil); code != http.StatusCreated {
		t.Fatalf("POST /api/nuisance on node 0: %d", code)
	}
	for i := range 2 {
		evs, code, out := dialAt(t, ctx, c.proxy.sip, "-from", "sip:13900000077@127.0.0.1", "-max", "10s")
		if f, ok := find(evs, "final"); code == 0 || !ok || f.Code != 486 {
			t.Errorf("listed caller's call %d: want a final 486\n%s", i, out)
		}
	}
	// A trunk asserting that number (From is the trunk's own).
	s := &sipp{t: t, a: &agent{t: t, sip: c.proxy.sip}, bin: needTool(t, "sipp"), dir: t.TempDir()}
	for range 2 {
		s.expect(s.run("uac_asserted_486.xml", 10*time.Second), 0)
	}
	for j, n := range c.nodes {
		if got := len(n.entries("call refused")); got != 2 {
			t.Errorf("node %d refused %d calls, want 2 (the listed caller's and the asserted one's)", j, got)
		}
	}
}

// TestIntegrationProxyDrain: a node told to stop (SIGTERM) while a call
// is on it drains: it answers the dispatcher's OPTIONS with 503 and drops
// out, new calls all go to the other node, and its own call goes on to
// its end before it exits.
func TestIntegrationProxyDrain(t *testing.T) {
	t.Parallel()
	c := startHotline(t, hotlineOptions{config: configFile(t, hotlineMenu), extra: []string{"-grace", "60s"}})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	type result struct {
		evs  []timelineEvent
		code int
		out  string
	}
	long := make(chan result, 1)
	go func() {
		evs, code, out := dialAt(t, ctx, c.proxy.sip, "-from", "sip:13800000010@127.0.0.1", "-for", "12s", "-max", "40s")
		long <- result{evs, code, out}
	}()
	// The node the long call is on drains.
	x := -1
	for deadline := time.Now().Add(20 * time.Second); x < 0 && time.Now().Before(deadline); {
		for i, n := range c.active() {
			if n == 1 {
				x = i
			}
		}
		if x < 0 {
			select {
			case <-time.After(50 * time.Millisecond):
			case <-ctx.Done():
			}
		}
	}
	if x < 0 {
		t.Fatal("the long call is on no node")
	}
	y := 1 - x
	c.sigterm(x)
	out, ok := c.proxy.waitState(x, "I", 15*time.Second)
	if !ok {
		t.Fatalf("the draining node %d is still in the dispatcher's rotation after %v", x, out)
	}
	t.Logf("the draining node dropped out of the rotation %.2f s after SIGTERM (OPTIONS every 1 s)", out.Seconds())
	for i := range 3 {
		before := c.answered()
		evs, code, out := dialAt(t, ctx, c.proxy.sip, "-from", fmt.Sprintf("sip:1380000002%d@127.0.0.1", i), "-keys", "1@0.5s", "-for", "10s", "-max", "30s")
		if _, answered := find(evs, "answered"); code != 0 || !answered {
			t.Fatalf("call %d while node %d drains: exit %d\n%s", i, x, code, out)
		}
		if node := c.answeredBy(before); node != y {
			t.Errorf("call %d while node %d drains was answered by node %d, want %d", i, x, x, node)
		}
	}
	r := <-long
	if _, byKefu := find(r.evs, "bye_received"); r.code != 0 || byKefu {
		t.Errorf("the call on the draining node did not go on to its end (exit %d)\n%s", r.code, r.out)
	}
	select {
	case <-c.nodes[x].exited:
	case <-time.After(20 * time.Second):
		t.Errorf("the drained node did not exit once its call ended")
	}
}

// TestIntegrationProxyKilled: a node killed (SIGKILL) is routed around:
// the next call sent to it goes to the other node after the proxy's
// first-reply timer (2 s), the node drops out of the rotation, and the
// calls after that are answered at once. The times are logged.
func TestIntegrationProxyKilled(t *testing.T) {
	t.Parallel()
	c := startHotline(t, hotlineOptions{config: configFile(t, hotlineMenu)})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	call := func(i int) (node int, setup float64) {
		t.Helper()
		before := c.answered()
		evs, code, out := dialAt(t, ctx, c.proxy.sip, "-from", fmt.Sprintf("sip:1380000003%d@127.0.0.1", i), "-for", "1s", "-max", "30s")
		inv, _ := find(evs, "invite")
		ans, answered := find(evs, "answered")
		if code != 0 || !answered {
			t.Fatalf("call %d: exit %d\n%s", i, code, out)
		}
		return c.answeredBy(before), ans.T - inv.T
	}
	first, normal := call(0)
	// The node next in turn dies.
	dead := 1 - first
	c.kill(dead)
	killed := time.Now()
	var setups []float64
	for i := 1; i <= 3; i++ {
		node, setup := call(i)
		if node != first {
			t.Errorf("call %d after node %d died answered by node %d", i, dead, node)
		}
		setups = append(setups, setup)
	}
	if setups[0] < 1.5 || setups[0] > 6 {
		t.Errorf("the first call after the kill was answered in %.2f s, want the 2 s first-reply timer and a little", setups[0])
	}
	for i, s := range setups[1:] {
		if s > 1 {
			t.Errorf("call %d after the kill took %.2f s to answer: the dead node is still in the rotation", i+2, s)
		}
	}
	if _, ok := c.proxy.waitState(dead, "I", 10*time.Second); !ok {
		t.Errorf("the dead node is still active in the dispatcher")
	}
	t.Logf("INVITE to answer (answer_delay 0.5 s): %.3f s before the kill; the calls after it %v s (the first tried the dead node first, which took it out); all three done %.1f s after the kill",
		normal, setups, time.Since(killed).Seconds())
}

// TestKamailioConfig: deploy/kamailio/kamailio.cfg passes `kamailio -c` as
// it ships and with settings given on the command line.
func TestKamailioConfig(t *testing.T) {
	kam := needTool(t, "kamailio")
	for _, defs := range [][]string{nil, {"-A", "PUBLIC_PORT=5999", "-A", "NODES_IP=127.0.0.2", "-A", `TRUNKS="10.0.0.0/8,192.0.2.7/32"`, "-A", "FR_NODE=1500"}} {
		out, err := exec.Command(kam, append([]string{"-c", "-f", kamailioConfig(t)}, defs...)...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "config file ok") {
			t.Errorf("kamailio -c %v: %v\n%s", defs, err, out)
		}
	}
}
