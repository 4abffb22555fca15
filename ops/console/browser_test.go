package console

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/ops/console/cdp"
	"github.com/kefu-hotline/kefu/sip"
)

// chromium finds Debian's chromium: under CI (CI=true) its absence fails
// the test (.ci/run installs it), elsewhere it skips.
func chromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test: skipped with -short")
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (CI must install it: see .ci/run)")
	}
	t.Skip("chromium is not installed; apt-get install chromium to run this test")
	return ""
}

// page starts a browser and opens url in a new tab; both end with the
// test, whose log gets the page's exceptions and console lines if it
// failed.
func page(t *testing.T, ctx context.Context, url string) *cdp.Page {
	t.Helper()
	b, err := cdp.Launch(ctx, chromium(t), cdp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
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

// artefact is where a test keeps a file for people to look at: $ARTIFACTS
// when set (CI keeps it), else the test's temporary directory.
func artefact(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, name)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestBrowserConsole: in Chromium, the page (no tokens: no log-in) shows
// a call within the sampling period of its start and drops it when it
// ends, shows an agent's change of state, draws a flow as a diagram,
// simulates a call and plays what its caller hears, and switches to
// English; the page throws nothing.
func TestBrowserConsole(t *testing.T) {
	e := newEnv(t, false)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	p := page(t, ctx, e.srv.URL+"/")
	must(t, p.WaitFor(ctx, `document.querySelector('#conn').dataset.state === 'live'`))

	e.calls.set(sip.CallInfo{CallID: "c1@x", Caller: "138****5678", Flow: "f", State: "answered", Started: time.Now(), Step: "wait (queue)"})
	shown := time.Now()
	must(t, p.WaitFor(ctx, `document.querySelector('#calls tr[data-id="c1@x"] td.step')?.textContent === 'wait (queue)'`))
	t.Logf("a call showed %v after it started", time.Since(shown).Round(time.Millisecond))
	e.agents.set(agents.Status{ID: "8001", Name: "王芳", State: agents.Paused, Reason: "meal", Since: time.Now()})
	must(t, p.WaitFor(ctx, `document.querySelector('#agents tr[data-id="8001"] td.state')?.dataset.state === 'paused'`))
	e.calls.set()
	must(t, p.WaitFor(ctx, `!document.querySelector('#calls tr[data-id="c1@x"]') && document.querySelector('#calls-count').textContent === '0'`))

	must(t, p.Eval(ctx, `document.querySelector('[data-tab=flows]').click()`, nil))
	must(t, p.WaitFor(ctx, `document.querySelectorAll('#diagram svg .node').length >= 3`))
	var nodes int
	must(t, p.Eval(ctx, `document.querySelectorAll('#diagram svg .node.box').length`, &nodes))
	if want := len(e.bundle.Config.Flows["f"].Steps); nodes != want {
		t.Errorf("the diagram of f has %d steps, want %d", nodes, want)
	}
	must(t, p.Eval(ctx, `document.querySelector('#sim-caller').value = 'hangup@8s'; document.querySelector('#sim-form').requestSubmit()`, nil))
	must(t, p.WaitFor(ctx, `document.querySelectorAll('#sim-timeline tr.ev-say').length > 0`))
	must(t, p.Eval(ctx, `document.querySelector('#sim-listen').click()`, nil))
	must(t, p.WaitFor(ctx, `document.querySelector('#sim-audio').src.startsWith('blob:')`))
	var dur float64
	must(t, p.WaitFor(ctx, `document.querySelector('#sim-audio').duration > 0`))
	must(t, p.Eval(ctx, `document.querySelector('#sim-audio').duration`, &dur))
	if dur < 8 || dur > 9 {
		t.Errorf("the simulated call's audio lasts %.2f s, want 8.5", dur)
	}
	must(t, p.Eval(ctx, `document.querySelector('#lang').click()`, nil))
	must(t, p.WaitFor(ctx, `document.querySelector('[data-tab=live]').textContent === 'Live'`))
	png, err := p.Screenshot(ctx)
	must(t, err)
	file := artefact(t, "console-flows.png")
	must(t, os.WriteFile(file, png, 0o644))
	t.Logf("screenshot: %s", file)
	for _, l := range p.Log() {
		if strings.HasPrefix(l, "exception") || strings.HasPrefix(l, "console.error") {
			t.Errorf("page: %s", l)
		}
	}
}

// TestBrowserManyCalls measures the live view with 500 calls in progress
// whose steps and line conditions change at a call's pace (each call
// something new every 5 s on average, 100 changes a second): the stream's
// bytes per second, and the page's time to take each update in and the
// intervals of its animation frames.
func TestBrowserManyCalls(t *testing.T) {
	e := newEnv(t, false)
	e.console.hub.interval = DefaultInterval
	const n = 500
	calls := make([]sip.CallInfo, n)
	start := time.Now()
	for i := range calls {
		calls[i] = sip.CallInfo{CallID: fmt.Sprintf("call-%03d@10.0.0.1", i), Caller: fmt.Sprintf("138****%04d", i), Called: "hotline",
			Flow: "hotline", Version: "v1", State: "answered", Started: start.Add(-time.Duration(i) * time.Second), Step: "open (listen)", Line: "speech"}
	}
	e.calls.set(slices.Clone(calls)...)
	steps := []string{"open (listen)", "main (menu)", "enquiry (queue)", "survey (survey)", "close (close)"}
	lines := []string{"speech", "weak", "noise", ""}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	stop := make(chan struct{})
	changed := make(chan struct{})
	go func() { // 100 changes a second: each call every 5 s
		defer close(changed)
		tk := time.NewTicker(10 * time.Millisecond)
		defer tk.Stop()
		for k := 0; ; k++ {
			select {
			case <-stop:
				return
			case <-tk.C:
			}
			i := (k * 7919) % n
			calls[i].Step, calls[i].Line = steps[(k/n+i)%len(steps)], lines[(k+i)%len(lines)]
			e.calls.set(slices.Clone(calls)...)
		}
	}()
	defer func() { close(stop); <-changed }()

	p := page(t, ctx, e.srv.URL+"/")
	must(t, p.WaitFor(ctx, fmt.Sprintf(`document.querySelectorAll('#calls tbody tr').length === %d`, n)))
	// The stream alone, as a second watcher, for its size.
	s := e.open(t, "")
	snap := s.next()
	const window = 10 * time.Second
	var bytes, updates int
	for deadline := time.Now().Add(window); time.Now().Before(deadline); {
		ev := s.next()
		bytes += len("event: \ndata: \n\n") + len(ev.name) + len(ev.data)
		updates++
	}
	// The page over the same time: each update's handling, and the
	// animation frames.
	var m struct {
		Frames          []float64 `json:"frames"`
		Handle          []float64 `json:"handle"`
		Events          int       `json:"events"`
		SnapshotHandled float64   `json:"snapshot"`
	}
	must(t, p.Eval(ctx, `(async () => {
		const snapshot = window.kefuStats.handleMs[0];
		window.kefuStats.handleMs.length = 0;
		const frames = [];
		let last = performance.now();
		await new Promise((done) => {
			const end = last + 5000;
			const step = (now) => { frames.push(now - last); last = now; if (now < end) requestAnimationFrame(step); else done(); };
			requestAnimationFrame(step);
		});
		return { frames, snapshot, handle: window.kefuStats.handleMs.slice(), events: window.kefuStats.events };
	})()`, &m))
	png, err := p.Screenshot(ctx)
	must(t, err)
	file := artefact(t, "console-500-calls.png")
	must(t, os.WriteFile(file, png, 0o644))
	perSec := float64(bytes) / window.Seconds()
	t.Logf("500 calls, 100 changes/s: stream %.1f kB/s in %d updates over %v (%.0f B per update); the snapshot of 500 calls is %.0f kB, the page took it in in %.0f ms",
		perSec/1000, updates, window, float64(bytes)/float64(max(updates, 1)), float64(len(snap.data))/1000, m.SnapshotHandled)
	t.Logf("page: update handling p50 %.1f ms, p95 %.1f ms, max %.1f ms (%d updates); frame interval p50 %.1f ms, p95 %.1f ms, max %.1f ms (%d frames)",
		quantile(m.Handle, 0.5), quantile(m.Handle, 0.95), quantile(m.Handle, 1), len(m.Handle),
		quantile(m.Frames, 0.5), quantile(m.Frames, 0.95), quantile(m.Frames, 1), len(m.Frames))
	t.Logf("screenshot: %s", file)
	if perSec > 100e3 {
		t.Errorf("the stream sends %.0f B/s for 500 calls, want well under 100 kB/s", perSec)
	}
	if q := quantile(m.Handle, 0.95); q > 100 {
		t.Errorf("the page takes %.1f ms (p95) for an update, want under 100", q)
	}
}

// quantile is the q-quantile of xs (nearest rank); 0 for none.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	i := int(q*float64(len(s)-1) + 0.5)
	return s[i]
}
