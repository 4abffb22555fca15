package rtp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
)

// ErrNoPorts means every port of the range is in use.
var ErrNoPorts = errors.New("rtp: no free port in range")

// PortPool hands out one even UDP port per call from a range, round robin,
// so a port just released is not reused at once (late packets of the old
// call must not reach the new one).
type PortPool struct {
	ip     netip.Addr
	lo, hi int
	mu     sync.Mutex
	next   int
	inUse  map[int]bool
}

// NewPortPool returns a pool of even ports in [lo, hi] bound on ip.
func NewPortPool(ip netip.Addr, lo, hi int) (*PortPool, error) {
	if lo <= 0 || hi > 65535 || lo > hi {
		return nil, fmt.Errorf("rtp: bad port range %d-%d", lo, hi)
	}
	lo += lo % 2
	if lo > hi {
		return nil, fmt.Errorf("rtp: port range %d-%d holds no even port", lo, hi)
	}
	return &PortPool{ip: ip, lo: lo, hi: hi, next: lo, inUse: map[int]bool{}}, nil
}

// Listen binds the next free port. Ports that the OS refuses (taken by
// another program) are skipped.
func (p *PortPool) Listen() (*net.UDPConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := (p.hi-p.lo)/2 + 1
	for range n {
		port := p.next
		p.next += 2
		if p.next > p.hi {
			p.next = p.lo
		}
		if p.inUse[port] {
			continue
		}
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.ip, uint16(port))))
		if err != nil {
			continue
		}
		p.inUse[port] = true
		return c, nil
	}
	return nil, ErrNoPorts
}

// Release closes c and returns its port to the pool.
func (p *PortPool) Release(c *net.UDPConn) {
	port := c.LocalAddr().(*net.UDPAddr).Port
	_ = c.Close()
	p.mu.Lock()
	delete(p.inUse, port)
	p.mu.Unlock()
}

// InUse returns the number of ports held by calls.
func (p *PortPool) InUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.inUse)
}

// Size returns how many ports the pool hands out: the even ports of its
// range.
func (p *PortPool) Size() int {
	lo := p.lo + p.lo%2
	if p.hi < lo {
		return 0
	}
	return (p.hi-lo)/2 + 1
}
