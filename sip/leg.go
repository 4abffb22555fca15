package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/g711"
	"github.com/kefu-hotline/kefu/media/rtp"
	"github.com/kefu-hotline/kefu/media/srtp"
	"github.com/kefu-hotline/kefu/sip/sdp"
)

// mediaLeg is the audio of one side of a call kefu is in: the RTP session
// on a port of the agent's, the paced player on the agent's shared pacer
// that sends into it, and the receive loop that hands what arrives to a
// handler. The caller's call (callMedia) and each call kefu places itself
// (leg) are built on one.
//
// Its owner calls start once, update for every answer negotiated later (a
// re-INVITE), then stop and release; player and sess are for use in
// between (Play, Stats).
type mediaLeg struct {
	a      *Agent
	conn   net.PacketConn
	sess   *rtp.Session
	player *media.Player
	// ended receives rtp.ErrMediaTimeout when the far end sent nothing
	// for the media timeout while media was expected.
	ended chan error
	// srtp is the leg's SRTP (nil: plain RTP); remoteKey the peer's key
	// in use.
	srtp      *srtp.Session
	remoteKey srtp.Key

	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	stopped  sync.Once
	released sync.Once
}

// newMediaLeg sets up the audio for a negotiated answer on conn (from
// listenRTP), which it owns from now on. timeout is the media timeout (0
// disables it); log is the RTP session's.
func (a *Agent) newMediaLeg(conn net.PacketConn, ans sdp.Answer, timeout time.Duration, log *slog.Logger) *mediaLeg {
	m := &mediaLeg{a: a, conn: conn, ended: make(chan error, 1)}
	var crypto rtp.Crypto
	if ans.SRTP.On() {
		s, err := srtp.NewSession(ans.SRTP.Suite, ans.SRTP.Local, ans.SRTP.Remote)
		if err != nil {
			log.Error("SRTP not keyed: the leg sends and takes nothing", "error", err.Error())
			s, _ = srtp.NewSession(srtp.AESCM128SHA1_80, ans.SRTP.Local, ans.SRTP.Local) // the peer cannot read it
		}
		m.srtp, m.remoteKey, crypto = s, ans.SRTP.Remote, srtpCrypto{s}
	}
	m.sess = rtp.NewSession(rtp.Config{
		Conn: conn, Remote: ans.Remote, Codec: ans.Codec, PT: ans.PT, DTMFPT: ans.DTMFPT, CNPT: ans.CNPT,
		SSRC: rand.Uint32(), Timeout: timeout, Ptime: ans.Ptime, Logger: log, Crypto: crypto,
	})
	m.player = media.NewPlayer(m.sess, ans.Codec, g711.Silence(ans.Codec), media.WithPacer(a.pacer))
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.update(ans)
	return m
}

// start runs the player and the receive loop, which hands the far end's
// audio, comfort noise, keys and gaps to h.
func (m *mediaLeg) start(h rtp.Handler) {
	m.wg.Add(2)
	go func() {
		defer m.wg.Done()
		_ = m.player.Run(m.ctx)
	}()
	go func() {
		defer m.wg.Done()
		if err := m.sess.Receive(m.ctx, h); errors.Is(err, rtp.ErrMediaTimeout) {
			m.ended <- err
		}
	}()
}

// update applies a negotiated answer (the first, or a re-INVITE's): where
// to send, whether we may send (muted on hold), and whether media is
// expected (the media timeout waits on hold).
func (m *mediaLeg) update(ans sdp.Answer) {
	if m.srtp != nil && ans.SRTP.On() && ans.SRTP.Remote != m.remoteKey {
		if err := m.srtp.SetRemote(ans.SRTP.Remote); err == nil { // the peer's new key (a re-INVITE)
			m.remoteKey = ans.SRTP.Remote
		}
	}
	m.sess.SetRemote(ans.Remote)
	m.player.SetMuted(!ans.Direction.Sends() || ans.Hold && !ans.Remote.Addr().IsValid())
	m.sess.SetSuspended(!ans.Direction.Receives() || ans.Hold)
}

