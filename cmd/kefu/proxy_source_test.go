package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
)

// TestIntegrationProxyRealSource: behind Kamailio every request reaches
// the nodes from the proxy's address; the proxy names the real source in
// X-Kefu-Source, which the nodes believe from it (-trusted) alone. Agent
// 8001's phone (baresip) registers through the proxy. A caller who writes
// 8001 in From and dials *2 through the proxy is refused 403 and the
// agent stays available; the phone's own *2 pauses the agent. With -allow
// naming one address, a caller from another loopback address is refused
// 403 behind the proxy (its own address counts, not the trusted proxy's),
// and one from the allowed address is answered.
func TestIntegrationProxyRealSource(t *testing.T) {
	t.Parallel()
	baresip := needTool(t, "baresip")
	c := startHotline(t, hotlineOptions{config: configFile(t, clusterConfig), extra: []string{"-allow", "127.0.0.5"}})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	dir := t.TempDir()
	silence := filepath.Join(dir, "silence.wav")
	writeSilenceWAV(t, silence, 60*time.Second)
	writeBaresipConfig(t, dir, freePort(t), silence, "stdio")
	writeFile(t, filepath.Join(dir, "accounts"), fmt.Sprintf("<sip:8001@%s>;auth_pass=secret-8001;regint=600;answermode=auto\n", c.proxy.sip))
	cmd := exec.CommandContext(ctx, baresip, "-f", dir)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_, _ = io.WriteString(stdin, "/quit\n")
		cancel()
		_ = cmd.Wait()
	}()
	node := c.nodes[0] // the agents' states are shared: any node shows them
	waitAgent := func(what string, ok func(agents.Status) bool) agents.Status {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			st := agentStates(t, node)["8001"]
			if ok(st) {
				return st
			}
			if time.Now().After(deadline) {
				t.Fatalf("agent 8001 never %s: %+v\n%s", what, st, tail(out.String(), 3000))
			}
			select {
			case <-ctx.Done():
				t.Fatal(ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	st := waitAgent("signed in through the proxy", func(s agents.Status) bool { return s.Registered && s.State == agents.Available })
	t.Logf("baresip signed in through the proxy: %s", st.Contact)

	// The spoofer: From 8001, *2, through the proxy, twice (so both nodes
	// see one, whichever the dispatcher picks).
	for i := range 2 {
		code, final, text := dialURI(t, ctx, "sip:*2@"+c.proxy.sip, "-from", "sip:8001@127.0.0.1", "-answer-timeout", "10s")
		if code == 0 || final != 403 {
			t.Errorf("spoofed *2 #%d: exit %d, final %d; want refused with 403\n%s", i+1, code, final, text)
		}
	}
	if st := agentStates(t, node)["8001"]; st.State != agents.Available {
		t.Fatalf("after the spoofed *2 the agent is %+v; want still available", st)
	}
	refused := false
	for _, n := range c.nodes {
		refused = refused || strings.Contains(n.log.String(), "feature codes are dialled from an agent's registered phone only")
	}
	if !refused {
		t.Error("no node logged why it refused the spoofed *2")
	}

	// The real phone's *2 pauses the agent.
	if _, err := io.WriteString(stdin, "/dial *2\n"); err != nil {
		t.Fatal(err)
	}
	waitAgent("paused by the phone's *2", func(s agents.Status) bool { return s.State == agents.Paused })

	// -allow 127.0.0.5: the caller's own address decides, not the proxy's.
	code, final, text := dialURI(t, ctx, "sip:hotline@"+c.proxy.sip, "-listen", "127.0.0.2:0", "-answer-timeout", "10s")
	if code == 0 || final != 403 {
		t.Errorf("a caller at 127.0.0.2 (not in -allow) through the proxy: exit %d, final %d; want 403\n%s", code, final, text)
	}
	code, _, text = dialURI(t, ctx, "sip:hotline@"+c.proxy.sip, "-listen", "127.0.0.5:0", "-for", "1s", "-answer-timeout", "10s")
	if code != 0 {
		t.Errorf("a caller at 127.0.0.5 (in -allow) through the proxy: exit %d\n%s", code, text)
	}
	denied := 0.0
	for _, n := range c.nodes {
		denied += metric(n.tryMetrics(), `kefu_acl_denied_total{method="INVITE"}`)
	}
	if denied != 1 {
		t.Errorf("kefu_acl_denied_total{method=INVITE} over the nodes = %v, want 1", denied)
	}
}

// dialURI runs `kefu dial` to uri and returns its exit code, the status
// of its final response (0 if none) and its output.
func dialURI(t *testing.T, ctx context.Context, uri string, args ...string) (int, int, string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, kefuBinary(t), append(append([]string{"dial"}, args...), uri)...)
	var b strings.Builder
	var stdout strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &b
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("kefu dial: %v", err)
	}
	final := 0
	for line := range strings.SplitSeq(stdout.String(), "\n") {
		var ev timelineEvent
		if json.Unmarshal([]byte(line), &ev) == nil && ev.Ev == "final" {
			final = ev.Code
		}
	}
	return code, final, stdout.String() + b.String()
}
