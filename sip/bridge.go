package sip

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/sip/sdp"
)

// bridgeCall joins the caller's call to a leg kefu placed to a transfer
// destination (B2BUA): each side's decoded audio goes through a relay to
// the other side's paced player, until either side hangs up. The goroutine
// running Transfer owns it, and serves the leg meanwhile.
type bridgeCall struct {
	c          *call
	out        *leg
	fromCaller *relay // the caller's audio, played to the destination
	toCaller   *relay // the destination's audio, played to the caller
}

// bridge calls the destination and, once it answers, relays audio between
// the two calls until either side hangs up; then it hangs up the other
// side and returns {How: "bridge"}.
func (c *call) bridge(ctx context.Context, uri string, target sip.Uri, ring time.Duration) (flows.TransferResult, error) {
	var ans sdp.Answer
	if err := c.onOwner(ctx, func() error { ans = c.answer; return nil }); err != nil {
		c.transferLog(uri, "bridge", outcomeHangup)
		return flows.TransferResult{}, c.endCause(ctx)
	}
	l, err := c.a.newLeg(legOptions{Log: c.log, Peer: "transfer destination", Kind: "bridge", From: c.callerIdentity()})
	if err != nil {
		c.transferLog(uri, "bridge", outcomeFailed, "error", err.Error())
		return flows.TransferResult{}, fmt.Errorf("%w: no RTP port for the bridge: %w", flows.ErrTransferFailed, err)
	}
	defer l.close()
	// The caller hears the ringing tone while the destination rings.
	stopRing := c.ringback()
	dans, code, err := l.dial(ctx, target, ans.Codec, ring)
	stopRing()
	if err != nil {
		outcome := outcomeFailed
		switch {
		case ctx.Err() != nil:
			outcome = outcomeHangup
		case code >= 300:
			outcome = outcomeRefused
		case errors.Is(err, errNoAnswer):
			outcome = outcomeTimeout
		}
		attrs := []any{"error", err.Error()}
		if code != 0 {
			attrs = append(attrs, "code", code)
		}
		c.transferLog(uri, "bridge", outcome, attrs...)
		if outcome == outcomeHangup {
			return flows.TransferResult{}, c.endCause(ctx)
		}
		return flows.TransferResult{}, fmt.Errorf("%w: %s: %w", flows.ErrTransferFailed, uri, err)
	}
	c.transferLog(uri, "bridge", outcomeOK, "codec", dans.Codec.String(), "rtp_local", l.local.Port, "rtp_remote", dans.Remote.String())
	b := &bridgeCall{c: c, out: l, fromCaller: newRelay("caller"), toCaller: newRelay("destination")}
	start := time.Now()
	by := b.run(ctx, dans)
	st := l.audio.sess.Stats()
	c.log.Info("bridge ended", "by", by, "duration", time.Since(start).Round(time.Millisecond),
		"rtp_sent", st.Sent.Load(), "rtp_received", st.Received.Load(), "rtp_lost", st.Lost.Load(),
		"relayed_to_destination", b.fromCaller.relayed.Load(), "relayed_to_caller", b.toCaller.relayed.Load(),
		"relay_dropped", b.fromCaller.dropped.Load()+b.toCaller.dropped.Load(),
		"relay_trimmed", b.fromCaller.trimmed.Load()+b.toCaller.trimmed.Load())
	return flows.TransferResult{How: "bridge"}, nil
}

// run relays audio until either side hangs up or the destination's RTP
// times out, then hangs up the other side; it returns what ended it:
// "destination", "destination_media_timeout", or the label of the call's
// end (caller_hangup, shutdown, media_timeout, ...).
func (b *bridgeCall) run(ctx context.Context, ans sdp.Answer) string {
	c, l := b.c, b.out
	l.connect(ans, c.snap.Config.MediaTimeout.D(), b.toCaller)
	pctx, stopPlays := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = l.audio.player.Play(pctx, b.fromCaller) }()
	// The caller's audio now goes to the destination, and the caller's
	// player plays the destination instead of kefu's silence.
	c.m.tap.Store(b.fromCaller)
	go func() { defer wg.Done(); _ = c.m.audio.player.Play(pctx, b.toCaller) }()

	phases := newPhases(l.audio.player, b.fromCaller, c.m.audio.player, b.toCaller)
	defer phases.Stop()
	by := ""
	for by == "" {
		select {
		case <-phases.C():
			phases.Align()
		case r := <-l.reqs:
			if l.serve(r) {
				by = "destination"
			}
		case <-l.audio.ended:
			c.log.Warn("media timeout: no RTP from the transfer destination", "timeout", c.snap.Config.MediaTimeout.D())
			by = "destination_media_timeout"
		case <-l.sessionEnded(): // its session timer expired (timer_leg.go)
			by = "destination_session_expired"
		case <-ctx.Done():
			by = causeLabel(context.Cause(ctx)) // caller_hangup, shutdown, media_timeout ...
		case <-c.events: // the flow does not listen while bridged
		}
	}
	c.m.tap.Store(nil)
	l.finish() // requests from the destination are answered by take now
	if by != "destination" {
		l.bye()
	}
	if ctx.Err() == nil {
		err := c.onOwner(context.WithoutCancel(ctx), func() error {
			err := c.sendBye()
			c.cancel(errTransferred)
			return err
		})
		if err != nil && !errors.Is(err, errCallGone) {
			c.log.Warn("BYE after the bridge", "error", err)
		}
	}
	stopPlays()
	l.audio.stop()
	wg.Wait()
	return by
}
