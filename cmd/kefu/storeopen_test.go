package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/flows/store/pg"
	"github.com/kefu-hotline/kefu/flows/store/pg/pgtest"
)

// TestIntegrationPostgresStore: kefu run -store postgres://… serves a
// call that leaves a callback (the caller keys a number and confirms it);
// /api/callbacks lists it, and it is in the PostgreSQL database, where a
// second kefu started on the same database sees it too. The password
// never shows in kefu's log.
func TestIntegrationPostgresStore(t *testing.T) {
	integration(t)
	t.Parallel()
	srv := pgtest.Need(t, pgtest.Options{})
	dsn, err := srv.NewSchema(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	cfg := configFile(t, `
routes:
  - to: "*"
    flow: cb
flows:
  cb:
    steps:
      - name: ask
        collect:
          callback: requested
          timeout: 30s
          on_fail: bye
      - name: saved
        say: {prompt: callback.saved}
      - name: bye
        say: {prompt: close.bye}
      - name: end
        hangup: {}
`)
	a := startAgent(t, "-config", cfg, "-store", dsn)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	// The number during the prompt (type-ahead), then 1 once the
	// read-back has asked for it.
	var keys []string
	for i, k := range "13812345678#" {
		keys = append(keys, fmt.Sprintf("%c@%.1fs", k, 1+0.2*float64(i)))
	}
	keys = append(keys, "1@25s")
	_, code, out := dial(t, ctx, a, "-from", "sip:13900000009@127.0.0.1", "-keys", strings.Join(keys, ","), "-for", "40s", "-max", "60s")
	if code != 0 {
		t.Fatalf("kefu dial exit %d\n%s", code, out)
	}
	if !a.waitLog(`"detail":"callback.saved"`, 5*time.Second) {
		t.Fatalf("kefu did not save the callback\n%s", out)
	}
	type page struct {
		Total int `json:"total"`
		Items []struct {
			ID     int64  `json:"id"`
			Number string `json:"number"`
			Caller string `json:"caller"`
			Reason string `json:"reason"`
		} `json:"items"`
	}
	list := func(addr string) page {
		t.Helper()
		res, err := httpGet(ctx, "http://"+addr+"/api/callbacks")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var p page
		if err := json.NewDecoder(res.Body).Decode(&p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := list(a.http)
	if p.Total != 1 || len(p.Items) != 1 || p.Items[0].Number != "13812345678" || p.Items[0].Caller != "13900000009" || p.Items[0].Reason != "requested" {
		t.Fatalf("/api/callbacks: %+v; want the callback to 13812345678", p)
	}
	st, err := pg.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sum, err := st.Summary(ctx, time.Now(), time.Time{})
	if err != nil || sum.OpenCallbacks != 1 {
		t.Errorf("the database's summary: %+v %v; want one open callback", sum, err)
	}
	// Another node on the same database lists it.
	b := startAgent(t, "-config", cfg, "-store", dsn)
	if q := list(b.http); q.Total != 1 || len(q.Items) != 1 || q.Items[0].ID != p.Items[0].ID {
		t.Errorf("/api/callbacks on a second node: %+v; want %+v", q, p)
	}
	for _, n := range []*agent{a, b} {
		if l := n.log.String(); strings.Contains(l, srvPassword(dsn)) || !strings.Contains(l, "data store: PostgreSQL") {
			t.Errorf("kefu's log shows the password, or not the store:\n%s", l)
		}
	}
}

// srvPassword is the password in a postgres:// URL.
func srvPassword(dsn string) string {
	_, rest, _ := strings.Cut(dsn, "://")
	userinfo, _, _ := strings.Cut(rest, "@")
	_, pw, _ := strings.Cut(userinfo, ":")
	return pw
}

// httpGet is a GET bound to ctx.
func httpGet(ctx context.Context, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	return http.DefaultClient.Do(req)
}

// TestStoreFlag: -store takes nothing (SQLite) or a postgres:// URL; any
// other value is refused at start with a message that shows no password.
func TestStoreFlag(t *testing.T) {
	for _, v := range []string{"mysql://kefu:s3cret@db/kefu", "kefu.db"} {
		_, err := openStore(t.Context(), &runFlags{store: v, dataDir: t.TempDir()}, nil)
		if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "-store") {
			t.Errorf("-store %s: %v", v, err)
		}
	}
	st, err := openStore(t.Context(), &runFlags{dataDir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, ok := st.(sharedStore); ok {
		t.Error("the default store is a shared one")
	}
}

// TestRecoverOwnRecordings: on a shared store, a node starting recovers
// the complaint whose part file is in its data directory and leaves the
// one another node is recording.
func TestRecoverOwnRecordings(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	mem := new(records.Memory)
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var ids []int64
	for _, id := range []string{"mine", "theirs"} {
		c, err := mem.AddComplaint(ctx, records.Complaint{CallID: id, Caller: "13812345678", Class: "service", At: at,
			Recording: records.RecordingPath("service", at, id), State: records.Recording})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	mine, _ := mem.Complaint(ctx, ids[0])
	writeRecording(t, dir, mine.Recording+records.PartSuffix)
	r, err := records.Recover(ctx, dir, ownRecordings{Backend: mem, dataDir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Interrupted) != 1 || r.Interrupted[0].ID != ids[0] {
		t.Errorf("recovered %+v; want complaint %d alone", r.Interrupted, ids[0])
	}
	if theirs, _ := mem.Complaint(ctx, ids[1]); theirs.State != records.Recording {
		t.Errorf("the other node's complaint is %s", theirs.State)
	}
}
