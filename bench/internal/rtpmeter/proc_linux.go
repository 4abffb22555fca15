package rtpmeter

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of /proc CPU times; it is 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// ProcCPU returns the user+system CPU seconds a process has used, all its
// threads included, from /proc/PID/stat (fields 14 and 15).
func ProcCPU(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields count from the
	// closing parenthesis.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command field", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state), so utime (14) is f[11] and stime (15) f[12].
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	u, err1 := strconv.ParseUint(f[11], 10, 64)
	s, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: bad utime/stime", pid)
	}
	return float64(u+s) / clockTicks, nil
}

// MachineCPU returns the busy, stolen and total CPU seconds of the whole
// machine from /proc/stat (all cores summed; busy excludes idle and iowait
// and includes steal, the time the hypervisor ran something else).
func MachineCPU() (busy, steal, total float64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0, 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var sum, idle, st uint64
	for i, s := range f[1:] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("/proc/stat: %w", err)
		}
		if i >= 8 { // guest and guest_nice are already in user and nice
			break
		}
		sum += v
		switch i {
		case 3, 4: // idle, iowait
			idle += v
		case 7:
			st = v
		}
	}
	return float64(sum-idle) / clockTicks, float64(st) / clockTicks, float64(sum) / clockTicks, nil
}

// UDPErrors returns the kernel's UDP receive-buffer and in-error counters
// for the whole host (/proc/net/snmp): drops at any socket, kefu's included.
func UDPErrors() (rcvbuf, inErrors uint64) {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return 0, 0
	}
	var names []string
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		for i := 1; i < len(f) && i < len(names); i++ {
			v, _ := strconv.ParseUint(f[i], 10, 64)
			switch names[i] {
			case "RcvbufErrors":
				rcvbuf = v
			case "InErrors":
				inErrors = v
			}
		}
		break
	}
	return rcvbuf, inErrors
}
