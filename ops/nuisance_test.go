package ops_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/screen"
	"github.com/kefu-hotline/kefu/flows/screen/screentest"
	"github.com/kefu-hotline/kefu/ops"
)

// TestNuisanceProposals: the repeat-call rule's proposals over HTTP: list
// them, confirm one (it becomes a list entry, with who confirmed), reject
// another, and the statuses of what cannot be done.
func TestNuisanceProposals(t *testing.T) {
	e := screentest.NewEnv(t, &screentest.Memory{}, screen.Config{})
	for i := range 12 {
		e.Call("13812345678", screentest.T0.Add(time.Duration(i)*time.Second))
		e.Call("13900000000", screentest.T0.Add(time.Duration(i)*time.Second))
	}
	mux := http.NewServeMux()
	ops.MountNuisance(mux, e.M)
	h := ops.API(mux, nil)
	do := func(method, target, body string, v any) (int, string) {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, target, strings.NewReader(body)))
		if v != nil && rec.Code < 300 {
			if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
				t.Fatalf("%s %s: %v\n%s", method, target, err, rec.Body)
			}
		}
		return rec.Code, rec.Body.String()
	}
	var ps page[screen.Proposal]
	if code, body := do("GET", "/api/nuisance/proposed", "", &ps); code != 200 || ps.Total != 2 || len(ps.Items) != 2 || ps.Items[1].Number != "13812345678" || ps.Items[1].Calls != 12 ||
		!strings.Contains(body, `"status":"proposed"`) || !strings.Contains(body, `"reason":"repeat-call rule: 11 calls within 10m0s`) {
		t.Fatalf("proposed: %d %s", code, body)
	}
	var p screen.Proposal
	if code, body := do("POST", "/api/nuisance/proposed/1/confirm", `{"by":"ops:li","ttl":"24h"}`, &p); code != 200 || p.Status != screen.Confirmed || p.DecidedBy != "ops:li" || p.EntryID == 0 {
		t.Fatalf("confirm: %d %s", code, body)
	}
	var es page[screen.Entry]
	if code, body := do("GET", "/api/nuisance", "", &es); code != 200 || es.Total != 1 || es.Items[0].Pattern != "13812345678" || es.Items[0].AddedBy != "ops:li" ||
		es.Items[0].Action != screen.DefaultAction || es.Items[0].ExpiresAt == nil {
		t.Fatalf("list after confirm: %d %s", code, body)
	}
	if code, body := do("POST", "/api/nuisance/proposed/2/reject", `{"by":"ops:wang"}`, &p); code != 200 || p.Status != screen.Rejected {
		t.Fatalf("reject: %d %s", code, body)
	}
	for _, tc := range []struct {
		target, body string
		code         int
	}{
		{"/api/nuisance/proposed/1/reject", `{"by":"ops:wang"}`, http.StatusConflict},
		{"/api/nuisance/proposed/9/confirm", `{"by":"ops:wang"}`, http.StatusNotFound},
		{"/api/nuisance/proposed/x/confirm", `{"by":"ops:wang"}`, http.StatusNotFound},
		{"/api/nuisance/proposed/2/confirm", `{}`, http.StatusBadRequest},
		{"/api/nuisance/proposed/2/confirm", `{"by":"a","colour":"red"}`, http.StatusBadRequest},
		{"/api/nuisance/proposed/2/confirm?by=a", `{"by":"a"}`, http.StatusBadRequest},
	} {
		if code, body := do("POST", tc.target, tc.body, nil); code != tc.code {
			t.Errorf("POST %s %s: %d %s, want %d", tc.target, tc.body, code, body, tc.code)
		}
	}
	if code, body := do("GET", "/api/nuisance/proposed", "", nil); code != 200 || !strings.Contains(body, `"items":[],"total":0`) {
		t.Errorf("open proposals after the decisions: %d %s", code, body)
	}
	if code, body := do("GET", "/api/nuisance/proposed?all=1", "", &ps); code != 200 || ps.Total != 2 || ps.Items[0].ID != 2 {
		t.Errorf("all proposals, newest first: %d %s", code, body)
	}
	if code, body := do("GET", "/api/nuisance/proposed?all=1&limit=1&offset=1", "", &ps); code != 200 || ps.Total != 2 || len(ps.Items) != 1 || ps.Items[0].ID != 1 {
		t.Errorf("second page of one: %d %s", code, body)
	}
}

// page is one page of a list on the wire.
type page[T any] struct {
	Items  []T `json:"items"`
	Total  int `json:"total"`
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
}
