//go:build linux

// Command rtppeer is the media of both ends of the bridged calls in kefu's
// bridge load test (bench/bridge.sh). sipp places the callers' calls and
// answers kefu's calls to the agents; every caller's SDP points at
// rtppeer's caller port and every agent's answer at its agent port, so
// kefu sends the RTP of all its legs there, each leg from its own port.
//
// For each leg of kefu's it hears, rtppeer starts a talker: a paced RTP
// stream back to that leg (kefu's own media.Player and rtp.Session on a
// shared media.Pacer), whose near-silent PCMU frames carry a stamp (the
// talker, the frame's number, the time it was sent). Once kefu bridges a
// caller to an agent, its relay passes each side's frames to the other
// leg, so the frames rtppeer receives carry the other side's stamps: the
// arrival time (the kernel's, SO_TIMESTAMPNS) minus the stamp is the delay
// kefu's relay added, the stamps' numbers count frames lost end to end,
// and an unstamped frame in a bridged leg is silence the relay played
// because it had nothing (an underrun). Which talker a leg hears also
// proves that every caller hears their own agent and vice versa.
//
// Measurement windows are opened with SIGUSR1 and closed with SIGUSR2 (up
// to four, labelled by -windows); at both edges rtppeer reads the CPU time
// of the processes named in -pidfile and of the machine. SIGTERM or SIGINT
// ends the run and prints the report (and writes it as JSON with -json).
//
// Usage:
//
//	rtppeer -caller 127.0.0.1:36000 -agent 127.0.0.1:36002 [-pidfile FILE] [-status FILE] [-json FILE] [-windows one-leg,bridged]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/kefu-hotline/kefu/bench/internal/rtpmeter"
	"github.com/kefu-hotline/kefu/media"
)

func main() {
	callerAddr := flag.String("caller", "127.0.0.1:36000", "UDP address the callers' SDP points at")
	agentAddr := flag.String("agent", "127.0.0.1:36002", "UDP address the agents' answers point at")
	rcvbuf := flag.Int("rcvbuf", 32<<20, "socket receive buffer in bytes")
	idle := flag.Duration("idle", 2*time.Second, "a leg kefu sent nothing on for this long is over: its talker stops")
	status := flag.String("status", "", "file to rewrite twice a second with the live leg counts")
	jsonOut := flag.String("json", "", "file to write the report to as JSON")
	pidFile := flag.String("pidfile", "", "file of NAME=PID lines, read at each window edge: the processes whose CPU is measured")
	labels := flag.String("windows", "", "comma-separated names of the measurement windows, in order")
	timeline := flag.String("timeline", "", "file to write the run second by second to (per side: packets, kefu's player skips, largest gap, relayed frames, underruns, lost, delay p50/p99)")
	flag.Parse()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pacer := media.NewPacer(ctx, runtime.GOMAXPROCS(0))
	win := &windows{}
	var sides []*side
	for _, sd := range []struct {
		name, addr string
		bit        uint32
	}{{"caller", *callerAddr, 0}, {"agent", *agentAddr, agentBit}} {
		conn, err := listen(sd.addr, *rcvbuf)
		if err != nil {
			fatal(fmt.Errorf("-%s: %w", sd.name, err))
		}
		sides = append(sides, newSide(ctx, sd.name, sd.bit, conn, pacer, *idle, win))
	}
	fmt.Fprintf(os.Stderr, "rtppeer: callers' media on %s, agents' on %s\n", sides[0].conn.LocalAddr(), sides[1].conn.LocalAddr())

	var wg sync.WaitGroup
	for _, s := range sides {
		wg.Go(s.run)
	}
	stopStatus := make(chan struct{})
	if *status != "" {
		wg.Go(func() { writeStatus(*status, sides, stopStatus) })
	}

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGTERM, os.Interrupt)
	var edges [maxWindows][2]*rtpmeter.Sample
	for sig := range sigs {
		k := int(win.n.Load())
		switch sig {
		case syscall.SIGUSR1:
			if k > 0 && win.close[k-1].Load() == 0 || k == maxWindows {
				fmt.Fprintln(os.Stderr, "rtppeer: SIGUSR1 ignored: a window is open, or all are used")
				continue
			}
			smp := rtpmeter.TakeSample(rtpmeter.ReadPIDFile(*pidFile), "rtppeer")
			edges[k][0] = &smp
			win.open[k].Store(smp.At.UnixNano())
			win.n.Store(int32(k + 1))
			fmt.Fprintf(os.Stderr, "rtppeer: window %d opened\n", k+1)
			continue
		case syscall.SIGUSR2:
			if k == 0 || win.close[k-1].Load() != 0 {
				continue
			}
			smp := rtpmeter.TakeSample(rtpmeter.ReadPIDFile(*pidFile), "rtppeer")
			edges[k-1][1] = &smp
			win.close[k-1].Store(smp.At.UnixNano())
			fmt.Fprintf(os.Stderr, "rtppeer: window %d closed\n", k)
			continue
		}
		break
	}
	for _, s := range sides {
		_ = s.conn.Close()
	}
	close(stopStatus)
	wg.Wait()
	cancel()

	if *timeline != "" {
		if err := writeTimeline(*timeline, sides, edges[:win.n.Load()]); err != nil {
			fatal(err)
		}
	}
	names := strings.Split(*labels, ",")
	r := report(sides, edges[:win.n.Load()], names)
	r.print(os.Stdout)
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(r, "", "  ")
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			fatal(err)
		}
	}
}

