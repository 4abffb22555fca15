package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// signalCause is the cause of a context ended by a signal.
type signalCause struct{ sig os.Signal }

func (c signalCause) Error() string { return fmt.Sprintf("signal %s", c.sig) }

// controls are the signals a running kefu acts on without stopping.
type controls struct {
	// hup is SIGHUP: kefu run reloads its configuration. Several
	// pending SIGHUPs are one reload.
	hup <-chan struct{}
	// level is SIGUSR1 (log at debug) and SIGUSR2 (back to the
	// configured level), in the order they came.
	level <-chan os.Signal
}

// handleSignals is kefu's one signal handler: SIGINT and SIGTERM end the
// returned context (its cause names the signal: kefu run drains and shuts
// down gracefully, kefu dial hangs up); SIGHUP, SIGUSR1 and SIGUSR2 are
// passed on ctl (kefu run reloads, changes its log level; other commands
// ignore them). stop restores the default handling.
func handleSignals(parent context.Context) (ctx context.Context, ctl controls, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2)
	hups := make(chan struct{}, 1)
	levels := make(chan os.Signal, 4)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case s := <-sigs:
				switch s {
				case syscall.SIGHUP:
					select {
					case hups <- struct{}{}:
					default: // a reload is pending already
					}
				case syscall.SIGUSR1, syscall.SIGUSR2:
					select {
					case levels <- s:
					default: // nobody listens, or many at once: the last ones are lost
					}
				default:
					cancel(signalCause{s})
				}
			}
		}
	}()
	return ctx, controls{hup: hups, level: levels}, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}

// signalName names the signal that ended ctx ("terminated"), or its cause.
func signalName(ctx context.Context) string {
	if c, ok := context.Cause(ctx).(signalCause); ok {
		return c.sig.String()
	}
	return fmt.Sprint(context.Cause(ctx))
}
