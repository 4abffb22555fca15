package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/kefu-hotline/kefu/flows/screen"
	"github.com/kefu-hotline/kefu/flows/store"
)

// cmdNuisance manages the nuisance list in the data store, offline or next
// to a running kefu (SQLite WAL lets both work at once).
func cmdNuisance(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kefu nuisance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", env("KEFU_DATA", "./kefu-data"), "data directory (KEFU_DATA)")
	reason := fs.String("reason", "", "add: why the number is a nuisance (required)")
	by := fs.String("by", "", "add: who adds it (required)")
	ttl := fs.String("ttl", "", "add: how long the entry lasts, e.g. 24h (default: until removed)")
	code := fs.Int("reject", 603, "add: the SIP code to reject with (603, 486, 403)")
	route := fs.Bool("route", false, "add: route to the nuisance flow instead of rejecting")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: kefu nuisance [-data DIR] list | add [flags] PATTERN | remove PATTERN | flags\n")
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
	ctx := context.Background()
	st, err := store.Open(ctx, *data)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer st.Close()
	m := screen.NewManager(st, time.Now)
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	var out any
	switch {
	case verb == "list" && fs.NArg() == 0:
		out, err = m.List(ctx, true)
	case verb == "flags" && fs.NArg() == 0:
		out, err = m.Flags(ctx)
	case verb == "add" && fs.NArg() == 1:
		action := screen.Action{Kind: screen.Reject, Code: *code}
		if *route {
			action = screen.Action{Kind: screen.Route, Target: "nuisance"}
		}
		out, err = m.Add(ctx, screen.AddRequest{Pattern: fs.Arg(0), Reason: *reason, AddedBy: *by, TTL: *ttl, Action: action})
	case verb == "remove" && fs.NArg() == 1:
		err = m.Remove(ctx, fs.Arg(0))
	default:
		fs.Usage()
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "kefu nuisance:", err)
		return 1
	}
	if out != nil {
		_ = enc.Encode(out)
	}
	return 0
}
