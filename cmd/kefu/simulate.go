package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/flows/callerid"
	"github.com/kefu-hotline/kefu/flows/records"
)

// cmdSimulate runs a flow in virtual time against a scripted caller and
// prints the timeline.
func cmdSimulate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kefu simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "configuration file (default: the embedded one)")
	flowName := fs.String("flow", "", "flow to run (default: the one routing picks for -to)")
	caller := fs.String("caller", "silent", simCallerHelp)
	at := fs.String("at", "", "date and time of the call, RFC 3339 with offset (default: now)")
	to := fs.String("to", "hotline", "called user, for routing")
	from := fs.String("from", "10000", "caller number")
	asJSON := fs.Bool("json", false, "print the timeline as JSON")
	waited := fs.Duration("waited", 0, "how long the caller waited before the answer (CS-GREET-BUSY)")
	diagram := fs.Bool("diagram", false, "print the flow as a Mermaid flowchart instead of running it")
	dataDir := fs.String("data", env("KEFU_DATA", "./kefu-data"), "data directory whose nuisance list, repeat-call flags and open complaints and callbacks screen the call (read, never written)")
	calls := fs.Int("calls", 0, "the caller's earlier calls kefu served within the repeat-call window, for the repeat-call rule (CS-NUISANCE)")
	agentAnswer := fs.Duration("agent-answer", -1, "sign in the config's agents: the one offered a queued caller answers after this long (longer than the queue's ring_timeout: a miss)")
	agentTalk := fs.Duration("agent-talk", 0, "with -agent-answer: the agent hangs up after talking this long (0: the caller hangs up first)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	snap, err := flows.Load(*config)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	start := time.Now()
	if *at != "" {
		if start, err = time.Parse(time.RFC3339, *at); err != nil {
			fmt.Fprintf(stderr, "-at %q: want RFC 3339 with an offset, e.g. 2026-02-17T09:30:00+08:00\n", *at)
			return 2
		}
	}
	script, err := parseSimCaller(*caller)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	f, ok := snap.Config.Route(*to, callerid.Normalize(*from))
	if *flowName != "" {
		f, ok = snap.Config.Flow(*flowName)
	}
	if !ok {
		fmt.Fprintf(stderr, "no flow for -to %q / -flow %q\n", *to, *flowName)
		return 1
	}
	if *diagram {
		fmt.Fprint(stdout, f.Mermaid())
		return 0
	}
	sim := flows.NewSimulation(start, script)
	sim.Waited = *waited
	anonymous := *from == "" || *from == "anonymous"
	sim.Info = flows.CallInfo{Caller: callerid.Normalize(*from), Called: *to, Anonymous: anonymous, CallID: "simulated", Version: snap.Version}
	snap.Records = &records.Memory{} // what the call stores shows in the timeline; nothing is kept
	sim.Records = snap.Records
	if *agentAnswer >= 0 {
		sim.Agents = &flows.SimAgents{AnswerAfter: *agentAnswer, Talk: *agentTalk}
	}
	var res flows.Result
	var runErr error
	if *flowName != "" {
		// A flow named outright: no routing, no screening.
		res, runErr = sim.Run(context.Background(), snap.Config, f, snap.Catalog)
	} else {
		// As a live INVITE: routing, screening against the data store's
		// nuisance list and flags, the steps before the answer.
		dry, closeDry, err := openDryScreen(context.Background(), *dataDir, *calls)
		if err == nil {
			err = snap.Screen(dry, func() time.Time { return start }, slog.New(slog.DiscardHandler))
		}
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer closeDry()
		inv := flows.Invite{From: *from, To: *to, Anonymous: anonymous, CallID: "simulated"}
		res, runErr = sim.Admit(context.Background(), snap, inv)
		if res.Flow != "" {
			f, _ = snap.Config.Flow(res.Flow)
		}
	}
	if runErr != nil && !errors.Is(runErr, flows.ErrCallerHangup) && res.Flow == "" {
		fmt.Fprintln(stderr, runErr)
		return 1
	}

	entries := sim.Timeline(snap.Catalog)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		out := map[string]any{
			"flow": f.Name(), "config": snap.Version, "at": start.Format(time.RFC3339), "from": *from, "to": *to,
			"caller": *caller, "timeline": entries, "hung_up_by": res.HungUpBy, "attempts": res.Attempts,
		}
		if sim.Rejected != 0 {
			out["refused"] = sim.Rejected
		}
		_ = enc.Encode(out)
		return 0
	}
	fmt.Fprintf(stdout, "flow %s (config %s), call at %s from %s to %s, caller %s\n", f.Name(), snap.Version, start.Format(time.RFC3339), *from, *to, *caller)
	for _, e := range entries {
		switch {
		case e.What == "say":
			fmt.Fprintf(stdout, "%8.3f–%-8.3f say    %s  「%s」\n", e.T, e.End, e.Detail, e.Text)
		default:
			fmt.Fprintf(stdout, "%8.3f          %-6s %s\n", e.T, e.What, e.Detail)
		}
	}
	if sim.Rejected != 0 {
		fmt.Fprintf(stdout, "refused before the answer with %d: the caller hears their network's tone, nothing of kefu's\n", sim.Rejected)
		return 0
	}
	who := res.HungUpBy
	if who == "" && errors.Is(runErr, flows.ErrCallerHangup) {
		who = "caller"
	}
	fmt.Fprintf(stdout, "hung up by %s; %d silence-ladder attempt(s)\n", who, res.Attempts)
	return 0
}
