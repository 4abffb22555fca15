package main

import (
	"context"
	"syscall"
	"testing"
	"time"
)

// TestHandleSignals: SIGHUP asks for a reload and leaves the context
// alone; SIGTERM ends the context with the signal as its cause.
func TestHandleSignals(t *testing.T) {
	ctx, hup, stop := handleSignals(context.Background())
	defer stop()
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	select {
	case <-hup:
	case <-time.After(5 * time.Second):
		t.Fatal("no reload request after SIGHUP")
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
