package main

import (
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
)

// Ports for the integration tests come from one allocator per test process,
// below Linux's ephemeral range (32768–60999), so that a port handed to kefu
// or sipp cannot meanwhile be given by the kernel to some other socket's
// connect or bind(0) — the race that made CI fail with "address already in
// use". Within the process each port is handed out once.
//
//	12000–15999  single SIP, HTTP and control ports
//	16000–31999  blocks for RTP ranges and sipp media ports
const (
	singleLo, singleHi = 12000, 16000
	blockLo, blockHi   = 16000, 32000
)

var ports struct {
	mu     sync.Mutex
	single int // next single port to try
	block  int // next block start to try
}

// freePort returns a port free for both UDP and TCP on 127.0.0.1.
func freePort(t *testing.T) int {
	t.Helper()
	ports.mu.Lock()
	defer ports.mu.Unlock()
	if ports.single == 0 {
		ports.single = singleLo + rand.IntN(singleHi-singleLo)
	}
	for range singleHi - singleLo {
		p := ports.single
		ports.single++
		if ports.single == singleHi {
			ports.single = singleLo
		}
		if bindable(p, 1) {
			return p
		}
	}
	t.Fatal("no free port in 12000-15999")
	return 0
}

// freeBlock returns an even port p such that p..p+n-1 are free for UDP and
// TCP on 127.0.0.1.
func freeBlock(t *testing.T, n int) int {
	t.Helper()
	ports.mu.Lock()
	defer ports.mu.Unlock()
	n = (n + 1) &^ 1
	if ports.block == 0 {
		ports.block = blockLo + 2*rand.IntN((blockHi-blockLo)/2)
	}
	for range (blockHi - blockLo) / n {
		if ports.block+n > blockHi {
			ports.block = blockLo
		}
		p := ports.block
		ports.block += n
		if bindable(p, n) {
			return p
		}
	}
	t.Fatalf("no %d free ports in 16000-31999", n)
	return 0
}

// bindable reports whether ports p..p+n-1 can be bound on 127.0.0.1 for UDP
// and TCP. It checks the ends and middle of large blocks only: RTP pools skip
// a busy port anyway.
func bindable(p, n int) bool {
	check := []int{p}
	if n > 1 {
		check = append(check, p+1, p+n/2, p+n-1)
	}
	for _, q := range check {
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", q))
		if err != nil {
			return false
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", q))
		_ = u.Close()
		if err != nil {
			return false
		}
		_ = l.Close()
	}
	return true
}
