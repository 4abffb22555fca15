package console

import (
	"encoding/binary"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kefu-hotline/kefu/ops"
)

// TestPage: / serves the page with a policy that keeps it to its own
// scripts; every script and style it loads, and every module those
// import, is served with its type.
func TestPage(t *testing.T) {
	e := newEnv(t, true)
	res, err := http.Get(e.srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(res.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("GET /: %d %v", res.StatusCode, res.Header)
	}
	refs := regexp.MustCompile(`(?:src|href)="(/console/static/[^"]+)"|from '\./([^']+)'`)
	seen := map[string]bool{}
	queue := []string{"/console/static/index.html"}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		code, body := e.do(t, "GET", p, "", "")
		if code != 200 {
			t.Errorf("GET %s: %d", p, code)
			continue
		}
		for _, m := range refs.FindAllStringSubmatch(body, -1) {
			ref := m[1]
			if ref == "" {
				ref = "/console/static/" + m[2]
			}
			if !seen[ref] {
				seen[ref] = true
				queue = append(queue, ref)
			}
		}
	}
	for _, want := range []string{"/console/static/app.js", "/console/static/app.css", "/console/static/live.js", "/console/static/diagram.js"} {
		if !seen[want] {
			t.Errorf("%s is not loaded by the page", want)
		}
	}
	res, err = http.Get(e.srv.URL + "/console/static/app.js")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if ct := res.Header.Get("Content-Type"); !strings.Contains(ct, "javascript") {
		t.Errorf("app.js served as %q", ct)
	}
	// The rest goes to the API.
	if code, body := e.do(t, "GET", "/api/calls", operatorSecret, ""); code != http.StatusTeapot || !strings.Contains(body, `"api":"GET /api/calls"`) {
		t.Errorf("GET /api/calls: %d %s", code, body)
	}
}

// TestLabels: every label the page names exists in Chinese and in
// English.
func TestLabels(t *testing.T) {
	src, err := fs.ReadFile(static, "static/i18n.js")
	if err != nil {
		t.Fatal(err)
	}
	block := func(name string) map[string]bool {
		s := string(src)
		i := strings.Index(s, "const "+name+" = {")
		j := strings.Index(s[i:], "\n};")
		keys := map[string]bool{}
		for _, m := range regexp.MustCompile(`(?:'([a-zA-Z.]+)'|\b([a-zA-Z]+)): '`).FindAllStringSubmatch(s[i:i+j], -1) {
			keys[m[1]+m[2]] = true
		}
		return keys
	}
	zh, en := block("zh"), block("en")
	if len(zh) < 100 {
		t.Fatalf("found %d Chinese labels", len(zh))
	}
	for k := range zh {
		if !en[k] {
			t.Errorf("label %q has no English", k)
		}
	}
	for k := range en {
		if !zh[k] {
			t.Errorf("label %q has no Chinese", k)
		}
	}
	var used []string
	for _, f := range []string{"index.html", "app.js", "live.js", "work.js", "flows.js", "desk.js"} {
		b, err := fs.ReadFile(static, "static/"+f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`data-i18n(?:-placeholder)?="([^"]+)"|\bt\('([a-zA-Z.]+)'\)`).FindAllStringSubmatch(string(b), -1) {
			used = append(used, m[1]+m[2])
		}
	}
	for _, k := range slices.Compact(slices.Sorted(slices.Values(used))) {
		if !zh[k] {
			t.Errorf("label %q is used but not defined", k)
		}
	}
}

