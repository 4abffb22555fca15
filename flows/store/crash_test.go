package store_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/screen"
	"github.com/kefu-hotline/kefu/flows/screen/screentest"
	"github.com/kefu-hotline/kefu/flows/store"
)

// The test binary runs as a writer child when these are set: it writes
// through the store with one of childWriters, says "ready" and dies
// without closing anything.
const (
	childDirEnv    = "KEFU_STORE_CHILD_DIR"
	childWriterEnv = "KEFU_STORE_CHILD_WRITER" // a key of childWriters
	childModeEnv   = "KEFU_STORE_CHILD_MODE"   // "exit": os.Exit without Close; "kill": wait for SIGKILL
)

// childWriters are what the crash tests' children write, the way kefu
// does.
var childWriters = map[string]func(ctx context.Context, st *store.SQLite) error{
	"screen":  writeScreening,
	"records": writeRecords, // records_crash_test.go
}

func TestMain(m *testing.M) {
	if dir := os.Getenv(childDirEnv); dir != "" {
		child(dir, os.Getenv(childWriterEnv), os.Getenv(childModeEnv))
		return
	}
	os.Exit(m.Run())
}

func child(dir, writer, mode string) {
	ctx := context.Background()
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	st, err := store.Open(ctx, dir)
	if err != nil {
		fail(err)
	}
	write, ok := childWriters[writer]
	if !ok {
		fail(fmt.Errorf("no writer %q", writer))
	}
	if err := write(ctx, st); err != nil {
		fail(err)
	}
	fmt.Println("ready")
	if mode == "exit" {
		os.Exit(0) // no Close: no checkpoint, the WAL holds everything
	}
	_, _ = io.Copy(io.Discard, os.Stdin) // until SIGKILL (or the parent goes away)
	os.Exit(3)
}

// writeScreening makes list edits, then served calls from one number until
// it is flagged and proposed for the list.
func writeScreening(ctx context.Context, st *store.SQLite) error {
	clk := screentest.NewClock(screentest.T0)
	m := screen.NewManager(st, clk.Now)
	for _, p := range []string{"13800000001", "13800000002", "400*"} {
		if _, err := m.Add(ctx, screen.AddRequest{Pattern: p, Reason: "crash test", AddedBy: "child"}); err != nil {
			return err
		}
	}
	s, err := screen.New(st, screen.Config{}, clk.Now)
	if err != nil {
		return err
	}
	for i := range screen.DefaultRepeatCalls + 1 {
		v, err := s.Check(ctx, screen.Call{Caller: "13912345678", At: screentest.T0.Add(time.Duration(i) * time.Second)})
		if err != nil {
			return err
		}
		if _, err := s.Count(ctx, v); err != nil {
			return err
		}
	}
	return nil
}

// crashChild runs a child that writes with writer and dies by mode ("exit"
// or "kill"), and returns its data directory once it is dead, having
// checked that the WAL file holds the rows.
func crashChild(t *testing.T, writer, mode string) string {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childDirEnv+"="+dir, childWriterEnv+"="+writer, childModeEnv+"="+mode)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		_ = cmd.Wait()
		t.Fatalf("child said %q, %v", line, err)
	}
	if mode == "kill" {
		walHolds(t, dir) // while the child still has it open
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	switch {
	case mode == "exit" && err != nil:
		t.Fatalf("child: %v", err)
	case mode == "kill" && (!errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL):
		t.Fatalf("child was not killed: %v", err)
	}
	walHolds(t, dir)
	return dir
}

// TestSurvivesKill: everything a process committed is there after it dies
// without closing the store, by os.Exit or by SIGKILL, with the rows still
// in the WAL file rather than checkpointed.
func TestSurvivesKill(t *testing.T) {
	for _, mode := range []string{"exit", "kill"} {
		t.Run(mode, func(t *testing.T) {
			dir := crashChild(t, "screen", mode)
			e := screentest.NewEnv(t, openIn(t, dir), screen.Config{})
			es, err := e.M.List(t.Context(), false)
			if err != nil || len(es) != 3 {
				t.Fatalf("after the crash: %d entries, %v; want 3", len(es), err)
			}
			e.Want("13800000002", screentest.T0.Add(time.Minute), screen.Route, screen.ReasonList)
			e.Want("4001234567", screentest.T0.Add(time.Minute), screen.Route, screen.ReasonList)
			e.Want("13912345678", screentest.T0.Add(time.Minute), screen.Route, screen.ReasonRepeat)
			if ps, err := e.M.Proposals(t.Context(), false); err != nil || len(ps) != 1 {
				t.Fatalf("after the crash: proposals %+v, %v; want 1", ps, err)
			}
		})
	}
}

// walHolds checks that the WAL file has frames in it: the rows the test
// finds afterwards come from WAL recovery, not from the main file.
func walHolds(t *testing.T, dir string) {
	t.Helper()
	fi, err := os.Stat(filepath.Join(dir, store.FileName+"-wal"))
	if err != nil || fi.Size() <= 32 { // 32: the WAL header alone
		t.Fatalf("WAL: %v, %v; want frames in it", fi, err)
	}
}
