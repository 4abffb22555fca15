package main

import (
	"bufio"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/ops"
)

// TestIntegrationOpsTokens: the ops API of the real binary with tokens:
// nothing but the health checks without one; a viewer reads and cannot
// change; an operator changes the nuisance list, and the change is in the
// audit log with the operator's name; a web page's text/plain post from
// another origin (which once added 139* to the list) is refused even with
// a token.
func TestIntegrationOpsTokens(t *testing.T) {
	integration(t)
	t.Parallel()
	cfg := configFile(t, string(flows.DefaultYAML())+`
ops_tokens:
  - {name: wang, role: operator, sha256: `+ops.HashToken("op-secret")+`}
  - {name: wall, role: viewer, sha256: `+ops.HashToken("view-secret")+`}
`)
	a := startAgent(t, "-config", cfg)
	req := func(method, path, token, ctype, origin, body string) int {
		t.Helper()
		r, err := http.NewRequest(method, "http://"+a.http+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	add := `{"pattern": "139*", "reason": "test", "added_by": "wang"}`
	for _, c := range []struct {
		what                             string
		method, path, token, ctype, orig string
		body                             string
		want                             int
	}{
		{"health without a token", "GET", "/healthz", "", "", "", "", 200},
		{"metrics without a token", "GET", "/metrics", "", "", "", "", 401},
		{"list without a token", "GET", "/api/nuisance", "", "", "", "", 401},
		{"viewer reads", "GET", "/api/queues", "view-secret", "", "", "", 200},
		{"viewer changes", "POST", "/api/nuisance", "view-secret", "application/json", "", add, 403},
		{"cross-site text/plain", "POST", "/api/nuisance", "op-secret", "text/plain", "http://evil.example", add, 403},
		{"operator changes", "POST", "/api/nuisance", "op-secret", "application/json", "", add, 201},
	} {
		if got := req(c.method, c.path, c.token, c.ctype, c.orig, c.body); got != c.want {
			t.Errorf("%s: %d, want %d", c.what, got, c.want)
		}
	}
	f, err := os.Open(filepath.Join(a.data, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) != 1 || !strings.Contains(lines[0], `"who":"wang"`) || !strings.Contains(lines[0], `139*`) {
		t.Errorf("audit log %q; want the operator's one change", lines)
	}
}
