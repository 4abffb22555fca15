// Package console is kefu's ops console: one web page, served by kefu run
// on the ops HTTP address at /, where ops watch the hotline live (calls,
// queues, agents, the day's figures), work the lists (callbacks,
// complaints, surveys, the nuisance list), look at and try the flows, and
// where agents go ready, pause and sign out.
//
// The page is plain HTML, CSS and JavaScript embedded in the binary (no
// build step, no CDN). It calls the ops API with the bearer token it keeps
// in sessionStorage, and follows the live view on a server-sent-event
// stream (/console/events) read with fetch, which can send the token as
// EventSource cannot. The stream starts with a snapshot, then sends only
// what changed, at most every DefaultInterval.
//
// Routes the console adds in front of the ops API:
//
//	GET  /                        the page
//	GET  /console/static/...      its scripts and styles
//	POST /console/login           an agent logs in: {"agent": ID, "password": P} → a session token
//	POST /console/logout          the session of the bearer token ends
//	GET  /console/events          the live view (text/event-stream), any role
//	GET  /console/api/me          who the token belongs to
//	GET  /console/api/flows       the flows as Mermaid text, the version, the check's exceptions
//	GET  /console/api/check       the configuration file checked as kefu check does, not applied
//	GET  /console/api/simulate    a simulated call's timeline (?flow= &caller= &at= &from= &to= &waited=)
//	GET  /console/api/simulate.wav  what its caller would hear, as a WAV
//
// Everything else goes to the ops API behind its guard; /console/api/
// goes through the guard too (roles, audit, masking for viewers).
package console

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/ops"
)

//go:embed static
var static embed.FS

// Config is what the console serves from.
type Config struct {
	Source
	// API is the ops API behind its guard: the console serves every path
	// it does not own from it.
	API http.Handler
	// Guard authenticates the event stream and guards /console/api/.
	Guard *ops.Guard
	// Sessions are the agents' console sessions; the guard's Tokens
	// should come from Sessions.Tokens.
	Sessions *Sessions
	// Check loads the configuration file as kefu check does, without
	// applying it; nil: the console offers no check.
	Check func() (*flows.Bundle, error)
	// Interval is how often the live view samples (default
	// DefaultInterval).
	Interval time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	Log *slog.Logger
}

// Console serves the page, its stream and its endpoints in front of the
// ops API. Close stops its sampling.
type Console struct {
	cfg    Config
	hub    *hub
	mux    *http.ServeMux
	cancel context.CancelFunc
	done   chan struct{}
}

// New returns the console and starts sampling the live view.
func New(cfg Config) *Console {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Sessions == nil {
		cfg.Sessions = NewSessions(cfg.Now)
	}
	if cfg.Guard == nil {
		cfg.Guard = &ops.Guard{}
	}
	c := &Console{cfg: cfg, hub: newHub(cfg.Source, cfg.Now, cfg.Interval, cfg.Log), mux: http.NewServeMux(), done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go func() {
		defer close(c.done)
		c.hub.run(ctx)
	}()

	assets, _ := fs.Sub(static, "static")
	files := http.StripPrefix("/console/static/", http.FileServerFS(assets))
	c.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		pageHeaders(w)
		http.ServeFileFS(w, r, assets, "index.html")
	})
	c.mux.HandleFunc("GET /console/static/", func(w http.ResponseWriter, r *http.Request) {
		pageHeaders(w)
		files.ServeHTTP(w, r)
	})
	c.mux.HandleFunc("POST /console/login", c.login)
	c.mux.HandleFunc("POST /console/logout", c.logout)
	c.mux.HandleFunc("GET /console/events", c.events)

	api := http.NewServeMux()
	api.HandleFunc("GET /console/api/me", c.me)
	api.HandleFunc("GET /console/api/flows", c.flows)
	api.HandleFunc("GET /console/api/check", c.check)
	api.HandleFunc("GET /console/api/simulate", c.simulate)
	api.HandleFunc("GET /console/api/simulate.wav", c.simulateWAV)
	api.HandleFunc("/console/api/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, errorJSON{"no console endpoint " + r.Method + " " + r.URL.Path})
	})
	c.mux.Handle("/console/api/", cfg.Guard.Wrap(api))
	if cfg.API != nil {
		c.mux.Handle("/", cfg.API)
	}
	return c
}

