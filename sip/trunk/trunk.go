// Package trunk keeps kefu registered at the trunks it places its own
// calls through (issue 13: callbacks and follow-ups): a REGISTER with
// digest authentication (MD5 or SHA-256, the last challenge reused with a
// rising nonce count), refreshed before the binding expires, and retried
// with exponential back-off while the trunk is down or refuses. The
// current state is what /metrics shows and what decides whether kefu may
// dial through the trunk.
//
// The package sends through a Send function (package sip passes its
// sipgo client), so its tests run against a registrar in memory, in
// virtual time.
package trunk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Defaults for Config's zero fields.
const (
	DefaultExpires    = time.Hour
	DefaultMinBackoff = 5 * time.Second
	DefaultMaxBackoff = 5 * time.Minute
	DefaultTimeout    = 32 * time.Second // RFC 3261 Timer F
	unregisterTimeout = 5 * time.Second
)

// State is where a trunk's registration stands.
type State uint8

// The states of a registration.
const (
	Unregistered State = iota // not yet registered, or removed at the end
	Registered                // the trunk holds kefu's binding
	Failed                    // the last REGISTER failed: retrying with back-off
)

// String names the state as metrics and logs spell it.
func (s State) String() string {
	switch s {
	case Unregistered:
		return "unregistered"
	case Registered:
		return "registered"
	case Failed:
		return "failed"
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// Config describes one trunk registration.
type Config struct {
	// Name is the trunk's name in logs.
	Name string
	// Registrar is the trunk's URI, sip:host[:port]: the Request-URI of
	// the REGISTERs; Transport is UDP or TCP.
	Registrar sip.Uri
	Transport string
	// User is the user registered (the address of record is
	// sip:User@registrar-host) and, with Password, the digest
	// credentials; no Password: challenges are not answered.
	User, Password string
	// Contact is where the trunk reaches kefu.
	Contact sip.Uri
	// Expires is the lifetime asked for; the trunk may grant less, or
	// insist on more (423).
	Expires   time.Duration
	UserAgent string
	// Send sends a request outside a dialog and returns its final
	// response; it must give up by itself or when ctx ends.
	Send func(ctx context.Context, req *sip.Request) (*sip.Response, error)
	// Timeout bounds one registration (its challenge included).
	Timeout time.Duration
	// MinBackoff is the wait after the first failure; each failure in a
	// row doubles it, up to MaxBackoff. A Retry-After from the trunk is
	// waited for at least.
	MinBackoff, MaxBackoff time.Duration
	Logger                 *slog.Logger
	// OnChange, if set, is called with the status after every change of
	// state, from the registration's goroutine.
	OnChange func(Status)
}

// Status is a registration at a moment.
type Status struct {
	State State
	// Since is when State began.
	Since time.Time
	// Expires is when the binding runs out unless refreshed (Registered).
	Expires time.Time
	// Failures counts the failed REGISTERs in a row; Err is the last.
	Failures int
	Err      string
	// Retry is when the next REGISTER goes out after a failure.
	Retry time.Time
}

// Registration keeps kefu registered at one trunk; make one with New and
// run it with Run.
type Registration struct {
	cfg Config
	b   *binding

	mu sync.Mutex
	st Status
}

// New checks cfg and fills in its defaults.
func New(cfg Config) (*Registration, error) {
	switch {
	case cfg.Send == nil:
		return nil, errors.New("trunk: Config.Send is required")
	case cfg.Registrar.Host == "":
		return nil, errors.New("trunk: no registrar host")
	case cfg.Contact.Host == "":
		return nil, errors.New("trunk: no contact")
	case cfg.Expires < 0 || cfg.MinBackoff < 0 || cfg.MaxBackoff < 0 || cfg.Timeout < 0:
		return nil, errors.New("trunk: negative durations")
	}
	if cfg.Expires == 0 {
		cfg.Expires = DefaultExpires
	}
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	cfg.MaxBackoff = max(cfg.MaxBackoff, cfg.MinBackoff)
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Transport == "" {
		cfg.Transport = "UDP"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Logger = cfg.Logger.With("trunk", cfg.Name)
	r := &Registration{cfg: cfg}
	r.b = newBinding(&r.cfg)
	r.st.Since = time.Now()
	return r, nil
}

// Status returns the registration's status now.
func (r *Registration) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st
}

// Up reports whether the trunk holds kefu's binding now.
func (r *Registration) Up() bool {
	s := r.Status()
	return s.State == Registered && time.Now().Before(s.Expires)
}

// Run registers, refreshes the binding before it expires, and retries
// with back-off after failures, until ctx ends; then it removes the
// binding (a REGISTER with Expires: 0, bounded to a few seconds) and
// returns.
func (r *Registration) Run(ctx context.Context) {
	backoff := r.cfg.MinBackoff
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			r.unregister(ctx)
			return
		case <-t.C:
		}
		granted, err := r.once(ctx)
		if ctx.Err() != nil {
			r.unregister(ctx)
			return
		}
		if err == nil {
			backoff = r.cfg.MinBackoff
			t.Reset(refreshAfter(granted))
			continue
		}
		wait := backoff
		if re, ok := errors.AsType[*RefusedError](err); ok && re.RetryAfter > wait {
			wait = min(re.RetryAfter, max(r.cfg.MaxBackoff, time.Hour))
		}
		backoff = min(2*backoff, r.cfg.MaxBackoff)
		r.failed(err, wait)
		t.Reset(wait)
	}
}

