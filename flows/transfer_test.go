package flows

import (
	"strings"
	"testing"
	"time"
)

const transferFlow = `
destinations:
  supervisors: "sip:8001@pbx.example.com"
routes:
  - to: "*"
    flow: f
flows:
  f:
    steps:
      - name: escalate
        say: {prompt: escalate}
      - name: go
        transfer: {to: supervisors, on_fail: callback}
      - name: callback
        say: {prompt: queue.callback}
      - name: end
        close: {}
        exception: a test flow, where a reply to the closing question ends the call
`

// TestTransfer is CS-ESCALATE: the apology, then the call handed to the
// supervisors' queue; the flow ends there without a hang-up. When the
// transfer fails the flow goes on to take a callback.
func TestTransfer(t *testing.T) {
	_, cat := loadDefault(t)
	cfg, err := Parse("t.yaml", []byte(transferFlow))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.CheckPrompts("t.yaml", []byte(transferFlow), cat); err != nil {
		t.Fatal(err)
	}
	f, _ := cfg.Flow("f")
	for _, fails := range []bool{false, true} {
		s := NewSimulation(time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC), nil)
		s.TransferFails = fails
		res, err := s.Run(t.Context(), cfg, f, cat)
		if err != nil {
			t.Fatal(err)
		}
		tl := timeline(s)
		if !fails {
			if res.Transferred != "supervisors" || res.HungUpBy != "transfer" || s.hungUp || strings.Contains(tl, "queue.callback") {
				t.Errorf("transfer: result %+v, hung up %v\n%s", res, s.hungUp, tl)
			}
			if !strings.Contains(tl, "transfer to supervisors (sip:8001@pbx.example.com)") || !strings.Contains(tl, "transfer done by refer") {
				t.Errorf("timeline:\n%s", tl)
			}
			continue
		}
		if res.Transferred != "" || !strings.Contains(tl, "transfer failed") || !strings.Contains(tl, "prompt_start queue.callback") || res.HungUpBy != "agent" {
			t.Errorf("failed transfer: result %+v\n%s", res, tl)
		}
	}
}

// TestTransferDestinations: a transfer goes only to a destination named in
// the file, and a destination must be a SIP URI.
func TestTransferDestinations(t *testing.T) {
	for _, tc := range []struct{ from, to, want string }{
		{"transfer: {to: supervisors, on_fail: callback}", "transfer: {to: sip:110@x, on_fail: callback}", `no destination named "sip:110@x"`},
		{`supervisors: "sip:8001@pbx.example.com"`, `supervisors: "8001"`, "want a SIP URI"},
	} {
		bad := strings.Replace(transferFlow, tc.from, tc.to, 1)
		if _, err := Parse("t.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.to, err, tc.want)
		}
	}
}
