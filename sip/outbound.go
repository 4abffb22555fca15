package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/flows/callback"
	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/rtp"
	"github.com/kefu-hotline/kefu/prompts"
	"github.com/kefu-hotline/kefu/sip/sdp"
)

var _ callback.Phone = (*Outbound)(nil)

// Ring implements callback.Phone: it calls each offered agent's phone at
// once (the display says 回电 and the queue; From carries the customer's
// number, as for a caller), and the first to answer takes the callback;
// the others are cancelled.
func (o *Outbound) Ring(ctx context.Context, r callback.Ring) (callback.Agent, []callback.Rang, error) {
	out := make([]callback.Rang, len(r.Agents))
	for i, t := range r.Agents {
		out[i] = callback.Rang{ID: t.ID, Result: callback.Cancelled}
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type rang struct {
		i   int
		l   *leg
		ans sdp.Answer
		res callback.Result
	}
	results := make(chan rang, len(r.Agents))
	log := o.log.With("callback", r.CallbackID, "queue", r.Queue)
	display := r.Display
	if display == "" {
		display = "回电 " + r.Queue
	}
	id := &identity{Number: r.Number, Display: display, Queue: r.Queue}
	for i, t := range r.Agents {
		go func() {
			l, ans, res := o.ringAgent(rctx, log, t, id, r.Timeout)
			results <- rang{i: i, l: l, ans: ans, res: res}
		}()
	}
	var won *outAgent
	for range r.Agents {
		res := <-results
		switch {
		case res.res != callback.Answered:
		case won == nil && ctx.Err() == nil:
			won = o.newOutAgent(log, res.l, res.ans, r.Agents[res.i].ID)
			cancel()
		default:
			res.l.bye()
			res.l.close()
			res.res = callback.Cancelled
		}
		out[res.i].Result = res.res
	}
	if won == nil {
		return nil, out, ctx.Err()
	}
	return won, out, nil
}

// ringAgent calls one agent's phone for a callback; it returns the
// answered leg, or why it was not answered (the leg is closed then).
func (o *Outbound) ringAgent(ctx context.Context, log *slog.Logger, t agents.Target, id *identity, timeout time.Duration) (*leg, sdp.Answer, callback.Result) {
	log = log.With("agent", t.ID)
	target, err := parseTarget(t.Contact)
	if err != nil {
		log.Warn("agent contact unusable", "error", err.Error())
		return nil, sdp.Answer{}, callback.Failed
	}
	l, err := o.a.newLeg(legOptions{Log: log, Peer: "agent " + t.ID, Kind: "callback_agent", From: id})
	if err != nil {
		log.Warn("no RTP port to ring the agent", "error", err.Error())
		return nil, sdp.Answer{}, callback.Failed
	}
	start := time.Now()
	ans, code, err := l.dial(ctx, target, media.CodecPCMU, timeout)
	if err == nil {
		log.Info("agent answered a callback", "ring_s", round1(time.Since(start).Seconds()), "codec", ans.Codec.String())
		return l, ans, callback.Answered
	}
	l.close()
	res := dialResult(ctx, err, code)
	log.Info("agent did not take the callback", "result", res.String(), "code", code, "error", err.Error())
	return nil, sdp.Answer{}, res
}

// dialResult classifies a failed dial.
func dialResult(ctx context.Context, err error, code int) callback.Result {
	switch {
	case ctx.Err() != nil:
		return callback.Cancelled
	case errors.Is(err, errNoAnswer):
		return callback.NoAnswer
	case code == 486 || code == 600:
		return callback.Busy
	case code == 603:
		return callback.Declined
	}
	return callback.Failed
}

// outLeg is a leg kefu placed for a callback, answered, with its audio
// running and a goroutine serving the far end's requests in its dialog:
// gone closes when the far end hangs up or its RTP stops.
type outLeg struct {
	l     *leg
	h     rtp.Handler // the far end's audio and keys, SIP INFO keys too
	keys  chan rune   // Keys: the far end's keys, when set (the handler sends them here)
	gone  chan struct{}
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
	codec media.Codec
}

// startOutLeg connects l's audio (what the far end sends goes to h) and
// serves it: the keys the far end sends as SIP INFO go to h too; keys,
// when set, is where h sends them (Keys).
func startOutLeg(l *leg, ans sdp.Answer, timeout time.Duration, h rtp.Handler, keys chan rune) *outLeg {
	l.connect(ans, timeout, h)
	ol := &outLeg{l: l, h: h, keys: keys, gone: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{}), codec: ans.Codec}
	go ol.serve()
	return ol
}

