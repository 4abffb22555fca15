package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/kefu-hotline/kefu/flows/screen"
	"github.com/kefu-hotline/kefu/flows/store"
)

// cmdNuisance manages the nuisance list and the entries the repeat-call
// rule proposes, in the data store, offline or next to a running kefu
// (SQLite WAL lets both work at once).
func cmdNuisance(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kefu nuisance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", env("KEFU_DATA", "./kefu-data"), "data directory (KEFU_DATA)")
	reason := fs.String("reason", "", "add: why the number is a nuisance (required); confirm: instead of the proposal's")
	by := fs.String("by", "", "add, confirm, reject: who does it (required)")
	ttl := fs.String("ttl", "", "add, confirm: how long the entry lasts, e.g. 24h (default: until removed)")
	code := fs.Int("reject", 0, "add, confirm: refuse the number's calls before the answer with this SIP code (603, 486, 403) instead of the nuisance path")
	fs.Bool("route", true, "add, confirm: send the number's calls to the nuisance path (the default; kept for old scripts)")
	all := fs.Bool("all", false, "proposed: list the decided proposals too")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: kefu nuisance [-data DIR] list | add [flags] PATTERN | remove PATTERN | flags\n"+
			"       kefu nuisance [-data DIR] proposed [-all] | confirm -by WHO [flags] ID | reject -by WHO ID\n")
		fs.PrintDefaults()
	}
	// Flags may come before and after the verb.
	if err := fs.Parse(args); err != nil || fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	verb := fs.Arg(0)
	if err := fs.Parse(fs.Args()[1:]); err != nil {
		return 2
	}
	var id int64
	if verb == "confirm" || verb == "reject" {
		var err error
		if id, err = strconv.ParseInt(fs.Arg(0), 10, 64); fs.NArg() != 1 || err != nil {
			fs.Usage()
			return 2
		}
	}
	ctx := context.Background()
	st, err := store.Open(ctx, *data)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer st.Close()
	m := screen.NewManager(st, time.Now)
	action := screen.DefaultAction
	if *code != 0 {
		action = screen.Action{Kind: screen.Reject, Code: *code}
	}
	var out any
	switch {
	case verb == "list" && fs.NArg() == 0:
		out, err = m.List(ctx, true)
	case verb == "flags" && fs.NArg() == 0:
		out, err = m.Flags(ctx)
	case verb == "add" && fs.NArg() == 1:
		out, err = m.Add(ctx, screen.AddRequest{Pattern: fs.Arg(0), Reason: *reason, AddedBy: *by, TTL: *ttl, Action: action})
	case verb == "remove" && fs.NArg() == 1:
		err = m.Remove(ctx, fs.Arg(0))
	case verb == "proposed" && fs.NArg() == 0:
		out, err = m.Proposals(ctx, *all)
	case verb == "confirm":
		out, err = m.Confirm(ctx, id, screen.DecideRequest{By: *by, Reason: *reason, TTL: *ttl, Action: action})
	case verb == "reject":
		out, err = m.Reject(ctx, id, screen.DecideRequest{By: *by})
	default:
		fs.Usage()
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "kefu nuisance:", err)
		return 1
	}
	if out != nil {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
	}
	return 0
}
