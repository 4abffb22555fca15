package softphone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/sip/sdp"
)

// Dial places the call cfg describes and returns when it is over. It
// returns an error when the call failed: refused (*CallError), not
// answered (ErrNoAnswer), cut at cfg.Max (ErrMaxDuration), given up
// because ctx ended (its cause), or broken locally. A call answered and
// then hung up by either side, or after cfg.For, returns nil. The Result
// is never nil once the INVITE was sent.
func Dial(ctx context.Context, cfg Config) (*Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeoutCause(ctx, cfg.Max, ErrMaxDuration)
	defer cancel()
	ep, err := newEndpoint(&cfg, cfg.Logger)
	if err != nil {
		return nil, err
	}
	defer ep.close()
	c := &call{cfg: cfg, ep: ep, res: &Result{}, log: cfg.Logger}
	c.eventLog = eventLog{events: &c.res.Events, sink: cfg.OnEvent}
	err = c.run(ctx)
	return c.res, err
}

// call is one call's state, owned by the goroutine running run; the
// media goroutines only emit events.
type call struct {
	eventLog
	cfg   Config
	ep    *endpoint
	res   *Result
	log   *slog.Logger // with the Call-ID once the INVITE is out
	media *leg
}

// run places the call and reports it. The media leg runs from the INVITE
// on, so early media is heard and timed too; teardown stops the media,
// waits for its goroutines, flushes what they held and emits the summary.
func (c *call) run(ctx context.Context) error {
	c.start = time.Now()
	m, err := openLeg(ctx, c.ep.bind, c.since, c.emit, c.cfg.Record, c.cfg.Detector)
	if err != nil {
		return err
	}
	c.media = m
	c.emit(Event{T: 0, Kind: EvInvite})

	err = c.converse(ctx)

	st, werr := m.close()
	err = errors.Join(err, werr)
	c.res.Stretches = st.Stretches
	c.res.Packets, c.res.Lost, c.res.Sent = st.Packets, st.Lost, st.Sent
	if err != nil {
		final := Event{T: c.since(), Kind: EvFinal, Error: err.Error()}
		if ce, ok := errors.AsType[*CallError](err); ok {
			final.Code, final.Reason = ce.Code, ce.Reason
		}
		c.emit(final)
	}
	var dur time.Duration
	if c.res.Ended > 0 {
		dur = c.res.Ended - c.res.Answered
	}
	c.emit(Event{T: c.since(), Kind: EvDone, Dur: dur, Packets: c.res.Packets, Lost: c.res.Lost, Sent: c.res.Sent})
	return err
}

// converse sends the INVITE, waits for the answer and runs the call until
// one side hangs up.
func (c *call) converse(ctx context.Context) error {
	local := sdp.Local{
		Addr:           c.ep.advertise,
		Port:           c.media.port(),
		Codecs:         []media.Codec{c.cfg.Codec},
		SessionID:      rand.Uint64N(1 << 62),
		SessionVersion: 1,
		Username:       dialUserAgent,
	}
	dlg, err := c.ep.invite(ctx, sdp.BuildOffer(local, true, sdp.SendRecv))
	if err != nil {
		return err
	}
	defer dlg.Close()
	if id := dlg.InviteRequest.CallID(); id != nil {
		c.log = c.log.With("call_id", id.Value())
	}
	answered, err := c.waitAnswer(ctx, dlg)
	if err != nil {
		if res, ok := responseOf(err); ok {
			c.res.Code, c.res.Reason = res.StatusCode, res.Reason
			return &CallError{Code: res.StatusCode, Reason: res.Reason}
		}
		return err
	}
	res := dlg.InviteResponse
	c.res.Code, c.res.Reason, c.res.Answered = res.StatusCode, res.Reason, answered
	if err := dlg.Ack(ctx); err != nil {
		return fmt.Errorf("softphone: send ACK: %w", err)
	}
	ans, err := sdp.ParseAnswer(res.Body())
	if err != nil {
		c.hangup(ctx, dlg)
		return fmt.Errorf("%w: %w", ErrBadAnswer, err)
	}
	c.res.Codec = ans.Codec
	c.emit(Event{T: answered, Kind: EvAnswered, Code: res.StatusCode, Reason: res.Reason, Codec: ans.Codec.String()})
	c.media.startSending(ans, c.cfg.Playback, answered, infoKeys(dlg, remoteTarget(dlg)))

	var forC <-chan time.Time
	if c.cfg.For > 0 {
		t := time.NewTimer(c.cfg.For)
		defer t.Stop()
		forC = t.C
	}
	select {
	case at := <-c.ep.byes:
		c.res.Ended, c.res.HungUp = at.Sub(c.start), EvByeReceived
		c.emit(Event{T: c.res.Ended, Kind: EvByeReceived})
		return nil
	case <-forC:
		c.hangup(ctx, dlg)
		return nil
	case <-ctx.Done():
		c.hangup(ctx, dlg)
		return context.Cause(ctx)
	case err := <-c.media.failed():
		c.hangup(ctx, dlg)
		return err
	}
}

// waitAnswer waits for the final response. On timeout, or when ctx ends,
// it cancels the INVITE: with a CANCEL once the far end sent a provisional
// response, otherwise by abandoning the transaction (a CANCEL cannot be
// sent before one).
func (c *call) waitAnswer(ctx context.Context, dlg *sipgo.DialogClientSession) (answered time.Duration, err error) {
	var ringing atomic.Bool
	var why atomic.Pointer[error]
	actx, acancel := context.WithCancelCause(context.WithoutCancel(ctx))
	defer acancel(nil)
	giveUp := func(cause error) {
		why.CompareAndSwap(nil, &cause)
		if ringing.Load() {
			acancel(cause)
		} else {
			acancel(sipgo.WaitAnswerForceCancelErr)
		}
	}
	timer := time.AfterFunc(c.cfg.AnswerTimeout, func() {
		giveUp(fmt.Errorf("%w within %v", ErrNoAnswer, c.cfg.AnswerTimeout))
	})
	defer timer.Stop()
	stop := context.AfterFunc(ctx, func() { giveUp(context.Cause(ctx)) })
	defer stop()
	err = dlg.WaitAnswer(actx, sipgo.AnswerOptions{OnResponse: func(r *sip.Response) error {
		switch {
		case r.IsProvisional():
			ringing.Store(true)
			c.emit(Event{T: c.since(), Kind: EvProvisional, Code: r.StatusCode, Reason: r.Reason})
		case r.IsSuccess():
			answered = c.since()
		}
		return nil
	}})
	if err == nil {
		return answered, nil
	}
	if _, ok := responseOf(err); ok {
		return 0, err
	}
	if p := why.Load(); p != nil {
		return 0, *p
	}
	return 0, fmt.Errorf("softphone: waiting for the answer: %w", err)
}

// hangup sends our BYE, bounded even when ctx has ended, and reports it.
func (c *call) hangup(ctx context.Context, dlg *sipgo.DialogClientSession) {
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), byeTimeout)
	defer cancel()
	at := c.since()
	code := 0
	err := dlg.Bye(bctx)
	if err == nil {
		code = sip.StatusOK
	} else if res, ok := responseOf(err); ok {
		code = res.StatusCode
	} else {
		c.log.Warn("BYE got no response", "error", err)
	}
	c.res.Ended, c.res.HungUp = at, EvByeSent
	c.emit(Event{T: at, Kind: EvByeSent, Code: code})
}
