package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/screen"
	"github.com/kefu-hotline/kefu/flows/store"
)

// TestNuisanceCLIProposals: `kefu nuisance proposed` lists what the
// repeat-call rule proposed, `confirm ID` puts the number on the list
// (the nuisance path unless -reject) with who confirmed, `reject ID` closes
// it; a decided proposal is refused; `add` defaults to the nuisance path.
func TestNuisanceCLIProposals(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, n := range []string{"13812345678", "13900000000"} {
		if _, err := st.Propose(context.Background(), screen.Proposal{Number: n, Reason: "repeat-call rule: 11 calls within 10m0s", Calls: 11, Since: now, Until: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	run := func(want int, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := cmdNuisance(append([]string{"-data", dir}, args...), &out, &errb); code != want {
			t.Fatalf("kefu nuisance %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out.String(), errb.String())
		}
		return out.String() + errb.String()
	}
	var ps []screen.Proposal
	if err := json.Unmarshal([]byte(run(0, "proposed")), &ps); err != nil || len(ps) != 2 || ps[1].Number != "13812345678" || ps[1].Status != screen.Proposed {
		t.Fatalf("proposed: %+v %v", ps, err)
	}
	var p screen.Proposal
	if err := json.Unmarshal([]byte(run(0, "confirm", "-by", "ops:li", "1")), &p); err != nil || p.Status != screen.Confirmed || p.DecidedBy != "ops:li" || p.EntryID == 0 {
		t.Fatalf("confirm: %+v %v", p, err)
	}
	if out := run(1, "reject", "-by", "ops:wang", "1"); !strings.Contains(out, "already decided") {
		t.Errorf("reject a confirmed proposal: %s", out)
	}
	if out := run(1, "confirm", "2"); !strings.Contains(out, "by: is required") {
		t.Errorf("confirm without -by: %s", out)
	}
	run(2, "confirm", "-by", "x", "two")
	run(0, "reject", "-by", "ops:wang", "2")
	if out := run(0, "proposed"); strings.TrimSpace(out) != "[]" {
		t.Errorf("open proposals after both were decided: %s", out)
	}
	if err := json.Unmarshal([]byte(run(0, "proposed", "-all")), &ps); err != nil || len(ps) != 2 || ps[0].Status != screen.Rejected {
		t.Fatalf("proposed -all: %+v %v", ps, err)
	}
	run(0, "add", "-reason", "abuse", "-by", "ops", "400*")
	run(0, "add", "-reason", "abuse", "-by", "ops", "-reject", "486", "401*")
	var es []screen.Entry
	if err := json.Unmarshal([]byte(run(0, "list")), &es); err != nil || len(es) != 3 {
		t.Fatalf("list: %+v %v", es, err)
	}
	for _, e := range es {
		want := screen.DefaultAction
		if e.Pattern == "401*" {
			want = screen.Action{Kind: screen.Reject, Code: 486}
		}
		if e.Action != want {
			t.Errorf("entry %s: %v, want %v", e.Pattern, e.Action, want)
		}
		if e.Pattern == "13812345678" && (e.AddedBy != "ops:li" || !strings.Contains(e.Reason, "proposal 1")) {
			t.Errorf("confirmed entry %+v", e)
		}
	}
}