func (ol *outLeg) serve() {
	defer close(ol.done)
	for {
		select {
		case r := <-ol.l.reqs:
			if keys, ok := infoKeys(r.req); ok && r.req.Method == sip.INFO {
				_ = r.tx.Respond(sip.NewResponseFromRequest(r.req, 200, "OK", nil))
				close(r.done)
				for _, k := range keys {
					ol.h.Digit(k) // as an RFC 4733 key
				}
				continue
			}
			if ol.l.serve(r) {
				close(ol.gone)
				return
			}
		case <-ol.l.audio.ended:
			ol.l.log.Warn("media timeout: no RTP from the " + ol.l.peer)
			close(ol.gone)
			return
		case <-ol.l.sessionEnded(): // its session timer expired; BYE sent (timer_leg.go)
			close(ol.gone)
			return
		case <-ol.stop:
			return
		}
	}
}

// isGone reports whether the far end has hung up.
func (ol *outLeg) isGone() bool {
	select {
	case <-ol.gone:
		return true
	default:
		return false
	}
}

// hangup ends the leg once: BYE unless the far end hung up, then its
// audio and port.
func (ol *outLeg) hangup() {
	ol.once.Do(func() {
		close(ol.stop)
		<-ol.done
		ol.l.finish()
		if !ol.isGone() {
			ol.l.bye()
		}
		ol.l.close()
	})
}

// play plays src on the leg until it ends, ctx ends (its error) or the
// far end hangs up (gone).
func (ol *outLeg) play(ctx context.Context, src media.Source, gone error) error {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-ol.gone:
			cancel()
		case <-pctx.Done():
		}
	}()
	err := ol.l.audio.player.Play(pctx, src)
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case ol.isGone():
		return gone
	}
	return err
}

// say plays prompts one after the other.
func (ol *outLeg) say(ctx context.Context, gone error, ps ...*prompts.Prompt) error {
	for _, p := range ps {
		if err := ol.play(ctx, media.NewClipSource(p.ID, p, false), gone); err != nil {
			return err
		}
	}
	return nil
}

// outAgent is the agent who took a callback (callback.Agent).
type outAgent struct {
	o    *Outbound
	log  *slog.Logger
	id   string
	leg  *outLeg
	from *relay // what the agent says: to the customer once bridged
}

func (o *Outbound) newOutAgent(log *slog.Logger, l *leg, ans sdp.Answer, id string) *outAgent {
	g := &outAgent{o: o, log: log.With("agent", id), id: id, from: newRelay("agent")}
	g.from.keys = make(chan rune, 8) // the agent's keys: passed to the customer once bridged
	g.leg = startOutLeg(l, ans, o.a.cfg.Current().Config.MediaTimeout.D(), g.from, nil)
	return g
}

// ID implements callback.Agent.
func (g *outAgent) ID() string { return g.id }

// Say implements callback.Agent.
func (g *outAgent) Say(ctx context.Context, ps ...*prompts.Prompt) error {
	return g.leg.say(ctx, callback.ErrAgentGone, ps...)
}

// Hangup implements callback.Agent.
func (g *outAgent) Hangup() { g.leg.hangup() }

// Dial implements callback.Agent: the customer's number through the
// trunk (its caller ID, its credentials for a challenge), while the agent
// hears the ringing tone; the agent hanging up cancels it.
func (g *outAgent) Dial(ctx context.Context, d callback.Dial) (callback.Customer, callback.Result, error) {
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopRing := make(chan struct{})
	ringDone := make(chan struct{})
	go func() { // the agent hears the ringing tone; the agent's hang-up cancels the call
		defer close(ringDone)
		rctx, stop := context.WithCancel(dctx)
		defer stop()
		go func() {
			select {
			case <-stopRing:
				stop()
			case <-rctx.Done():
			}
		}()
		if err := g.leg.play(rctx, media.NewClipSource("ringback", ringbackClip(), true), callback.ErrAgentGone); errors.Is(err, callback.ErrAgentGone) {
			cancel()
		}
	}()
	l, ans, res, err := g.o.dialTrunk(dctx, g.log, d, g.leg.codec)
	close(stopRing)
	<-ringDone
	switch {
	case res == callback.Answered:
	case g.leg.isGone():
		res = callback.AgentGone
	case ctx.Err() != nil:
		res = callback.Cancelled
	}
	g.o.calls.WithLabelValues(d.Trunk, res.String()).Inc()
	if res != callback.Answered {
		return nil, res, err
	}
	c := &outCustomer{g: g, trunk: d.Trunk, log: l.log, from: newRelay("customer")}
	c.from.keys = make(chan rune, 8) // the customer's keys: passed to the agent once bridged
	c.tap = newAMDTap(c.from)
	c.leg = startOutLeg(l, ans, g.o.a.cfg.Current().Config.MediaTimeout.D(), c.tap, nil)
	return c, callback.Answered, nil
}

