package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/flows/callerid"
	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/media/audio"
)

// Simulation limits: a simulation runs in virtual time, but its CPU is
// the hotline's.
const (
	simTimeout   = 10 * time.Second // real time, for one simulation
	simParallel  = 2                // simulations at once
	maxScriptLen = 1000             // bytes of the caller script
	// MaxHeard is the longest audio the console renders of a simulated
	// call: 10 minutes, 9.6 MB of WAV.
	MaxHeard = 10 * time.Minute
)

// simSlots bounds the simulations running at once.
var simSlots = make(chan struct{}, simParallel)

// simRequest is a simulated call as the form asks for it.
type simRequest struct {
	flow   string // named outright: no routing
	caller string // flows.ParseCaller's script
	from   string
	to     string
	at     time.Time
	waited time.Duration
}

// simParams reads the query: flow, caller, at (RFC 3339, or a local time
// 2026-03-02T09:30 in the hotline's zone; default now), from, to,
// waited.
func (c *Console) simParams(q url.Values, loc *time.Location) (simRequest, error) {
	allowed := []string{"flow", "caller", "at", "from", "to", "waited"}
	for k, v := range q {
		if !slices.Contains(allowed, k) {
			return simRequest{}, fmt.Errorf("%s: unknown parameter; want flow, caller, at, from, to, waited", k)
		}
		if len(v) > 1 {
			return simRequest{}, fmt.Errorf("%s: given more than once", k)
		}
	}
	s := simRequest{flow: q.Get("flow"), caller: q.Get("caller"), from: q.Get("from"), to: q.Get("to"), at: c.cfg.Now()}
	if s.caller == "" {
		s.caller = "silent"
	}
	if len(s.caller) > maxScriptLen {
		return simRequest{}, fmt.Errorf("caller: longer than %d bytes", maxScriptLen)
	}
	if s.from == "" {
		s.from = "10000"
	}
	if s.to == "" {
		s.to = "hotline"
	}
	if v := q.Get("at"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.DateTime} {
				if t, err = time.ParseInLocation(layout, v, loc); err == nil {
					break
				}
			}
		}
		if err != nil {
			return simRequest{}, fmt.Errorf("at: %q: want RFC 3339 or 2026-03-02T09:30 in the hotline's zone", v)
		}
		s.at = t
	}
	if v := q.Get("waited"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > time.Hour {
			return simRequest{}, fmt.Errorf("waited: %q: want a duration such as 20s", v)
		}
		s.waited = d
	}
	return s, nil
}

// simOutcome is a simulated call that ran.
type simOutcome struct {
	sim    *flows.Simulation
	bundle *flows.Bundle
	flow   string
	result flows.Result
	at     time.Time
}

// runSim runs the simulated call on the configuration in force, as kefu
// simulate does: routing and the steps before the answer (screening is
// not simulated: the console never touches the nuisance store), or the
// named flow. What the call stores is kept in memory and dropped.
func (c *Console) runSim(ctx context.Context, q url.Values) (*simOutcome, int, error) {
	cur := c.cfg.Current()
	loc := cur.Config.Location()
	if loc == nil {
		loc = time.Local
	}
	req, err := c.simParams(q, loc)
	if err != nil {
		return nil, http.StatusBadRequest, err
	}
	script, err := flows.ParseCaller(req.caller)
	if err != nil {
		return nil, http.StatusBadRequest, err
	}
	select {
	case simSlots <- struct{}{}:
		defer func() { <-simSlots }()
	case <-ctx.Done():
		return nil, http.StatusServiceUnavailable, ctx.Err()
	}
	ctx, cancel := context.WithTimeout(ctx, simTimeout)
	defer cancel()
	b := &flows.Bundle{Config: cur.Config, Catalog: cur.Catalog, Version: cur.Version, Records: &records.Memory{}}
	sim := flows.NewSimulation(req.at, script)
	sim.Waited, sim.Records = req.waited, b.Records
	anonymous := req.from == "anonymous"
	out := &simOutcome{sim: sim, bundle: b, at: req.at.In(loc)}
	var runErr error
	if req.flow != "" {
		f, ok := cur.Config.Flow(req.flow)
		if !ok {
			return nil, http.StatusNotFound, fmt.Errorf("flow: no flow %q", req.flow)
		}
		sim.Info = flows.CallInfo{Caller: callerid.Normalize(req.from), Called: req.to, Anonymous: anonymous, CallID: "simulated", Version: cur.Version}
		out.result, runErr = sim.Run(ctx, cur.Config, f, cur.Catalog)
		out.flow = f.Name()
	} else {
		out.result, runErr = sim.Admit(ctx, b, flows.Invite{From: req.from, To: req.to, Anonymous: anonymous, CallID: "simulated"})
		out.flow = out.result.Flow
	}
	switch {
	case ctx.Err() != nil:
		return nil, http.StatusUnprocessableEntity, fmt.Errorf("the simulation did not end within %v of real time", simTimeout)
	case runErr != nil && !errors.Is(runErr, flows.ErrCallerHangup) && out.flow == "":
		return nil, http.StatusUnprocessableEntity, runErr
	}
	return out, http.StatusOK, nil
}

// simJSON is a simulated call's timeline.
type simJSON struct {
	Flow     string                `json:"flow"`
	Config   string                `json:"config"`
	At       time.Time             `json:"at"`
	Timeline []flows.TimelineEntry `json:"timeline"`
	HungUpBy string                `json:"hung_up_by,omitempty"`
	Attempts int                   `json:"attempts"`
	// Refused is the SIP status the call was refused with before the
	// answer; the caller hears their network's tone, nothing of kefu's.
	Refused int `json:"refused,omitempty"`
	// Seconds is how long the call lasted, from the answer.
	Seconds float64 `json:"seconds"`
}

func (c *Console) simulate(w http.ResponseWriter, r *http.Request) {
	o, status, err := c.runSim(r.Context(), r.URL.Query())
	if err != nil {
		writeJSON(w, status, errorJSON{err.Error()})
		return
	}
	tl := o.sim.Timeline(o.bundle.Catalog)
	if tl == nil {
		tl = []flows.TimelineEntry{}
	}
	out := simJSON{Flow: o.flow, Config: o.bundle.Version, At: o.at, Timeline: tl, HungUpBy: o.result.HungUpBy,
		Attempts: o.result.Attempts, Refused: o.sim.Rejected}
	for _, e := range tl {
		out.Seconds = max(out.Seconds, e.T, e.End)
	}
	writeJSON(w, http.StatusOK, out)
}

func (c *Console) simulateWAV(w http.ResponseWriter, r *http.Request) {
	o, status, err := c.runSim(r.Context(), r.URL.Query())
	if err != nil {
		writeJSON(w, status, errorJSON{err.Error()})
		return
	}
	pcm := heard(o.sim, o.bundle.Catalog, MaxHeard)
	var buf bytes.Buffer
	if err := audio.WriteWAV(&buf, audio.Format{Rate: 8000, Channels: 1}, pcm); err != nil {
		writeJSON(w, http.StatusInternalServerError, errorJSON{err.Error()})
		return
	}
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Header().Set("Content-Disposition", `inline; filename="simulated.wav"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}
