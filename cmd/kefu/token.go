package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"

	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/ops"
)

// cmdToken makes a bearer token for the ops API: it prints the secret (to
// give its holder, once) and the line for the config's ops_tokens, which
// keeps only its SHA-256.
func cmdToken(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kefu token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "who holds the token (the audit log names them)")
	role := fs.String("role", "operator", "viewer (figures, numbers masked), agent (its own state) or operator")
	agent := fs.String("agent", "", "for an agent's token: the agent's id")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	r, err := ops.ParseRole(*role)
	switch {
	case err != nil:
		fmt.Fprintln(stderr, "kefu token:", err)
		return 2
	case *name == "":
		fmt.Fprintln(stderr, "kefu token: -name NAME: who holds it")
		return 2
	case r == ops.Agent && *agent == "":
		fmt.Fprintln(stderr, "kefu token: -agent ID: an agent's token belongs to one agent")
		return 2
	}
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	secret := "kefu_" + base64.RawURLEncoding.EncodeToString(b)
	fmt.Fprintf(stdout, "token (give it to %s; it is not kept anywhere): %s\n", *name, secret)
	fmt.Fprintf(stdout, "add to the config under ops_tokens:\n  - {name: %q, role: %s, sha256: %s", *name, r, ops.HashToken(secret))
	if r == ops.Agent {
		fmt.Fprintf(stdout, ", agent: %q", *agent)
	}
	fmt.Fprintln(stdout, "}")
	return 0
}

// opsTokens are the config's tokens as the ops guard takes them.
func opsTokens(c *flows.Config) []ops.Token {
	out := make([]ops.Token, 0, len(c.OpsTokens))
	for _, t := range c.OpsTokens {
		out = append(out, ops.Token{Name: t.Name, Role: ops.Role(t.Role), SHA256: t.SHA256, AgentID: t.Agent})
	}
	return out
}

// checkOpsExposure refuses to serve the ops API beyond loopback without
// tokens: it reads callers' numbers and changes the hotline.
func checkOpsExposure(addr string, c *flows.Config) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-http %q: %w", addr, err)
	}
	ip, err := netip.ParseAddr(host)
	if host == "localhost" || err == nil && ip.IsLoopback() || len(c.OpsTokens) > 0 {
		return nil
	}
	return fmt.Errorf("-http %s serves the ops API beyond this machine without tokens: anyone who reaches it could read callers' numbers and change the hotline; add ops_tokens to the config (kefu token -name NAME -role operator) or serve it on 127.0.0.1", addr)
}
