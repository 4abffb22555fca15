package sip

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/kefu-hotline/kefu/flows"
)

// errOpsHangup is the cause of a call ops ended (Agent.Hangup).
var errOpsHangup = errors.New("ended by ops")

// CallInfo is a call in progress as ops see it (/api/calls). The caller's
// number is masked whatever Config.ShowNumbers says: the list is for
// watching calls, not for calling anyone back.
type CallInfo struct {
	CallID  string    `json:"call_id"`
	Caller  string    `json:"caller"` // masked
	Called  string    `json:"called"` // the hotline number dialled
	Source  string    `json:"source"` // the address the INVITE came from (the trunk)
	Flow    string    `json:"flow"`
	Version string    `json:"version"` // of the configuration the call runs on
	State   string    `json:"state"`   // "ringing" or "answered"
	Started time.Time `json:"started"` // the INVITE arrived
	// Answered is when kefu answered; zero while ringing.
	Answered time.Time `json:"answered,omitzero"`
	Seconds  float64   `json:"duration_seconds"` // since Started
	Codec    string    `json:"codec,omitempty"`
	// Step is the flow step running, "name (verb)"; "" before the first.
	Step string `json:"step,omitempty"`
	// Line is what kefu last heard on the caller's line: "speech",
	// "weak", "noise", or "" before anything was.
	Line string `json:"line,omitempty"`
	Held bool   `json:"held"` // the caller's side holds the call
}

// callLive is what a call shows of itself while it runs, for CallInfo:
// written by its goroutines, read by ops.
type callLive struct {
	answered atomic.Pointer[answered] // nil while ringing
	step     atomic.Pointer[string]
	line     atomic.Pointer[string]
}

// answered is when a call was answered, with which codec.
type answered struct {
	at    time.Time
	codec string
}

// trace takes the flow's timeline: the step running.
func (l *callLive) trace(e flows.TraceEntry) {
	if e.What == "step" {
		l.step.Store(&e.Detail)
	}
}

// heard notes what the line listener heard.
func (l *callLive) heard(k flows.EventKind) {
	var s string
	switch k {
	case flows.SpeechStart, flows.Onset:
		s = "speech"
	case flows.WeakSpeech:
		s = "weak"
	case flows.Noise:
		s = "noise"
	default:
		return
	}
	l.line.Store(&s)
}

// Calls returns the calls in progress, newest first.
func (a *Agent) Calls() []CallInfo {
	a.mu.Lock()
	calls := make([]*call, 0, len(a.calls))
	for _, c := range a.calls {
		calls = append(calls, c)
	}
	a.mu.Unlock()
	now := time.Now()
	out := make([]CallInfo, 0, len(calls))
	for _, c := range calls {
		out = append(out, c.snapshot(now))
	}
	slices.SortFunc(out, func(x, y CallInfo) int {
		return cmp.Or(y.Started.Compare(x.Started), cmp.Compare(x.CallID, y.CallID))
	})
	return out
}

func (c *call) snapshot(now time.Time) CallInfo {
	ci := CallInfo{
		CallID: callID(c.invite), Caller: flows.MaskNumber(c.a.fromUser(c.invite)), Called: c.invite.Recipient.User,
		Source: c.a.origin(c.invite).String(), Flow: c.adm.Flow.Name(), Version: c.snap.Version, State: "ringing",
		Started: c.received, Seconds: now.Sub(c.received).Round(time.Millisecond).Seconds(),
		Held: c.m.held.Load(),
	}
	if ans := c.live.answered.Load(); ans != nil {
		ci.State, ci.Answered, ci.Codec = "answered", ans.at, ans.codec
	}
	if s := c.live.step.Load(); s != nil {
		ci.Step = *s
	}
	if s := c.live.line.Load(); s != nil {
		ci.Line = *s
	}
	return ci
}

// Hangup ends the calls with this Call-ID (one, unless a forked INVITE
// made several dialogs): an answered call gets BYE, a ringing one 480. It
// reports whether there was such a call.
func (a *Agent) Hangup(callID string) bool {
	a.mu.Lock()
	var found []*call
	for _, c := range a.calls {
		if c.invite.CallID().Value() == callID {
			found = append(found, c)
		}
	}
	a.mu.Unlock()
	for _, c := range found {
		c.log.Info("call ended by ops")
		c.cancel(errOpsHangup)
	}
	return len(found) > 0
}

// flowEnd says how a call's flow ended, for its log line: "ended" with
// the call's cause when the call ended (either side hung up, ops ended
// it, a transfer, the media timeout, shutdown) or the flow hung up, and
// "error" only when the flow failed: a hang-up is not an error.
func flowEnd(ctx context.Context, err error) slog.Attr {
	switch cause := context.Cause(ctx); {
	case err == nil:
		return slog.String("ended", "flow hung up")
	case cause != nil && errors.Is(err, cause):
		return slog.String("ended", err.Error())
	}
	return slog.Any("error", err)
}
