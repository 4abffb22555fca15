package store_test

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/screen"
	"github.com/kefu-hotline/kefu/flows/screen/screentest"
	"github.com/kefu-hotline/kefu/flows/store"
)

// open opens a store in a new temporary directory, closed at the end of
// the test.
func open(t *testing.T) *store.SQLite {
	t.Helper()
	return openIn(t, t.TempDir())
}

func openIn(t *testing.T, dir string) *store.SQLite {
	t.Helper()
	s, err := store.Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// TestRules runs the screening scenarios on SQLite.
func TestRules(t *testing.T) {
	screentest.Rules(t, func(t *testing.T) screen.Store { return open(t) })
}

// TestConcurrentOps: list edits, listing and screening at once (-race).
func TestConcurrentOps(t *testing.T) {
	screentest.ConcurrentOps(t, screentest.NewEnv(t, open(t), screen.Config{}))
}

// TestStore runs the store scenarios on SQLite, and the several-nodes
// ones on two handles on one database file (two processes on one data
// directory).
func TestStore(t *testing.T) {
	screentest.Store(t, func(t *testing.T) screen.Store { return open(t) })
	screentest.Shared(t, func(t *testing.T) (a, b screen.Store) {
		dir := t.TempDir()
		return openIn(t, dir), openIn(t, dir)
	})
}

// TestReopen: the list, the counters, the flags and the calls cut short
// survive a restart.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	e := screentest.NewEnv(t, s, screen.Config{})
	e.Add(screen.AddRequest{Pattern: "400*", Reason: "spam", AddedBy: "ops", TTL: "2h"})
	for i := range 10 {
		e.Want("13812345678", screentest.T0.Add(time.Duration(i)*time.Second), screen.Allow, screen.ReasonNone)
	}
	for i := range 11 {
		e.Call("13900000000", screentest.T0.Add(time.Duration(i)*time.Second))
	}
	v := e.Want("13700000000", screentest.T0, screen.Allow, screen.ReasonNone)
	if err := e.S.CutShort(t.Context(), v, screentest.T0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	e = screentest.NewEnv(t, openIn(t, dir), screen.Config{})
	e.Want("13812345678", screentest.T0.Add(5*time.Minute), screen.Route, screen.ReasonRepeat) // the 11th call
	e.Want("13900000000", screentest.T0.Add(30*time.Minute), screen.Route, screen.ReasonRepeat)
	if ex, err := e.Store.Exemption(t.Context(), "13700000000", screentest.T0); err != nil || ex != screen.ExemptCutShort {
		t.Errorf("the call cut short after a restart: %q %v", ex, err)
	}
	e.Want("4001234567", screentest.T0.Add(time.Hour), screen.Route, screen.ReasonList)
	e.Want("4001234567", screentest.T0.Add(2*time.Hour), screen.Allow, screen.ReasonNone)
	if ps, err := e.M.Proposals(t.Context(), false); err != nil || len(ps) != 2 {
		t.Errorf("proposals after a restart: %+v %v; want two", ps, err)
	}
}

func TestFileAndSchema(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data?dir #1") // characters a DSN must escape
	s := openIn(t, dir)
	fi, err := os.Stat(filepath.Join(dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", store.FileName, fi.Mode().Perm())
	}
	if s.Path() != filepath.Join(dir, store.FileName) {
		t.Errorf("path %s", s.Path())
	}
	raw, err := sql.Open("sqlite", (&url.URL{Scheme: "file", Path: s.Path()}).String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var v int
	var mode string
	if err := raw.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != store.SchemaVersion() {
		t.Errorf("user_version %d %v, want %d", v, err, store.SchemaVersion())
	}
	if err := raw.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode %q %v", mode, err)
	}
	// A second open of a migrated database changes nothing.
	s2 := openIn(t, dir)
	if _, err := s2.Entries(t.Context()); err != nil {
		t.Fatal(err)
	}
	// A database from a newer kefu is refused.
	if _, err := raw.Exec(fmt.Sprintf("PRAGMA user_version = %d", store.SchemaVersion()+1)); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Open(t.Context(), dir); !errors.Is(err, store.ErrSchemaTooNew) {
		t.Errorf("open a newer schema: %v", err)
	}
}

// TestContext: a cancelled context stops a call with an error that says so.
func TestContext(t *testing.T) {
	screentest.Cancelled(t, open(t))
}

// BenchmarkScreen is the cost screening adds to a call on SQLite: on the
// INVITE a list lookup and a count (reads), once answered a counted call
// (one write transaction), over a list of 10,000 entries and callers
// spread over 1,000 numbers.
func BenchmarkScreen(b *testing.B) {
	st, err := store.Open(b.Context(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	clk := screentest.NewClock(screentest.T0)
	m := screen.NewManager(st, clk.Now)
	for i := range 10000 {
		if _, err := m.Add(b.Context(), screen.AddRequest{Pattern: fmt.Sprintf("1500%07d", i), Reason: "r", AddedBy: "b"}); err != nil {
			b.Fatal(err)
		}
	}
	s, err := screen.New(st, screen.Config{Repeat: screen.Repeat{Calls: 1 << 30}}, clk.Now)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		at := screentest.T0.Add(time.Duration(i) * time.Millisecond)
		v, err := s.Check(b.Context(), screen.Call{Caller: fmt.Sprintf("1380000%04d", i%1000), At: at})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Count(b.Context(), v); err != nil {
			b.Fatal(err)
		}
	}
}
