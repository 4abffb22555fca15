package sip

import "net"

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
