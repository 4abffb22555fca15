package flows

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/kefu-hotline/kefu/flows/callerid"
	"github.com/kefu-hotline/kefu/flows/queue"
	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/flows/screen"
	"github.com/kefu-hotline/kefu/prompts"
)

// Bundle is one loaded version of the configuration with everything a call
// needs from it: the flows, the prompts, the queues, the screening and the
// store calls leave records in. A call keeps the bundle it started with for
// its whole life; a reload makes a new one.
type Bundle struct {
	Config  *Config
	Catalog *prompts.Catalog
	// Version names the configuration (a hash of the file).
	Version string
	// Screener screens new calls (CS-NUISANCE); nil lets every caller
	// through.
	Screener *screen.Screener
	// Queues are kefu's queues for this configuration's queue steps.
	Queues *queue.Manager
	// Records keeps what calls leave: callbacks, complaints, survey
	// answers; nil keeps nothing.
	Records records.Store
	// Agents offers the queues' callers to the agents signed in; it
	// outlives a reload (agents keep their states). nil: no agents.
	Agents Distributor
	// Desk is where agents' feature codes change their state (the same
	// board as Agents); nil: feature codes are refused as invalid.
	Desk AgentDesk
}

// Load reads and checks a configuration file (the embedded default when
// file is empty) with its prompts and queues.
func Load(file string) (*Bundle, error) {
	name, data := "embedded default", DefaultYAML()
	if file != "" {
		var err error
		if data, err = os.ReadFile(file); err != nil {
			return nil, fmt.Errorf("read config: %w", err)
		}
		name = file
	}
	cfg, err := Parse(name, data)
	if err != nil {
		return nil, err
	}
	var cat *prompts.Catalog
	if cfg.PromptsDir != "" {
		dir := cfg.PromptsDir
		if !filepath.IsAbs(dir) && file != "" {
			dir = filepath.Join(filepath.Dir(file), dir)
		}
		cat, err = prompts.LoadDir(os.DirFS(dir), cfg.Language)
	} else {
		cat, err = prompts.LoadEmbedded(cfg.Language)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: prompts: %w", name, err)
	}
	if err := cfg.CheckPrompts(name, data, cat); err != nil {
		return nil, err
	}
	qs, err := cfg.Queues()
	if err != nil {
		return nil, fmt.Errorf("%s: queues: %w", name, err)
	}
	return &Bundle{Config: cfg, Catalog: cat, Version: fmt.Sprintf("%x", sha256.Sum256(data))[:12], Queues: qs}, nil
}

// Screen gives the bundle its nuisance screening over st, with the
// configuration's policy.
func (b *Bundle) Screen(st screen.Store, now func() time.Time, log *slog.Logger) error {
	sc, err := b.Config.ScreenConfig()
	if err == nil {
		b.Screener, err = screen.New(st, sc, now, screen.WithLogger(log))
	}
	if err != nil {
		return fmt.Errorf("screening: %w", err)
	}
	return nil
}

// Invite is what kefu knows of a new call when its INVITE arrives.
type Invite struct {
	From      string // the caller's number as the trunk sent it (user part of From)
	To        string // the called user (Request-URI)
	Anonymous bool   // the caller withheld the number
	CallID    string
	Source    netip.AddrPort // where the INVITE came from
	At        time.Time      // the time flows see
	// Agent is set when the INVITE comes from that agent's own phone
	// (the sip layer matched it to the phone's registration): it may
	// only dial feature codes.
	Agent string
}

// Admission is what a new call gets: its flow and where the flow starts
// after the answer, and how screening judged it.
type Admission struct {
	Info CallInfo // the call as its flow sees it: the caller's number in its canonical form
	Flow *Flow
	// Start is the first step after the answer; Path the steps that ran
	// on the INVITE.
	Start int
	Path  []string
	// Screening is the nuisance verdict, for the log and the figures.
	Screening ScreenResult

	verdict screen.Verdict // the call's ticket for the repeat-call rule
}

// ScreenResult is how the nuisance screening judged a call.
type ScreenResult struct {
	Done    bool   // the call was screened
	Kind    string // allow, reject or route
	Reason  string // list, repeat, anonymous, error; "" when allowed
	Spared  string // why the repeat-call rule let a number over its limit through: complaint, callback, cut_short
	Verdict string // the verdict in words, without the number
	// Log is the verdict for a structured log (the number masked).
	Log slog.Value
	// Err is a store failure: the call was let through (a sick disk must
	// not turn customers away).
	Err error
}

// Nuisance reports whether screening took the call for a nuisance.
func (s ScreenResult) Nuisance() bool { return s.Done && s.Kind != string(screen.Allow) }

// Refusal is a call refused before the answer, with its SIP status: by
// screening, for want of a route, or by a reject step of its flow.
type Refusal struct {
	Code   int    // SIP status: 603, 486, 404 ...
	By     string // RefusedByScreening, RefusedByRoutes, or the name of the flow
	Reason string // a reason code: the screening rule, the reject step's reason
}

// Who refuses a call, besides a flow.
const (
	RefusedByScreening = "screening"
	RefusedByRoutes    = "routes"
)

func (r *Refusal) Error() string { return fmt.Sprintf("refused %d: %s", r.Code, r.Warning()) }

// Warning says why, for the caller's engineer (a SIP Warning header).
func (r *Refusal) Warning() string {
	switch r.By {
	case RefusedByScreening:
		return "refused: " + r.Reason
	case RefusedByRoutes:
		return "" // 404 says it all
	}
	return "rejected by flow " + r.By + " (" + r.Reason + ")"
}

// Status returns the SIP status the call is refused with.
func (r *Refusal) Status() int { return r.Code }

// ErrNoRoute is the reason of a call no route takes.
var ErrNoRoute = errors.New("no route for the called user and caller")

