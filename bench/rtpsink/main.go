//go:build linux

// Command rtpsink is the receiving end of kefu's load test (bench/load.sh):
// every simulated caller's SDP points at its one UDP port, so it receives
// the RTP of all calls and keeps, per stream (SSRC), the packet count,
// sequence loss, timestamp jumps (ticks the sender skipped) and the largest
// gap between arrivals, timed by the kernel (SO_TIMESTAMPNS) so that the
// sink's own scheduling delays do not count against kefu.
//
// With -echo it sends each packet back to where it came from, so kefu's
// receive path (demux, G.711 decode, VAD) works as hard as its send path.
//
// A measurement window is opened with SIGUSR1 and closed with SIGUSR2; at
// both moments rtpsink reads the CPU time of the processes named with -pid
// (from /proc/PID/stat), so CPU per call-minute is CPU seconds over the
// call-minutes of RTP that arrived inside the window. SIGTERM or SIGINT
// ends the run and prints the report (and writes it as JSON with -json).
//
// Usage:
//
//	rtpsink -listen 127.0.0.1:40000 [-echo] [-pid kefu=PID ...] [-pidfile FILE] [-status FILE] [-json FILE]
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/kefu-hotline/kefu/bench/internal/rtpmeter"
)

// The histogram of all inter-arrival gaps: 0.1 ms buckets up to 1 s.
const (
	gapBucketNs = 100_000
	gapBuckets  = 10_001
)

// sink owns the socket and, on its read goroutine, every stream.
type sink struct {
	conn    *net.UDPConn
	echo    bool
	status  string
	streams map[uint32]*rtpmeter.Stream
	gapLog  *bufio.Writer // gaps over gapMin: arrival ns, SSRC, gap ms
	gapMin  int64

	win0, win1 atomic.Int64 // window bounds, Unix ns; 0 = not set

	nonRTP     uint64
	echoErrs   uint64
	drops      uint32 // SO_RXQ_OVFL: datagrams the sink's socket dropped
	noKernelTS uint64
	lagMs      [1001]uint64 // read time - kernel arrival, ms buckets (last: ≥1 s)
	gapHist    [gapBuckets]uint64
	lastStatus int64
}

// run reads until the socket is closed.
func (s *sink) run() {
	buf := make([]byte, 2048)
	oob := make([]byte, 256)
	for {
		n, oobn, _, from, err := s.conn.ReadMsgUDPAddrPort(buf, oob)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		now := time.Now().UnixNano()
		ts, drops, ok := rtpmeter.ParseControl(oob[:oobn])
		if ok {
			s.drops = drops
		}
		if ts == 0 {
			ts = now
			s.noKernelTS++
		}
		s.lagMs[min(max(now-ts, 0)/1e6, 1000)]++
		if s.echo {
			if _, err := s.conn.WriteToUDPAddrPort(buf[:n], from); err != nil {
				s.echoErrs++
			}
		}
		h, ok := rtpmeter.ParseRTP(buf[:n])
		if !ok {
			s.nonRTP++
			continue
		}
		st := s.streams[h.SSRC]
		if st == nil {
			st = &rtpmeter.Stream{SSRC: h.SSRC, Src: from}
			s.streams[h.SSRC] = st
		}
		if gap := st.Packet(h, ts, s.win0.Load(), s.win1.Load()); gap >= 0 {
			s.gapHist[min(gap/gapBucketNs, gapBuckets-1)]++
			if gap > s.gapMin && s.gapLog != nil {
				fmt.Fprintf(s.gapLog, "%d %08x %.1f\n", ts, h.SSRC, float64(gap)/1e6)
			}
		}
		if s.status != "" && now-s.lastStatus > 1e9 {
			s.lastStatus = now
			s.writeStatus(now)
		}
	}
}

