package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/kefu-hotline/kefu/sip"
)

const callsUsage = `usage: kefu calls [-api URL] [list | hangup CALL-ID]

  list             the calls in progress, newest first (the default)
  hangup CALL-ID   end a stuck call: BYE when answered, 480 while ringing
`

// cmdCalls lists the running kefu's calls, or ends one.
func cmdCalls(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kefu calls", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var where apiFlags
	where.register(fs, false)
	fs.Usage = func() {
		fmt.Fprint(stderr, callsUsage)
		fs.PrintDefaults()
	}
	verb, rest, err := parseVerbFlags(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if verb == "" {
		verb = "list"
	}
	if err != nil || !(verb == "list" && len(rest) == 0 || verb == "hangup" && len(rest) == 1) {
		fs.Usage()
		return 2
	}
	ctx := context.Background()
	c, err := where.client(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "kefu calls:", err)
		return 2
	}
	var out any
	if verb == "list" {
		var calls []sip.CallInfo
		err = c.call(ctx, http.MethodGet, "/api/calls", nil, &calls)
		out = calls
	} else {
		var ack map[string]any
		err = c.call(ctx, http.MethodPost, "/api/calls/"+url.PathEscape(rest[0])+"/hangup", nil, &ack)
		out = ack
	}
	if err != nil {
		fmt.Fprintf(stderr, "kefu calls %s: %v\n", verb, err)
		return 1
	}
	printJSON(stdout, out)
	return 0
}

const logLevelUsage = `usage: kefu loglevel [-api URL] [LEVEL | reset]

  (none)   show the running kefu's log level and the configured one
  LEVEL    log at debug, info, warn or error until kefu stops (SIGUSR1 sets debug)
  reset    back to the configured level (SIGUSR2 does the same)
`

// cmdLogLevel shows or changes the running kefu's log level.
func cmdLogLevel(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kefu loglevel", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var where apiFlags
	where.register(fs, false)
	fs.Usage = func() {
		fmt.Fprint(stderr, logLevelUsage)
		fs.PrintDefaults()
	}
	verb, rest, err := parseVerbFlags(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil || len(rest) != 0 {
		fs.Usage()
		return 2
	}
	ctx := context.Background()
	c, err := where.client(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "kefu loglevel:", err)
		return 2
	}
	var levels map[string]string
	switch verb {
	case "":
		err = c.call(ctx, http.MethodGet, "/api/loglevel", nil, &levels)
	case "reset":
		err = c.call(ctx, http.MethodDelete, "/api/loglevel", nil, &levels)
	default:
		err = c.call(ctx, http.MethodPut, "/api/loglevel", map[string]string{"level": verb}, &levels)
	}
	if err != nil {
		fmt.Fprintln(stderr, "kefu loglevel:", err)
		return 1
	}
	printJSON(stdout, levels)
	return 0
}
