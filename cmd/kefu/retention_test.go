package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/flows/store"
)

// seedRetention fills a data directory with a store holding, 100 days
// before now, a complaint replied to and one still open, and today one
// more, each with its recording; and an old recording no complaint
// names. It returns the files.
func seedRetention(t *testing.T, dir string, now time.Time) (oldReplied, oldOpen, recent, orphan string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	old := now.Add(-100 * 24 * time.Hour)
	add := func(id string, at time.Time, replied bool) string {
		t.Helper()
		rel := records.RecordingPath("service", at, id)
		c, err := st.AddComplaint(ctx, records.Complaint{CallID: id, Caller: "13812345678", Class: "service", At: at, Recording: rel, Duration: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if replied {
			if err := st.MarkComplaintReplied(ctx, c.ID, at.Add(time.Hour), "ops"); err != nil {
				t.Fatal(err)
			}
		}
		writeRecording(t, dir, rel)
		return rel
	}
	oldReplied = add("old-replied", old, true)
	oldOpen = add("old-open", old.Add(time.Minute), false)
	recent = add("recent", now.Add(-time.Hour), true)
	orphan = records.RecordingPath("service", old.Add(2*time.Minute), "orphan") // a finished file: kefu run's recovery lists part files as complaints
	writeRecording(t, dir, orphan)
	return
}

func writeRecording(t *testing.T, dir, rel string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("RIFF"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func exists(dir, rel string) bool {
	_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel)))
	return err == nil
}

// TestRetentionPurge: a purge removes the replied complaint and its
// recording and the orphan part file in an old day folder, keeps the open
// complaint's recording and today's, and says what it kept.
func TestRetentionPurge(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	oldReplied, oldOpen, recent, orphan := seedRetention(t, dir, now)
	st, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var logs bytes.Buffer
	r := &retention{days: 30, dir: dir, st: st, log: slog.New(slog.NewJSONHandler(&logs, nil)), now: func() time.Time { return now }}
	r.purge(context.Background())
	if exists(dir, oldReplied) || exists(dir, orphan) || !exists(dir, oldOpen) || !exists(dir, recent) {
		t.Errorf("after the purge: replied %v, orphan %v, open %v, recent %v", exists(dir, oldReplied), exists(dir, orphan), exists(dir, oldOpen), exists(dir, recent))
	}
	if line := logs.String(); !strings.Contains(line, `"complaints":1`) || !strings.Contains(line, `"recordings":2`) || !strings.Contains(line, `"kept_open":1`) ||
		!strings.Contains(line, `"level":"WARN"`) || strings.Contains(line, "13812345678") {
		t.Errorf("log %s", line)
	}
	cs, err := st.Complaints(context.Background(), records.Filter{})
	if err != nil || len(cs) != 2 {
		t.Errorf("complaints left %+v %v", cs, err)
	}
}

// TestIntegrationRetention: kefu run -retention-days purges at start: the
// old, replied complaint and its recording are gone from the data
// directory and the API; the open one stays.
func TestIntegrationRetention(t *testing.T) {
	integration(t)
	t.Parallel()
	dir := t.TempDir()
	oldReplied, oldOpen, recent, orphan := seedRetention(t, dir, time.Now())
	a := startAgent(t, "-data", dir, "-retention-days", "30")
	e := a.waitEntry(t, "retention purge: open callbacks or complaints older than the period are kept until closed", 10*time.Second)
	if e.num("complaints") != 1 || e.num("recordings") != 2 || e.num("kept_open") != 1 || e.num("days") != 30 {
		t.Errorf("purge logged %v", e)
	}
	if exists(dir, oldReplied) || exists(dir, orphan) || !exists(dir, oldOpen) || !exists(dir, recent) {
		t.Errorf("files after the purge: replied %v, orphan %v, open %v, recent %v", exists(dir, oldReplied), exists(dir, orphan), exists(dir, oldOpen), exists(dir, recent))
	}
	var cs struct {
		Items []struct {
			CallID string `json:"call_id"`
		} `json:"items"`
	}
	if code := a.api("GET", "/api/complaints", "", &cs); code != 200 || len(cs.Items) != 2 || cs.Items[0].CallID != "recent" || cs.Items[1].CallID != "old-open" {
		t.Errorf("complaints after the purge, newest first: %d %+v", code, cs)
	}
}