// writeStatus writes the number of streams that sent within the last second
// and the total packets, for load.sh to wait on.
func (s *sink) writeStatus(now int64) {
	active, pkts := 0, uint64(0)
	for _, st := range s.streams {
		pkts += st.Packets
		if now-st.Last < 1e9 {
			active++
		}
	}
	tmp := s.status + ".tmp"
	_ = os.WriteFile(tmp, fmt.Appendf(nil, "active %d\nstreams %d\npackets %d\n", active, len(s.streams), pkts), 0o644)
	_ = os.Rename(tmp, s.status)
}

// Report is the result of a run; load.sh reads its JSON form.
type Report struct {
	Streams        int     `json:"streams"`
	Packets        uint64  `json:"packets"`
	CallMinutes    float64 `json:"call_minutes"`
	Lost           uint64  `json:"lost"`
	LossPct        float64 `json:"loss_pct"`
	Late           uint64  `json:"late"`
	SkippedFrames  uint64  `json:"skipped_frames"`
	StreamsLossy   int     `json:"streams_with_loss"`
	SinkDrops      uint32  `json:"sink_socket_drops"`
	NonRTP         uint64  `json:"non_rtp"`
	EchoErrors     uint64  `json:"echo_errors"`
	GapsOver40ms   uint64  `json:"gaps_over_40ms"`
	MaxGapP50Ms    float64 `json:"max_gap_p50_ms"`
	MaxGapP99Ms    float64 `json:"max_gap_p99_ms"`
	MaxGapMaxMs    float64 `json:"max_gap_max_ms"`
	WinMaxGapP50Ms float64 `json:"window_max_gap_p50_ms"`
	WinMaxGapP99Ms float64 `json:"window_max_gap_p99_ms"`
	WinMaxGapMaxMs float64 `json:"window_max_gap_max_ms"`
	SinkLagP99Ms   float64 `json:"sink_lag_p99_ms"`
	SinkLagMaxMs   float64 `json:"sink_lag_max_ms"`
	NoKernelTS     uint64  `json:"packets_without_kernel_timestamp"`
	// Percentiles of every inter-arrival gap of every stream (0.1 ms
	// resolution).
	GapP50Ms  float64 `json:"gap_p50_ms"`
	GapP99Ms  float64 `json:"gap_p99_ms"`
	GapP999Ms float64 `json:"gap_p999_ms"`

	Window *WindowReport `json:"window,omitempty"`
}

// WindowReport covers the measurement window between SIGUSR1 and SIGUSR2.
type WindowReport struct {
	rtpmeter.Usage
	Packets       uint64             `json:"packets"`
	Streams       int                `json:"streams"`
	CallMinutes   float64            `json:"call_minutes"`
	CPUPerCallMin map[string]float64 `json:"cpu_seconds_per_call_minute"`
}

// percentile returns the p-th percentile (0..100) of sorted xs, nearest rank.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	i := int(float64(len(xs))*p/100+0.5) - 1
	return xs[min(max(i, 0), len(xs)-1)]
}

// histPercentile returns the bucket index (its upper edge) below which p
// percent of the counts fall.
func histPercentile(h []uint64, p float64) float64 {
	var total uint64
	for _, n := range h {
		total += n
	}
	if total == 0 {
		return 0
	}
	var acc uint64
	for i, n := range h {
		acc += n
		if float64(acc) >= float64(total)*p/100 {
			return float64(i + 1)
		}
	}
	return float64(len(h))
}

