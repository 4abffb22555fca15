package ops

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// Role is what a token may do on the ops API.
type Role string

// The roles, each able to do what the one before can.
const (
	// Viewer reads the figures and lists; caller numbers are masked.
	Viewer Role = "viewer"
	// Agent is an agent's own token: the figures, and its own state
	// (POST /api/agents/{its id}/...).
	Agent Role = "agent"
	// Operator runs the hotline: lists, records, reloads, agents.
	Operator Role = "operator"
)

// Token is one bearer token of the ops API, kept as the SHA-256 of the
// secret (the config never holds the secret itself).
type Token struct {
	Name   string // who holds it, for the audit log
	Role   Role
	SHA256 string // hex
	// AgentID is the agent an Agent token belongs to.
	AgentID string
}

// Caller is who made a request: the token's holder and role; Anonymous
// when no tokens are configured (loopback only).
type Caller struct {
	Name    string
	Role    Role
	AgentID string
}

type callerKey struct{}

// CallerOf returns who made the request (set by Guard).
func CallerOf(r *http.Request) Caller {
	if c, ok := r.Context().Value(callerKey{}).(Caller); ok {
		return c
	}
	return Caller{Name: "anonymous", Role: Operator}
}

// HashToken is the form a token is kept in: the hex SHA-256 of the
// secret.
func HashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Guard protects the ops API. With tokens, every request but /healthz and
// /readyz needs `Authorization: Bearer SECRET` of one of them, and its role
// must allow the request; without tokens (an ops address on loopback
// only) everyone is an operator. In both cases a write (any method but
// GET and HEAD) from a web page of another origin, or with a body that is
// not JSON, is refused: a page in the operator's browser must not be able
// to change the hotline (CSRF). Numbers in the answers to a viewer are
// masked; every change is written to the audit log before it is answered.
type Guard struct {
	// Tokens returns the tokens in force (a reload may change them);
	// nil or none: loopback without tokens.
	Tokens func() []Token
	Audit  *AuditLog // nil: no audit log
}

// Wrap returns h behind the guard.
func (g *Guard) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			h.ServeHTTP(w, r)
			return
		}
		write := r.Method != http.MethodGet && r.Method != http.MethodHead
		if write {
			if msg := crossSite(r); msg != "" {
				writeJSON(w, http.StatusForbidden, map[string]any{"error": msg})
				return
			}
		}
		c, status, msg := g.authenticate(r)
		if status != 0 {
			if status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="kefu"`)
			}
			writeJSON(w, status, map[string]any{"error": msg})
			return
		}
		if msg := allowed(c, r, write); msg != "" {
			writeJSON(w, http.StatusForbidden, map[string]any{"error": msg})
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), callerKey{}, c))
		switch {
		case write && g.Audit != nil:
			g.Audit.serve(h, w, r, c)
		case c.Role == Viewer:
			maskNumbers(h, w, r)
		default:
			h.ServeHTTP(w, r)
		}
	})
}

// authenticate finds the request's token; status is non-zero when it is
// refused.
func (g *Guard) authenticate(r *http.Request) (c Caller, status int, msg string) {
	var tokens []Token
	if g.Tokens != nil {
		tokens = g.Tokens()
	}
	if len(tokens) == 0 {
		return Caller{Name: "anonymous", Role: Operator}, 0, ""
	}
	secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || secret == "" {
		return c, http.StatusUnauthorized, "a token is needed: Authorization: Bearer TOKEN"
	}
	sum := HashToken(strings.TrimSpace(secret))
	for _, t := range tokens {
		if subtle.ConstantTimeCompare([]byte(sum), []byte(strings.ToLower(t.SHA256))) == 1 {
			return Caller{Name: t.Name, Role: t.Role, AgentID: t.AgentID}, 0, ""
		}
	}
	return c, http.StatusUnauthorized, "unknown token"
}

// allowed says why c may not make request r ("" when it may).
func allowed(c Caller, r *http.Request, write bool) string {
	switch c.Role {
	case Operator:
		return ""
	case Agent:
		if !write {
			return ""
		}
		if own := "/api/agents/" + c.AgentID + "/"; c.AgentID != "" && strings.HasPrefix(r.URL.Path, own) {
			return ""
		}
		return fmt.Sprintf("an agent's token changes only its own state (/api/agents/%s/...)", c.AgentID)
	case Viewer:
		if write {
			return "a viewer's token reads; changes need an operator's"
		}
		return ""
	}
	return "unknown role"
}

// crossSite says why a write looks like another site's (CSRF), or "".
func crossSite(r *http.Request) string {
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || !strings.EqualFold(u.Host, r.Host) {
			return "a change from another origin (" + o + ") is refused"
		}
	} else if o == "null" {
		return "a change from an opaque origin is refused"
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		return "a change from another site is refused"
	}
	if r.ContentLength != 0 || r.Header.Get("Content-Type") != "" {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			return "a change needs Content-Type: application/json"
		}
	}
	return ""
}

// ParseRole reads a role's name.
func ParseRole(s string) (Role, error) {
	switch r := Role(strings.ToLower(strings.TrimSpace(s))); r {
	case Viewer, Agent, Operator:
		return r, nil
	}
	return "", fmt.Errorf("role %q: use viewer, agent or operator", s)
}
