package console

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"strings"
	"sync"
	"time"

	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/ops"
)

// Session limits.
const (
	// SessionTTL is how long an agent's console session lasts (a shift).
	SessionTTL = 12 * time.Hour
	// maxFailures wrong passwords for one agent id within failureWindow
	// make further log-ins of that id wait (429) until the window ends.
	maxFailures   = 5
	failureWindow = time.Minute
	maxTracked    = 10000 // agent ids whose failures are remembered
	// sessionPrefix marks a session's secret, so that an operator who
	// finds one in a browser knows it is not an ops token.
	sessionPrefix = "kefus_"
)

// Sessions are the agents signed in to the console with their id and
// password: each gets a bearer secret the ops guard takes as an agent's
// token (Tokens) until it expires or the agent logs out.
type Sessions struct {
	now func() time.Time

	mu    sync.Mutex
	live  map[string]session     // hex SHA-256 of the secret → session
	fails map[string][]time.Time // agent id → recent wrong passwords
}

type session struct {
	token   ops.Token
	expires time.Time
}

// NewSessions returns an empty set of sessions on the clock now (nil:
// time.Now).
func NewSessions(now func() time.Time) *Sessions {
	if now == nil {
		now = time.Now
	}
	return &Sessions{now: now, live: map[string]session{}, fails: map[string][]time.Time{}}
}

// Tokens returns the guard's tokens: those of base (the configuration's)
// and, when base has any, the agents' live sessions. Without configured
// tokens the ops API is open on loopback, and a session adds nothing (an
// agent token among none would lock everyone else out).
func (s *Sessions) Tokens(base func() []ops.Token) func() []ops.Token {
	return func() []ops.Token {
		out := base()
		if len(out) == 0 {
			return out
		}
		now := s.now()
		s.mu.Lock()
		defer s.mu.Unlock()
		for h, ss := range s.live {
			if !now.Before(ss.expires) {
				delete(s.live, h)
				continue
			}
			out = append(out, ss.token)
		}
		return out
	}
}

// loginError is why a log-in was refused; throttled means too many tries.
type loginError struct {
	msg       string
	throttled bool
}

func (e *loginError) Error() string { return e.msg }

// open checks an agent's id and password against the configuration's
// agents (the phone's digest password, or its HA1) and opens a session:
// the secret to send as a bearer token and when it expires.
func (s *Sessions) open(cfg *flows.Config, id, password string) (secret string, def flows.AgentDef, expires time.Time, err error) {
	now := s.now()
	s.mu.Lock()
	recent := s.fails[id][:0]
	for _, t := range s.fails[id] {
		if now.Sub(t) < failureWindow {
			recent = append(recent, t)
		}
	}
	if len(recent) == 0 {
		delete(s.fails, id) // the map holds only ids tried within the window
	} else {
		s.fails[id] = recent
	}
	throttled := len(recent) >= maxFailures
	s.mu.Unlock()
	if throttled {
		return "", def, expires, &loginError{msg: "too many wrong passwords for this agent; try again in a minute", throttled: true}
	}
	found := false
	for _, a := range cfg.Agents {
		if a.ID == id {
			def, found = a, true
		}
	}
	if !found || !passwordMatches(def, password) {
		s.mu.Lock()
		if len(s.fails) >= maxTracked {
			clear(s.fails) // a flood of made-up ids: forget them rather than grow
		}
		s.fails[id] = append(s.fails[id], now)
		s.mu.Unlock()
		return "", def, expires, &loginError{msg: "wrong agent id or password"}
	}
	b := make([]byte, 24)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	secret = sessionPrefix + hex.EncodeToString(b)
	expires = now.Add(SessionTTL)
	name := def.Name
	if name == "" {
		name = def.ID
	}
	s.mu.Lock()
	delete(s.fails, id)
	s.live[ops.HashToken(secret)] = session{
		token:   ops.Token{Name: "agent " + def.ID + " (" + name + ", console)", Role: ops.Agent, SHA256: ops.HashToken(secret), AgentID: def.ID},
		expires: expires,
	}
	s.mu.Unlock()
	return secret, def, expires, nil
}

// close ends the session of secret; it reports whether there was one.
func (s *Sessions) close(secret string) bool {
	h := ops.HashToken(secret)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.live[h]
	delete(s.live, h)
	return ok
}

// passwordMatches checks password against the agent's digest password or
// its HA1 (MD5 of "id:kefu:password"), in constant time.
func passwordMatches(a flows.AgentDef, password string) bool {
	if password == "" {
		return false
	}
	if a.Password != "" {
		return subtle.ConstantTimeCompare([]byte(a.Password), []byte(password)) == 1
	}
	if a.HA1 != "" {
		sum := md5.Sum([]byte(a.ID + ":kefu:" + password))
		return subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(strings.ToLower(a.HA1))) == 1
	}
	return false // an agent reached at a fixed contact has no password
}
