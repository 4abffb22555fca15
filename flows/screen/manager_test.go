package screen_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/screen"
	"github.com/kefu-hotline/kefu/flows/screen/screentest"
)

func TestManagerValidation(t *testing.T) {
	past := screentest.T0.Add(-time.Minute)
	future := screentest.T0.Add(time.Hour)
	ok := screen.AddRequest{Pattern: "13812345678", Reason: "abuse", AddedBy: "ops"}
	with := func(f func(*screen.AddRequest)) screen.AddRequest { r := ok; f(&r); return r }
	onlyNuisance := screen.WithTargets(func(name string) error {
		if name != "nuisance" {
			return errors.New("unknown route; config has: nuisance")
		}
		return nil
	})
	m := screen.NewManager(&screentest.Memory{}, screentest.NewClock(screentest.T0).Now, onlyNuisance)
	for _, tc := range []struct {
		name  string
		req   screen.AddRequest
		field string
		msg   string
	}{
		{"regex", with(func(r *screen.AddRequest) { r.Pattern = "^138.*" }), "pattern", "regular expressions are not patterns"},
		{"short prefix", with(func(r *screen.AddRequest) { r.Pattern = "1*" }), "pattern", "at least 3 digits"},
		{"no reason", with(func(r *screen.AddRequest) { r.Reason = "" }), "reason", "is required"},
		{"long reason", with(func(r *screen.AddRequest) { r.Reason = strings.Repeat("骚", 201) }), "reason", "at most 200"},
		{"no added_by", with(func(r *screen.AddRequest) { r.AddedBy = "" }), "added_by", "is required"},
		{"bad utf-8", with(func(r *screen.AddRequest) { r.AddedBy = "\xff" }), "added_by", "UTF-8"},
		{"past expiry", with(func(r *screen.AddRequest) { r.ExpiresAt = &past }), "expires_at", "not in the future"},
		{"both expiries", with(func(r *screen.AddRequest) { r.ExpiresAt = &future; r.TTL = "1h" }), "ttl", "not both"},
		{"bad ttl", with(func(r *screen.AddRequest) { r.TTL = "1 day" }), "ttl", "positive duration"},
		{"negative ttl", with(func(r *screen.AddRequest) { r.TTL = "-1h" }), "ttl", "positive duration"},
		{"allow", with(func(r *screen.AddRequest) { r.Action = screen.Action{Kind: screen.Allow} }), "action", "remove the entry"},
		{"code 200", with(func(r *screen.AddRequest) { r.Action = screen.Action{Kind: screen.Reject, Code: 200} }), "code", "not a rejection code"},
		{"code 407", with(func(r *screen.AddRequest) { r.Action = screen.Action{Kind: screen.Reject, Code: 407} }), "code", "challenge"},
		{"reject with target", with(func(r *screen.AddRequest) { r.Action = screen.Action{Kind: screen.Reject, Target: "q"} }), "target", "not a target"},
		{"route to a URI", with(func(r *screen.AddRequest) { r.Action = screen.Action{Kind: screen.Route, Target: "sip:1@x"} }), "target", "not a route name"},
		{"route unknown", with(func(r *screen.AddRequest) { r.Action = screen.Action{Kind: screen.Route, Target: "vip"} }), "target", "config has: nuisance"},
		{"route with code", with(func(r *screen.AddRequest) { r.Action = screen.Action{Kind: screen.Route, Code: 486} }), "code", "not a code"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.Add(t.Context(), tc.req)
			var ve *screen.ValidationError
			if !errors.Is(err, screen.ErrInvalid) || !errors.As(err, &ve) || ve.Field != tc.field || !strings.Contains(ve.Msg, tc.msg) {
				t.Fatalf("error %v; want field %s about %q", err, tc.field, tc.msg)
			}
			if strings.Contains(err.Error(), "13812345678") {
				t.Errorf("error shows the number: %v", err)
			}
		})
	}
	if _, err := m.Add(t.Context(), ok); err != nil {
		t.Fatalf("valid request: %v", err)
	}
	if err := m.Remove(t.Context(), "^1"); !errors.Is(err, screen.ErrInvalid) {
		t.Errorf("remove with a bad pattern: %v", err)
	}
	if err := m.ClearFlag(t.Context(), " "); !errors.Is(err, screen.ErrInvalid) {
		t.Errorf("clear without a number: %v", err)
	}
}

// TestManagerAdd: defaults (the nuisance path: a rejection is ops'
// choice), expiry, re-adding updates in place, and the JSON the HTTP API
// sends.
func TestManagerAdd(t *testing.T) {
	clk := screentest.NewClock(screentest.T0)
	m := screen.NewManager(&screentest.Memory{}, clk.Now)
	e, err := m.Add(t.Context(), screen.AddRequest{Pattern: "138 1234 5678", Reason: "骚扰电话", AddedBy: "ops:li", TTL: "24h"})
	if err != nil {
		t.Fatal(err)
	}
	if e.Pattern != "13812345678" || e.Action != (screen.Action{Kind: screen.Route, Target: "nuisance"}) ||
		!e.AddedAt.Equal(screentest.T0) || e.ExpiresAt == nil || !e.ExpiresAt.Equal(screentest.T0.Add(24*time.Hour)) {
		t.Fatalf("entry %+v", e)
	}
	clk.Advance(time.Hour)
	e2, err := m.Add(t.Context(), screen.AddRequest{Pattern: "13812345678", Reason: "again", AddedBy: "ops:wang",
		Action: screen.Action{Kind: screen.Reject}})
	if err != nil {
		t.Fatal(err)
	}
	if e2.ID != e.ID || e2.ExpiresAt != nil || e2.Reason != "again" || e2.Action != (screen.Action{Kind: screen.Reject, Code: 603}) {
		t.Fatalf("re-added %+v, want the same ID, no expiry, the new reason and action", e2)
	}
	es, err := m.List(t.Context(), false)
	if err != nil || len(es) != 1 {
		t.Fatalf("list %v %v", es, err)
	}
	b, err := json.Marshal(es[0])
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":1,"pattern":"13812345678","reason":"again","added_by":"ops:wang","added_at":"2026-11-23T11:00:00+08:00","action":{"kind":"reject","code":603}}`
	if string(b) != want {
		t.Errorf("JSON %s\nwant %s", b, want)
	}
	var req screen.AddRequest
	if err := json.Unmarshal([]byte(`{"pattern":"400*","reason":"spam","added_by":"api","ttl":"30m","action":{"kind":"reject","code":486}}`), &req); err != nil {
		t.Fatal(err)
	}
	if e, err := m.Add(t.Context(), req); err != nil || e.Action.Code != 486 || !e.ExpiresAt.Equal(clk.Now().Add(30*time.Minute)) {
		t.Fatalf("from JSON: %+v %v", e, err)
	}
}
