// Command kefu is a SIP call-handling agent for customer-service hotlines.
//
//	kefu run      serve SIP, RTP and the ops HTTP API on the embedded defaults
//	kefu dial     call a SIP URI as a scripted test softphone
//	kefu agent    register to kefu as a scripted agent phone and answer calls
//	kefu check    validate a configuration file offline
//	kefu config   print the embedded default configuration
//	kefu prompts  list, check and export prompt sets
//	kefu health   ask a running kefu whether it is healthy
//	kefu version  print the version and build
//	kefu nuisance, calls, loglevel  act on the running kefu through its ops API
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/sip/softphone"
)

const usage = `kefu — a SIP call-handling agent for customer-service hotlines

Usage:
  kefu run [flags]            answer calls (see kefu run -h)
  kefu dial [flags] SIP-URI   call as a scripted test softphone (see kefu dial -h)
  kefu agent -id ID -password P [flags] SIP-URI
                              sign in to kefu as a scripted agent phone and answer calls (see kefu agent -h)
  kefu simulate [flags]       run a flow in virtual time against a scripted caller (see kefu simulate -h)
  kefu check FILE             validate a configuration file; exit 0 if it can go live
  kefu config default         print the embedded default configuration
  kefu nuisance ...           list, add and remove nuisance callers, flags, proposals (see kefu nuisance)
  kefu calls [hangup ID]      list the running kefu's calls, or end a stuck one (see kefu calls -h)
  kefu loglevel [LEVEL|reset] show or change the running kefu's log level
  kefu token -name N -role R  make a bearer token for the ops API (prints the secret and its config line)
  kefu schema                 print the JSON Schema of the configuration, for editors
  kefu prompts list|check     list a prompt set's texts, durations and levels, or check it (see kefu prompts)
  kefu prompts export DIR     write the embedded prompt set to DIR/LANG, to record your own (prompts_dir: DIR)
  kefu health [-http ADDR]    exit 0 if the kefu at the ops address is healthy, 1 if not (the container's healthcheck)
  kefu version [-json]        print the version and build
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, ctl, stop := handleSignals(context.Background())
	defer stop()
	switch args[0] {
	case "run":
		return cmdRun(ctx, ctl, args[1:], stderr)
	case "dial":
		return softphone.Main(ctx, args[1:], stdout, stderr)
	case "agent":
		return softphone.AgentMain(ctx, args[1:], stdout, stderr)
	case "nuisance":
		return cmdNuisance(args[1:], stdout, stderr)
	case "calls":
		return cmdCalls(args[1:], stdout, stderr)
	case "loglevel":
		return cmdLogLevel(args[1:], stdout, stderr)
	case "token":
		return cmdToken(args[1:], stdout, stderr)
	case "schema":
		b, err := flows.Schema()
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		_, _ = stdout.Write(append(b, '\n'))
		return 0
	case "simulate":
		return cmdSimulate(args[1:], stdout, stderr)
	case "check":
		return cmdCheck(args[1:], stdout, stderr)
	case "prompts":
		return cmdPrompts(args[1:], stdout, stderr)
	case "health":
		return cmdHealth(ctx, args[1:], stdout, stderr)
	case "version", "-version", "--version":
		return cmdVersion(args[1:], stdout, stderr)
	case "config":
		if len(args) == 2 && args[1] == "default" {
			_, _ = stdout.Write(flows.DefaultYAML())
			return 0
		}
		fmt.Fprint(stderr, "usage: kefu config default\n")
		return 2
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "kefu: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

// cmdCheck validates a config file and its prompts offline.
func cmdCheck(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprint(stderr, "usage: kefu check FILE\n")
		return 2
	}
	snap, err := flows.Load(args[0])
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	for _, e := range snap.Config.Exceptions() {
		fmt.Fprintf(stdout, "exception: %s\n", e)
	}
	fmt.Fprintf(stdout, "%s: ok\n", args[0])
	return 0
}
