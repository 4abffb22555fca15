package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/screen"
	"github.com/kefu-hotline/kefu/prompts"
)

// lineFault is the line-fault message of CS-NUISANCE.
func lineFault(t *testing.T) *prompts.Prompt {
	t.Helper()
	cat, err := prompts.LoadEmbedded("zh-CN")
	if err != nil {
		t.Fatal(err)
	}
	p, ok := cat.Get("nuisance")
	if !ok {
		t.Fatal("no nuisance prompt")
	}
	return p
}

// heardLineFault checks, from the audio a caller heard, that kefu answered
// and said the line-fault message twice, then hung up (CS-NUISANCE): the
// stretches of sound last twice the message (less its ~0.2 s of padding),
// and the recording's loudness envelope matches the message's, twice in a
// row.
func heardLineFault(t *testing.T, evs []timelineEvent, out string, heard []int16) {
	t.Helper()
	if _, ok := find(evs, "answered"); !ok {
		t.Fatalf("not answered\n%s", out)
	}
	p := lineFault(t)
	want := p.Duration().Seconds() - 0.2
	var total float64
	st := stretches(evs)
	for _, s := range st {
		total += s[1] - s[0]
	}
	if len(st) == 0 || len(st) > 2 || math.Abs(total-2*want) > 0.6 {
		t.Errorf("heard %v (%.2f s in all), want the line-fault message twice (2 × %.2f s)\n%s", st, total, want, out)
	}
	if bye, ok := find(evs, "bye_received"); !ok || len(st) == 0 || bye.T-st[len(st)-1][1] > 1 {
		t.Errorf("kefu did not hang up right after the message\n%s", out)
	}
	// The recording may miss the first frames kefu sent and the last
	// ones before the BYE: each copy is matched without its first and
	// last 0.5 s, the second one message after the first.
	const trim = 25
	msg, got := promptEnvelope(p, 0, p.Frames()), envelope(heard)
	core := msg[trim : len(msg)-trim]
	first, s1 := locate(got, core, 0, 75)
	_, s2 := locate(got, core, first+len(msg)-10, first+len(msg)+40)
	// 1.000 on a quiet machine; a machine busy with other calls delays a
	// packet now and then, which costs a few hundredths.
	if s1 < 0.95 || s2 < 0.95 {
		t.Errorf("the recording matches the line-fault message at %.3f, then at %.3f; want 0.95 or more, twice", s1, s2)
	}
}

// api calls kefu's ops API and decodes the JSON reply into v.
func (a *agent) api(method, path, body string, v any) int {
	a.t.Helper()
	req, err := http.NewRequest(method, "http://"+a.http+path, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if v != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(b, v); err != nil {
			a.t.Fatalf("%s %s: %v\n%s", method, path, err, b)
		}
	}
	return res.StatusCode
}

