package main

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strings"
	"syscall"
)

// logLevel is kefu run's log level: the one configured (-log-level), and
// the one in force, which ops change at run time (PUT /api/loglevel,
// SIGUSR1 for debug, SIGUSR2 back to the configured one).
type logLevel struct {
	v          slog.LevelVar
	configured slog.Level
	log        *slog.Logger
}

// newLogger returns kefu run's JSON logger at level on w, and its level
// control. Durations are written in seconds (a float), not nanoseconds.
func newLogger(level string, w io.Writer) (*slog.Logger, *logLevel, error) {
	lv := &logLevel{}
	if err := lv.configured.UnmarshalText([]byte(level)); err != nil {
		return nil, nil, fmt.Errorf("-log-level %q: want debug, info, warn or error", level)
	}
	lv.v.Set(lv.configured)
	lv.log = slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: &lv.v, ReplaceAttr: seconds}))
	return lv.log, lv, nil
}

// seconds writes a duration as seconds, rounded to the microsecond:
// "ptime":0.02, not "ptime":20000000.
func seconds(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		s := a.Value.Duration().Seconds()
		a.Value = slog.Float64Value(math.Round(s*1e6) / 1e6)
	}
	return a
}

// Level returns the level in force.
func (l *logLevel) Level() slog.Level { return l.v.Level() }

// Configured returns the level kefu run was started with.
func (l *logLevel) Configured() slog.Level { return l.configured }

// SetLevel puts level in force and logs the change, by whom: the line is
// written while the more verbose of the two levels is in force, so it is
// seen unless both are above info.
func (l *logLevel) SetLevel(level slog.Level, by string) {
	from := l.v.Level()
	if from == level {
		return
	}
	line := func() {
		l.log.Info("log level changed", "from", levelName(from), "to", levelName(level), "by", by)
	}
	if level < from {
		l.v.Set(level)
		line()
		return
	}
	line()
	l.v.Set(level)
}

// signal applies SIGUSR1 (debug) or SIGUSR2 (the configured level).
func (l *logLevel) signal(s os.Signal) {
	switch s {
	case syscall.SIGUSR1:
		l.SetLevel(slog.LevelDebug, "SIGUSR1")
	case syscall.SIGUSR2:
		l.SetLevel(l.configured, "SIGUSR2")
	}
}

// levelName is a level as -log-level takes it: "debug", "info", "warn+2".
func levelName(l slog.Level) string { return strings.ToLower(l.String()) }