// dialTrunk calls d's number through its trunk, offering codec first: the
// trunk's line is taken (given back unless the call is answered), From is
// the trunk's account or the caller ID, P-Asserted-Identity the caller
// ID, and the trunk's challenges are answered with its credentials.
func (o *Outbound) dialTrunk(ctx context.Context, log *slog.Logger, d callback.Dial, codec media.Codec) (*leg, sdp.Answer, callback.Result, error) {
	t, ok := o.take(d.Trunk)
	if !ok {
		return nil, sdp.Answer{}, callback.TrunkDown, fmt.Errorf("trunk %s takes no call now", d.Trunk)
	}
	target := t.uri
	target.User = d.Number
	auth := trunkAuth{Host: t.uri.Host, User: t.def.Username, Password: t.def.Password, FromUser: t.def.Username}
	if t.def.SRTP != "" {
		auth.SRTP, _ = sdp.ParseSRTPUse(t.def.SRTP) // checked at load
	}
	log = log.With("trunk", d.Trunk, "customer", o.a.user(d.Number))
	l, err := o.a.newLeg(legOptions{Log: log, Peer: "customer", Kind: "outbound_customer", From: &identity{Number: t.def.CallerID}, Trunk: auth})
	if err != nil {
		o.release(d.Trunk)
		return nil, sdp.Answer{}, callback.Failed, fmt.Errorf("no RTP port for the customer: %w", err)
	}
	start := time.Now()
	ans, code, err := l.dial(ctx, target, codec, d.Timeout)
	if err != nil {
		l.close()
		o.release(d.Trunk)
		res := dialResult(ctx, err, code)
		log.Info("customer not reached", "result", res.String(), "code", code, "ring_s", round1(time.Since(start).Seconds()), "error", err.Error())
		return nil, sdp.Answer{}, res, err
	}
	attrs := []any{"ring_s", round1(time.Since(start).Seconds()), "codec", ans.Codec.String()}
	if ans.SRTP.On() {
		attrs = append(attrs, "srtp", ans.SRTP.Suite.String()) // the suite, never the keys
	}
	log.Info("customer answered", attrs...)
	return l, ans, callback.Answered, nil
}

// outCustomer is the customer's call of a callback (callback.Customer).
type outCustomer struct {
	g     *outAgent
	trunk string
	log   *slog.Logger
	leg   *outLeg
	from  *relay   // what the customer says: to the agent once bridged
	tap   *amdTap  // the customer's audio on its way to from: the answering-machine detector
	line  *outLine // a follow-up's line put through (Put): its Hangup
	once  sync.Once
}

// Say implements callback.Customer: the prompts go to the customer and
// the agent at once, so the agent knows when to speak.
func (c *outCustomer) Say(ctx context.Context, ps ...*prompts.Prompt) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	agentDone := make(chan error, 1)
	go func() {
		err := c.g.leg.say(sctx, callback.ErrAgentGone, ps...)
		if errors.Is(err, callback.ErrAgentGone) {
			cancel() // nobody to put the customer through to
		}
		agentDone <- err
	}()
	err := c.leg.say(sctx, callback.ErrCustomerGone, ps...)
	if err != nil {
		cancel()
	}
	aerr := <-agentDone
	switch {
	case errors.Is(err, callback.ErrCustomerGone):
		return err
	case errors.Is(aerr, callback.ErrAgentGone):
		return aerr
	case err != nil:
		return err
	}
	return nil
}