// TestAgentLogin: an agent logs in with id and password (or the HA1's
// password) and gets a session the guard takes as that agent's token;
// wrong passwords are refused, five in a minute throttle the id; other
// origins and non-JSON bodies are refused; logging out ends the session.
func TestAgentLogin(t *testing.T) {
	e := newEnv(t, true)
	code, body := e.do(t, "POST", "/console/login", "", `{"agent":"8001","password":"secret-8001"}`)
	if code != 200 {
		t.Fatalf("log-in: %d %s", code, body)
	}
	var s sessionJSON
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatal(err)
	}
	if s.Role != ops.Agent || s.AgentID != "8001" || s.Name != "王芳" || !strings.HasPrefix(s.Token, sessionPrefix) {
		t.Fatalf("session %+v", s)
	}
	code, body = e.do(t, "GET", "/console/api/me", s.Token, "")
	if code != 200 || !strings.Contains(body, `"role":"agent"`) || !strings.Contains(body, `"agent_id":"8001"`) {
		t.Fatalf("me: %d %s", code, body)
	}
	// The API takes the session as the agent's token.
	if code, body := e.do(t, "GET", "/api/agents", s.Token, ""); code != http.StatusTeapot || !strings.Contains(body, "agent 8001") {
		t.Errorf("the API with the session: %d %s", code, body)
	}
	if code, _ := e.do(t, "POST", "/api/agents/8002/ready", s.Token, "{}"); code != http.StatusForbidden {
		t.Errorf("another agent's state with the session: %d, want 403", code)
	}
	e.open(t, s.Token).snapshot()

	if code, _ := e.do(t, "POST", "/console/login", "", `{"agent":"8002","password":"pw-8002"}`); code != 200 {
		t.Errorf("log-in by HA1: %d", code)
	}
	for i := range maxFailures {
		if code, _ := e.do(t, "POST", "/console/login", "", `{"agent":"8002","password":"wrong"}`); code != http.StatusUnauthorized {
			t.Errorf("wrong password %d: %d", i, code)
		}
	}
	if code, _ := e.do(t, "POST", "/console/login", "", `{"agent":"8002","password":"pw-8002"}`); code != http.StatusTooManyRequests {
		t.Errorf("after %d wrong passwords: %d, want 429", maxFailures, code)
	}
	if code, _ := e.do(t, "POST", "/console/login", "", `{"agent":"9999","password":"x"}`); code != http.StatusUnauthorized {
		t.Errorf("unknown agent: %d", code)
	}
	req, _ := http.NewRequest("POST", e.srv.URL+"/console/login", strings.NewReader(`{"agent":"8001","password":"secret-8001"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "http://evil.example")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("log-in from another origin: %v %v", res, err)
	}
	req, _ = http.NewRequest("POST", e.srv.URL+"/console/login", strings.NewReader(`{"agent":"8001","password":"secret-8001"}`))
	req.Header.Set("Content-Type", "text/plain")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("log-in as text/plain: %v %v", res, err)
	}

	if code, body := e.do(t, "POST", "/console/logout", s.Token, ""); code != 200 || !strings.Contains(body, `"ended":true`) {
		t.Errorf("log-out: %d %s", code, body)
	}
	if code, _ := e.do(t, "GET", "/console/api/me", s.Token, ""); code != http.StatusUnauthorized {
		t.Errorf("after log-out: %d, want 401", code)
	}
}

// TestSessionsWithoutTokens: without configured tokens the API is open;
// an agent's session must not close it to everyone else.
func TestSessionsWithoutTokens(t *testing.T) {
	e := newEnv(t, false)
	if code, _ := e.do(t, "POST", "/console/login", "", `{"agent":"8001","password":"secret-8001"}`); code != 200 {
		t.Fatalf("log-in: %d", code)
	}
	code, body := e.do(t, "GET", "/console/api/me", "", "")
	if code != 200 || !strings.Contains(body, `"open":true`) || !strings.Contains(body, `"role":"operator"`) {
		t.Errorf("me without a token: %d %s", code, body)
	}
}

// TestConsoleAPI: the console's own endpoints are guarded; flows come
// with their Mermaid text and the check's exceptions; the check reports
// the file.
func TestConsoleAPI(t *testing.T) {
	e := newEnv(t, true)
	if code, _ := e.do(t, "GET", "/console/api/flows", "", ""); code != http.StatusUnauthorized {
		t.Errorf("flows without a token: %d", code)
	}
	code, body := e.do(t, "GET", "/console/api/flows", viewerSecret, "")
	if code != 200 {
		t.Fatalf("flows: %d %s", code, body)
	}
	var fl flowsJSON
	if err := json.Unmarshal([]byte(body), &fl); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(fl.Flows, func(f flowJSON) bool { return f.Name == "f" })
	if i < 0 || !strings.HasPrefix(fl.Flows[i].Mermaid, "flowchart TD\n") || fl.Version != e.bundle.Version || !fl.Checkable ||
		len(fl.Agents) != 2 || strings.Contains(body, "secret-8001") || len(fl.Exceptions) == 0 || fl.Routes[0].Flow != "f" {
		t.Errorf("flows %s", body)
	}
	code, body = e.do(t, "GET", "/console/api/check", operatorSecret, "")
	if code != 200 || !strings.Contains(body, `"ok":true`) {
		t.Errorf("check: %d %s", code, body)
	}
	if code, _ := e.do(t, "GET", "/console/api/nothing", operatorSecret, ""); code != http.StatusNotFound {
		t.Errorf("unknown console endpoint: %d", code)
	}
}

// TestSimulate: the simulate endpoint runs a call on the configuration in
// force and returns its timeline; the WAV is what its caller heard.
func TestSimulate(t *testing.T) {
	e := newEnv(t, true)
	code, body := e.do(t, "GET", "/console/api/simulate?caller=hangup@8s&at=2026-03-02T09:30", viewerSecret, "")
	if code != 200 {
		t.Fatalf("simulate: %d %s", code, body)
	}
	var s simJSON
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatal(err)
	}
	says := 0
	for _, e := range s.Timeline {
		if e.What == "say" && e.Text != "" {
			says++
		}
	}
	if s.Flow != "f" || s.HungUpBy != "caller" || says == 0 || s.Seconds != 8 || s.At.Format("15:04 -07:00") != "09:30 +08:00" {
		t.Errorf("simulation %s", body)
	}
	for _, bad := range []string{"caller=shout@3s", "at=yesterday", "flow=nope", "colour=red"} {
		if code, body := e.do(t, "GET", "/console/api/simulate?"+bad, viewerSecret, ""); code < 400 || !strings.Contains(body, `"error"`) {
			t.Errorf("simulate?%s: %d %s", bad, code, body)
		}
	}
	res, err := http.NewRequest("GET", e.srv.URL+"/console/api/simulate.wav?caller=hangup@8s", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Header.Set("Authorization", "Bearer "+viewerSecret)
	resp, err := http.DefaultClient.Do(res)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	wav, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Content-Type") != "audio/wav" || string(wav[:4]) != "RIFF" || binary.LittleEndian.Uint32(wav[24:]) != 8000 {
		t.Fatalf("WAV %s % x", resp.Header.Get("Content-Type"), wav[:min(len(wav), 44)])
	}
	if secs := float64(len(wav)-44) / 16000; secs < 8 || secs > 8.6 {
		t.Errorf("WAV of %.2f s, want the 8 s call and half a second", secs)
	}
}
