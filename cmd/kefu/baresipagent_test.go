package main

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
)

// TestIntegrationBaresipAgent: a real softphone, baresip from Debian, is
// an agent: it registers to kefu with its digest password and is available
// at once, answers a queued caller by itself, then dials *2 (pause: kefu
// confirms and hangs up; the agent is paused), and its call to an outside
// number is refused (agents' phones dial feature codes only).
func TestIntegrationBaresipAgent(t *testing.T) {
	integration(t)
	t.Parallel()
	baresip := needTool(t, "baresip")
	a := startAgent(t, "-config", configFile(t, twoAgentsConfig))
	dir := t.TempDir()
	silence := filepath.Join(dir, "silence.wav")
	writeSilenceWAV(t, silence, 60*time.Second)
	port := freePort(t)
	writeBaresipConfig(t, dir, port, silence, "stdio")
	writeFile(t, filepath.Join(dir, "accounts"), fmt.Sprintf("<sip:8001@%s>;auth_pass=secret-8001;regint=600;answermode=auto\n", a.sip))
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
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
	waitAgent := func(what string, ok func(agents.Status) bool) agents.Status {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			st := agentStates(t, a)["8001"]
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
	st := waitAgent("signed in", func(s agents.Status) bool { return s.Registered && s.State == agents.Available })
	t.Logf("baresip signed in at %s", st.Contact)

	// A queued caller is answered by baresip.
	dialRecordedNoAudio(t, ctx, a, "-for", "10s")
	if e := a.waitEntry(t, "agent answered", 5*time.Second); e.str("agent") != "8001" {
		t.Errorf("agent answered: %v", e)
	}
	a.waitEntry(t, "agent call ended", 5*time.Second)

	// *2 from the agent's phone: paused, with kefu's confirmation.
	if _, err := io.WriteString(stdin, "/dial *2\n"); err != nil {
		t.Fatal(err)
	}
	st = waitAgent("paused by *2", func(s agents.Status) bool { return s.State == agents.Paused })
	if st.Reason != "break" {
		t.Errorf("paused with reason %q, want break", st.Reason)
	}
	confirmed := false
	for range 50 {
		for _, e := range a.entries("flow") {
			confirmed = confirmed || e.str("what") == "prompt_end" && e.str("detail") == "agent.paused"
		}
		if confirmed {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	if !confirmed {
		t.Errorf("kefu did not confirm the pause (agent.paused)")
	}
	// An outside number from the agent's phone: refused.
	if _, err := io.WriteString(stdin, "/dial 013800138000\n"); err != nil {
		t.Fatal(err)
	}
	if e := a.waitEntry(t, "call refused", 10*time.Second); e.num("code") != 403 {
		t.Errorf("the agent's outside call: %v; want 403", e)
	}
}
