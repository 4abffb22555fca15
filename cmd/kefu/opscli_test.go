package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/flows/screen"
	"github.com/kefu-hotline/kefu/flows/store"
	"github.com/kefu-hotline/kefu/ops"
	"github.com/kefu-hotline/kefu/sip"
)

// kefuCmd runs the kefu binary with args in dir with env added, and
// returns its exit code, stdout and stderr.
func kefuCmd(t *testing.T, dir string, env []string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kefuBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("kefu %s: %v", strings.Join(args, " "), err)
	}
	return code, stdout.String(), stderr.String()
}

// TestIntegrationOpsCLI: kefu nuisance, calls and loglevel act on the
// running kefu through its API (-api or KEFU_API): what they change is
// what kefu serves; errors echo what the operator typed; with no kefu to
// talk to they say so, and create no data directory on the way.
func TestIntegrationOpsCLI(t *testing.T) {
	integration(t)
	t.Parallel()
	a := startAgent(t)
	cwd := t.TempDir()
	api := "http://" + a.http
	env := []string{"KEFU_API=" + api, "KEFU_HTTP=", "KEFU_DATA="}
	run := func(want int, args ...string) (string, string) {
		t.Helper()
		code, out, errs := kefuCmd(t, cwd, env, args...)
		if code != want {
			t.Fatalf("kefu %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, errs)
		}
		return out, errs
	}

	out, _ := run(0, "nuisance", "add", "-reason", "harassing calls", "-by", "ops:li", "-ttl", "1h", "4001234567")
	var e screen.Entry
	if err := json.Unmarshal([]byte(out), &e); err != nil || e.Pattern != "4001234567" || e.AddedBy != "ops:li" || e.ExpiresAt == nil {
		t.Fatalf("add: %v %s", err, out)
	}
	if !strings.HasSuffix(e.AddedAt.Format(time.RFC3339), "+08:00") {
		t.Errorf("added_at %v is not in the hotline's zone", e.AddedAt)
	}
	run(0, "nuisance", "-api", api, "add", "-reason", "spam", "-by", "ops:li", "-reject", "486", "4009*")
	var es []screen.Entry
	if out, _ := run(0, "nuisance", "list"); json.Unmarshal([]byte(out), &es) != nil || len(es) != 2 || es[0].Pattern != "4009*" || es[0].Action.Code != 486 {
		t.Errorf("list, newest first: %s", out)
	}
	var page struct{ Total int }
	if code := a.api("GET", "/api/nuisance", "", &page); code != 200 || page.Total != 2 {
		t.Errorf("the running kefu's list has %d entries (%d), want the 2 the CLI added", page.Total, code)
	}
	if _, errs := run(1, "nuisance", "add", "-reason", "x", "-by", "ops", "138-1234-5678x"); !strings.Contains(errs, `pattern: "138-1234-5678x": only digits`) {
		t.Errorf("a bad pattern is not echoed as typed: %s", errs)
	}
	if _, errs := run(1, "nuisance", "remove", "4005550000"); !strings.Contains(errs, `no nuisance entry "4005550000"`) {
		t.Errorf("remove of what is not there: %s", errs)
	}
	run(0, "nuisance", "remove", "4009*")
	if out, _ := run(0, "nuisance", "flags"); strings.TrimSpace(out) != "[]" {
		t.Errorf("flags: %s", out)
	}
	if _, errs := run(1, "nuisance", "unflag", "13812345678"); !strings.Contains(errs, `"13812345678" is not flagged`) {
		t.Errorf("unflag of a number not flagged: %s", errs)
	}
	if _, errs := run(2, "nuisance", "confirm", "-by", "ops", "seven"); !strings.Contains(errs, `"seven" is not a proposal id`) {
		t.Errorf("confirm with a bad id: %s", errs)
	}
	if _, errs := run(2, "nuisance", "-api", "127.0.0.1:8080", "list"); !strings.Contains(errs, `-api "127.0.0.1:8080": want the address`) {
		t.Errorf("a bad -api: %s", errs)
	}
	// No kefu there: said so, and no ./kefu-data appears.
	dead := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	if _, errs := run(1, "nuisance", "-api", dead, "list"); !strings.Contains(errs, "cannot reach kefu at "+dead) {
		t.Errorf("no kefu: %s", errs)
	}
	if _, errs := run(2, "nuisance", "-data", filepath.Join(cwd, "nope"), "list"); !strings.Contains(errs, "no kefu data there") {
		t.Errorf("-data without a store: %s", errs)
	}
	if ents, _ := os.ReadDir(cwd); len(ents) != 0 {
		t.Errorf("the CLI left %v in its folder", ents)
	}

	// The log level, by the API and by signal.
	if out, _ := run(0, "loglevel", "warn"); !strings.Contains(out, `"level": "warn"`) || !strings.Contains(out, `"configured": "debug"`) {
		t.Errorf("loglevel warn: %s", out)
	}
	if err := a.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	if !a.waitLog(`"by":"SIGUSR1"`, 5*time.Second) {
		t.Errorf("SIGUSR1 did not set debug")
	}
	if out, _ := run(0, "loglevel"); !strings.Contains(out, `"level": "debug"`) {
		t.Errorf("loglevel after SIGUSR1: %s", out)
	}
	if _, errs := run(1, "loglevel", "loud"); !strings.Contains(errs, `level: "loud": want debug, info, warn or error`) {
		t.Errorf("loglevel loud: %s", errs)
	}

	// A call in progress is listed, masked, and ended from the CLI.
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	dialed := make(chan []timelineEvent, 1)
	go func() {
		evs, _, _ := dial(t, ctx, a, "-from", "sip:13812345678@127.0.0.1", "-for", "40s", "-max", "50s")
		dialed <- evs
	}()
	var calls []sip.CallInfo
	for deadline := time.Now().Add(20 * time.Second); ; {
		out, _ := run(0, "calls")
		if err := json.Unmarshal([]byte(out), &calls); err != nil {
			t.Fatalf("calls: %v %s", err, out)
		}
		if len(calls) == 1 && calls[0].State == "answered" && calls[0].Step != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answered call listed: %s", out)
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	if c := calls[0]; c.Caller != "138******78" || c.Codec == "" || c.Flow == "" {
		t.Errorf("listed call %+v", c)
	}
	run(0, "calls", "hangup", calls[0].CallID)
	evs := <-dialed
	if _, ok := find(evs, "bye_received"); !ok {
		t.Errorf("the caller got no BYE after the hang-up: %+v", evs)
	}
	if _, errs := run(1, "calls", "hangup", calls[0].CallID); !strings.Contains(errs, "no call in progress has Call-ID") {
		t.Errorf("second hang-up: %s", errs)
	}
	if e := a.waitEntry(t, "call ended", 5*time.Second); e.str("cause") != "ended by ops" {
		t.Errorf("call ended %v", e)
	}
	// Durations in the log are seconds.
	if e := a.entries("call answered"); len(e) != 1 || e[0]["ptime"] != 0.02 {
		t.Errorf("call answered: %v", e)
	}
	if e := a.entries("call ended"); len(e) != 1 || e[0].num("duration") <= 0 || e[0].num("duration") > 60 {
		t.Errorf("call ended: %v", e)
	}
}

// TestNuisanceCLIFlags: with -data, the repeat-call flags of a stopped
// kefu's store are listed and cleared; -data of a folder without a store
// is refused and leaves it as it was.
func TestNuisanceCLIFlags(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if _, err := st.PutFlag(context.Background(), screen.Flag{Number: "13812345678", Since: now, Until: now.Add(time.Hour), Calls: 12}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	run := func(want int, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := cmdNuisance(args, &out, &errb); code != want {
			t.Fatalf("kefu nuisance %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out.String(), errb.String())
		}
		return out.String() + errb.String()
	}
	var fs []screen.Flag
	if out := run(0, "flags", "-data", dir); json.Unmarshal([]byte(out), &fs) != nil || len(fs) != 1 || fs[0].Number != "13812345678" || fs[0].Calls != 12 {
		t.Fatalf("flags: %s", out)
	}
	run(0, "-data", dir, "unflag", "13812345678")
	if out := run(0, "-data", dir, "flags"); strings.TrimSpace(out) != "[]" {
		t.Errorf("flags after unflag: %s", out)
	}
	if out := run(1, "-data", dir, "unflag", "+86 138 1234 5678"); !strings.Contains(out, `"+86 138 1234 5678" is not flagged`) {
		t.Errorf("unflag again: %s", out)
	}
	empty := t.TempDir()
	if out := run(2, "-data", empty, "list"); !strings.Contains(out, fmt.Sprintf("-data %q: no kefu data there", empty)) {
		t.Errorf("-data without a store: %s", out)
	}
	if ents, _ := os.ReadDir(empty); len(ents) != 0 {
		t.Errorf("-data without a store left %v", ents)
	}
}

// TestIntegrationOpsCLIToken: with ops_tokens in the configuration, the
// CLI without a token is told how to give one; with KEFU_TOKEN it acts.
func TestIntegrationOpsCLIToken(t *testing.T) {
	integration(t)
	t.Parallel()
	cfg := configFile(t, string(flows.DefaultYAML())+`
ops_tokens:
  - {name: wang, role: operator, sha256: `+ops.HashToken("op-secret")+`}
`)
	a := startAgent(t, "-config", cfg)
	env := []string{"KEFU_API=http://" + a.http, "KEFU_TOKEN="}
	if code, _, errs := kefuCmd(t, t.TempDir(), env, "nuisance", "list"); code != 1 || !strings.Contains(errs, "a token is needed") || !strings.Contains(errs, "-token or KEFU_TOKEN") {
		t.Errorf("without a token: exit %d %s", code, errs)
	}
	env[1] = "KEFU_TOKEN=op-secret"
	if code, out, errs := kefuCmd(t, t.TempDir(), env, "nuisance", "add", "-reason", "spam", "-by", "ops:wang", "4001*"); code != 0 || !strings.Contains(out, `"pattern": "4001*"`) {
		t.Errorf("with the token: exit %d %s%s", code, out, errs)
	}
	if code, out, errs := kefuCmd(t, t.TempDir(), []string{"KEFU_API=http://" + a.http}, "calls", "-token", "op-secret"); code != 0 || strings.TrimSpace(out) != "[]" {
		t.Errorf("kefu calls -token: exit %d %s%s", code, out, errs)
	}
}
