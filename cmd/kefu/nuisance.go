package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/kefu-hotline/kefu/flows/screen"
)

const nuisanceUsage = `usage: kefu nuisance [-api URL | -data DIR] VERB [flags] [ARG]

  list [-all]                        the nuisance list, newest first (-all: expired entries too)
  add -reason WHY -by WHO [-ttl D] [-reject CODE] PATTERN
                                     put a number (13812345678) or prefix (400*) on the list
  remove PATTERN                     take it off
  flags                              the numbers the repeat-call rule flagged
  unflag NUMBER                      let a flagged number call again at once
  proposed [-all]                    the entries the repeat-call rule proposed (-all: decided ones too)
  confirm -by WHO [-reason WHY] [-ttl D] [-reject CODE] ID
                                     put a proposed number on the list
  reject -by WHO ID                  judge it a customer; its flag goes too

It acts on the running kefu through its ops API (-api, KEFU_API), or with
-data on a stopped kefu's data directory.
`

// cmdNuisance manages the nuisance list, the repeat-call flags and the
// entries the repeat-call rule proposes (CS-NUISANCE), on the running kefu
// or on a stopped kefu's data.
func cmdNuisance(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kefu nuisance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var where apiFlags
	where.register(fs, true)
	reason := fs.String("reason", "", "add: why the number is a nuisance (required); confirm: instead of the proposal's")
	by := fs.String("by", "", "add, confirm, reject: who does it (required)")
	ttl := fs.String("ttl", "", "add, confirm: how long the entry lasts, e.g. 24h (default: until removed)")
	code := fs.Int("reject", 0, "add, confirm: refuse the number's calls before the answer with this SIP code (603, 486, 403) instead of the nuisance path")
	fs.Bool("route", true, "add, confirm: send the number's calls to the nuisance path (the default; kept for old scripts)")
	all := fs.Bool("all", false, "list: expired entries too; proposed: decided proposals too")
	fs.Usage = func() {
		fmt.Fprint(stderr, nuisanceUsage)
		fs.PrintDefaults()
	}
	verb, rest, err := parseVerbFlags(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil || verb == "" {
		fs.Usage()
		return 2
	}
	arity := map[string]int{"list": 0, "flags": 0, "proposed": 0, "add": 1, "remove": 1, "unflag": 1, "confirm": 1, "reject": 1}
	n, known := arity[verb]
	switch {
	case !known:
		fmt.Fprintf(stderr, "kefu nuisance: unknown verb %q\n\n", verb)
		fs.Usage()
		return 2
	case len(rest) != n:
		fmt.Fprintf(stderr, "kefu nuisance %s: takes %d argument(s), got %d: %q\n\n", verb, n, len(rest), rest)
		fs.Usage()
		return 2
	}
	var id int64
	if verb == "confirm" || verb == "reject" {
		if id, err = strconv.ParseInt(rest[0], 10, 64); err != nil || id <= 0 {
			fmt.Fprintf(stderr, "kefu nuisance %s: %q is not a proposal id (the id kefu nuisance proposed shows)\n", verb, rest[0])
			return 2
		}
	}
	ctx := context.Background()
	c, err := where.client(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "kefu nuisance:", err)
		return 2
	}
	defer c.close()
	action := map[string]any{}
	if *code != 0 {
		action = map[string]any{"kind": screen.Reject, "code": *code}
	}
	query := ""
	if *all {
		query = "?all=1"
	}
	var out any
	switch verb {
	case "list":
		out, err = listAll[screen.Entry](ctx, c, "/api/nuisance"+query)
	case "flags":
		out, err = listAll[screen.Flag](ctx, c, "/api/nuisance/flags")
	case "proposed":
		out, err = listAll[screen.Proposal](ctx, c, "/api/nuisance/proposed"+query)
	case "add":
		var e screen.Entry
		err = c.call(ctx, http.MethodPost, "/api/nuisance", map[string]any{"pattern": rest[0], "reason": *reason, "added_by": *by,
			"ttl": *ttl, "action": action}, &e)
		out = e
	case "remove":
		err = c.call(ctx, http.MethodDelete, "/api/nuisance/"+url.PathEscape(rest[0]), nil, nil)
	case "unflag":
		err = c.call(ctx, http.MethodDelete, "/api/nuisance/flags/"+url.PathEscape(rest[0]), nil, nil)
	case "confirm":
		var p screen.Proposal
		err = c.call(ctx, http.MethodPost, fmt.Sprintf("/api/nuisance/proposed/%d/confirm", id),
			map[string]any{"by": *by, "reason": *reason, "ttl": *ttl, "action": action}, &p)
		out = p
	case "reject":
		var p screen.Proposal
		err = c.call(ctx, http.MethodPost, fmt.Sprintf("/api/nuisance/proposed/%d/reject", id), map[string]any{"by": *by}, &p)
		out = p
	}
	if err != nil {
		fmt.Fprintf(stderr, "kefu nuisance %s: %v\n", verb, err)
		return 1
	}
	if out != nil {
		printJSON(stdout, out)
	}
	return 0
}
