package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/ops"
	"github.com/kefu-hotline/kefu/ops/console/cdp"
)

// consoleOperator is the operator's token of the console test.
const consoleOperator = "console-test-operator-secret"

// TestIntegrationConsole: Chromium loads the ops console from a running
// kefu, logs in with an operator's token, and sees an agent's phone
// (kefu agent) sign in, a call placed by kefu dial appear within 2 s and
// leave when it ends; it pauses the agent and adds a nuisance entry that
// /api/nuisance then lists; in a second tab the agent logs in with id and
// password and goes ready. Screenshots go to $ARTIFACTS (else the test's
// temporary directory).
func TestIntegrationConsole(t *testing.T) {
	integration(t)
	chromium := needTool(t, "chromium")
	t.Parallel()
	cfg := configFile(t, string(flows.DefaultYAML())+`
agents:
  - {id: "8001", name: 王芳, password: secret-8001, queues: [customers]}
ops_tokens:
  - {name: console-test, role: operator, sha256: "`+ops.HashToken(consoleOperator)+`"}
`)
	a := startAgent(t, "-config", cfg)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	b, err := cdp.Launch(ctx, chromium, cdp.Options{Width: 1400, Height: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	p := consolePage(t, ctx, b, "http://"+a.http+"/")
	wait := func(p *cdp.Page, within time.Duration, expr string) {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, within)
		defer cancel()
		if err := p.WaitFor(wctx, expr); err != nil {
			t.Fatal(err)
		}
	}
	eval := func(p *cdp.Page, expr string) {
		t.Helper()
		if err := p.Eval(ctx, expr, nil); err != nil {
			t.Fatal(err)
		}
	}
	shot := func(p *cdp.Page, name string) {
		t.Helper()
		png, err := p.Screenshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		dir := os.Getenv("ARTIFACTS")
		if dir == "" {
			dir = t.TempDir()
		} else if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, name)
		if err := os.WriteFile(file, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", file)
	}

	// Log in with the token.
	wait(p, 10*time.Second, `!document.querySelector('#login').hidden`)
	eval(p, `document.querySelector('#token').value = '`+consoleOperator+`'; document.querySelector('#token-form').requestSubmit()`)
	wait(p, 10*time.Second, `document.querySelector('#conn').dataset.state === 'live'`)
	wait(p, 2*time.Second, `document.querySelector('#agents tr[data-id="8001"] td.state')?.dataset.state === 'offline'`)

	// The agent's phone signs in.
	ph := startPhone(t, a, "-id", "8001", "-password", "secret-8001", "-no-answer", "-for", "2m")
	ph.wait(t, "registered", 10*time.Second)
	wait(p, 2*time.Second, `document.querySelector('#agents tr[data-id="8001"] td.state')?.dataset.state === 'available'`)

	// A call: it shows within 2 s of its start, and leaves when it ends.
	bin := kefuBinary(t)
	dialed := make(chan error, 1)
	started := time.Now()
	go func() {
		dialed <- exec.CommandContext(ctx, bin, "dial", "-from", "sip:13812345678@127.0.0.1", "-for", "6s", "sip:hotline@"+a.sip).Run()
	}()
	wait(p, 2*time.Second, `document.querySelectorAll('#calls tbody tr').length === 1`)
	t.Logf("the call showed %v after kefu dial started", time.Since(started).Round(time.Millisecond))
	var caller string
	if err := p.Eval(ctx, `document.querySelector('#calls tbody tr td.caller').textContent`, &caller); err != nil || caller == "13812345678" || !strings.HasSuffix(caller, "78") {
		t.Errorf("the call's caller shows as %q (%v), want it masked", caller, err)
	}
	wait(p, 3*time.Second, `document.querySelector('#calls tbody tr td.step').textContent !== ''`)
	shot(p, "console-live.png")
	if err := <-dialed; err != nil {
		t.Fatalf("kefu dial: %v", err)
	}
	ended := time.Now()
	wait(p, 2*time.Second, `document.querySelectorAll('#calls tbody tr').length === 0`)
	t.Logf("the call left %v after kefu dial ended", time.Since(ended).Round(time.Millisecond))

	// Pause the agent from the console.
	eval(p, `[...document.querySelectorAll('#agents tr[data-id="8001"] button')].find((b) => b.textContent === '暂停').click()`)
	wait(p, 2*time.Second, `document.querySelector('#agents tr[data-id="8001"] td.state')?.dataset.state === 'paused'`)

	// Add a nuisance entry.
	eval(p, `document.querySelector('[data-tab=work]').click()`)
	eval(p, `document.querySelector('[data-work=nuisance]').click()`)
	wait(p, 5*time.Second, `document.querySelector('#nuisance-add')`)
	eval(p, `const f = document.querySelector('#nuisance-add'); f.pattern.value = '13900000099'; f.reason.value = 'console test'; f.requestSubmit()`)
	wait(p, 5*time.Second, `document.querySelector('#nuisance tr[data-pattern="13900000099"]')`)
	if body := opsGet(t, a, "/api/nuisance"); !strings.Contains(body, `"pattern":"13900000099"`) || !strings.Contains(body, `"added_by":"console-test"`) {
		t.Errorf("/api/nuisance after the console added an entry: %s", body)
	}
	shot(p, "console-nuisance.png")

	// The agent logs in in a tab of their own and goes ready.
	desk := consolePage(t, ctx, b, "http://"+a.http+"/")
	wait(desk, 10*time.Second, `!document.querySelector('#login').hidden`)
	eval(desk, `document.querySelector('#agent-id').value = '8001'; document.querySelector('#agent-password').value = 'secret-8001'; document.querySelector('#agent-form').requestSubmit()`)
	wait(desk, 10*time.Second, `document.querySelector('#me-state').dataset.state === 'paused'`)
	eval(desk, `document.querySelector('#me-ready').click()`)
	wait(desk, 5*time.Second, `document.querySelector('#me-state').dataset.state === 'available'`)
	wait(p, 2*time.Second, `document.querySelector('#agents tr[data-id="8001"] td.state')?.dataset.state === 'available'`)
	if st := opsGet(t, a, "/api/agents"); !strings.Contains(st, `"state":"available"`) {
		t.Errorf("/api/agents after the agent went ready: %s", st)
	}
	shot(desk, "console-agent.png")

	// A bad file: the check and the reload show its errors, and the
	// running configuration stays.
	var running string
	if err := p.Eval(ctx, `document.querySelector('#version').textContent`, &running); err != nil {
		t.Fatal(err)
	}
	writeFile(t, cfg, "flows: [\n")
	eval(p, `document.querySelector('[data-tab=flows]').click()`)
	wait(p, 5*time.Second, `document.querySelectorAll('#diagram svg .node').length > 3`)
	eval(p, `document.querySelector('#check').click()`)
	wait(p, 5*time.Second, `document.querySelector('#check-out pre.errors')?.textContent.includes('kefu.yaml')`)
	eval(p, `document.querySelector('#check-out').replaceChildren(); document.querySelector('#reload').click()`)
	wait(p, 5*time.Second, `document.querySelector('#check-out pre.errors')?.textContent.includes('kefu.yaml')`)
	shot(p, "console-reload-refused.png")
	if v := opsGet(t, a, "/healthz"); !strings.Contains(v, running) {
		t.Errorf("after a refused reload kefu runs %s, want %s", v, running)
	}
	for _, pg := range []*cdp.Page{p, desk} {
		for _, l := range pg.Log() {
			if strings.HasPrefix(l, "exception") || strings.HasPrefix(l, "console.error") {
				t.Errorf("page: %s", l)
			}
		}
	}
}

// consolePage opens url in a new tab; the test's log gets the page's
// exceptions and console lines if it fails.
func consolePage(t *testing.T, ctx context.Context, b *cdp.Browser, url string) *cdp.Page {
	t.Helper()
	p, err := b.NewPage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("page log:\n%s", strings.Join(p.Log(), "\n"))
		}
	})
	if err := p.Navigate(ctx, url); err != nil {
		t.Fatal(err)
	}
	return p
}

// opsGet reads an ops API path with the console test's operator token.
func opsGet(t *testing.T, a *agent, path string) string {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+a.http+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+consoleOperator)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, res.StatusCode, b)
	}
	return string(b)
}
