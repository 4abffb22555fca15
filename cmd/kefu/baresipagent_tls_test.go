package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
)

// TestIntegrationBaresipAgentTLS (issue 14): an agent's baresip registers
// to kefu over TLS (transport=tls, kefu's certificate as its CA file) and
// is rung over TLS: kefu's INVITE goes back over the connection the phone
// opened (the registration's source), since kefu opens TLS connections to
// trunks only, and baresip answers a queued caller by itself.
func TestIntegrationBaresipAgentTLS(t *testing.T) {
	integration(t)
	t.Parallel()
	baresip := needTool(t, "baresip")
	dir := t.TempDir()
	certFile, keyFile := testCert(t, dir, "kefu")
	tlsAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	a := startAgent(t, "-config", configFile(t, twoAgentsConfig), "-tls-listen", tlsAddr, "-tls-cert", certFile, "-tls-key", keyFile)
	silence := filepath.Join(dir, "silence.wav")
	writeSilenceWAV(t, silence, 60*time.Second)
	writeBaresipConfig(t, dir, freePort(t), silence, "stdio")
	f, err := os.OpenFile(filepath.Join(dir, "config"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString("sip_cafile " + certFile + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "accounts"),
		fmt.Sprintf("<sip:8001@%s;transport=tls>;auth_pass=secret-8001;regint=600;answermode=auto\n", tlsAddr))
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
	reg := a.waitEntry(t, "agent registered", 10*time.Second)
	t.Logf("baresip registered at %s", reg.str("contact"))
	if !strings.Contains(reg.str("contact"), "transport=tls") {
		t.Errorf("the agent registered %v; want its TLS connection as the contact", reg)
	}
	for st := agentStates(t, a)["8001"]; !st.Registered || st.State != agents.Available; st = agentStates(t, a)["8001"] {
		select {
		case <-ctx.Done():
			t.Fatalf("agent 8001 never available: %+v\n%s", st, tail(out.String(), 3000))
		case <-time.After(100 * time.Millisecond): // polling the ops API
		}
	}

	dialRecordedNoAudio(t, ctx, a, "-for", "8s")
	if e := a.waitEntry(t, "agent answered", 5*time.Second); e.str("agent") != "8001" {
		t.Errorf("agent answered: %v", e)
	}
	a.waitEntry(t, "agent call ended", 5*time.Second)
	if log := a.log.String(); strings.Contains(log, "tls: ") || strings.Contains(log, "could not end the call") {
		t.Errorf("kefu's TLS to the agent's phone:\n%s", log)
	}
}
