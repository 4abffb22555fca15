package rtp

import (
	"testing"
	"time"
)

// teEv is one received telephone-event packet.
type teEv struct {
	ts  uint32
	key rune
	end bool
	dur uint16
}

// teFeed runs packets through a fresh dtmfState and returns the keys reported.
func teFeed(t *testing.T, pkts []teEv) string {
	t.Helper()
	var d dtmfState
	var got []rune
	for _, p := range pkts {
		pl, ok := DTMFPayload(p.key, p.end, p.dur, 10)
		if !ok {
			t.Fatalf("no payload for %q", p.key)
		}
		if k, ok := d.packet(p.ts, pl[:]); ok {
			got = append(got, k)
		}
	}
	return string(got)
}

// tePress returns the packets of a press of key at timestamp ts lasting
// frames 20 ms frames: updates every 50 ms, then three end packets.
func tePress(key rune, ts uint32, frames int) []teEv {
	var out []teEv
	for d := 160; d < frames*160; d += 400 {
		out = append(out, teEv{ts, key, false, uint16(d)})
	}
	for range 3 {
		out = append(out, teEv{ts, key, true, uint16(frames * 160)})
	}
	return out
}

// teCat concatenates packet runs.
func teCat(parts ...[]teEv) []teEv {
	var out []teEv
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestDTMFReceive(t *testing.T) {
	const ts = 1_000_000
	for _, tc := range []struct {
		name string
		pkts []teEv
		want string
	}{
		{"one press, triple end", tePress('5', ts, 10), "5"},
		{"first packet lost", tePress('5', ts, 10)[1:], "5"},
		{"only the end packets", tePress('5', ts, 10)[3:], "5"},
		{"only one end packet", tePress('5', ts, 10)[5:], "5"},
		{"same key again, new timestamp", teCat(tePress('5', ts, 10), tePress('5', ts+4000, 10)), "55"},
		{"same key again, its start lost", teCat(tePress('5', ts, 10), tePress('5', ts+4000, 10)[1:]), "55"},
		{"all keys", teCat(tePress('1', ts, 5), tePress('2', ts+2000, 5), tePress('3', ts+4000, 5), tePress('A', ts+6000, 5),
			tePress('4', ts+8000, 5), tePress('5', ts+10000, 5), tePress('6', ts+12000, 5), tePress('B', ts+14000, 5),
			tePress('7', ts+16000, 5), tePress('8', ts+18000, 5), tePress('9', ts+20000, 5), tePress('C', ts+22000, 5),
			tePress('*', ts+24000, 5), tePress('0', ts+26000, 5), tePress('#', ts+28000, 5), tePress('D', ts+30000, 5)),
			"123A456B789C*0#D"},
		{"late end packet of the previous press", teCat(tePress('1', ts, 10)[:3], tePress('2', ts+2000, 10)[:1],
			[]teEv{{ts, '1', true, 1600}}, tePress('2', ts+2000, 10)[1:]), "12"},
		{"another code on the same timestamp", teCat(tePress('1', ts, 4), tePress('2', ts, 4)), "12"},
		{"timestamp wraps", teCat(tePress('1', 0xffffff00, 4), tePress('1', 0x00000100, 4)), "11"},
		{"sender starts over far back", teCat(tePress('1', ts, 4), tePress('1', ts-1_000_000, 4)), "11"},
		{"long press in segments", teCat(
			[]teEv{{ts, '9', false, 160}, {ts, '9', false, 32000}, {ts, '9', false, 0xffff}},
			[]teEv{{ts + 0xffff, '9', false, 400}, {ts + 0xffff, '9', true, 8000}, {ts + 0xffff, '9', true, 8000}}), "9"},
		{"segment after an ended press is a new press", teCat(
			[]teEv{{ts, '9', true, 800}}, []teEv{{ts + 800, '9', false, 160}}), "99"},
	} {
		if got := teFeed(t, tc.pkts); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestDTMFReceiveIgnores(t *testing.T) {
	var d dtmfState
	for _, p := range [][]byte{nil, {5}, {5, 0, 0}, {16, 0x80, 0, 160}, {255, 0, 1, 0}} {
		if k, ok := d.packet(100, p); ok {
			t.Errorf("payload %v: key %c", p, k)
		}
	}
	if _, _, _, _, ok := ParseDTMF([]byte{16, 0, 0, 0}); ok {
		t.Error("ParseDTMF accepted event 16")
	}
	key, end, dur, vol, ok := ParseDTMF([]byte{11, 0x80 | 13, 0x03, 0x20})
	if !ok || key != '#' || !end || dur != 800 || vol != 13 {
		t.Errorf("ParseDTMF = %c %v %d %d %v", key, end, dur, vol, ok)
	}
}

func TestDTMFEvent(t *testing.T) {
	for _, tc := range []struct {
		dur     time.Duration
		updates int
		total   uint16
	}{
		{200 * time.Millisecond, 4, 1600},
		{40 * time.Millisecond, 1, 320},
		{20 * time.Millisecond, 0, 160},
		{0, 0, 160},
		{55 * time.Millisecond, 1, 480}, // rounded up to 60 ms
		{time.Minute, 164, 0xffff / 160 * 160},
	} {
		pkts, ok := DTMFEvent('#', tc.dur, DTMFVolume)
		if !ok || len(pkts) != tc.updates+3 {
			t.Fatalf("%v: %d packets, want %d updates and 3 ends", tc.dur, len(pkts), tc.updates)
		}
		var last uint16
		for i, p := range pkts {
			key, end, dur, vol, ok := ParseDTMF(p.Payload[:])
			if !ok || key != '#' || vol != DTMFVolume || end != (i >= tc.updates) || end != p.End {
				t.Fatalf("%v packet %d: %+v", tc.dur, i, p)
			}
			if p.Marker != (i == 0) {
				t.Errorf("%v packet %d: marker %v", tc.dur, i, p.Marker)
			}
			if dur < last || dur == 0 || (end && dur != tc.total) {
				t.Errorf("%v packet %d: duration %d after %d (total %d)", tc.dur, i, dur, last, tc.total)
			}
			last = dur
			if i > 0 && p.At <= pkts[i-1].At {
				t.Errorf("%v packet %d: at %v, not after %v", tc.dur, i, p.At, pkts[i-1].At)
			}
			if i > 0 && i <= tc.updates-1 && p.At-pkts[i-1].At != DTMFInterval {
				t.Errorf("%v packet %d: %v after the previous update, want %v", tc.dur, i, p.At-pkts[i-1].At, DTMFInterval)
			}
			if i > tc.updates && p.At-pkts[i-1].At != DTMFInterval {
				t.Errorf("%v end packet %d: %v after the previous one", tc.dur, i, p.At-pkts[i-1].At)
			}
		}
		// The receiver hears it once, whichever packet it sees first.
		for skip := range pkts {
			var d dtmfState
			n := 0
			for _, p := range pkts[skip:] {
				if k, ok := d.packet(7777, p.Payload[:]); ok && k == '#' {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%v from packet %d: heard %d times", tc.dur, skip, n)
			}
		}
	}
	if _, ok := DTMFEvent('x', time.Second, 10); ok {
		t.Error("DTMFEvent accepted x")
	}
	if MaxDTMFDuration > time.Duration(0xffff)*time.Second/8000 {
		t.Errorf("MaxDTMFDuration %v does not fit the duration field", MaxDTMFDuration)
	}
}
