package softphone

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// stack is the SIP side shared by kefu dial and kefu agent: one sipgo user
// agent whose client sends requests and whose server receives them on the
// same -listen address, so that responses and the far end's in-dialog
// requests all come back there. Handlers are installed on server between
// newStack and serve.
type stack struct {
	ua        *sipgo.UserAgent
	client    *sipgo.Client
	server    *sipgo.Server
	transport string     // "UDP" or "TCP"
	advertise netip.Addr // our address in Via, Contact and SDP
	bind      netip.Addr // where our sockets listen
	laddr     netip.AddrPort
	pc        *net.UDPConn  // the UDP socket, nil over TCP
	served    chan struct{} // closed when the UDP server stopped
}

// newStack parses listen, picks the advertised address (the route to peer
// when listen's IP is unspecified) and creates the user agent, its server
// and, over UDP, the bound socket and the client that sends from it. Over
// TCP the client dials and the far end's requests come back on that
// connection.
func newStack(listen, transport string, peer sip.Uri, userAgent string, log *slog.Logger) (*stack, error) {
	s := &stack{transport: transport}
	host, portStr, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("softphone: listen %q: %w", listen, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("softphone: listen %q: port: %w", listen, err)
	}
	s.bind = netip.IPv4Unspecified()
	if host != "" {
		if s.bind, err = netip.ParseAddr(host); err != nil {
			return nil, fmt.Errorf("softphone: listen %q: want an IP address: %w", listen, err)
		}
	}
	s.advertise = s.bind
	if s.bind.IsUnspecified() {
		if s.advertise, err = routeTo(peer); err != nil {
			return nil, err
		}
	}
	s.ua, err = sipgo.NewUA(
		sipgo.WithUserAgent(userAgent),
		sipgo.WithUserAgentHostname(s.advertise.String()),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(log)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(log)),
	)
	if err != nil {
		return nil, fmt.Errorf("softphone: sip user agent: %w", err)
	}
	if err := s.start(netip.AddrPortFrom(s.bind, uint16(port)), log); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *stack) start(laddr netip.AddrPort, log *slog.Logger) error {
	var err error
	if s.server, err = sipgo.NewServer(s.ua, sipgo.WithServerLogger(log)); err != nil {
		return fmt.Errorf("softphone: sip server: %w", err)
	}
	if s.transport == "UDP" {
		if s.pc, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(laddr)); err != nil {
			return fmt.Errorf("softphone: listen: %w", err)
		}
		laddr = s.pc.LocalAddr().(*net.UDPAddr).AddrPort()
		la := laddr.String()
		s.ua.TransportLayer().Pool("udp").Add(la, &sip.UDPConnection{PacketConn: s.pc, PacketAddr: la, Listener: true})
	}
	s.laddr = laddr
	s.client, err = sipgo.NewClient(s.ua,
		sipgo.WithClientLogger(log),
		sipgo.WithClientHostname(s.advertise.String()),
		sipgo.WithClientConnectionAddr(laddr.String()),
	)
	if err != nil {
		return fmt.Errorf("softphone: sip client: %w", err)
	}
	return nil
}

// serve starts serving the UDP socket, once the handlers are installed.
func (s *stack) serve() {
	if s.pc == nil {
		return
	}
	s.served = make(chan struct{})
	go func() {
		defer close(s.served)
		_ = s.server.ServeUDP(s.pc)
	}()
}

// port returns the local SIP port (the bound UDP port; over TCP the
// -listen port).
func (s *stack) port() int { return int(s.laddr.Port()) }

// close stops the user agent and its connections.
func (s *stack) close() {
	if s.server != nil {
		_ = s.server.Close()
	}
	if s.client != nil {
		_ = s.client.Close()
	}
	_ = s.ua.Close()
	if s.pc != nil {
		_ = s.pc.Close()
		if s.served != nil {
			<-s.served
		}
	}
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

// parseSIPURI parses a sip: URI that must name a host.
func parseSIPURI(what, s string) (sip.Uri, error) {
	var u sip.Uri
	if err := sip.ParseUri(s, &u); err != nil {
		return u, fmt.Errorf("softphone: %s %q: %w", what, s, err)
	}
	if u.Host == "" || (u.Scheme != "sip" && u.Scheme != "") {
		return u, fmt.Errorf("softphone: %s %q: want sip:user@host[:port]", what, s)
	}
	return u, nil
}
