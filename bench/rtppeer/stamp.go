package main

import "github.com/kefu-hotline/kefu/media"

// A stamp rides in the audio of every frame rtppeer sends, so that the
// frame can be recognized and timed when kefu's relay delivers it to the
// other leg of the bridge. kefu decodes what it receives to linear PCM and
// encodes it again for the other leg, so the stamp is written only with
// PCMU bytes that survive that round trip unchanged: 0xF0..0xFF (the
// smallest positive amplitudes, 0..120 of 32767) carry a nibble each, and
// the magic uses the smallest negative ones (0x70..0x7E; 0x7F, negative
// zero, would come back as 0xFF). The rest of the frame is 0xFF (zero), so
// the audio is near silence to kefu's voice detector while queued.
//
// Layout: 4 magic bytes, then origin, sequence and send time as nibbles,
// most significant first.
type stamp struct {
	Origin uint32 // the sending talker (sideBit | counter)
	Seq    uint32 // the talker's frame counter, from 0
	Sent   int64  // Unix ns, taken just before the frame is written
}

var magic = [4]byte{0x7A, 0x71, 0x7C, 0x75}

const stampBytes = len(magic) + 2*(4+4+8)

// put writes st into the first stampBytes of p.
func (st stamp) put(p []byte) {
	copy(p, magic[:])
	o := len(magic)
	o = putNibbles(p, o, uint64(st.Origin), 8)
	o = putNibbles(p, o, uint64(st.Seq), 8)
	putNibbles(p, o, uint64(st.Sent), 16)
}

func putNibbles(p []byte, o int, v uint64, n int) int {
	for i := n - 1; i >= 0; i-- {
		p[o] = 0xF0 | byte(v>>(4*i))&0x0F
		o++
	}
	return o
}

// readStamp finds a stamp at the start of a PCMU payload.
func readStamp(p []byte) (stamp, bool) {
	if len(p) < stampBytes || [4]byte(p[:4]) != magic {
		return stamp{}, false
	}
	var v [3]uint64
	o := len(magic)
	for k, n := range [3]int{8, 8, 16} {
		for range n {
			b := p[o]
			if b < 0xF0 {
				return stamp{}, false
			}
			v[k] = v[k]<<4 | uint64(b&0x0F)
			o++
		}
	}
	return stamp{Origin: uint32(v[0]), Seq: uint32(v[1]), Sent: int64(v[2])}, true
}

// stampFrame returns a frame of PCMU silence for put to stamp.
func stampFrame() [media.FrameBytes]byte {
	var f [media.FrameBytes]byte
	for i := range f {
		f[i] = 0xFF
	}
	return f
}
