package softphone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// userAgent is the User-Agent header of the softphone's requests.
const userAgent = "kefu-dial"

// endpoint is the softphone's SIP side: one sipgo user agent whose client
// places the call and whose server answers what the far end sends inside
// the dialog (BYE, OPTIONS) on the same connection.
type endpoint struct {
	ua        *sipgo.UserAgent
	client    *sipgo.Client
	server    *sipgo.Server
	dialogs   *sipgo.DialogClientCache
	target    sip.Uri
	from      sip.Uri
	transport string     // "UDP" or "TCP"
	advertise netip.Addr // our address in Via, Contact and SDP
	bind      netip.Addr // where our sockets listen
	byes      chan time.Time
	pc        *net.UDPConn  // the UDP socket, nil over TCP
	served    chan struct{} // closed when the UDP server stopped
}

// newEndpoint parses the addresses of cfg and starts a user agent whose
// connection binds cfg.Listen.
func newEndpoint(cfg *Config, log *slog.Logger) (*endpoint, error) {
	e := &endpoint{transport: strings.ToUpper(cfg.Transport), byes: make(chan time.Time, 1)}
	if err := sip.ParseUri(cfg.Target, &e.target); err != nil {
		return nil, fmt.Errorf("softphone: target %q: %w", cfg.Target, err)
	}
	if e.target.Host == "" || (e.target.Scheme != "sip" && e.target.Scheme != "") {
		return nil, fmt.Errorf("softphone: target %q: want sip:user@host[:port]", cfg.Target)
	}
	if err := sip.ParseUri(cfg.From, &e.from); err != nil {
		return nil, fmt.Errorf("softphone: from %q: %w", cfg.From, err)
	}
	if e.from.Host == "" || e.from.User == "" {
		return nil, fmt.Errorf("softphone: from %q: want sip:user@host", cfg.From)
	}
	host, portStr, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("softphone: listen %q: %w", cfg.Listen, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("softphone: listen %q: port: %w", cfg.Listen, err)
	}
	e.bind = netip.IPv4Unspecified()
	if host != "" {
		if e.bind, err = netip.ParseAddr(host); err != nil {
			return nil, fmt.Errorf("softphone: listen %q: want an IP address: %w", cfg.Listen, err)
		}
	}
	e.advertise = e.bind
	if e.bind.IsUnspecified() {
		if e.advertise, err = routeTo(e.target); err != nil {
			return nil, err
		}
	}

	e.ua, err = sipgo.NewUA(
		sipgo.WithUserAgent(userAgent),
		sipgo.WithUserAgentHostname(e.advertise.String()),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(log)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(log)),
	)
	if err != nil {
		return nil, fmt.Errorf("softphone: sip user agent: %w", err)
	}
	if err := e.start(netip.AddrPortFrom(e.bind, uint16(port)), log); err != nil {
		e.close()
		return nil, err
	}
	e.dialogs = sipgo.NewDialogClientCache(e.client, sip.ContactHeader{
		Address: sip.Uri{Scheme: "sip", User: e.from.User, Host: e.advertise.String()},
	})
	return e, nil
}

// start creates the server and the client. Over UDP the server serves a
// socket bound here, registered with the transport before the first
// request, so that requests, responses and the far end's BYE all use the
// one -listen address. Over TCP the client dials and the far end's
// requests come back on that connection.
func (e *endpoint) start(laddr netip.AddrPort, log *slog.Logger) error {
	var err error
	if e.server, err = sipgo.NewServer(e.ua, sipgo.WithServerLogger(log)); err != nil {
		return fmt.Errorf("softphone: sip server: %w", err)
	}
	e.server.OnBye(e.onBye)
	e.server.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
	})
	if e.transport == "UDP" {
		if e.pc, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(laddr)); err != nil {
			return fmt.Errorf("softphone: listen: %w", err)
		}
		la := e.pc.LocalAddr().String()
		laddr = e.pc.LocalAddr().(*net.UDPAddr).AddrPort()
		e.ua.TransportLayer().Pool("udp").Add(la, &sip.UDPConnection{PacketConn: e.pc, PacketAddr: la, Listener: true})
		e.served = make(chan struct{})
		go func() {
			defer close(e.served)
			_ = e.server.ServeUDP(e.pc)
		}()
	}
	e.client, err = sipgo.NewClient(e.ua,
		sipgo.WithClientLogger(log),
		sipgo.WithClientHostname(e.advertise.String()),
		sipgo.WithClientConnectionAddr(laddr.String()),
	)
	if err != nil {
		return fmt.Errorf("softphone: sip client: %w", err)
	}
	return nil
}

// routeTo returns the local address the system would send to u from.
func routeTo(u sip.Uri) (netip.Addr, error) {
	port := u.Port
	if port == 0 {
		port = 5060
	}
	c, err := net.Dial("udp", net.JoinHostPort(u.Host, strconv.Itoa(port)))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("softphone: no route to %s: %w", u.Host, err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap(), nil
}

// onBye answers the far end's BYE and tells the call.
func (e *endpoint) onBye(req *sip.Request, tx sip.ServerTransaction) {
	at := time.Now()
	if err := e.dialogs.ReadBye(req, tx); err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		return
	}
	select {
	case e.byes <- at:
	default:
	}
}

// invite sends the INVITE with the SDP offer and returns the early dialog.
func (e *endpoint) invite(ctx context.Context, offer []byte) (*sipgo.DialogClientSession, error) {
	req := sip.NewRequest(sip.INVITE, e.target)
	req.SetTransport(e.transport)
	from := &sip.FromHeader{Address: e.from, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(sip.NewHeader("User-Agent", userAgent))
	req.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS"))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(offer)
	s, err := e.dialogs.WriteInvite(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("softphone: send INVITE: %w", err)
	}
	return s, nil
}

// close stops the user agent and its connections.
func (e *endpoint) close() {
	if e.server != nil {
		_ = e.server.Close()
	}
	if e.client != nil {
		_ = e.client.Close()
	}
	_ = e.ua.Close()
	if e.pc != nil {
		_ = e.pc.Close()
		<-e.served
	}
}

// responseOf returns the SIP response an error from sipgo carries.
func responseOf(err error) (*sip.Response, bool) {
	var p *sipgo.ErrDialogResponse
	if errors.As(err, &p) && p.Res != nil {
		return p.Res, true
	}
	var v sipgo.ErrDialogResponse
	if errors.As(err, &v) && v.Res != nil {
		return v.Res, true
	}
	return nil, false
}
