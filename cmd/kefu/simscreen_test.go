package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/flows/screen"
	"github.com/kefu-hotline/kefu/flows/screen/screentest"
	"github.com/kefu-hotline/kefu/flows/store"
)

// screeningRe is the default configuration's screening block: from
// "screening:" at the start of a line to the next blank line.
var screeningRe = regexp.MustCompile(`(?ms)^screening:\n.*?\n\n`)

// withScreening returns the path of a copy of the default configuration
// whose screening block is block (YAML, ending in a newline), so that a
// test states the policy it tests whatever the default file says.
func withScreening(t *testing.T, block string) string {
	t.Helper()
	def := string(flows.DefaultYAML())
	cfg := screeningRe.ReplaceAllLiteralString(def, block+"\n")
	if cfg == def {
		cfg = def + "\n" + block
	}
	file := filepath.Join(t.TempDir(), "kefu.yaml")
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// proposedScreening is the screening block proposed for the default
// configuration: the defaults of CS-NUISANCE and CS-ANGRY, spelled out.
const proposedScreening = `screening:
  repeat_calls: 10
  repeat_window: 10m
  repeat_block: 1h
  repeat_spare: 1h
  repeat_action: route
  anonymous: allow
  nuisance_flow: nuisance
  nuisance_queue: false
  system_down_flows: [down]
`

// TestSimulateScreening: `kefu simulate -from NUMBER` screens the call as
// a live INVITE is screened (CS-NUISANCE), against the data store's
// nuisance list, open records and the -calls served before it, and shows
// what that caller hears; the store is read, never written.
func TestSimulateScreening(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []screen.Entry{
		{Pattern: "13800000001", Reason: "abusive", AddedBy: "ops", AddedAt: time.Now(), Action: screen.Action{Kind: screen.Reject, Code: 486}},
		{Pattern: "13900000002", Reason: "spam", AddedBy: "ops", AddedAt: time.Now(), Action: screen.DefaultAction},
	} {
		if _, err := st.PutEntry(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.AddCallback(context.Background(), records.Callback{CallID: "c0", Caller: "13600000004", Number: "13600000004", Reason: "system_down", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	cfg := withScreening(t, proposedScreening)
	reject := withScreening(t, "screening:\n  repeat_action: reject 603\n")
	at := "-at=2026-12-07T10:00:00+08:00"
	for _, tc := range []struct {
		name string
		args []string
		want []string
		not  []string
	}{
		{"listed, refused (ops' choice)", []string{"-from", "13800000001"}, []string{"screen reject 486 (list entry 1)", "refused before the answer with 486"}, []string{" say "}},
		{"listed in another form, the nuisance path", []string{"-from", "+86 139 0000 0002"}, []string{"flow nuisance", "screen route nuisance (list entry 2)", "say    nuisance", "hung up by"}, nil},
		{"repeat caller over the limit", []string{"-from", "13700000003", "-calls", "10"}, []string{"flow nuisance", "screen route nuisance (repeat)", "say    nuisance"}, []string{"refused"}},
		{"repeat caller at the limit", []string{"-from", "13700000003", "-calls", "9"}, []string{"flow hotline", "say    greet.morning"}, []string{"screen"}},
		{"repeat caller with an open callback", []string{"-from", "13600000004", "-calls", "11"}, []string{"flow hotline", "screen allow (repeat, spared: callback)", "say    greet.morning"}, []string{"nuisance"}},
		{"repeat caller refused (ops' choice)", []string{"-config", reject, "-from", "13700000003", "-calls", "10"}, []string{"screen reject 603 (repeat)", "refused before the answer with 603"}, nil},
		{"a flow named outright is not screened", []string{"-from", "13800000001", "-flow", "hotline"}, []string{"say    greet.morning"}, []string{"screen"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			args := append([]string{"-data", dir, "-config", cfg, at, "-caller", "hangup@6s"}, tc.args...)
			if code := cmdSimulate(args, &out, &errb); code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			for _, n := range tc.not {
				if strings.Contains(out.String(), n) {
					t.Errorf("output has %q:\n%s", n, out.String())
				}
			}
		})
	}
	// Simulating counted nothing: the number is still not flagged, nor
	// proposed.
	st, err = store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if flags, err := st.Flags(context.Background(), time.Now()); err != nil || len(flags) != 0 {
		t.Errorf("flags after simulating: %v, %v; want none", flags, err)
	}
	if ps, err := st.Proposals(context.Background(), true); err != nil || len(ps) != 0 {
		t.Errorf("proposals after simulating: %v, %v; want none", ps, err)
	}
	if n, _, err := st.CountCalls(context.Background(), "13700000003", time.Now(), time.Hour); err != nil || n != 0 {
		t.Errorf("calls counted after simulating: %d, %v; want none", n, err)
	}
}

// TestProposedScreeningIsDefault: the block proposed for the default
// configuration spells out the defaults.
func TestProposedScreeningIsDefault(t *testing.T) {
	b, err := flows.Load(withScreening(t, proposedScreening))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Screen(&screentest.Memory{}, time.Now, nil); err != nil {
		t.Fatal(err)
	}
	def, err := screen.New(&screentest.Memory{}, screen.Config{}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := b.Screener.Config(), def.Config(); got != want {
		t.Errorf("proposed block %+v, want the defaults %+v", got, want)
	}
	if b.Config.NuisanceFlow() != flows.DefaultNuisanceFlow || !b.Config.SystemDown(flows.DefaultSystemDownFlow) {
		t.Errorf("nuisance flow %q", b.Config.NuisanceFlow())
	}
}
