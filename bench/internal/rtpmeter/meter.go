//go:build linux

// Package rtpmeter is what kefu's load-test tools (bench/rtpsink,
// bench/rtppeer) share: RTP header parsing and per-stream loss and gap
// accounting on kernel arrival timestamps, the receive socket's setup, and
// CPU samples of the measured processes and of the machine at the edges of
// a measurement window.
package rtpmeter

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// PIDs collects repeated -pid NAME=PID flags (flag.Value).
type PIDs []NamedPID

// NamedPID is a process whose CPU time is measured, and its name in reports.
type NamedPID struct {
	Name string
	PID  int
}

func (p *PIDs) String() string { return fmt.Sprint(*p) }

// Set adds one NAME=PID.
func (p *PIDs) Set(v string) error {
	name, num, ok := strings.Cut(v, "=")
	pid, err := strconv.Atoi(num)
	if !ok || name == "" || err != nil || pid <= 0 {
		return errors.New("want NAME=PID, e.g. kefu=1234")
	}
	*p = append(*p, NamedPID{name, pid})
	return nil
}

// ReadPIDFile reads NAME=PID lines; a missing file holds none.
func ReadPIDFile(name string) PIDs {
	var pids PIDs
	if name == "" {
		return nil
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil
	}
	for line := range strings.Lines(string(b)) {
		if line = strings.TrimSpace(line); line != "" {
			_ = pids.Set(line)
		}
	}
	return pids
}

// Sample is a snapshot of CPU counters at a window edge.
type Sample struct {
	At          time.Time
	CPU         map[string]float64 // CPU seconds by process name
	Busy, Steal float64            // the machine's, all cores summed
	Total       float64
	RcvbufErr   uint64
	InErr       uint64
}

// TakeSample reads the CPU time of pids, of the running process (named
// self) and of the machine, and the host's UDP error counters. Processes
// listed under one name are summed: a program that forks workers
// (Kamailio, PostgreSQL) is measured as all of them.
func TakeSample(pids PIDs, self string) Sample {
	s := Sample{At: time.Now(), CPU: map[string]float64{}}
	for _, p := range pids {
		if v, err := ProcCPU(p.PID); err == nil {
			s.CPU[p.Name] += v
		}
	}
	if v, err := ProcCPU(os.Getpid()); err == nil {
		s.CPU[self] = v
	}
	s.Busy, s.Steal, s.Total, _ = MachineCPU()
	s.RcvbufErr, s.InErr = UDPErrors()
	return s
}

// Usage is what happened between two samples.
type Usage struct {
	Seconds    float64            `json:"seconds"`
	CPUSeconds map[string]float64 `json:"cpu_seconds"`
	CoresBusy  float64            `json:"machine_cores_busy"`
	OthersBusy float64            `json:"other_cores_busy"` // machine minus the measured processes and steal
	Steal      float64            `json:"steal_cores"`      // taken by the hypervisor
	Cores      float64            `json:"machine_cores"`
	// Host-wide UDP drops (any socket, kefu's included).
	UDPRcvbufErr uint64 `json:"host_udp_rcvbuf_errors"`
	UDPInErr     uint64 `json:"host_udp_in_errors"`
}

// Between is the usage from s0 to s1.
func Between(s0, s1 Sample) Usage {
	u := Usage{Seconds: s1.At.Sub(s0.At).Seconds(), CPUSeconds: map[string]float64{}}
	for name, v1 := range s1.CPU {
		if v0, ok := s0.CPU[name]; ok {
			u.CPUSeconds[name] = v1 - v0
		}
	}
	if u.Seconds > 0 {
		u.CoresBusy = (s1.Busy - s0.Busy) / u.Seconds
		u.Cores = (s1.Total - s0.Total) / u.Seconds
		u.Steal = (s1.Steal - s0.Steal) / u.Seconds
		u.OthersBusy = u.CoresBusy - u.Steal
		for _, v := range u.CPUSeconds {
			u.OthersBusy -= v / u.Seconds
		}
		u.OthersBusy = max(u.OthersBusy, 0) // the counters tick at 10 ms
	}
	u.UDPRcvbufErr, u.UDPInErr = s1.RcvbufErr-s0.RcvbufErr, s1.InErr-s0.InErr
	return u
}
