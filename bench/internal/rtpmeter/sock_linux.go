package rtpmeter

import (
	"encoding/binary"
	"fmt"
	"net"
	"syscall"
	"unsafe"
)

// SetupSocket asks the kernel for a large receive buffer (SO_RCVBUFFORCE
// when running as root, beyond net.core.rmem_max), a nanosecond arrival
// timestamp on every datagram (SO_TIMESTAMPNS) and the socket's drop
// counter (SO_RXQ_OVFL). It returns the receive buffer the kernel granted.
func SetupSocket(c *net.UDPConn, rcvbuf int) (int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var got int
	var serr error
	err = rc.Control(func(fd uintptr) {
		if e := syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, rcvbuf); e != nil {
			// Not root: the kernel caps this at net.core.rmem_max.
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
		}
		if e := syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1); e != nil {
			serr = fmt.Errorf("SO_TIMESTAMPNS: %w", e)
			return
		}
		if e := syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RXQ_OVFL, 1); e != nil {
			serr = fmt.Errorf("SO_RXQ_OVFL: %w", e)
			return
		}
		got, _ = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
	})
	if err != nil {
		return 0, err
	}
	return got, serr
}

// cmsgAlign rounds n up to the kernel's control-message alignment.
func cmsgAlign(n int) int {
	const a = int(unsafe.Sizeof(uintptr(0)))
	return (n + a - 1) &^ (a - 1)
}

// ParseControl reads the arrival time (ns since the Unix epoch; 0 if
// absent) and the socket's cumulative drop count from a datagram's
// ancillary data, without allocating.
func ParseControl(oob []byte) (ts int64, drops uint32, hasDrops bool) {
	hdrLen := cmsgAlign(syscall.SizeofCmsghdr)
	for len(oob) >= syscall.SizeofCmsghdr {
		h := (*syscall.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < syscall.SizeofCmsghdr || l > len(oob) {
			break
		}
		data := oob[hdrLen:l]
		switch {
		case h.Level == syscall.SOL_SOCKET && h.Type == syscall.SCM_TIMESTAMPNS && len(data) >= 16:
			sec := int64(binary.NativeEndian.Uint64(data))
			nsec := int64(binary.NativeEndian.Uint64(data[8:]))
			ts = sec*1e9 + nsec
		case h.Level == syscall.SOL_SOCKET && h.Type == syscall.SO_RXQ_OVFL && len(data) >= 4:
			drops, hasDrops = binary.NativeEndian.Uint32(data), true
		}
		next := cmsgAlign(l)
		if next >= len(oob) {
			break
		}
		oob = oob[next:]
	}
	return ts, drops, hasDrops
}
