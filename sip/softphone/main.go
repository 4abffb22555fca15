package softphone

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/prompts"
)

// Exit codes of Main.
const (
	ExitOK     = 0 // answered, and ended by a BYE or -for
	ExitFailed = 1 // refused, not answered, cut at -max, interrupted, broken
	ExitUsage  = 2 // bad flags or files; no call was placed
)

const usage = `usage: kefu dial [flags] sip:user@host[:port]

Calls the URI, sends audio, records what comes back and prints the call's
timeline as JSON lines on stdout (t = seconds since the INVITE was sent).
Exits 0 if the call was answered and ended normally, 1 if it failed.

flags:
`

// Main runs `kefu dial` with args (the arguments after "dial"), printing
// the timeline to stdout and diagnostics to stderr, and returns the exit
// code. Flags may come before or after the URI.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, opts, err := parseFlags(args, stderr)
	err = opts.prepare(err, &cfg.Playback, func() error {
		_, err := cfg.withDefaults()
		return err
	})
	if err != nil {
		return usageExit("kefu dial", err, stderr)
	}
	var rec *os.File
	if opts.record != "" {
		if rec, err = os.Create(opts.record); err != nil {
			fmt.Fprintf(stderr, "kefu dial: %v\n", err)
			return ExitUsage
		}
		cfg.Record = rec
	}
	cfg.Logger = opts.logger(stderr)
	cfg.OnEvent = JSONLines(stdout)

	res, err := Dial(ctx, cfg)
	if rec != nil {
		if cerr := rec.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("softphone: recording: %w", cerr)
		}
		if res == nil || res.Answered == 0 {
			_ = os.Remove(opts.record) // nothing was received
		}
	}
	return runExit("kefu dial", err, res != nil, stderr)
}

// prepare finishes a command's configuration once its flags are parsed
// (err is the parser's): it loads the -play file into p and validates.
func (o *commonFlags) prepare(err error, p *Playback, validate func() error) error {
	if err == nil {
		err = o.loadClip(p)
	}
	if err == nil {
		err = validate()
	}
	return err
}

// usageExit reports a command that did not start: -h (exit 0) or an error
// in its flags or files (ExitUsage).
func usageExit(name string, err error, stderr io.Writer) int {
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	return ExitUsage
}

// runExit reports how a command that started ended; ran is false when it
// failed before it sent anything.
func runExit(name string, err error, ran bool, stderr io.Writer) int {
	if err == nil {
		return ExitOK
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	if !ran {
		return ExitUsage
	}
	return ExitFailed
}

// cliOptions are the flags that are not Config fields.
type cliOptions struct {
	commonFlags
	record string
}

// parseFlags reads the flags and the target URI.
func parseFlags(args []string, stderr io.Writer) (Config, cliOptions, error) {
	var (
		cfg   Config
		opts  cliOptions
		codec string
	)
	fs := newFlagSet("kefu dial", usage, stderr)
	opts.register(fs, "keys to press (SIP INFO) after the answer, e.g. *@3s,1@4.5s")
	fs.StringVar(&opts.record, "record", "", "write what was received to this 8 kHz mono 16-bit WAV `file`")
	fs.DurationVar(&cfg.For, "for", 0, "hang up this long after the answer (0: wait for the far end's BYE)")
	fs.DurationVar(&cfg.Max, "max", DefaultMax, "hard cap on the whole call; reaching it is a failure")
	fs.DurationVar(&cfg.AnswerTimeout, "answer-timeout", DefaultAnswerTimeout, "give up if the call is not answered by then")
	fs.StringVar(&codec, "codec", "pcmu", "the codec to offer: pcmu or pcma")
	fs.StringVar(&cfg.From, "from", DefaultFrom, "the caller's `URI` (kefu screens and routes on the number)")
	fs.StringVar(&cfg.Listen, "listen", DefaultListen, "local SIP `address`; port 0 picks a free one")
	fs.StringVar(&cfg.Transport, "transport", "udp", "SIP transport: udp or tcp")

	target, err := parseArgs(fs, args)
	if err != nil {
		return cfg, opts, err
	}
	cfg.Target = target
	switch strings.ToLower(codec) {
	case "pcmu":
		cfg.Codec = media.CodecPCMU
	case "pcma":
		cfg.Codec = media.CodecPCMA
	default:
		return cfg, opts, fmt.Errorf("-codec %q: want pcmu or pcma", codec)
	}
	err = opts.apply(&cfg.Playback, &cfg.Detector)
	return cfg, opts, err
}

// commonFlags are the flags kefu dial and kefu agent share: what to send,
// which keys to press, how audio is heard, diagnostics.
type commonFlags struct {
	play    string
	keys    string
	playAt  time.Duration
	thresh  float64
	verbose bool
}

func (o *commonFlags) register(fs *flag.FlagSet, keysUsage string) {
	fs.StringVar(&o.play, "play", "silence", "what to send: FILE.wav or FILE.mp3 (once, then silence), `silence`, or none (no RTP at all)")
	fs.DurationVar(&o.playAt, "play-at", 0, "start the -play file this long after the answer")
	fs.StringVar(&o.keys, "keys", "", keysUsage)
	fs.Float64Var(&o.thresh, "threshold", DefaultThresholdDB, "level in `dBFS` above which received audio counts as heard")
	fs.BoolVar(&o.verbose, "v", false, "log SIP diagnostics to stderr")
}

// apply puts the flags into p and det (the clip itself is loaded later).
func (o *commonFlags) apply(p *Playback, det *DetectorConfig) error {
	det.ThresholdDB = o.thresh
	p.PlayAt = o.playAt
	switch o.play {
	case "silence":
		p.Send = SendSilence
	case "none":
		p.Send = SendNone
	default:
		p.Send = SendClip
		p.ClipName = filepath.Base(o.play)
	}
	if p.Send != SendClip && p.PlayAt != 0 {
		return errors.New("-play-at needs a -play file")
	}
	if o.keys != "" {
		var err error
		if p.Keys, err = ParseKeys(o.keys); err != nil {
			return err
		}
	}
	return nil
}

// loadClip decodes the -play file into p.
func (o *commonFlags) loadClip(p *Playback) error {
	if p.Send != SendClip {
		return nil
	}
	f, err := os.Open(o.play)
	if err != nil {
		return fmt.Errorf("-play: %w", err)
	}
	defer f.Close()
	pcm, err := prompts.Decode(o.play, f)
	if err != nil {
		return fmt.Errorf("-play: %w", err)
	}
	p.Clip = prompts.NewPrompt(filepath.Base(o.play), "", o.play, pcm)
	return nil
}

// logger returns the SIP diagnostics logger: warnings, or everything with -v.
func (o *commonFlags) logger(stderr io.Writer) *slog.Logger {
	level := slog.LevelWarn
	if o.verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}

// newFlagSet returns a flag set that prints text and then the flags for -h.
func newFlagSet(name, text string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, text)
		fs.PrintDefaults()
	}
	return fs
}

// parseArgs parses flags that may come before or after the one URI and
// returns it.
func parseArgs(fs *flag.FlagSet, args []string) (string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return "", err
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(rest) != 1 {
		fs.Usage()
		return "", fmt.Errorf("want exactly one URI, got %d", len(rest))
	}
	return rest[0], nil
}
