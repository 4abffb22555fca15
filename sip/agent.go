// Package sip is kefu's SIP user agent on sipgo: it answers INVITEs (100,
// 180, then 200 with an SDP answer after the answer delay), keeps one owner
// goroutine per call, runs the call's flow through the flows.Call interface,
// and handles ACK, BYE, CANCEL, OPTIONS, INFO and hold re-INVITEs. It
// transfers calls by REFER, or by bridging a call of its own to the
// destination (transfer.go, bridge.go).
package sip

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/rtp"
	"github.com/kefu-hotline/kefu/sip/flood"
	"github.com/kefu-hotline/kefu/sip/registrar"
	"github.com/kefu-hotline/kefu/sip/sdp"
)

// Allowed lists the methods kefu serves (Allow header).
const Allowed = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, REFER, NOTIFY, UPDATE"

// Config configures an Agent.
type Config struct {
	Listen    string     // SIP address for UDP and TCP, e.g. "0.0.0.0:5060"
	Advertise netip.Addr // address put in Contact and SDP; default: derived from Listen
	RTPLow    int        // RTP port range
	RTPHigh   int
	UserAgent string
	Logger    *slog.Logger
	// Current returns the configuration new calls get (its Records keep
	// what calls leave; its Screener screens them).
	Current func() *flows.Bundle
	// ShowNumbers disables masking of caller numbers in logs.
	ShowNumbers bool
	Metrics     *Metrics
	// Clock is the time flows see (greetings, holidays); nil is the wall
	// clock. Tests pin it to hear a given day's opening.
	Clock flows.Clock
	// DataDir holds recordings (complaints) under recordings/.
	DataDir string
	// Flood limits request rates per source and caller and drops
	// scanners; nil admits everything.
	Flood *flood.Guard
	// ACL says who may place calls and register agents' phones (acl.go);
	// nil lets everyone in.
	ACL *ACL
	// Registrar makes kefu its agents' registrar (register.go); nil:
	// REGISTER gets 405 like any method kefu does not serve.
	Registrar *registrar.Registrar
	// TCP bounds SIP connections (message size, slow senders, idle
	// connections, connections per source), over TLS too; zero fields
	// take defaults.
	TCP TCPLimits
	// TLSListen is the SIP over TLS address ("host" takes port 5061);
	// empty: no TLS. TLSCert is then the certificate kefu presents.
	TLSListen string
	TLSCert   *Cert
	// SRTP is the policy of calls from sources no trunk's srtp: covers:
	// optional (the zero value is off) answers SRTP where offered,
	// required refuses plain offers with 488 (srtp.go).
	SRTP sdp.SRTPUse
}

// Agent is a running SIP user agent.
type Agent struct {
	cfg    Config
	log    *slog.Logger
	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	client *sipgo.Client
	ports  *rtp.PortPool
	adv    netip.Addr
	met    *Metrics

	udp     net.PacketConn
	tcp     net.Listener
	tls     net.Listener // nil without TLS (tls.go)
	tlsPort int
	filter  *conformer // under all three
	// tlsTrunks are the trunks kefu reaches over TLS (trunktls.go).
	tlsTrunks atomic.Pointer[tlsTrunkSet]

	// fakePorts, when set, hands out RTP sockets in place of ports: tests
	// give calls fake packet conns (listenRTP).
	fakePorts rtpPorts

	pacer     *media.Pacer // steps every call's player
	stopPacer context.CancelFunc

	mu       sync.Mutex
	calls    map[string]*call // by dialog key
	legs     map[string]*leg  // bridged calls to transfer destinations, by dialog key
	draining atomic.Bool
	wg       sync.WaitGroup // one per call owner goroutine
}