// stop ends the player and the receive loop, waits for them, and adds the
// session's packet counts to the agent's metrics. Only the first call
// does anything.
func (m *mediaLeg) stop() {
	m.stopped.Do(func() {
		m.cancel()
		m.wg.Wait()
		st := m.sess.Stats()
		m.a.met.RTPSent.Add(float64(st.Sent.Load()))
		m.a.met.RTPRecv.Add(float64(st.Received.Load()))
		m.a.met.RTPLost.Add(float64(st.Lost.Load()))
		m.a.met.SRTPDropped.WithLabelValues("auth").Add(float64(st.AuthFailed.Load()))
		m.a.met.SRTPDropped.WithLabelValues("replay").Add(float64(st.Refused.Load()))
	})
}

// release gives the port back, once; after stop.
func (m *mediaLeg) release() { m.released.Do(func() { m.a.releaseRTP(m.conn) }) }

// rtpPorts hands out RTP sockets and takes them back. The agent's port
// pool is the real one; tests give the agent fake packet conns
// (Agent.fakePorts), so that calls run without sockets and in virtual
// time.
type rtpPorts interface {
	Listen() (net.PacketConn, error)
	Release(net.PacketConn)
}

// listenRTP takes a socket for a new RTP session.
func (a *Agent) listenRTP() (net.PacketConn, error) {
	if a.fakePorts != nil {
		return a.fakePorts.Listen()
	}
	conn, err := a.ports.Listen()
	if err != nil {
		return nil, err
	}
	return conn, nil
}

// releaseRTP gives back a socket from listenRTP.
func (a *Agent) releaseRTP(conn net.PacketConn) {
	if a.fakePorts != nil {
		a.fakePorts.Release(conn)
		return
	}
	a.ports.Release(conn.(*net.UDPConn))
}

// errNoAnswer ends the wait for the far end of a leg after its timeout.
var errNoAnswer = errors.New("destination did not answer")

// leg is a call kefu places itself, a B2BUA leg: to a transfer destination
// (bridge.go), and next to agents and for callbacks. The goroutine that
// dials it owns it: requests from the far end in its dialog reach that
// owner over reqs (inDialog finds the leg in Agent.legs by dialog key),
// and it serves them with serve. Its audio is a mediaLeg set up from the
// far end's answer (connect).
type leg struct {
	a     *Agent
	log   *slog.Logger
	peer  string // the far end in log messages, e.g. "transfer destination"
	kind  string // the "leg" attribute of its RTP session's log, e.g. "bridge"
	conn  net.PacketConn
	local sdp.Local
	key   string // dialog key in Agent.legs, once dialled
	dlg   *sipgo.DialogClientSession
	audio *mediaLeg // once connected; it owns conn from then on
	reqs  chan inReq
	done  chan struct{} // closed when the owner no longer serves (finish)
	once  sync.Once
	id    *identity // whom the call is from; nil: kefu itself
	held  bool      // the far end holds the call (its last re-INVITE); the owner's
	trunk trunkAuth // a call through a trunk: its From host and digest credentials
	timer *legTimer // RFC 4028 session timer, from connect (timer_leg.go)
	route []string  // the INVITE's Route set: an agent's Path (RFC 3327); nil: straight to the target
}

// legOptions describe a leg to place.
type legOptions struct {
	Log  *slog.Logger
	Peer string // the far end in log messages
	Kind string // the "leg" attribute of the RTP session's log
	// From is the caller the leg is placed for (their number in From and
	// P-Asserted-Identity, the number they called in Diversion); nil:
	// the call is from kefu.
	From *identity
	// Trunk: a call kefu places through a trunk (outbound.go).
	Trunk trunkAuth
	// Route is the route set of the INVITE, name-addrs nearest first:
	// the Path an agent's phone registered through (RFC 3327). The
	// INVITE goes to the first.
	Route []string
}

// newLeg prepares a leg with an RTP port of its own; close frees it.
func (a *Agent) newLeg(o legOptions) (*leg, error) {
	conn, err := a.listenRTP()
	if err != nil {
		return nil, err
	}
	return &leg{a: a, log: o.Log, peer: o.Peer, kind: o.Kind, conn: conn, reqs: make(chan inReq), done: make(chan struct{}), id: o.From, trunk: o.Trunk, route: o.Route}, nil
}

