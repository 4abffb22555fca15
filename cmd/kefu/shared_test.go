package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/flows/store/pg"
	"github.com/kefu-hotline/kefu/flows/store/pg/pgtest"
)

// sharedNodes starts two kefu nodes on one new PostgreSQL schema with
// config cfg and extra flags.
func sharedNodes(t *testing.T, cfg string, extra ...string) (a, b *agent) {
	t.Helper()
	srv := pgtest.Need(t, pgtest.Options{})
	dsn, err := srv.NewSchema(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-config", cfg, "-store", dsn}, extra...)
	return startAgent(t, args...), startAgent(t, args...)
}

// TestIntegrationSharedList: a number put on the nuisance list through
// node A's ops API is refused by node B on the next call (issue 17: in
// force on every node within a second; B reads its list from memory, kept
// fresh by PostgreSQL's notifications); taken off through B, A serves it
// again.
func TestIntegrationSharedList(t *testing.T) {
	integration(t)
	t.Parallel()
	a, b := sharedNodes(t, withScreening(t, ""))
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	const number = "4009999999"
	if code := a.api("POST", "/api/nuisance", `{"pattern":"`+number+`","reason":"abuse","added_by":"test","action":{"kind":"reject","code":486}}`, nil); code != http.StatusCreated {
		t.Fatalf("POST /api/nuisance on A: %d", code)
	}
	listed := time.Now()
	evs, code, out := dial(t, ctx, b, "-from", "sip:"+number+"@127.0.0.1", "-max", "10s")
	if f, ok := find(evs, "final"); code == 0 || !ok || f.Code != 486 {
		t.Fatalf("node B, a number listed on A: want a final 486\n%s", out)
	}
	refused := b.waitEntry(t, "call refused", 5*time.Second)
	if refused.str("cause") != "by screening: list" {
		t.Errorf("node B refused the call: %v", refused)
	}
	t.Logf("listed on A, refused by B %v later (including kefu dial's start)", time.Since(listed).Round(time.Millisecond))

	if code := b.api("DELETE", "/api/nuisance/"+number, "", nil); code != http.StatusNoContent && code != http.StatusOK {
		t.Fatalf("DELETE /api/nuisance on B: %d", code)
	}
	evs, code, out = dial(t, ctx, a, "-from", "sip:"+number+"@127.0.0.1", "-for", "300ms", "-max", "10s")
	if _, answered := find(evs, "answered"); !answered || code != 0 {
		t.Errorf("node A, a number taken off the list on B: not answered\n%s", out)
	}
}

// TestIntegrationSharedRegistration: an agent whose phone (kefu agent)
// registered through node A is rung for a caller node B answered, and
// takes the call; the registration is in the shared database, where
// every node's registrar finds it.
func TestIntegrationSharedRegistration(t *testing.T) {
	integration(t)
	t.Parallel()
	srv := pgtest.Need(t, pgtest.Options{})
	dsn, err := srv.NewSchema(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	cfg := configFile(t, clusterConfig)
	a := startAgent(t, "-config", cfg, "-store", dsn)
	b := startAgent(t, "-config", cfg, "-store", dsn)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	ph := startPhone(t, a, "-id", "8001", "-password", "secret-8001", "-answer-after", "500ms", "-hangup-after", "2s", "-for", "60s")
	ph.wait(t, "registered", 10*time.Second)
	st, err := pg.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if doc, err := st.BindingsDoc(ctx, "8001"); err != nil || doc == nil {
		t.Fatalf("8001's bindings in the database: %s %v", doc, err)
	}
	evs, code, out := dial(t, ctx, b, "-from", "sip:13800000001@127.0.0.1", "-for", "8s", "-max", "30s")
	if _, answered := find(evs, "answered"); !answered || code != 0 {
		t.Fatalf("the caller on B not answered\n%s", out)
	}
	offered := ph.wait(t, "offered", 15*time.Second)
	if !strings.Contains(fmt.Sprint(offered["from"]), "13800000001") {
		t.Errorf("the agent was offered %v; want B's caller", offered)
	}
	if !b.waitLog(`"agent answered"`, 10*time.Second) {
		t.Errorf("node B did not ring 8001 (registered through A)\n%s", grepLines(b.log.String(), "agent"))
	}
}

// TestIntegrationSharedRecordings: with one folder mounted as recordings/
// in both nodes' data directories (here a symbolic link), a complaint
// recorded on node A is served by node B's API, byte for byte.
func TestIntegrationSharedRecordings(t *testing.T) {
	integration(t)
	t.Parallel()
	srv := pgtest.Need(t, pgtest.Options{})
	dsn, err := srv.NewSchema(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	shared := t.TempDir()
	dataA, dataB := t.TempDir(), t.TempDir()
	for _, d := range []string{dataA, dataB} {
		if err := os.Symlink(shared, filepath.Join(d, records.RecordingsDir)); err != nil {
			t.Fatal(err)
		}
	}
	cfg := configFile(t, crashConfig)
	a := startAgent(t, "-config", cfg, "-store", dsn, "-data", dataA)
	b := startAgent(t, "-config", cfg, "-store", dsn, "-data", dataB)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	speech := filepath.Join("..", "..", "testdata", "audio", "zh-speech-20.wav")
	if _, code, out := dial(t, ctx, a, "-from", "sip:13812345678@127.0.0.1", "-play", speech, "-for", "6s", "-max", "30s"); code != 0 {
		t.Fatalf("kefu dial exit %d\n%s", code, out)
	}
	var page struct {
		Items []struct {
			ID        int64  `json:"id"`
			Recording string `json:"recording"`
			State     string `json:"state"`
		} `json:"items"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(page.Items) == 0 || page.Items[0].State == string(records.Recording) {
		if time.Now().After(deadline) {
			t.Fatalf("no recorded complaint on B's API: %+v", page)
		}
		if code := b.api("GET", "/api/complaints", "", &page); code != http.StatusOK {
			t.Fatalf("GET /api/complaints on B: %d", code)
		}
		if len(page.Items) == 0 || page.Items[0].State == string(records.Recording) {
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	c := page.Items[0]
	want, err := os.ReadFile(filepath.Join(dataA, filepath.FromSlash(c.Recording)))
	if err != nil {
		t.Fatal(err)
	}
	res, err := httpGet(ctx, fmt.Sprintf("http://%s/api/complaints/%d/recording", b.http, c.ID))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK || !bytes.Equal(got, want) || len(want) < 44+8000 {
		t.Errorf("node B serves complaint %d's recording (made on A): %d, %d bytes of %d, %v", c.ID, res.StatusCode, len(got), len(want), err)
	}
}
