package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestIntegrationNuisance: a number put on the nuisance list through the
// ops API is refused before answer with the entry's code; a number that
// calls more than 5 times within 10 minutes is refused (603) from its 6th
// call; every other caller keeps being answered.
func TestIntegrationNuisance(t *testing.T) {
	integration(t)
	t.Parallel()
	a := startAgent(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()

	body := `{"pattern":"4001234567","reason":"harassing calls","added_by":"test","ttl":"1h","action":{"kind":"reject","code":486}}`
	resp, err := http.Post("http://"+a.http+"/api/nuisance", "application/json", bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/nuisance: %d", resp.StatusCode)
	}
	bad, _ := http.Post("http://"+a.http+"/api/nuisance", "application/json", bytes.NewBufferString(`{"pattern":"^4.*","reason":"x","added_by":"y"}`))
	if bad != nil {
		bad.Body.Close()
		if bad.StatusCode != http.StatusBadRequest {
			t.Errorf("a regex pattern got %d, want 400", bad.StatusCode)
		}
	}

	evs, code, out := dial(t, ctx, a, "-from", "sip:4001234567@127.0.0.1", "-max", "10s")
	if f, ok := find(evs, "final"); code == 0 || !ok || f.Code != 486 {
		t.Errorf("listed number: want a final 486\n%s", out)
	}

	for i := 1; i <= 6; i++ {
		evs, code, out := dial(t, ctx, a, "-from", "sip:13900009999@127.0.0.1", "-for", "300ms", "-max", "10s")
		_, answered := find(evs, "answered")
		if i <= 5 && (!answered || code != 0) {
			t.Fatalf("call %d of a repeat caller not answered\n%s", i, out)
		}
		if i == 6 {
			if f, ok := find(evs, "final"); answered || !ok || f.Code != 603 {
				t.Errorf("6th call within 10 minutes: want a final 603\n%s", out)
			}
		}
	}
	evs, code, out = dial(t, ctx, a, "-from", "sip:13812345678@127.0.0.1", "-for", "300ms")
	if _, ok := find(evs, "answered"); !ok || code != 0 {
		t.Errorf("another caller was not answered\n%s", out)
	}
	if !a.waitLog(`"nuisance call"`, 5*time.Second) || !a.waitLog(`"reason":"repeat"`, 5*time.Second) {
		t.Errorf("kefu's log lacks the verdicts")
	}
	m := a.metrics()
	for _, want := range []string{`kefu_screened_total{kind="reject",reason="list"} 1`, `kefu_screened_total{kind="reject",reason="repeat"} 1`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
