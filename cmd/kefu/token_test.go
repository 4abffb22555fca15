package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/ops"
)

// TestTokenCommand: kefu token prints a secret once and the config line
// that keeps only its hash; the config with that line loads, and the
// secret's hash is the one in it.
func TestTokenCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := cmdToken([]string{"-name", "王芳", "-role", "operator"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	secret := regexp.MustCompile(`kefu_[A-Za-z0-9_-]{32}`).FindString(out.String())
	line := regexp.MustCompile(`  - \{name: .*\}`).FindString(out.String())
	if secret == "" || line == "" || !strings.Contains(line, ops.HashToken(secret)) || strings.Contains(line, secret) {
		t.Fatalf("output:\n%s", out.String())
	}
	file := filepath.Join(t.TempDir(), "kefu.yaml")
	if err := os.WriteFile(file, append(flows.DefaultYAML(), []byte("ops_tokens:\n"+line+"\n")...), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := flows.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if toks := opsTokens(b.Config); len(toks) != 1 || toks[0].Role != ops.Operator || toks[0].Name != "王芳" {
		t.Errorf("tokens %+v", toks)
	}
	if code := cmdToken([]string{"-name", "x", "-role", "agent"}, &out, &errb); code != 2 {
		t.Errorf("an agent's token without -agent: exit %d", code)
	}
	// Beyond loopback the API needs tokens.
	def, _ := flows.Load("")
	if err := checkOpsExposure("0.0.0.0:8080", def.Config); err == nil || !strings.Contains(err.Error(), "ops_tokens") {
		t.Errorf("open API on 0.0.0.0 without tokens: %v", err)
	}
	for _, addr := range []string{"127.0.0.1:8080", "[::1]:8080", "localhost:8080"} {
		if err := checkOpsExposure(addr, def.Config); err != nil {
			t.Errorf("%s: %v", addr, err)
		}
	}
	if err := checkOpsExposure("0.0.0.0:8080", b.Config); err != nil {
		t.Errorf("with a token: %v", err)
	}
}