// dial INVITEs target from kefu's own address, offering codec first, waits
// for the answer (ringing meanwhile) up to timeout, and ACKs it. code is
// the refusing status, if any. The leg is in Agent.legs from the answer on.
func (l *leg) dial(ctx context.Context, target sip.Uri, codec media.Codec, timeout time.Duration) (sdp.Answer, int, error) {
	a := l.a
	other := media.CodecPCMA
	if codec == media.CodecPCMA {
		other = media.CodecPCMU
	}
	now := time.Now()
	l.local = sdp.Local{Addr: a.adv, Port: l.conn.LocalAddr().(*net.UDPAddr).Port, Codecs: []media.Codec{codec, other},
		SessionID: uint64(now.UnixNano() & 0x7fffffffffff), SessionVersion: 1, Username: "kefu"}
	if err := withKey(&l.local, l.trunk.SRTP); err != nil {
		return sdp.Answer{}, 0, err
	}
	inv := sip.NewRequest(sip.INVITE, target)
	if tr, ok := target.UriParams.Get("transport"); ok {
		inv.SetTransport(strings.ToUpper(tr))
	}
	for i, r := range l.route {
		h := &sip.RouteHeader{}
		var params sip.HeaderParams // a route's header parameters (rare) are not kept
		if _, err := sip.ParseAddressValue(r, &h.Address, &params); err != nil {
			return sdp.Answer{}, 0, fmt.Errorf("route %q: %w", r, err)
		}
		if tr, ok := h.Address.UriParams.Get("transport"); ok && i == 0 {
			inv.SetTransport(strings.ToUpper(tr))
		}
		inv.AppendHeader(h)
	}
	from := &sip.FromHeader{DisplayName: "kefu", Address: sip.Uri{Scheme: "sip", User: "kefu", Host: a.adv.String()}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	inv.AppendHeader(from)
	inv.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: target.Scheme, User: target.User, Host: target.Host, Port: target.Port}})
	l.id.apply(inv, l.trunk.fromHost(a.adv.String()))
	if l.trunk.FromUser != "" {
		inv.From().Address.User = l.trunk.FromUser
	}
	contact := a.contact(inv)
	inv.AppendHeader(contact)
	inv.AppendHeader(sip.NewHeader("User-Agent", a.cfg.UserAgent))
	inv.AppendHeader(sip.NewHeader("Allow", Allowed))
	inv.AppendHeader(sip.NewHeader("Supported", Supported)) // session timers: timer_leg.go
	inv.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	inv.SetBody(sdp.BuildOffer(l.local, true, sdp.SendRecv)) // with telephone-event: keys pass both ways

	if overTLS(inv) {
		if err := a.addVia(a.client, inv); err != nil { // sent-by: the TLS port
			return sdp.Answer{}, 0, err
		}
	}

	dctx, cancel := context.WithTimeoutCause(ctx, timeout, errNoAnswer)
	defer cancel()
	ua := &sipgo.DialogUA{Client: a.client, ContactHDR: *contact}
	dlg, err := ua.WriteInvite(dctx, inv)
	if err != nil {
		return sdp.Answer{}, 0, fmt.Errorf("send INVITE: %w", err)
	}
	l.dlg = dlg
	err = dlg.WaitAnswer(dctx, sipgo.AnswerOptions{Username: l.trunk.User, Password: l.trunk.Password, OnResponse: func(res *sip.Response) error {
		if res.IsProvisional() {
			l.log.Debug(l.peer, "code", res.StatusCode)
		}
		return nil
	}})
	if err != nil {
		var refused *sipgo.ErrDialogResponse
		switch {
		case errors.As(err, &refused):
			return sdp.Answer{}, refused.Res.StatusCode, fmt.Errorf("destination answered %d %s", refused.Res.StatusCode, refused.Res.Reason)
		case dlg.InviteResponse != nil && dlg.InviteResponse.IsSuccess():
			// The answer crossed our CANCEL: take the call and end it.
			_ = dlg.Ack(context.WithoutCancel(ctx))
			l.bye()
		}
		if cause := context.Cause(dctx); errors.Is(cause, errNoAnswer) {
			return sdp.Answer{}, 0, fmt.Errorf("%w within %v", errNoAnswer, timeout)
		}
		return sdp.Answer{}, 0, fmt.Errorf("INVITE: %w", err)
	}
	res := dlg.InviteResponse
	ourTag, _ := inv.From().Params.Get("tag")
	l.key = dialogKey(inv.CallID().Value(), ourTag, res.To().Params)
	a.addLeg(l)
	if err := dlg.Ack(context.WithoutCancel(ctx)); err != nil {
		l.bye()
		return sdp.Answer{}, 0, fmt.Errorf("ACK: %w", err)
	}
	ans, err := sdp.ParseAnswer(res.Body())
	if err == nil {
		ans, err = l.local.Accept(ans)
		settle(&l.local, ans)
	}
	if err == nil && ans.Codec != codec && ans.Codec != other {
		err = fmt.Errorf("answer chose %v, which was not offered", ans.Codec)
	}
	if err != nil {
		l.bye()
		return sdp.Answer{}, 0, fmt.Errorf("destination's SDP: %w", err)
	}
	l.local.Codecs = []media.Codec{ans.Codec}
	return ans, 0, nil
}

