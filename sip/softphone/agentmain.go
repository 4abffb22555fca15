package softphone

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

const agentUsage = `usage: kefu agent -id ID -password SECRET [flags] sip:kefu-host[:port]

A scripted agent phone: registers to kefu as sip:ID@kefu-host (digest
authentication), rings (180) and answers each call kefu offers, sends the
-play file once after the answer and silence after it, records what it
hears, presses -keys (RFC 4733 when the call has telephone-event, else SIP
INFO), hangs up after -hangup-after or when kefu hangs up, and un-registers
at the end: after -for, after -calls calls, or on SIGINT. Prints the
timeline as JSON lines on stdout (t = seconds since the start). Exits 0 on
a clean run, 1 if registration failed or a call broke, 2 on bad flags.

flags:
`

// AgentMain runs `kefu agent` with args (the arguments after "agent"),
// printing the timeline to stdout and diagnostics to stderr, and returns
// the exit code. Flags may come before or after the URI.
func AgentMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, opts, err := parseAgentFlags(args, stderr)
	err = opts.prepare(err, &cfg.Playback, func() error {
		if _, err := cfg.withDefaults(); err != nil {
			return err
		}
		if fi, err := os.Stat(cfg.RecordDir); cfg.RecordDir != "" && (err != nil || !fi.IsDir()) {
			return fmt.Errorf("-record %q: want an existing directory", cfg.RecordDir)
		}
		return nil
	})
	if err != nil {
		return usageExit("kefu agent", err, stderr)
	}
	cfg.Logger = opts.logger(stderr)
	cfg.OnEvent = JSONLines(stdout)
	res, err := RunAgent(ctx, cfg)
	return runExit("kefu agent", err, res != nil, stderr)
}

// parseAgentFlags reads the flags and the registrar URI.
func parseAgentFlags(args []string, stderr io.Writer) (AgentConfig, commonFlags, error) {
	var (
		cfg  AgentConfig
		opts commonFlags
	)
	fs := newFlagSet("kefu agent", agentUsage, stderr)
	fs.StringVar(&cfg.ID, "id", "", "the agent `id` (工号): the user part registered")
	fs.StringVar(&cfg.Password, "password", "", "the agent's digest `password`")
	opts.register(fs, "keys to press after each answer, e.g. 1@3s,#@4.5s (RFC 4733, else SIP INFO)")
	fs.StringVar(&cfg.RecordDir, "record", "", "record each answered call to `DIR`/<n>-<call-id>.wav (8 kHz mono)")
	fs.DurationVar(&cfg.AnswerAfter, "answer-after", 0, "ring (180) this long before answering")
	fs.BoolVar(&cfg.NoAnswer, "no-answer", false, "ring until the caller cancels; never answer")
	fs.IntVar(&cfg.Reject, "reject", 0, "answer each offer with this `code` (e.g. 486, 603) after -answer-after")
	fs.DurationVar(&cfg.HangupAfter, "hangup-after", 0, "hang up this long after the answer (0: wait for kefu's BYE)")
	fs.DurationVar(&cfg.For, "for", 0, "stop (hang up, un-register) after this long; 0: until -calls or SIGINT")
	fs.IntVar(&cfg.Calls, "calls", 0, "stop once this many offered calls have ended; 0: no limit")
	fs.DurationVar(&cfg.Expires, "expires", DefaultExpires, "registration expiry to ask for")
	fs.StringVar(&cfg.QueueHeader, "queue-header", DefaultQueueHeader, "the INVITE header `name` that carries the queue")
	fs.StringVar(&cfg.Listen, "listen", DefaultListen, "local SIP UDP `address`; port 0 picks a free one")

	registrar, err := parseArgs(fs, args)
	if err != nil {
		return cfg, opts, err
	}
	cfg.Registrar = registrar
	if err := opts.apply(&cfg.Playback, &cfg.Detector); err != nil {
		return cfg, opts, err
	}
	if cfg.ID == "" {
		return cfg, opts, errors.New("-id is required")
	}
	return cfg, opts, nil
}
