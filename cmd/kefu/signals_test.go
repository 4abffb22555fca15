package main

import (
	"context"
	"syscall"
	"testing"
	"time"
)

// TestHandleSignals: SIGHUP asks for a reload, SIGUSR1 and SIGUSR2 for
// a log level, in order, and leave the context alone; SIGTERM ends the
// context with the signal as its cause.
func TestHandleSignals(t *testing.T) {
	ctx, ctl, stop := handleSignals(context.Background())
	defer stop()
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctl.hup:
	case <-time.After(5 * time.Second):
		t.Fatal("no reload request after SIGHUP")
	}
	for _, sig := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGUSR2} {
		if err := syscall.Kill(syscall.Getpid(), sig); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-ctl.level:
			if got != sig {
				t.Errorf("level signal %v, want %v", got, sig)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no level request after %v", sig)
		}
	}
	if ctx.Err() != nil {
		t.Fatal("SIGHUP ended the context")
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("SIGTERM did not end the context")
	}
	if got := signalName(ctx); got != "terminated" {
		t.Errorf("signal %q, want terminated", got)
	}
}