// connect starts the leg's audio for the far end's answer, with the media
// timeout; what the far end sends goes to h.
func (l *leg) connect(ans sdp.Answer, timeout time.Duration, h rtp.Handler) {
	l.audio = l.a.newMediaLeg(l.conn, ans, timeout, l.log.With("leg", l.kind))
	l.audio.start(h)
	l.startTimer()
}

// serve answers an in-dialog request from the far end (on the owner's
// goroutine); it reports whether it was the BYE.
func (l *leg) serve(r inReq) (bye bool) {
	defer close(r.done)
	req := r.req
	switch req.Method {
	case sip.BYE:
		_ = l.dlg.ReadBye(req, r.tx)
		l.log.Info(l.peer + " hung up")
		return true
	case sip.INVITE, sip.UPDATE:
		l.update(r) // session timers, then reinvite (timer_leg.go)
	case sip.INFO, sip.OPTIONS:
		_ = r.tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	default:
		res := sip.NewResponseFromRequest(req, 405, "Method Not Allowed", nil)
		res.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO"))
		_ = r.tx.Respond(res)
	}
	return false
}

// reinvite answers the far end's re-INVITE (hold, a new address) in the
// leg's codec, and makes the audio follow.
func (l *leg) reinvite(r inReq) {
	l.local.SessionVersion++
	if len(r.req.Body()) == 0 {
		res := sip.NewResponseFromRequest(r.req, 200, "OK", sdp.BuildOffer(l.local, false, sdp.SendRecv))
		res.AppendHeader(l.a.contact(r.req))
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		_ = r.tx.Respond(res)
		return
	}
	ans, ok := l.a.answerOffer(r, func() *sdp.Local { return &l.local }, func(*sip.Response) {})
	if !ok {
		return
	}
	l.audio.update(ans)
	l.held = ans.Hold || !ans.Direction.Sends()
	l.log.Info("re-INVITE from the "+l.peer, "direction", ans.Direction.String(), "hold", ans.Hold)
}

// bye ends the call to the far end, under a context the caller's end does
// not cancel.
func (l *leg) bye() {
	ctx, cancel := context.WithTimeout(context.Background(), 32*sip.T1)
	defer cancel()
	if err := l.dlg.Bye(ctx); err != nil {
		l.log.Warn("could not end the call to the "+l.peer, "error", err)
		return
	}
	l.log.Info("BYE sent to the " + l.peer)
}

// finish marks that the owner no longer serves the leg: take answers
// requests from the far end itself from now on.
func (l *leg) finish() { l.once.Do(func() { close(l.done) }) }

// close ends the leg's part in the agent: no more requests for it, its
// audio stopped, its port given back. It sends nothing.
func (l *leg) close() {
	l.finish()
	l.a.removeLeg(l)
	if l.audio == nil {
		l.a.releaseRTP(l.conn)
		return
	}
	l.audio.stop()
	l.audio.release()
}

// take hands an in-dialog request from the far end to the leg's owner and
// waits until it is answered; once the owner is done it answers itself.
func (l *leg) take(req *sip.Request, tx sip.ServerTransaction) {
	r := inReq{req: req, tx: tx, done: make(chan struct{})}
	select {
	case l.reqs <- r:
		<-r.done
	case <-l.done:
		if req.Method == sip.BYE {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
			return
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
	}
}

// legFor finds the leg an in-dialog request belongs to.
func (a *Agent) legFor(req *sip.Request) *leg {
	key, ok := requestDialogKey(req)
	if !ok {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.legs[key]
}

func (a *Agent) addLeg(l *leg) {
	a.mu.Lock()
	a.legs[l.key] = l
	a.mu.Unlock()
}

func (a *Agent) removeLeg(l *leg) {
	a.mu.Lock()
	if a.legs[l.key] == l {
		delete(a.legs, l.key)
	}
	a.mu.Unlock()
}