// TestIntegrationNuisanceDefaults: with the default policy (CS-NUISANCE,
// CS-ANGRY) a customer who makes 7 short calls within a minute is served
// on the 7th; a number put on the list without an action is answered with
// the line-fault message, twice, and hung up on; a rejection before the
// answer is ops' choice for a list entry.
func TestIntegrationNuisanceDefaults(t *testing.T) {
	integration(t)
	t.Parallel()
	a := startAgent(t, "-config", withScreening(t, proposedScreening))
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()

	for i := 1; i <= 7; i++ {
		evs, code, out := dial(t, ctx, a, "-from", "sip:13900009999@127.0.0.1", "-for", "300ms", "-max", "10s")
		if _, answered := find(evs, "answered"); !answered || code != 0 {
			t.Fatalf("call %d of 7 within a minute not answered\n%s", i, out)
		}
	}
	hotline := 0
	for _, e := range a.entries("call answered") {
		if e.str("flow") == "hotline" {
			hotline++
		}
	}
	if hotline != 7 {
		t.Errorf("%d of the 7 calls ran the hotline, want 7", hotline)
	}

	if code := a.api("POST", "/api/nuisance", `{"pattern":"4001234567","reason":"harassing calls","added_by":"test","ttl":"1h"}`, nil); code != http.StatusCreated {
		t.Fatalf("POST /api/nuisance: %d", code)
	}
	if code := a.api("POST", "/api/nuisance", `{"pattern":"^4.*","reason":"x","added_by":"y"}`, nil); code != http.StatusBadRequest {
		t.Errorf("a regex pattern got %d, want 400", code)
	}
	evs, out, heard := dialRecorded(t, ctx, a, "-from", "sip:4001234567@127.0.0.1", "-max", "30s")
	heardLineFault(t, evs, out, heard)

	var entry screen.Entry
	if code := a.api("POST", "/api/nuisance", `{"pattern":"4009999999","reason":"abuse","added_by":"test","action":{"kind":"reject","code":486}}`, &entry); code != http.StatusCreated {
		t.Fatalf("POST /api/nuisance with a rejection: %d", code)
	}
	evs, code, out := dial(t, ctx, a, "-from", "sip:4009999999@127.0.0.1", "-max", "10s")
	if f, ok := find(evs, "final"); code == 0 || !ok || f.Code != 486 {
		t.Errorf("a number listed with a rejection: want a final 486\n%s", out)
	}
	// The refusal is logged with the call, the cause and the entry.
	refused := a.waitEntry(t, "call refused", 5*time.Second)
	if v, _ := refused["verdict"].(map[string]any); refused.str("call") == "" || refused.num("code") != 486 || refused.str("cause") != "by screening: list" ||
		v["entry"] != float64(entry.ID) || v["reason"] != "list" {
		t.Errorf("call refused %v; want the Call-ID, by screening: list, entry %d", refused, entry.ID)
	}

	m := a.metrics()
	for _, want := range []string{`kefu_screened_total{kind="route",reason="list"} 1`, `kefu_screened_total{kind="reject",reason="list"} 1`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(m, `reason="repeat"`) {
		t.Errorf("the repeat-call rule took a customer for a nuisance:\n%s", m)
	}
}

// TestIntegrationNuisanceRepeat: with low limits (2 calls a minute), calls
// kefu refuses for reasons of its own (488: no common codec) do not count;
// the 2 served calls are fine; the 3rd call over the limit is answered with
// the line-fault message and the number is proposed for the list
// (/api/nuisance/proposed), where a person confirms it. No number shows in
// kefu's log (CS-PRIVACY).
func TestIntegrationNuisanceRepeat(t *testing.T) {
	integration(t)
	t.Parallel()
	a := startAgent(t, "-config", withScreening(t, "screening:\n  repeat_calls: 2\n  repeat_window: 1m\n"))
	s := newSipp(t, a)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	const number = "13812345678" // uac_488.xml's caller

	for range 3 {
		s.expect(s.run("uac_488.xml", 10*time.Second), 0)
	}
	for i := 1; i <= 2; i++ {
		evs, code, out := dial(t, ctx, a, "-from", "sip:"+number+"@127.0.0.1", "-for", "300ms", "-max", "10s")
		if _, answered := find(evs, "answered"); !answered || code != 0 {
			t.Fatalf("served call %d after three 488s not answered\n%s", i, out)
		}
	}
	if n := len(a.entries("nuisance call")); n != 0 {
		t.Fatalf("%d calls taken for a nuisance after 488s and 2 served calls", n)
	}
	evs, out, heard := dialRecorded(t, ctx, a, "-from", "sip:"+number+"@127.0.0.1", "-max", "30s")
	heardLineFault(t, evs, out, heard)
	if e := a.waitEntry(t, "nuisance call", 2*time.Second); !strings.Contains(fmt.Sprint(e["verdict"]), "repeat") {
		t.Errorf("nuisance call logged %v", e)
	}

	var pp struct{ Items []screen.Proposal }
	if !a.waitLog(`"repeat caller flagged"`, 5*time.Second) {
		t.Fatalf("kefu's log lacks the flag")
	}
	if code := a.api("GET", "/api/nuisance/proposed", "", &pp); code != 200 || len(pp.Items) != 1 || pp.Items[0].Number != number || pp.Items[0].Calls != 3 || pp.Items[0].Status != screen.Proposed {
		t.Fatalf("GET /api/nuisance/proposed: %d %+v", code, pp)
	}
	var p screen.Proposal
	if code := a.api("POST", fmt.Sprintf("/api/nuisance/proposed/%d/confirm", pp.Items[0].ID), `{"by":"ops:li"}`, &p); code != 200 || p.EntryID == 0 {
		t.Fatalf("confirm: %d %+v", code, p)
	}
	var es struct{ Items []screen.Entry }
	if code := a.api("GET", "/api/nuisance", "", &es); code != 200 || len(es.Items) != 1 || es.Items[0].Pattern != number || es.Items[0].AddedBy != "ops:li" {
		t.Fatalf("the list after the confirmation: %d %+v", code, es)
	}
	m := a.metrics()
	for _, want := range []string{`kefu_screened_total{kind="route",reason="repeat"} 1`, `kefu_invites_rejected_total{status="488"} 3`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(a.log.String(), number) {
		t.Errorf("kefu's log shows the caller's number")
	}
}
