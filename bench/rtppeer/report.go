//go:build linux

package main

import (
	"fmt"
	"io"
	"slices"

	"github.com/kefu-hotline/kefu/bench/internal/rtpmeter"
)

// Report is the result of a run; bridge.sh reads its JSON form.
type Report struct {
	Sides   []SideReport   `json:"sides"`
	Windows []WindowReport `json:"windows"`
	Pairs   PairReport     `json:"pairs"`
}

// SideReport is what one side received over the whole run. On the agent
// side the stamped frames travelled caller → agent, on the caller side
// agent → caller.
type SideReport struct {
	Side        string  `json:"side"`
	Legs        int     `json:"legs"`
	Packets     uint64  `json:"packets"`
	CallMinutes float64 `json:"call_minutes"`
	// kefu's RTP as sent: sequence loss, late packets, frames its player
	// skipped, the largest inter-arrival gap of each leg.
	Lost       uint64 `json:"lost"`
	Late       uint64 `json:"late"`
	Skipped    uint64 `json:"player_skips"`
	MaxGap     Spread `json:"max_gap"`
	SockDrops  uint32 `json:"socket_drops"`
	NonRTP     uint64 `json:"non_rtp"`
	NoKernelTS uint64 `json:"packets_without_kernel_timestamp"`
	// Talkers started again because kefu sent nothing on their leg for
	// longer than -idle and then went on.
	Revived uint64 `json:"talkers_revived"`
	// The relay, from the stamped frames.
	Bridged    int         `json:"bridged_legs"`
	Stamped    uint64      `json:"stamped_frames"`
	Underruns  uint64      `json:"underruns"`
	LostFrames uint64      `json:"lost_frames"`
	Reordered  uint64      `json:"reordered_frames"`
	Foreign    uint64      `json:"foreign_frames"`
	Delay      Percentiles `json:"delay"`
	// Per bridged leg, its smallest delay (the relay's standing queue plus
	// the two legs' phase difference) and its largest.
	LegMinDelay Spread `json:"leg_min_delay"`
	LegMaxDelay Spread `json:"leg_max_delay"`
}

// WindowReport covers one measurement window.
type WindowReport struct {
	Label string `json:"label"`
	rtpmeter.Usage
	// CallMinutes are the callers' call-minutes in the window: what kefu
	// sent to the caller side (one stream per call, bridged or not).
	CallMinutes   float64            `json:"call_minutes"`
	CPUPerCallMin map[string]float64 `json:"cpu_seconds_per_call_minute"`
	Sides         []WindowSide       `json:"sides"`
}

// WindowSide is what one side received in a window.
type WindowSide struct {
	Side       string      `json:"side"`
	Legs       int         `json:"legs"`
	Packets    uint64      `json:"packets"`
	Stamped    uint64      `json:"stamped_frames"`
	Underruns  uint64      `json:"underruns"`
	LostFrames uint64      `json:"lost_frames"`
	Delay      Percentiles `json:"delay"`
}

// PairReport checks the bridges: each caller leg must hear the talker of
// the agent leg that hears the caller leg's talker.
type PairReport struct {
	Matched int `json:"matched"`
	Crossed int `json:"crossed"`
}

