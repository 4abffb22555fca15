package main

import (
	"testing"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/g711"
)

// TestStampSurvivesTheRelay: a stamped frame decoded and encoded again in
// PCMU, as kefu's relay does (rtp.Session decodes, relay.Next encodes),
// carries the same stamp; every byte a stamp uses comes back unchanged.
func TestStampSurvivesTheRelay(t *testing.T) {
	f := stampFrame()
	want := stamp{Origin: 1<<31 | 0x1234, Seq: 0xdeadbeef, Sent: 1_796_000_000_123_456_789}
	want.put(f[:])
	var pcm [media.FrameSamples]int16
	var out [media.FrameBytes]byte
	if err := g711.Decode(media.CodecPCMU, pcm[:], f[:]); err != nil {
		t.Fatal(err)
	}
	if err := g711.Encode(media.CodecPCMU, out[:], pcm[:]); err != nil {
		t.Fatal(err)
	}
	got, ok := readStamp(out[:])
	if !ok || got != want {
		t.Fatalf("after the round trip: %+v, %v; want %+v", got, ok, want)
	}
	used := magic[:]
	for b := 0xF0; b <= 0xFF; b++ {
		used = append(used, byte(b))
	}
	for _, b := range used {
		pcm[0] = 12345 // the decode must set it
		_ = g711.Decode(media.CodecPCMU, pcm[:1], []byte{b})
		_ = g711.Encode(media.CodecPCMU, out[:1], pcm[:1])
		if out[0] != b {
			t.Errorf("PCMU %#x comes back as %#x", b, out[0])
		}
		if a := max(pcm[0], -pcm[0]); a > 128 {
			t.Errorf("PCMU %#x is amplitude %d: not near silence", b, a)
		}
	}
}

func TestReadStampRejects(t *testing.T) {
	f := stampFrame()
	if _, ok := readStamp(f[:]); ok {
		t.Error("silence read as a stamp")
	}
	stamp{Seq: 1}.put(f[:])
	f[10] = 0x12
	if _, ok := readStamp(f[:]); ok {
		t.Error("a damaged stamp was read")
	}
	if _, ok := readStamp(f[:8]); ok {
		t.Error("a short payload was read")
	}
}
