package console

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/ops"
	"github.com/kefu-hotline/kefu/sip"
)

// testConfig is a hotline with a queue, two agents (one with a password,
// one with its HA1) and a flow that greets and queues.
var testConfig = `
queues:
  - name: customers
    max_wait: 2m
agents:
  - {id: "8001", name: 王芳, password: secret-8001, queues: [customers]}
  - {id: "8002", ha1: "` + ha1("8002", "pw-8002") + `", queues: [customers]}
routes:
  - to: "*"
    flow: f
flows:
  f:
    steps:
      - name: wait
        queue: {queue: customers, on_answer: end, on_timeout: end}
      - name: end
        close: {}
        exception: a test flow, the closing after the queue
`

func ha1(id, pw string) string {
	sum := md5.Sum([]byte(id + ":kefu:" + pw))
	return hex.EncodeToString(sum[:])
}

var (
	bundleOnce sync.Once
	bundle     *flows.Bundle
	bundleErr  error
)

// testBundle loads testConfig once per test binary (prompt decoding is
// the slow part). Tests must not change it; queue figures they need come
// from a fresh queue manager (freshQueues).
func testBundle(t *testing.T) *flows.Bundle {
	t.Helper()
	bundleOnce.Do(func() {
		dir, err := os.MkdirTemp("", "console-test")
		if err != nil {
			bundleErr = err
			return
		}
		file := filepath.Join(dir, "kefu.yaml")
		if bundleErr = os.WriteFile(file, []byte(testConfig), 0o600); bundleErr == nil {
			bundle, bundleErr = flows.Load(file)
		}
	})
	if bundleErr != nil {
		t.Fatal(bundleErr)
	}
	return bundle
}

// freshQueues returns a copy of the test bundle with queues of its own.
func freshQueues(t *testing.T) *flows.Bundle {
	t.Helper()
	b := *testBundle(t)
	q, err := b.Config.Queues()
	if err != nil {
		t.Fatal(err)
	}
	b.Queues = q
	return &b
}

// fakeCalls are calls in progress a test sets.
type fakeCalls struct {
	mu    sync.Mutex
	calls []sip.CallInfo
}

func (f *fakeCalls) Calls() []sip.CallInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sip.CallInfo(nil), f.calls...)
}

func (f *fakeCalls) set(cs ...sip.CallInfo) {
	f.mu.Lock()
	f.calls = cs
	f.mu.Unlock()
}

// fakeAgents are agents' states a test sets.
type fakeAgents struct {
	mu  sync.Mutex
	sts []agents.Status
}

func (f *fakeAgents) Agents() []agents.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]agents.Status(nil), f.sts...)
}

func (f *fakeAgents) set(sts ...agents.Status) {
	f.mu.Lock()
	f.sts = sts
	f.mu.Unlock()
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// env is a console over fakes, served by an httptest server.
type env struct {
	calls    *fakeCalls
	agents   *fakeAgents
	bundle   *flows.Bundle
	console  *Console
	srv      *httptest.Server
	sessions *Sessions
	tokens   []ops.Token
}

// Secrets of the tokens newEnv configures when asked for tokens.
const (
	operatorSecret = "op-secret"
	viewerSecret   = "viewer-secret"
)

// newEnv starts a console sampling every 10 ms; withTokens configures an
// operator's and a viewer's token (else the API is open).
func newEnv(t *testing.T, withTokens bool) *env {
	t.Helper()
	e := &env{calls: &fakeCalls{}, agents: &fakeAgents{}, bundle: freshQueues(t), sessions: NewSessions(nil)}
	if withTokens {
		e.tokens = []ops.Token{{Name: "ops", Role: ops.Operator, SHA256: ops.HashToken(operatorSecret)},
			{Name: "wall", Role: ops.Viewer, SHA256: ops.HashToken(viewerSecret)}}
	}
	guard := &ops.Guard{Tokens: e.sessions.Tokens(func() []ops.Token { return e.tokens })}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusTeapot, map[string]string{"api": r.Method + " " + r.URL.Path, "who": ops.CallerOf(r).Name})
	})
	e.console = New(Config{API: guard.Wrap(api), Guard: guard, Sessions: e.sessions, Interval: 10 * time.Millisecond,
		Source: Source{Calls: e.calls.Calls, Agents: e.agents.Agents, Current: func() *flows.Bundle { return e.bundle }},
		Check:  func() (*flows.Bundle, error) { return testBundle(t), nil }})
	e.srv = httptest.NewServer(e.console)
	t.Cleanup(func() {
		e.srv.Close()
		_ = e.console.Close()
	})
	return e
}

// do makes a request with an optional bearer secret and JSON body and
// returns the status and body.
func (e *env) do(t *testing.T, method, path, secret, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// stream is an open /console/events.
type stream struct {
	t   *testing.T
	res *http.Response
	sc  *bufio.Scanner
}

// event is one server-sent event.
type event struct {
	name string
	data json.RawMessage
}

// open opens the event stream with secret; it fails the test unless it
// is answered 200. The stream ends with the test (or after 20 s).
func (e *env) open(t *testing.T, secret string) *stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/console/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("GET /console/events: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	return &stream{t: t, res: res, sc: sc}
}

// next returns the next event (comments and retry lines skipped).
func (s *stream) next() event {
	s.t.Helper()
	var ev event
	for s.sc.Scan() {
		line := s.sc.Text()
		switch {
		case line == "":
			if ev.name != "" {
				return ev
			}
		case strings.HasPrefix(line, "event: "):
			ev.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			ev.data = json.RawMessage(strings.TrimPrefix(line, "data: "))
		}
	}
	s.t.Fatalf("the stream ended: %v", s.sc.Err())
	return ev
}

// until returns the first update for which ok holds.
func (s *stream) until(ok func(u update) bool) update {
	s.t.Helper()
	for {
		ev := s.next()
		if ev.name != "update" {
			s.t.Fatalf("event %q, want update", ev.name)
		}
		var u update
		if err := json.Unmarshal(ev.data, &u); err != nil {
			s.t.Fatal(err)
		}
		if ok(u) {
			return u
		}
	}
}

// update is an update event as the page reads it.
type update struct {
	Now   time.Time `json:"now"`
	Calls *struct {
		Set []callRow `json:"set"`
		Del []string  `json:"del"`
	} `json:"calls"`
	Agents  []agentRow  `json:"agents"`
	Waiting []waiterRow `json:"waiting"`
	Queues  []queueRow  `json:"queues"`
	Day     *dayFigures `json:"day"`
	Point   *point      `json:"point"`
}

// snapshot is the first event as the page reads it.
type snapshot struct {
	Version string      `json:"version"`
	Zone    string      `json:"zone"`
	Calls   []callRow   `json:"calls"`
	Agents  []agentRow  `json:"agents"`
	Waiting []waiterRow `json:"waiting"`
	Queues  []queueRow  `json:"queues"`
	Day     dayFigures  `json:"day"`
	Series  series      `json:"series"`
}

func (s *stream) snapshot() snapshot {
	s.t.Helper()
	ev := s.next()
	if ev.name != "snapshot" {
		s.t.Fatalf("first event %q, want snapshot", ev.name)
	}
	var snap snapshot
	if err := json.Unmarshal(ev.data, &snap); err != nil {
		s.t.Fatal(err)
	}
	return snap
}