// New prepares an agent and binds its sockets, so that the caller knows the
// real addresses (port 0 picks free ports) before serving.
func New(cfg Config) (*Agent, error) {
	if cfg.Current == nil {
		return nil, errors.New("sip: Config.Current is required")
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "kefu"
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ap, err := netip.ParseAddrPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("sip: listen address %q: %w", cfg.Listen, err)
	}
	a := &Agent{cfg: cfg, log: log, calls: map[string]*call{}, legs: map[string]*leg{}, met: cfg.Metrics}
	if a.met == nil {
		a.met = NewMetrics(nil)
	}
	a.adv = cfg.Advertise
	if !a.adv.IsValid() {
		a.adv = advertiseFor(ap.Addr())
	}
	a.ports, err = rtp.NewPortPool(ap.Addr(), cfg.RTPLow, cfg.RTPHigh)
	if err != nil {
		return nil, err
	}
	udp, err := net.ListenPacket("udp", ap.String())
	if err != nil {
		return nil, fmt.Errorf("sip: listen udp: %w", err)
	}
	// TCP on the same port as UDP (the port UDP got, when 0 was asked for).
	tcpAddr := netip.AddrPortFrom(ap.Addr(), uint16(udp.LocalAddr().(*net.UDPAddr).Port))
	tcp, err := net.Listen("tcp", tcpAddr.String())
	if err != nil {
		_ = udp.Close()
		return nil, fmt.Errorf("sip: listen tcp: %w", err)
	}
	a.udp, a.tcp = a.conform(udp, tcp) // conformance checks, TCP limits (conform*.go, tcp.go)
	if err := a.listenTLS(); err != nil {
		_ = udp.Close()
		_ = tcp.Close()
		return nil, err
	}

	// sipgo logs whole messages (caller numbers) at debug: keep it quiet.
	sipLog := slog.New(levelFilter{newSafeHandler(log.Handler(), cfg.ShowNumbers), slog.LevelWarn}) // siplog.go
	port := udp.LocalAddr().(*net.UDPAddr).Port
	a.ua, err = sipgo.NewUA(sipgo.WithUserAgent(cfg.UserAgent), sipgo.WithUserAgentHostname(a.adv.String()),
		sipgo.WithUserAgenTLSConfig(a.clientTLS()),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(sipLog)),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(sipLog)))
	if err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	a.srv, err = sipgo.NewServer(a.ua, sipgo.WithServerLogger(sipLog))
	if err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	a.client, err = sipgo.NewClient(a.ua, sipgo.WithClientHostname(a.adv.String()), sipgo.WithClientPort(port), sipgo.WithClientLogger(sipLog))
	if err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	var pctx context.Context
	pctx, a.stopPacer = context.WithCancel(context.Background())
	a.pacer = media.NewPacer(pctx, runtime.GOMAXPROCS(0))
	// A SourceHeader from a source kefu does not trust is dropped before
	// any handler sees it (origin.go).
	a.srv.OnInvite(a.untrusted(a.onInvite))
	a.srv.OnAck(a.untrusted(a.onAck))
	a.srv.OnBye(a.untrusted(a.inDialog))
	a.srv.OnInfo(a.untrusted(a.inDialog))
	a.srv.OnUpdate(a.untrusted(a.inDialog))
	a.srv.OnNotify(a.untrusted(a.onReferOrNotify))
	a.srv.OnRefer(a.untrusted(a.onReferOrNotify))
	a.srv.OnCancel(a.untrusted(a.onCancel))
	a.srv.OnOptions(a.untrusted(a.onOptions))
	a.srv.OnRegister(a.untrusted(a.onRegister))
	a.srv.OnNoRoute(a.untrusted(a.onNoRoute))
	return a, nil
}

// Serve serves SIP until ctx ends; then it closes the sockets. Calls are not
// touched: use Drain and Shutdown for a graceful stop.
func (a *Agent) Serve(ctx context.Context) error {
	errc := make(chan error, 3)
	go func() { errc <- a.srv.ServeUDP(a.udp) }()
	go func() { errc <- a.srv.ServeTCP(a.tcp) }()
	if a.tls != nil {
		go func() { errc <- a.srv.ServeTLS(a.tls) }()
	}
	select {
	case <-ctx.Done():
		_ = a.srv.Close()
		_ = a.udp.Close()
		_ = a.tcp.Close()
		if a.tls != nil {
			_ = a.tls.Close()
		}
		a.stopPacer()
		return nil
	case err := <-errc:
		return fmt.Errorf("sip: serve: %w", err)
	}
}

// UDPAddr returns the bound SIP UDP address.
func (a *Agent) UDPAddr() net.Addr { return a.udp.LocalAddr() }

// Drain makes the agent refuse new calls (503) and OPTIONS pings (503), so a
// load balancer sends calls elsewhere, while calls in progress go on.
func (a *Agent) Drain() { a.draining.Store(true) }

// Ready reports whether the agent takes new calls.
func (a *Agent) Ready() bool { return !a.draining.Load() }

// ActiveCalls returns the number of calls in progress.
func (a *Agent) ActiveCalls() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.calls)
}

// Shutdown waits for calls to end by themselves until ctx ends, then hangs
// up the rest (BYE) and waits for their teardown.
func (a *Agent) Shutdown(ctx context.Context) {
	a.Drain()
	done := make(chan struct{})
	go func() { a.wg.Wait(); close(done) }()
	select {
	case <-done:
		return
	case <-ctx.Done():
	}
	a.mu.Lock()
	for _, c := range a.calls {
		c.cancel(flows.ErrShutdown)
	}
	a.mu.Unlock()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		a.log.Warn("calls still tearing down after shutdown", "calls", a.ActiveCalls())
	}
}

func (a *Agent) addCall(c *call) {
	a.mu.Lock()
	a.calls[c.key] = c
	a.mu.Unlock()
	a.met.Active.Inc()
}

func (a *Agent) removeCall(c *call) {
	a.mu.Lock()
	delete(a.calls, c.key)
	a.mu.Unlock()
	a.met.Active.Dec()
}

func (a *Agent) findCall(key string) *call {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls[key]
}

// advertiseFor picks the address to announce for a listen address: itself,
// or for 0.0.0.0 the address of the interface with the default route
// (loopback when there is none).
func advertiseFor(ip netip.Addr) netip.Addr {
	if !ip.IsUnspecified() {
		return ip
	}
	// Connecting a UDP socket sends nothing; it only picks a route.
	if c, err := net.Dial("udp4", "192.0.2.1:9"); err == nil {
		defer c.Close()
		if ua, ok := c.LocalAddr().(*net.UDPAddr); ok {
			if ap := ua.AddrPort(); ap.Addr().IsValid() {
				return ap.Addr().Unmap()
			}
		}
	}
	return netip.MustParseAddr("127.0.0.1")
}

// levelFilter drops records below a level.
type levelFilter struct {
	slog.Handler
	min slog.Level
}

func (f levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= f.min && f.Handler.Enabled(ctx, l)
}

func (f levelFilter) WithAttrs(as []slog.Attr) slog.Handler {
	return levelFilter{f.Handler.WithAttrs(as), f.min}
}

func (f levelFilter) WithGroup(name string) slog.Handler {
	return levelFilter{f.Handler.WithGroup(name), f.min}
}