func (s *sink) report(w0, w1 *rtpmeter.Sample) Report {
	var r Report
	var gaps, winGaps []float64
	var bytes uint64
	for _, st := range s.streams {
		r.Streams++
		r.Packets += st.Packets
		bytes += st.PayloadBytes
		lost := st.Lost()
		r.Lost += lost
		if lost > 0 {
			r.StreamsLossy++
		}
		r.Late += st.Late
		r.SkippedFrames += st.Skipped
		r.GapsOver40ms += st.GapsOver
		if st.Packets > 1 {
			gaps = append(gaps, float64(st.MaxGap)/1e6)
		}
		if st.WinPkts > 1 {
			winGaps = append(winGaps, float64(st.MaxGapWin)/1e6)
		}
	}
	slices.Sort(gaps)
	slices.Sort(winGaps)
	r.CallMinutes = float64(bytes) / 8000 / 60
	if r.Packets+r.Lost > 0 {
		r.LossPct = 100 * float64(r.Lost) / float64(r.Packets+r.Lost)
	}
	r.SinkDrops, r.NonRTP, r.EchoErrors, r.NoKernelTS = s.drops, s.nonRTP, s.echoErrs, s.noKernelTS
	r.MaxGapP50Ms, r.MaxGapP99Ms, r.MaxGapMaxMs = percentile(gaps, 50), percentile(gaps, 99), percentile(gaps, 100)
	r.WinMaxGapP50Ms, r.WinMaxGapP99Ms, r.WinMaxGapMaxMs = percentile(winGaps, 50), percentile(winGaps, 99), percentile(winGaps, 100)
	r.GapP50Ms = histPercentile(s.gapHist[:], 50) * gapBucketNs / 1e6
	r.GapP99Ms = histPercentile(s.gapHist[:], 99) * gapBucketNs / 1e6
	r.GapP999Ms = histPercentile(s.gapHist[:], 99.9) * gapBucketNs / 1e6
	var total, acc uint64
	for _, n := range s.lagMs {
		total += n
	}
	for ms, n := range s.lagMs {
		if n > 0 {
			r.SinkLagMaxMs = float64(ms)
		}
		acc += n
		if r.SinkLagP99Ms == 0 && total > 0 && acc*100 >= total*99 {
			r.SinkLagP99Ms = float64(ms)
		}
	}
	if w0 != nil && w1 != nil {
		wr := &WindowReport{Usage: rtpmeter.Between(*w0, *w1), CPUPerCallMin: map[string]float64{}}
		var wb uint64
		for _, st := range s.streams {
			if st.WinPkts > 0 {
				wr.Streams++
				wr.Packets += st.WinPkts
				wb += st.WinBytes
			}
		}
		wr.CallMinutes = float64(wb) / 8000 / 60
		for name, v := range wr.CPUSeconds {
			if wr.CallMinutes > 0 {
				wr.CPUPerCallMin[name] = v / wr.CallMinutes
			}
		}
		r.Window = wr
	}
	return r
}

func (r Report) print(w io.Writer) {
	fmt.Fprintf(w, "rtpsink: %d streams, %d packets = %.1f call-minutes of RTP\n", r.Streams, r.Packets, r.CallMinutes)
	fmt.Fprintf(w, "  loss             %d packets (%.4f%%) in %d streams; late/reordered %d; sink socket drops %d\n",
		r.Lost, r.LossPct, r.StreamsLossy, r.Late, r.SinkDrops)
	fmt.Fprintf(w, "  sender skips     %d frames (timestamp jumps without a sequence gap)\n", r.SkippedFrames)
	fmt.Fprintf(w, "  largest gap      per stream, whole call: p50 %.1f ms  p99 %.1f ms  max %.1f ms; gaps > 40 ms: %d\n",
		r.MaxGapP50Ms, r.MaxGapP99Ms, r.MaxGapMaxMs, r.GapsOver40ms)
	fmt.Fprintf(w, "  all gaps         p50 %.1f ms  p99 %.1f ms  p99.9 %.1f ms\n", r.GapP50Ms, r.GapP99Ms, r.GapP999Ms)
	if r.Window != nil {
		fmt.Fprintf(w, "  largest gap      per stream, window only: p50 %.1f ms  p99 %.1f ms  max %.1f ms\n",
			r.WinMaxGapP50Ms, r.WinMaxGapP99Ms, r.WinMaxGapMaxMs)
	}
	fmt.Fprintf(w, "  sink read lag    p99 %.0f ms  max %.0f ms (kernel arrival to read; does not enter the gaps)\n", r.SinkLagP99Ms, r.SinkLagMaxMs)
	if wr := r.Window; wr != nil {
		fmt.Fprintf(w, "  window           %.1f s, %d streams, %d packets = %.1f call-minutes\n", wr.Seconds, wr.Streams, wr.Packets, wr.CallMinutes)
		names := make([]string, 0, len(wr.CPUSeconds))
		for n := range wr.CPUSeconds {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			fmt.Fprintf(w, "  cpu %-12s %.2f s = %.4f s per call-minute (%.0f%% of one core)\n",
				n, wr.CPUSeconds[n], wr.CPUPerCallMin[n], 100*wr.CPUSeconds[n]/wr.Seconds)
		}
		fmt.Fprintf(w, "  machine          %.2f of %.0f cores busy: %.2f by other programs, %.2f stolen by the hypervisor; host UDP rcvbuf errors %d, in errors %d\n",
			wr.CoresBusy, wr.Cores, wr.OthersBusy, wr.Steal, wr.UDPRcvbufErr, wr.UDPInErr)
	}
}