func report(sides []*side, edges [][2]*rtpmeter.Sample, labels []string) Report {
	var r Report
	for _, s := range sides {
		sr := SideReport{Side: s.name, Legs: len(s.legs), SockDrops: s.drops, NonRTP: s.nonRTP, NoKernelTS: s.noTS, Revived: s.revived, Delay: s.delay.summary()}
		var gaps, minD, maxD []float64
		var bytes uint64
		for _, l := range s.legs {
			sr.Packets += l.rx.Packets
			bytes += l.rx.PayloadBytes
			sr.Lost += l.rx.Lost()
			sr.Late += l.rx.Late
			sr.Skipped += l.rx.Skipped
			if l.rx.Packets > 1 {
				gaps = append(gaps, float64(l.rx.MaxGap)/1e6)
			}
			if l.stamped > 0 {
				sr.Bridged++
				minD = append(minD, float64(l.minDelay)/1e6)
				maxD = append(maxD, float64(l.maxDelay)/1e6)
			}
			sr.Stamped += l.stamped
			sr.Underruns += l.underruns
			sr.LostFrames += l.lost
			sr.Reordered += l.reordered
			sr.Foreign += l.foreign
		}
		sr.CallMinutes = float64(bytes) / 8000 / 60
		sr.MaxGap, sr.LegMinDelay, sr.LegMaxDelay = spread(gaps), spread(minD), spread(maxD)
		r.Sides = append(r.Sides, sr)
	}
	for k, e := range edges {
		if e[0] == nil || e[1] == nil {
			continue
		}
		wr := WindowReport{Usage: rtpmeter.Between(*e[0], *e[1]), CPUPerCallMin: map[string]float64{}}
		if k < len(labels) {
			wr.Label = labels[k]
		}
		for _, s := range sides {
			ws := &s.perWin[k]
			wr.Sides = append(wr.Sides, WindowSide{Side: s.name, Legs: ws.legs, Packets: ws.packets, Stamped: ws.stamped,
				Underruns: ws.underruns, LostFrames: ws.lost, Delay: ws.delay.summary()})
		}
		wr.CallMinutes = float64(sides[0].perWin[k].packets) * 0.020 / 60
		for name, v := range wr.CPUSeconds {
			if wr.CallMinutes > 0 {
				wr.CPUPerCallMin[name] = v / wr.CallMinutes
			}
		}
		r.Windows = append(r.Windows, wr)
	}
	r.Pairs = pairs(sides[0], sides[1])
	return r
}

// pairs matches caller legs to agent legs by the talkers they hear.
func pairs(callers, agents *side) PairReport {
	byTalker := map[uint32]*leg{}
	for _, l := range agents.legs {
		byTalker[l.talker] = l
	}
	var p PairReport
	for _, c := range callers.legs {
		if c.stamped == 0 {
			continue
		}
		if a := byTalker[c.heard]; a != nil && a.stamped > 0 && a.heard == c.talker {
			p.Matched++
		} else {
			p.Crossed++
		}
	}
	return p
}

func (r Report) print(w io.Writer) {
	for _, s := range r.Sides {
		dir := "agent → caller"
		if s.Side == "agent" {
			dir = "caller → agent"
		}
		fmt.Fprintf(w, "rtppeer %s side: %d legs, %d packets = %.1f call-minutes of kefu's RTP\n", s.Side, s.Legs, s.Packets, s.CallMinutes)
		fmt.Fprintf(w, "  kefu's RTP       lost %d, late %d, player skips %d; socket drops %d; largest gap per leg %s\n",
			s.Lost, s.Late, s.Skipped, s.SockDrops, s.MaxGap)
		if s.Revived > 0 {
			fmt.Fprintf(w, "  stalls           %d times kefu sent nothing on a leg for longer than -idle and went on\n", s.Revived)
		}
		fmt.Fprintf(w, "  relayed %-8s %d bridged legs, %d stamped frames, lost %d, underruns %d, reordered %d, foreign %d\n",
			dir, s.Bridged, s.Stamped, s.LostFrames, s.Underruns, s.Reordered, s.Foreign)
		fmt.Fprintf(w, "  relay delay      %s\n", s.Delay)
		fmt.Fprintf(w, "  per leg          smallest delay %s; largest %s\n", s.LegMinDelay, s.LegMaxDelay)
	}
	fmt.Fprintf(w, "bridges: %d caller legs hear their own agent, %d hear someone else\n", r.Pairs.Matched, r.Pairs.Crossed)
	for i, wr := range r.Windows {
		fmt.Fprintf(w, "window %d %s: %.1f s, %.1f call-minutes\n", i+1, wr.Label, wr.Seconds, wr.CallMinutes)
		for _, s := range wr.Sides {
			fmt.Fprintf(w, "  %-6s side      %d legs, %d packets, %d stamped, lost %d, underruns %d; delay %s\n",
				s.Side, s.Legs, s.Packets, s.Stamped, s.LostFrames, s.Underruns, s.Delay)
		}
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
