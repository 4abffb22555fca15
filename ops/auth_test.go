package ops

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// guarded is a tiny API behind a Guard: a list with a caller's number, a
// change, the agents' actions and the health check.
func guarded(t *testing.T, tokens []Token) (http.Handler, string) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, map[string]any{"status": "ok"}) })
	mux.HandleFunc("GET /api/callbacks", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, []map[string]any{{"id": 1, "number": "13812345678", "call_id": "1-2@h", "at": "2026-12-06T10:00:00.929736587+08:00", "note": "call back +8613812345678 today"}})
	})
	mux.HandleFunc("POST /api/nuisance", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 201, map[string]any{"by": CallerOf(r).Name})
	})
	mux.HandleFunc("POST /api/agents/{id}/pause", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"id": r.PathValue("id")})
	})
	log := filepath.Join(t.TempDir(), "audit.log")
	a, err := OpenAudit(log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return (&Guard{Tokens: func() []Token { return tokens }, Audit: a}).Wrap(mux), log
}

func do(h http.Handler, method, path, token, ctype, origin, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "http://127.0.0.1:8080"+path, strings.NewReader(body))
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestGuardWithoutTokens: on loopback without tokens everyone may read and
// change, but not from a web page of another site, nor with a body that is
// not JSON (the text/plain form post that added 139* to the list).
func TestGuardWithoutTokens(t *testing.T) {
	h, _ := guarded(t, nil)
	if w := do(h, "GET", "/api/callbacks", "", "", "", ""); w.Code != 200 || !strings.Contains(w.Body.String(), "13812345678") {
		t.Errorf("read: %d %s", w.Code, w.Body)
	}
	if w := do(h, "POST", "/api/nuisance", "", "text/plain", "", `{"number":"139*"}`); w.Code != 403 {
		t.Errorf("text/plain post: %d, want 403", w.Code)
	}
	if w := do(h, "POST", "/api/nuisance", "", "application/json", "http://evil.example", `{"number":"139*"}`); w.Code != 403 {
		t.Errorf("cross-origin post: %d, want 403", w.Code)
	}
	if w := do(h, "POST", "/api/nuisance", "", "application/json", "http://127.0.0.1:8080", `{"number":"139*"}`); w.Code != 201 {
		t.Errorf("same-origin JSON post: %d %s", w.Code, w.Body)
	}
}

// TestGuardTokens: with tokens, nothing but the health checks without one;
// a viewer reads with numbers masked and changes nothing; an agent changes
// only its own state; an operator changes, and each change is in the audit
// log with who made it.
func TestGuardTokens(t *testing.T) {
	tokens := []Token{
		{Name: "wang", Role: Operator, SHA256: HashToken("op-secret")},
		{Name: "screen", Role: Viewer, SHA256: HashToken("view-secret")},
		{Name: "agent 8001", Role: Agent, SHA256: HashToken("agent-secret"), AgentID: "8001"},
	}
	h, log := guarded(t, tokens)
	if w := do(h, "GET", "/healthz", "", "", "", ""); w.Code != 200 {
		t.Errorf("healthz without a token: %d", w.Code)
	}
	for _, tok := range []string{"", "wrong"} {
		if w := do(h, "GET", "/api/callbacks", tok, "", "", ""); w.Code != 401 || w.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("token %q: %d, want 401 with a challenge", tok, w.Code)
		}
	}
	w := do(h, "GET", "/api/callbacks", "view-secret", "", "", "")
	if w.Code != 200 || strings.Contains(w.Body.String(), "13812345678") || !strings.Contains(w.Body.String(), `"1-2@h"`) ||
		!strings.Contains(w.Body.String(), "10:00:00.929736587+08:00") || !strings.Contains(w.Body.String(), "call back +") {
		t.Errorf("viewer read: %d %s; want the number masked, the rest as is", w.Code, w.Body)
	}
	if w := do(h, "POST", "/api/nuisance", "view-secret", "application/json", "", `{}`); w.Code != 403 {
		t.Errorf("viewer change: %d, want 403", w.Code)
	}
	if w := do(h, "POST", "/api/agents/8002/pause", "agent-secret", "application/json", "", `{}`); w.Code != 403 {
		t.Errorf("agent pausing another: %d, want 403", w.Code)
	}
	if w := do(h, "POST", "/api/agents/8001/pause", "agent-secret", "application/json", "", `{"reason":"lunch"}`); w.Code != 200 {
		t.Errorf("agent pausing itself: %d %s", w.Code, w.Body)
	}
	if w := do(h, "POST", "/api/nuisance", "op-secret", "application/json", "", `{"number":"13900000000"}`); w.Code != 201 || !strings.Contains(w.Body.String(), `"wang"`) {
		t.Errorf("operator change: %d %s", w.Code, w.Body)
	}
	f, err := os.Open(log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []AuditEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e AuditEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
	}
	if len(got) != 2 || got[0].Who != "agent 8001" || got[0].Path != "/api/agents/8001/pause" || got[1].Who != "wang" ||
		got[1].Status != 201 || !strings.Contains(string(got[1].Body), "13900000000") {
		t.Errorf("audit log %+v; want the agent's pause and the operator's change (the refused ones are not changes)", got)
	}
}
