package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows"
)

// TestIntegrationRejectBeforeAnswer: a flow whose first step branches on
// the caller number refuses a listed caller with the configured SIP code
// before answering, and still answers everybody else.
func TestIntegrationRejectBeforeAnswer(t *testing.T) {
	integration(t)
	t.Parallel()
	cfg := strings.Replace(string(flows.DefaultYAML()), "    steps:\n", `    steps:
      - name: screen
        branch:
          cases:
            - caller: "^400"
              goto: block
          else: open
      - name: block
        reject:
          code: 486
          reason: test-list
`, 1)
	file := configFile(t, cfg)
	a := startAgent(t, "-config", file)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	evs, code, out := dial(t, ctx, a, "-from", "sip:4001234567@127.0.0.1", "-max", "10s")
	if f, ok := find(evs, "final"); code == 0 || !ok || f.Code != 486 {
		t.Errorf("listed caller: exit %d, want a final 486\n%s", code, out)
	}
	if _, ok := find(evs, "answered"); ok {
		t.Errorf("listed caller was answered\n%s", out)
	}
	evs, code, out = dial(t, ctx, a, "-from", "sip:13812345678@127.0.0.1", "-for", "2s")
	if _, ok := find(evs, "answered"); code != 0 || !ok {
		t.Errorf("other caller not answered (exit %d)\n%s", code, out)
	}
	if !a.waitLog(`"code":486`, 5*time.Second) {
		t.Errorf("the refusal is not in kefu's log")
	}
}