// Admit decides what a new call gets: the route for its called user and
// caller, the screening verdict (a nuisance routed to the nuisance flow,
// or refused where ops chose so), and the steps before the answer (a
// reject). It returns a *Refusal when the call is to be refused before the
// answer; any other error is the flow failing to start. The live INVITE
// path and `kefu simulate` both admit calls through it.
//
// Screening here only checks: the call counts for the repeat-call rule
// when kefu has answered it (Served), so that calls kefu refuses for
// reasons of its own (no media port, no common codec) or the caller
// cancels never make a customer a nuisance (CS-ANGRY). An admitted call
// holds its place among its number's ringing calls until it is Served or
// Released; a call Admit refuses holds none.
func (b *Bundle) Admit(ctx context.Context, inv Invite) (adm Admission, ref *Refusal, err error) {
	defer func() {
		if ref != nil || err != nil {
			b.Release(adm)
		}
	}()
	return b.admit(ctx, inv)
}

func (b *Bundle) admit(ctx context.Context, inv Invite) (Admission, *Refusal, error) {
	c := b.Config
	info := CallInfo{Caller: callerid.Normalize(inv.From), Called: inv.To, Anonymous: inv.Anonymous, At: inv.At, CallID: inv.CallID, Version: b.Version}
	if inv.Agent != "" {
		return b.admitAgent(inv, info)
	}
	adm := Admission{Info: info}
	if ref := b.refuseFeature(inv); ref != nil {
		return adm, ref, nil
	}
	routeFrom := info.Caller
	if info.Anonymous {
		routeFrom = "anonymous"
	}
	flow, ok := c.Route(info.Called, routeFrom)
	if b.Screener != nil {
		v, err := b.Screener.Check(ctx, screen.Call{Caller: info.Caller, Anonymous: info.Anonymous, Called: info.Called, Source: inv.Source, At: info.At})
		kind := v.Kind
		if kind == "" {
			kind = screen.Allow
		}
		adm.verdict = v
		adm.Screening = ScreenResult{Done: true, Kind: string(kind), Reason: string(v.Reason), Spared: string(v.Spared), Verdict: v.String(), Log: v.LogValue(), Err: err}
		switch v.Kind {
		case screen.Reject:
			if _, err := b.Screener.Refused(ctx, v); err != nil && adm.Screening.Err == nil {
				adm.Screening.Err = err
			}
			return adm, &Refusal{Code: v.Code, By: RefusedByScreening, Reason: string(v.Reason)}, nil
		case screen.Route:
			flow, ok = c.Flow(c.NuisanceFlow())
		}
	}
	if !ok {
		return adm, &Refusal{Code: 404, By: RefusedByRoutes, Reason: ErrNoRoute.Error()}, nil
	}
	adm.Flow = flow
	st, err := c.Start(flow, info)
	if err != nil {
		return adm, nil, err
	}
	adm.Start, adm.Path = st.Step, st.Path
	if st.Reject != 0 {
		return adm, &Refusal{Code: st.Reject, By: flow.Name(), Reason: st.Reason}, nil
	}
	return adm, nil, nil
}

// Release gives up the place an admitted call held among its number's
// ringing calls, when kefu refuses it after the admission (no media port,
// no common codec) or the caller cancels before the answer: it is not
// counted. Releasing twice, or after Served, does nothing.
func (b *Bundle) Release(adm Admission) {
	if b.Screener != nil {
		b.Screener.Release(adm.verdict)
	}
}

// Served counts the admitted call for the repeat-call rule: call it once
// kefu has answered it (CS-ANGRY: only calls kefu served count). It
// returns what counting did — a flag and the list entry it proposes when
// the number went over the limit — for the log.
func (b *Bundle) Served(ctx context.Context, adm Admission) (screen.Counted, error) {
	if b.Screener == nil {
		return screen.Counted{}, nil
	}
	c, err := b.Screener.Count(ctx, adm.verdict)
	if err != nil {
		return c, fmt.Errorf("count the call: %w", err)
	}
	return c, nil
}

// Ended tells screening how the admitted, answered call ended: when kefu
// cut it short — a media timeout (a line fault, a dropped call), kefu
// shutting down, a line fault cause, or a flow routed to a system-down
// flow — its number is spared by the repeat-call rule for a while
// (CS-ANGRY). It reports whether the call was cut short.
func (b *Bundle) Ended(ctx context.Context, adm Admission, cause error, at time.Time) (bool, error) {
	cut := errors.Is(cause, ErrMediaTimeout) || errors.Is(cause, ErrShutdown) || errors.Is(cause, ErrLineFault) ||
		(adm.Flow != nil && b.Config.SystemDown(adm.Flow.Name()))
	if !cut || b.Screener == nil {
		return cut, nil
	}
	if err := b.Screener.CutShort(ctx, adm.verdict, at); err != nil {
		return cut, fmt.Errorf("record the call cut short: %w", err)
	}
	return cut, nil
}

// Runner prepares the admitted call's flow on call; o's Info, Start,
// Records and Queues come from the admission and the bundle.
func (b *Bundle) Runner(adm Admission, call Call, o Options) *Runner {
	o.Info, o.Start, o.Records, o.Queues, o.Agents = adm.Info, adm.Start, b.Records, b.Queues, b.Agents
	return NewRunner(b.Config, adm.Flow, call, b.Catalog, o)
}

// CallerNumber returns a caller's number in its canonical form (+86, 0086
// and trunk prefixes dropped): what screening, routing, rate limits and
// records key on.
func CallerNumber(raw string) string { return callerid.Normalize(raw) }

// MaskNumber hides all but the end of a number, for logs (CS-PRIVACY).
func MaskNumber(n string) string { return callerid.Mask(n) }
