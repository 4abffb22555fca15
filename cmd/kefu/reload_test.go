package main

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows"
)

// TestIntegrationReloadDuringCalls: a call in progress keeps the
// configuration it started with (5 s waits) while the next call gets the
// reloaded one (3 s waits); a broken file is refused with its errors and
// the running version stays.
func TestIntegrationReloadDuringCalls(t *testing.T) {
	integration(t)
	t.Parallel()
	file := filepath.Join(t.TempDir(), "kefu.yaml")
	a5 := flows.DefaultYAML()
	if err := os.WriteFile(file, a5, 0o644); err != nil {
		t.Fatal(err)
	}
	a := startAgent(t, "-config", file)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()

	type call struct {
		evs  []timelineEvent
		code int
		out  string
	}
	run := func() chan call {
		c := make(chan call, 1)
		go func() {
			evs, code, out := dial(t, ctx, a, "-play", "silence", "-max", "60s")
			c <- call{evs, code, out}
		}()
		return c
	}
	first := run()
	if !a.waitLog(`"call answered"`, 20*time.Second) {
		t.Fatal("first call not answered")
	}
	b3 := strings.ReplaceAll(string(a5), "wait: 5s", "wait: 3s")
	if err := os.WriteFile(file, []byte(b3), 0o644); err != nil {
		t.Fatal(err)
	}
	v2, _ := postReload(t, a, 200)["version"].(string)
	second := run()

	if err := os.WriteFile(file, []byte("flows: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	body := postReload(t, a, 422)
	if running, _ := body["running"].(string); running != v2 || v2 == "" {
		t.Errorf("after a refused reload the running version is %v, want %v", body["running"], v2)
	}

	for i, ch := range []chan call{first, second} {
		c := <-ch
		want := []float64{5, 3}[i]
		st := stretches(c.evs)
		if c.code != 0 || len(st) != 3 {
			t.Fatalf("call %d: exit %d, %d prompts\n%s", i+1, c.code, len(st), c.out)
		}
		for k := 1; k < 3; k++ {
			if gap := st[k][0] - st[k-1][1]; math.Abs(gap-want-0.2) > 0.35 {
				t.Errorf("call %d: silence before attempt %d %.2f s, want about %.0f s (+0.2 s of prompt padding)", i+1, k+1, gap, want)
			}
		}
	}
	if !a.waitLog(`"version":"`+v2+`"`, 5*time.Second) {
		t.Errorf("no call record names the reloaded version %v", v2)
	}
	// What ops alert on: one reload applied, one refused, the version
	// in force.
	m := a.metrics()
	if metric(m, `kefu_reloads_total{result="ok"}`) != 1 || metric(m, `kefu_reloads_total{result="refused"}`) != 1 ||
		metric(m, `kefu_config_info{version="`+v2+`"}`) != 1 {
		t.Errorf("reload metrics:\n%s", grepLines(m, "kefu_reloads_total")+"\n"+grepLines(m, "kefu_config_info"))
	}
}

func postReload(t *testing.T, a *agent, want int) map[string]any {
	t.Helper()
	resp, err := http.Post("http://"+a.http+"/api/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != want {
		t.Fatalf("POST /api/reload: %d %v, want %d", resp.StatusCode, body, want)
	}
	return body
}