// once sends one registration and records its success.
func (r *Registration) once(ctx context.Context) (time.Duration, error) {
	rctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	granted, err := r.b.register(rctx, r.cfg.Expires)
	if err == nil && granted <= 0 {
		err = errors.New("trunk: the trunk granted no time")
	}
	if err != nil {
		return 0, err
	}
	now := time.Now()
	r.mu.Lock()
	was := r.st
	r.st = Status{State: Registered, Since: was.Since, Expires: now.Add(granted)}
	if was.State != Registered {
		r.st.Since = now
	}
	st := r.st
	r.mu.Unlock()
	if was.State != Registered {
		r.cfg.Logger.Info("trunk registered", "expires_s", int(granted.Seconds()), "after_failures", was.Failures)
		r.changed(st)
	} else {
		r.cfg.Logger.Debug("trunk registration refreshed", "expires_s", int(granted.Seconds()))
	}
	return granted, nil
}

// failed records a failed registration; the next try is after wait.
func (r *Registration) failed(err error, wait time.Duration) {
	now := time.Now()
	r.mu.Lock()
	was := r.st
	r.st = Status{State: Failed, Since: was.Since, Failures: was.Failures + 1, Err: err.Error(), Retry: now.Add(wait)}
	if was.State != Failed {
		r.st.Since = now
	}
	st := r.st
	r.mu.Unlock()
	r.cfg.Logger.Warn("trunk registration failed", "error", err.Error(), "failures", st.Failures, "retry_s", wait.Seconds())
	if was.State != Failed {
		r.changed(st)
	}
}

// unregister removes the binding if the trunk holds one.
func (r *Registration) unregister(ctx context.Context) {
	if r.Status().State != Registered {
		return
	}
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unregisterTimeout)
	defer cancel()
	_, err := r.b.register(uctx, 0)
	r.mu.Lock()
	r.st = Status{State: Unregistered, Since: time.Now()}
	st := r.st
	r.mu.Unlock()
	if err != nil {
		r.cfg.Logger.Warn("trunk un-registration failed", "error", err.Error())
	} else {
		r.cfg.Logger.Info("trunk unregistered")
	}
	r.changed(st)
}

func (r *Registration) changed(st Status) {
	if r.cfg.OnChange != nil {
		r.cfg.OnChange(st)
	}
}

// refreshAfter is when to renew a binding granted for d: halfway for
// short ones, a minute before expiry for long ones, never sooner than a
// second.
func refreshAfter(d time.Duration) time.Duration {
	return max(d-min(d/2, time.Minute), time.Second)
}