// ServeHTTP serves the console and, behind it, the ops API.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.mux.ServeHTTP(w, r) }

// Close stops the sampling and ends the streams.
func (c *Console) Close() error {
	c.cancel()
	<-c.done
	return nil
}

// pageHeaders keeps the page to itself: its own scripts only, no framing,
// no type sniffing, and a fresh copy after each upgrade.
func pageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "+
		"media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
}

type errorJSON struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// meJSON is who a token belongs to.
type meJSON struct {
	Name    string   `json:"name"`
	Role    ops.Role `json:"role"`
	AgentID string   `json:"agent_id,omitempty"`
	// Open: the ops API takes no tokens (loopback); everyone is an
	// operator.
	Open bool `json:"open"`
}

func (c *Console) me(w http.ResponseWriter, r *http.Request) {
	who := ops.CallerOf(r)
	open := c.cfg.Guard.Tokens == nil || len(c.cfg.Guard.Tokens()) == 0
	writeJSON(w, http.StatusOK, meJSON{Name: who.Name, Role: who.Role, AgentID: who.AgentID, Open: open})
}

// loginJSON is an agent's log-in.
type loginJSON struct {
	Agent    string `json:"agent"`
	Password string `json:"password"`
}

// sessionJSON answers a log-in.
type sessionJSON struct {
	Token   string    `json:"token"`
	Role    ops.Role  `json:"role"`
	AgentID string    `json:"agent_id"`
	Name    string    `json:"name"`
	Expires time.Time `json:"expires"`
}

// login opens an agent's session. It is served outside the guard (the
// agent has no token yet), so it refuses other origins and non-JSON
// bodies itself, and writes each try to the audit log.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	if msg := sameOrigin(r); msg != "" {
		writeJSON(w, http.StatusForbidden, errorJSON{msg})
		return
	}
	var body loginJSON
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || body.Agent == "" {
		writeJSON(w, http.StatusBadRequest, errorJSON{`body: want {"agent": "ID", "password": "..."}`})
		return
	}
	secret, def, expires, err := c.cfg.Sessions.open(c.cfg.Current().Config, body.Agent, body.Password)
	status := http.StatusOK
	var le *loginError
	switch {
	case errors.As(err, &le) && le.throttled:
		status = http.StatusTooManyRequests
	case err != nil:
		status = http.StatusUnauthorized
	}
	c.audit(r, "agent "+body.Agent, ops.Agent, status)
	if err != nil {
		c.cfg.Log.Warn("console log-in refused", "agent", body.Agent, "remote", r.RemoteAddr, "status", status)
		writeJSON(w, status, errorJSON{err.Error()})
		return
	}
	c.cfg.Log.Info("console log-in", "agent", def.ID, "remote", r.RemoteAddr)
	name := def.Name
	if name == "" {
		name = def.ID
	}
	writeJSON(w, http.StatusOK, sessionJSON{Token: secret, Role: ops.Agent, AgentID: def.ID, Name: name, Expires: expires})
}

// logout ends the bearer token's session, if it is one.
func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	if msg := sameOrigin(r); msg != "" {
		writeJSON(w, http.StatusForbidden, errorJSON{msg})
		return
	}
	secret, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	ended := secret != "" && c.cfg.Sessions.close(strings.TrimSpace(secret))
	writeJSON(w, http.StatusOK, map[string]bool{"ended": ended})
}

// audit writes a log-in to the guard's audit log, without the password.
func (c *Console) audit(r *http.Request, who string, role ops.Role, status int) {
	if c.cfg.Guard.Audit == nil {
		return
	}
	if err := c.cfg.Guard.Audit.Write(ops.AuditEntry{At: c.cfg.Now(), Who: who, Role: role, Method: r.Method, Path: r.URL.Path, Status: status}); err != nil {
		c.cfg.Log.Error("console: audit log", "error", err)
	}
}

// sameOrigin says why a write served outside the guard looks like another
// site's (CSRF), or "": the guard's rule for the API's writes.
func sameOrigin(r *http.Request) string {
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || o == "null" || !strings.EqualFold(u.Host, r.Host) {
			return "a request from another origin (" + o + ") is refused"
		}
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		return "a request from another site is refused"
	}
	if r.ContentLength != 0 || r.Header.Get("Content-Type") != "" {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			return "want Content-Type: application/json"
		}
	}
	return ""
}
