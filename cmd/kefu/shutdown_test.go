package main

import (
	"context"
	"net/http"
	"syscall"
	"testing"
	"time"
)

// TestIntegrationGracefulShutdown: on SIGTERM kefu refuses new calls (503),
// /readyz turns 503, the active call goes on until the grace period ends,
// then gets BYE, and kefu exits 0.
func TestIntegrationGracefulShutdown(t *testing.T) {
	integration(t)
	t.Parallel()
	a := startAgent(t, "-grace", "3s")
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	type result struct {
		evs  []timelineEvent
		code int
		out  string
	}
	first := make(chan result, 1)
	go func() {
		evs, code, out := dial(t, ctx, a, "-play", "silence", "-max", "50s")
		first <- result{evs, code, out}
	}()
	if !a.waitLog(`"call answered"`, 20*time.Second) {
		t.Fatal("the first call was not answered")
	}
	sent := time.Now()
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if !a.waitLog("shutting down", 5*time.Second) {
		t.Fatal("kefu did not start draining")
	}
	resp, err := http.Get("http://" + a.http + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Errorf("/readyz while draining: %d, want 503", resp.StatusCode)
	}
	evs, code, out := dial(t, ctx, a, "-play", "none", "-max", "10s")
	if code == 0 {
		t.Errorf("a new call while draining succeeded:\n%s", out)
	}
	if f, ok := find(evs, "final"); !ok || f.Code != 503 {
		t.Errorf("new call while draining: want a final 503\n%s", out)
	}

	r := <-first
	if _, ok := find(r.evs, "bye_received"); !ok {
		t.Fatalf("the active call got no BYE at the end of the grace period\n%s", r.out)
	}
	// The silent ladder alone would last about 30 s: the BYE came from the
	// shutdown, after the grace period.
	if took := time.Since(sent); took < 3*time.Second || took > 15*time.Second {
		t.Errorf("active call ended %v after SIGTERM, want just after the 3 s grace", took)
	}
	select {
	case <-a.exited:
		if a.exitErr != nil {
			t.Errorf("kefu exited with %v, want 0", a.exitErr)
		}
	case <-time.After(15 * time.Second):
		t.Error("kefu did not exit after the grace period")
	}
}