func listen(addr string, rcvbuf int) (*net.UDPConn, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, err
	}
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap))
	if err != nil {
		return nil, err
	}
	if _, err := rtpmeter.SetupSocket(conn, rcvbuf); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return conn, nil
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "rtppeer:", err)
	os.Exit(1)
}

// writeStatus rewrites file twice a second: per side, the legs kefu sent
// on within the last second, those of them that carried stamped (relayed)
// frames, and all legs seen.
func writeStatus(file string, sides []*side, stop <-chan struct{}) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		var b []byte
		for _, s := range sides {
			b = fmt.Appendf(b, "%s_active %d\n%s_bridged %d\n%s_legs %d\n", s.name, s.active.Load(), s.name, s.stampedActive.Load(), s.name, s.total.Load())
		}
		tmp := file + ".tmp"
		if os.WriteFile(tmp, b, 0o644) == nil {
			_ = os.Rename(tmp, file)
		}
	}
}

// Percentiles of a distribution, in ms.
type Percentiles struct {
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P99  float64 `json:"p99_ms"`
	P999 float64 `json:"p99_9_ms"`
	Max  float64 `json:"max_ms"`
	N    uint64  `json:"n"`
}

func (h *hist) summary() Percentiles {
	p := Percentiles{P50: h.percentile(50), P90: h.percentile(90), P99: h.percentile(99), P999: h.percentile(99.9), Max: h.percentile(100), N: h.count()}
	return p
}

func (p Percentiles) String() string {
	if p.N == 0 {
		return "no samples"
	}
	return fmt.Sprintf("p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f ms (%d frames)", p.P50, p.P90, p.P99, p.P999, p.Max, p.N)
}

// Spread is the p50, p99 and max of one figure over legs, in ms.
type Spread struct {
	P50 float64 `json:"p50_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

func spread(xs []float64) Spread {
	if len(xs) == 0 {
		return Spread{}
	}
	slices.Sort(xs)
	at := func(p float64) float64 { return xs[min(max(int(float64(len(xs))*p/100+0.5)-1, 0), len(xs)-1)] }
	return Spread{P50: at(50), P99: at(99), Max: xs[len(xs)-1]}
}

func (s Spread) String() string {
	return fmt.Sprintf("p50 %.1f  p99 %.1f  max %.1f ms", s.P50, s.P99, s.Max)
}

// writeTimeline writes the run second by second, one line per side and
// second, seconds counted from the first packet; a window's edges are
// marked.
func writeTimeline(file string, sides []*side, edges [][2]*rtpmeter.Sample) error {
	var t0 int64
	for _, s := range sides {
		if len(s.seconds) > 0 && (t0 == 0 || s.seconds[0].at < t0) {
			t0 = s.seconds[0].at
		}
	}
	b := []byte("# s clock side packets skips max_gap_ms stamped underruns lost delay_p50_ms delay_p99_ms window\n")
	for _, s := range sides {
		for _, sec := range s.seconds {
			w := "-"
			for k, e := range edges {
				if e[0] != nil && sec.at >= e[0].At.Unix() && (e[1] == nil || sec.at <= e[1].At.Unix()) {
					w = strconv.Itoa(k + 1)
				}
			}
			b = fmt.Appendf(b, "%d %s %s %d %d %.1f %d %d %d %.0f %.0f %s\n", sec.at-t0, time.Unix(sec.at, 0).Format("15:04:05"), s.name, sec.packets, sec.skips,
				float64(sec.maxGap)/1e6, sec.stamped, sec.underruns, sec.lost, sec.delay.percentile(50), sec.delay.percentile(99), w)
		}
	}
	return os.WriteFile(file, b, 0o644)
}
