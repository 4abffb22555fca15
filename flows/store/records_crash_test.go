package store_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/flows/records/recordstest"
	"github.com/kefu-hotline/kefu/flows/store"
)

// The test binary runs TestRecordsCrashChild as a writer child when these
// are set (TestMain in crash_test.go runs the tests as usual).
const (
	recordsChildDirEnv  = "KEFU_RECORDS_CHILD_DIR"
	recordsChildModeEnv = "KEFU_RECORDS_CHILD_MODE" // "exit" or "kill", as in TestSurvivesKill
)

// TestRecordsCrashChild is the child of TestRecordsSurviveKill, not a test
// of its own: it leaves records the way the flow runner does — two
// callbacks, one of them called back, a complaint and a survey answer —
// reports "ready" and dies without closing the store.
func TestRecordsCrashChild(t *testing.T) {
	dir := os.Getenv(recordsChildDirEnv)
	if dir == "" {
		t.Skip("the child of TestRecordsSurviveKill")
	}
	ctx := context.Background()
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	st, err := store.Open(ctx, dir)
	if err != nil {
		fail(err)
	}
	t0 := recordstest.T0
	cb, err := st.AddCallback(ctx, recordstest.Callback("c1", t0))
	if err == nil {
		_, err = st.AddCallback(ctx, recordstest.Callback("c2", t0.Add(time.Second)))
	}
	if err == nil {
		err = st.MarkCallbackDone(ctx, cb.ID, t0.Add(time.Hour))
	}
	if err == nil {
		_, err = st.AddComplaint(ctx, recordstest.Complaint("c3", t0))
	}
	if err == nil {
		_, err = st.AddSurvey(ctx, recordstest.Survey("c4", t0, 9))
	}
	if err != nil {
		fail(err)
	}
	fmt.Println("ready")
	if os.Getenv(recordsChildModeEnv) == "exit" {
		os.Exit(0) // no Close: no checkpoint, the WAL holds everything
	}
	_, _ = io.Copy(io.Discard, os.Stdin) // until SIGKILL (or the parent goes away)
	os.Exit(3)
}

// TestRecordsSurviveKill: callbacks, complaints and survey answers a
// process committed are there after it dies without closing the store.
func TestRecordsSurviveKill(t *testing.T) {
	for _, mode := range []string{"exit", "kill"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestRecordsCrashChild$")
			cmd.Env = append(os.Environ(), recordsChildDirEnv+"="+dir, recordsChildModeEnv+"="+mode)
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
				walHolds(t, dir)
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

			s := openIn(t, dir)
			cbs, err := s.Callbacks(t.Context(), records.Filter{})
			if err != nil || len(cbs) != 2 || !cbs[0].Done || cbs[1].Done || cbs[1].Number != recordstest.Number {
				t.Fatalf("callbacks after the crash: %+v %v", cbs, err)
			}
			sum, err := s.Summary(t.Context(), recordstest.T0, time.Time{})
			want := records.Summary{OpenCallbacks: 1, OpenComplaints: 1, Complaints: 1, Surveys: 1, MeanScore: 9}
			if err != nil || sum != want {
				t.Fatalf("summary after the crash: %+v %v; want %+v", sum, err, want)
			}
		})
	}
}