// Bridge implements callback.Customer: each side hears the other until
// one hangs up (or their RTP stops), or ctx ends.
func (c *outCustomer) Bridge(ctx context.Context) (callback.Party, error) {
	// What either said before the bridge (the agent while the customer's
	// phone rang, the customer during the greeting) waited in the relays:
	// it would delay that direction for the whole call.
	c.from.reset()
	c.g.from.reset()
	drainKeys(c.from.keys) // keys pressed before it are not the other's business
	drainKeys(c.g.from.keys)
	agentPlayer, customerPlayer := c.g.leg.l.audio.player, c.leg.l.audio.player
	pctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = agentPlayer.Play(pctx, c.from) }()
	go func() { defer wg.Done(); _ = customerPlayer.Play(pctx, c.g.from) }()
	start := time.Now()
	phases := newPhases(agentPlayer, c.from, customerPlayer, c.g.from)
	defer phases.Stop()
	var by callback.Party
	for done := false; !done; {
		select {
		case <-phases.C():
			phases.Align()
			continue
		case k := <-c.from.keys: // keys pass between the two as on a bridged inbound call (SIP INFO)
			c.g.leg.l.sendKey(k)
			continue
		case k := <-c.g.from.keys:
			c.leg.l.sendKey(k)
			continue
		case <-c.g.leg.gone:
			by = callback.PartyAgent
		case <-c.leg.gone:
			by = callback.PartyCustomer
		case <-ctx.Done():
		}
		done = true
	}
	stop()
	wg.Wait()
	c.log.Info("callback call ended", "by", string(by), "talk_s", round1(time.Since(start).Seconds()),
		"relayed_to_agent", c.from.relayed.Load(), "relayed_to_customer", c.g.from.relayed.Load(),
		"relay_dropped", c.from.dropped.Load()+c.g.from.dropped.Load(),
		"relay_trimmed", c.from.trimmed.Load()+c.g.from.trimmed.Load())
	if by == "" {
		return "", context.Cause(ctx)
	}
	return by, nil
}

// drainKeys empties keys.
func drainKeys(keys chan rune) {
	for {
		select {
		case <-keys:
		default:
			return
		}
	}
}

// Hangup implements callback.Customer.
func (c *outCustomer) Hangup() {
	if c.line != nil {
		c.line.Hangup()
		return
	}
	c.once.Do(func() {
		c.leg.hangup()
		c.g.o.release(c.trunk)
	})
}

var _ callback.Dialer = (*Outbound)(nil)

// Call implements callback.Dialer: the customer's number through the
// trunk, straight (a follow-up: nobody else on the call); their keys
// arrive as RFC 4733 events or SIP INFO.
func (o *Outbound) Call(ctx context.Context, d callback.Dial) (callback.Line, callback.Result, error) {
	l, ans, res, err := o.dialTrunk(ctx, o.log, d, media.CodecPCMU)
	o.calls.WithLabelValues(d.Trunk, res.String()).Inc()
	if res != callback.Answered {
		return nil, res, err
	}
	keys := make(chan rune, 16)
	in := newRelay("customer") // what the customer says: nobody listens; their RFC 4733 keys go to keys
	in.keys = keys
	ln := &outLine{o: o, trunk: d.Trunk, in: in, tap: newAMDTap(in)}
	ln.leg = startOutLeg(l, ans, o.a.cfg.Current().Config.MediaTimeout.D(), ln.tap, keys)
	return ln, callback.Answered, nil
}

// outLine is a customer's call kefu placed straight (callback.Line).
type outLine struct {
	o     *Outbound
	trunk string
	leg   *outLeg
	in    *relay  // what the customer says: to an agent once put through
	tap   *amdTap // the answering-machine detector on the customer's audio
	once  sync.Once
}

// Put implements callback.Line: the customer's call as a callback's,
// put through to the agent by its Bridge; hanging it up hangs up the
// line.
func (ln *outLine) Put(a callback.Agent) callback.Customer {
	g, ok := a.(*outAgent)
	if !ok {
		return nil
	}
	return &outCustomer{g: g, trunk: ln.trunk, log: ln.leg.l.log, leg: ln.leg, from: ln.in, tap: ln.tap, line: ln}
}

// Say implements callback.Line.
func (ln *outLine) Say(ctx context.Context, ps ...*prompts.Prompt) error {
	return ln.leg.say(ctx, callback.ErrCustomerGone, ps...)
}

// Keys implements callback.Line.
func (ln *outLine) Keys() <-chan rune { return ln.leg.keys }

// Gone implements callback.Line.
func (ln *outLine) Gone() <-chan struct{} { return ln.leg.gone }

// Hangup implements callback.Line.
func (ln *outLine) Hangup() {
	ln.once.Do(func() {
		ln.leg.hangup()
		ln.o.release(ln.trunk)
	})
}
