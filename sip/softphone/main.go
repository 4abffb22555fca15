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
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "kefu dial: %v\n", err)
		return ExitUsage
	}
	if opts.play != "silence" && opts.play != "none" {
		if cfg.Clip, err = loadClip(opts.play); err != nil {
			fmt.Fprintf(stderr, "kefu dial: %v\n", err)
			return ExitUsage
		}
	}
	if _, err := cfg.withDefaults(); err != nil {
		fmt.Fprintf(stderr, "kefu dial: %v\n", err)
		return ExitUsage
	}
	var rec *os.File
	if opts.record != "" {
		if rec, err = os.Create(opts.record); err != nil {
			fmt.Fprintf(stderr, "kefu dial: %v\n", err)
			return ExitUsage
		}
		cfg.Record = rec
	}
	level := slog.LevelWarn
	if opts.verbose {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
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
	if err != nil {
		fmt.Fprintf(stderr, "kefu dial: %v\n", err)
		if res == nil {
			return ExitUsage
		}
		return ExitFailed
	}
	return ExitOK
}

// cliOptions are the flags that are not Config fields.
type cliOptions struct {
	play, record string
	verbose      bool
}

// parseFlags reads the flags and the target URI.
func parseFlags(args []string, stderr io.Writer) (Config, cliOptions, error) {
	var (
		cfg   Config
		opts  cliOptions
		codec string
	)
	fs := flag.NewFlagSet("kefu dial", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&opts.play, "play", "silence", "what to send: FILE.wav or FILE.mp3 (once, then silence), `silence`, or none (no RTP at all)")
	fs.DurationVar(&cfg.PlayAt, "play-at", 0, "start the -play file this long after the answer")
	keys := fs.String("keys", "", "keys to press (SIP INFO) after the answer, e.g. *@3s,1@4.5s")
	fs.StringVar(&opts.record, "record", "", "write what was received to this 8 kHz mono 16-bit WAV `file`")
	fs.DurationVar(&cfg.For, "for", 0, "hang up this long after the answer (0: wait for the far end's BYE)")
	fs.DurationVar(&cfg.Max, "max", DefaultMax, "hard cap on the whole call; reaching it is a failure")
	fs.DurationVar(&cfg.AnswerTimeout, "answer-timeout", DefaultAnswerTimeout, "give up if the call is not answered by then")
	fs.StringVar(&codec, "codec", "pcmu", "the codec to offer: pcmu or pcma")
	fs.StringVar(&cfg.From, "from", DefaultFrom, "the caller's `URI` (kefu screens and routes on the number)")
	fs.StringVar(&cfg.Listen, "listen", DefaultListen, "local SIP `address`; port 0 picks a free one")
	fs.StringVar(&cfg.Transport, "transport", "udp", "SIP transport: udp or tcp")
	fs.Float64Var(&cfg.Detector.ThresholdDB, "threshold", DefaultThresholdDB, "level in `dBFS` above which received audio counts as heard")
	fs.BoolVar(&opts.verbose, "v", false, "log SIP diagnostics to stderr")

	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return cfg, opts, err
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(rest) != 1 {
		fs.Usage()
		return cfg, opts, fmt.Errorf("want exactly one target URI, got %d", len(rest))
	}
	cfg.Target = rest[0]
	switch strings.ToLower(codec) {
	case "pcmu":
		cfg.Codec = media.CodecPCMU
	case "pcma":
		cfg.Codec = media.CodecPCMA
	default:
		return cfg, opts, fmt.Errorf("-codec %q: want pcmu or pcma", codec)
	}
	switch opts.play {
	case "silence":
		cfg.Send = SendSilence
	case "none":
		cfg.Send = SendNone
	default:
		cfg.Send = SendClip
		cfg.ClipName = filepath.Base(opts.play)
	}
	if cfg.Send != SendClip && cfg.PlayAt != 0 {
		return cfg, opts, errors.New("-play-at needs a -play file")
	}
	if *keys != "" {
		var err error
		if cfg.Keys, err = ParseKeys(*keys); err != nil {
			return cfg, opts, err
		}
	}
	return cfg, opts, nil
}

// loadClip decodes a WAV or MP3 file into an encoded clip.
func loadClip(path string) (media.Clip, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("-play: %w", err)
	}
	defer f.Close()
	pcm, err := prompts.Decode(path, f)
	if err != nil {
		return nil, fmt.Errorf("-play: %w", err)
	}
	return prompts.NewPrompt(filepath.Base(path), "", path, pcm), nil
}
