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

// handleSignals is kefu's one signal handler: SIGINT and SIGTERM end the
// returned context (its cause names the signal: kefu run drains and shuts
// down gracefully, kefu dial hangs up), SIGHUP is passed on hup (kefu run
// reloads its configuration; other commands ignore it). stop restores the
// default handling.
func handleSignals(parent context.Context) (ctx context.Context, hup <-chan struct{}, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	hups := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case s := <-sigs:
				if s == syscall.SIGHUP {
					select {
					case hups <- struct{}{}:
					default: // a reload is pending already
					}
					continue
				}
				cancel(signalCause{s})
			}
		}
	}()
	return ctx, hups, func() {
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
