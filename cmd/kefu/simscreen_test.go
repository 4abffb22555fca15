package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/screen"
	"github.com/kefu-hotline/kefu/flows/store"
)

// TestSimulateScreening: `kefu simulate -from NUMBER` screens the call as
// a live INVITE is screened (CS-NUISANCE), against the data store's
// nuisance list and the -calls before it, and shows what that caller
// hears; the store is read, never written.
func TestSimulateScreening(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []screen.Entry{
		{Pattern: "13800000001", Reason: "abusive", AddedBy: "ops", AddedAt: time.Now(), Action: screen.Action{Kind: screen.Reject, Code: 486}},
		{Pattern: "13900000002", Reason: "spam", AddedBy: "ops", AddedAt: time.Now(), Action: screen.Action{Kind: screen.Route, Target: "nuisance"}},
	} {
		if _, err := st.PutEntry(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	at := "-at=2026-12-07T10:00:00+08:00"
	for _, tc := range []struct {
		name string
		args []string
		want []string
		not  []string
	}{
		{"listed, refused", []string{"-from", "13800000001"}, []string{"screen reject 486 (list entry 1)", "refused before the answer with 486"}, []string{" say "}},
		{"listed in another form, routed", []string{"-from", "+86 139 0000 0002"}, []string{"flow nuisance", "screen route nuisance (list entry 2)", "say    nuisance", "hung up by caller"}, nil},
		{"repeat caller over the limit", []string{"-from", "13700000003", "-calls", "5"}, []string{"screen reject 603 (repeat)", "refused before the answer with 603"}, nil},
		{"repeat caller at the limit", []string{"-from", "13700000003", "-calls", "4"}, []string{"flow hotline", "say    greet.morning"}, []string{"screen"}},
		{"a flow named outright is not screened", []string{"-from", "13800000001", "-flow", "hotline"}, []string{"say    greet.morning"}, []string{"screen"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			args := append([]string{"-data", dir, at, "-caller", "hangup@6s"}, tc.args...)
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
	// Simulating counted nothing: the number is still not flagged.
	st, err = store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if flags, err := st.Flags(context.Background(), time.Now()); err != nil || len(flags) != 0 {
		t.Errorf("flags after simulating: %v, %v; want none", flags, err)
	}
}