func main() {
	listen := flag.String("listen", "127.0.0.1:40000", "UDP address to receive RTP on")
	echo := flag.Bool("echo", false, "send every packet back to its source")
	rcvbuf := flag.Int("rcvbuf", 32<<20, "socket receive buffer in bytes")
	status := flag.String("status", "", "file to rewrite every second with the active stream count")
	jsonOut := flag.String("json", "", "file to write the report to as JSON")
	var pids rtpmeter.PIDs
	flag.Var(&pids, "pid", "NAME=PID of a process whose CPU time to measure in the window (repeatable)")
	gapLog := flag.String("gaplog", "", "file to list every gap over -gapmin in (arrival time ns, SSRC, gap ms)")
	gapMin := flag.Duration("gapmin", 40*time.Millisecond, "smallest gap -gaplog lists")
	pidFile := flag.String("pidfile", "", "file of NAME=PID lines, read at each window edge, for processes started after rtpsink")
	flag.Parse()

	ap, err := netip.ParseAddrPort(*listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rtpsink: -listen:", err)
		os.Exit(2)
	}
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap))
	if err != nil {
		fmt.Fprintln(os.Stderr, "rtpsink:", err)
		os.Exit(1)
	}
	got, err := rtpmeter.SetupSocket(conn, *rcvbuf)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rtpsink:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "rtpsink: listening on %s (receive buffer %d bytes, echo %v)\n", conn.LocalAddr(), got, *echo)

	s := &sink{conn: conn, echo: *echo, status: *status, streams: map[uint32]*rtpmeter.Stream{}, gapMin: int64(*gapMin)}
	if *gapLog != "" {
		f, err := os.Create(*gapLog)
		if err != nil {
			fmt.Fprintln(os.Stderr, "rtpsink:", err)
			os.Exit(1)
		}
		defer f.Close()
		s.gapLog = bufio.NewWriter(f)
		defer s.gapLog.Flush()
	}
	done := make(chan struct{})
	go func() { s.run(); close(done) }()

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGTERM, os.Interrupt)
	var w0, w1 *rtpmeter.Sample
	for sig := range sigs {
		if sig == syscall.SIGUSR1 {
			smp := rtpmeter.TakeSample(append(slices.Clip(pids), rtpmeter.ReadPIDFile(*pidFile)...), "rtpsink")
			w0, w1 = &smp, nil
			s.win1.Store(0)
			s.win0.Store(smp.At.UnixNano())
			fmt.Fprintln(os.Stderr, "rtpsink: window opened")
			continue
		}
		if sig == syscall.SIGUSR2 {
			if w0 != nil {
				smp := rtpmeter.TakeSample(append(slices.Clip(pids), rtpmeter.ReadPIDFile(*pidFile)...), "rtpsink")
				w1 = &smp
				s.win1.Store(smp.At.UnixNano())
				fmt.Fprintln(os.Stderr, "rtpsink: window closed")
			}
			continue
		}
		break
	}
	_ = conn.Close()
	<-done
	if w0 != nil && w1 == nil {
		fmt.Fprintln(os.Stderr, "rtpsink: window never closed; no CPU figures")
		w0 = nil
	}
	r := s.report(w0, w1)
	r.print(os.Stdout)
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(r, "", "  ")
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "rtpsink:", err)
			os.Exit(1)
		}
	}
}
