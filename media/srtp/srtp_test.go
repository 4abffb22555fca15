package srtp

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // HMAC-SHA1 is SRTP's authentication (RFC 3711 4.2.1)
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	pionrtp "github.com/pion/rtp"
)

// The reference below is written from RFC 3711 alone (AES-CM, its key
// derivation, HMAC-SHA1 over the packet and the ROC) and checked against
// the RFC's appendix B vectors; the Session's packets must equal it.

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ctr is AES in counter mode from iv (RFC 3711 4.1.1), n bytes of keystream.
func ctr(t testing.TB, key, iv []byte, n int) []byte {
	t.Helper()
	b, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, n)
	cipher.NewCTR(b, iv).XORKeyStream(out, out)
	return out
}

// derive is RFC 3711 4.3.1 with a key derivation rate of 0: n bytes for
// label from the master key and salt.
func derive(t testing.TB, masterKey, masterSalt []byte, label byte, n int) []byte {
	t.Helper()
	iv := make([]byte, 16)
	copy(iv, masterSalt)
	iv[7] ^= label
	return ctr(t, masterKey, iv, n)
}

func TestRFC3711AESCMKeystream(t *testing.T) { // appendix B.2
	key := unhex(t, "2B7E151628AED2A6ABF7158809CF4F3C")
	iv := unhex(t, "F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000")
	want := unhex(t, "E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB 41E95B3BB0A2E8DD477901E4FCA894C0")
	if got := ctr(t, key, iv, len(want)); !bytes.Equal(got, want) {
		t.Errorf("keystream %X\nwant      %X", got, want)
	}
}

var (
	rfcMasterKey  = "E1F97A0D3E018BE0D64FA32C06DE4139"
	rfcMasterSalt = "0EC675AD498AFEEBB6960B3AABE6"
)

func TestRFC3711KeyDerivation(t *testing.T) { // appendix B.3
	mk, ms := unhex(t, rfcMasterKey), unhex(t, rfcMasterSalt)
	for _, tc := range []struct {
		label byte
		want  string
	}{
		{0x00, "C61E7A93744F39EE10734AFE3FF7A087"},         // cipher key
		{0x02, "30CBBC08863D8C85D49DB34A9AE1"},             // cipher salt
		{0x01, "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"}, // auth key (the first 160 bits)
	} {
		want := unhex(t, tc.want)
		if got := derive(t, mk, ms, tc.label, len(want)); !bytes.Equal(got, want) {
			t.Errorf("label %d: %X, want %X", tc.label, got, want)
		}
	}
}

// refProtect protects an RTP packet (header of 12 bytes) with index
// roc·65536+seq by RFC 3711 alone.
func refProtect(t testing.TB, master Key, pkt []byte, roc uint32, tagLen int) []byte {
	t.Helper()
	key := derive(t, master[:16], master[16:], 0, 16)
	salt := derive(t, master[:16], master[16:], 2, 14)
	auth := derive(t, master[:16], master[16:], 1, 20)
	seq := binary.BigEndian.Uint16(pkt[2:])
	ssrc := binary.BigEndian.Uint32(pkt[8:])
	iv := make([]byte, 16)
	copy(iv, salt)
	var s [4]byte
	binary.BigEndian.PutUint32(s[:], ssrc)
	for i := range 4 {
		iv[4+i] ^= s[i]
	}
	index := uint64(roc)<<16 | uint64(seq)
	for i := range 6 {
		iv[8+i] ^= byte(index >> (8 * (5 - i)))
	}
	out := append([]byte(nil), pkt...)
	ks := ctr(t, key, iv, len(pkt)-12)
	for i := range ks {
		out[12+i] ^= ks[i]
	}
	m := hmac.New(sha1.New, auth)
	m.Write(out)
	var r [4]byte
	binary.BigEndian.PutUint32(r[:], roc)
	m.Write(r[:])
	return append(out, m.Sum(nil)[:tagLen]...)
}

func rtpPacket(t testing.TB, seq uint16, ssrc uint32, payload []byte) []byte {
	t.Helper()
	p := pionrtp.Packet{Header: pionrtp.Header{Version: 2, PayloadType: 0, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: ssrc}, Payload: payload}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func rfcKey(t testing.TB) Key {
	var k Key
	copy(k[:], unhex(t, rfcMasterKey+rfcMasterSalt))
	return k
}

// TestProtectMatchesRFC: what Session sends is RFC 3711's packet, for both
// suites, across a sequence-number rollover (the ROC in the tag).
func TestProtectMatchesRFC(t *testing.T) {
	k := rfcKey(t)
	payload := bytes.Repeat([]byte{0xd5}, 160)
	for _, suite := range []Suite{AESCM128SHA1_80, AESCM128SHA1_32} {
		s, err := NewSession(suite, k, k)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1500)
		roc := uint32(0)
		for _, seq := range []uint16{65534, 65535, 0, 1} {
			if seq == 0 {
				roc++
			}
			pkt := rtpPacket(t, seq, 0xcafebabe, payload)
			n := copy(buf, pkt)
			m, err := s.Protect(buf, n)
			if err != nil {
				t.Fatal(err)
			}
			want := refProtect(t, k, pkt, roc, suite.TagLen())
			if !bytes.Equal(buf[:m], want) {
				t.Fatalf("%v seq %d: protected\n%X\nwant\n%X", suite, seq, buf[:m], want)
			}
			// And the peer's side reads it back.
			got, err := s.Unprotect(buf[:m])
			if err != nil || !bytes.Equal(buf[:got], pkt) {
				t.Fatalf("%v seq %d: unprotect %v", suite, seq, err)
			}
		}
	}
}

func TestUnprotectDrops(t *testing.T) {
	local, _ := NewKey()
	remote, _ := NewKey()
	sender, err := NewSession(AESCM128SHA1_80, remote, local)
	if err != nil {
		t.Fatal(err)
	}
	kefu, err := NewSession(AESCM128SHA1_80, local, remote)
	if err != nil {
		t.Fatal(err)
	}
	protect := func(seq uint16) []byte {
		buf := make([]byte, 1500)
		n, err := sender.Protect(buf, copy(buf, rtpPacket(t, seq, 7, []byte("hello"))))
		if err != nil {
			t.Fatal(err)
		}
		return buf[:n]
	}
	p100 := protect(100)
	if _, err := kefu.Unprotect(bytes.Clone(p100)); err != nil {
		t.Fatal(err)
	}
	if _, err := kefu.Unprotect(bytes.Clone(p100)); !errors.Is(err, ErrReplay) {
		t.Errorf("the same packet again: %v, want ErrReplay", err)
	}
	// Far ahead, then one older than the window.
	if _, err := kefu.Unprotect(protect(100 + ReplayWindow + 50)); err != nil {
		t.Fatal(err)
	}
	if _, err := kefu.Unprotect(protect(101)); !errors.Is(err, ErrReplay) {
		t.Errorf("a packet behind the window: %v, want ErrReplay", err)
	}
	// Late but within the window: taken.
	if _, err := kefu.Unprotect(protect(100 + ReplayWindow)); err != nil {
		t.Errorf("a late packet within the window: %v", err)
	}
	// A flipped bit, in the payload or the tag.
	for _, i := range []int{13, -1} {
		p := protect(400)
		if i < 0 {
			i = len(p) - 1
		}
		p[i] ^= 1
		if _, err := kefu.Unprotect(p); !errors.Is(err, ErrAuth) {
			t.Errorf("bit %d flipped: %v, want ErrAuth", i, err)
		}
	}
	// The forged packet did not burn its sequence number.
	if _, err := kefu.Unprotect(protect(400)); err != nil {
		t.Errorf("the real packet after a forged one: %v", err)
	}
	// Wrong key.
	other, _ := NewKey()
	if err := kefu.SetRemote(other); err != nil {
		t.Fatal(err)
	}
	if _, err := kefu.Unprotect(protect(401)); !errors.Is(err, ErrAuth) {
		t.Errorf("wrong key: %v, want ErrAuth", err)
	}
	if _, err := kefu.Unprotect([]byte{0x80, 0, 1}); !errors.Is(err, ErrShort) {
		t.Errorf("3 bytes: %v, want ErrShort", err)
	}
}

func TestKeyNeverPrinted(t *testing.T) {
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{k.String(), k.GoString()} {
		if strings.Contains(s, k.Inline()) || !strings.Contains(s, "hidden") {
			t.Errorf("key printed as %q", s)
		}
	}
	back, err := ParseInline(k.Inline())
	if err != nil || back != k {
		t.Errorf("inline round trip: %v", err)
	}
	for _, bad := range []string{"", "c2hvcnQ=", strings.Repeat("A", 41) + "=", "!!!"} {
		if _, err := ParseInline(bad); err == nil {
			t.Errorf("ParseInline(%q) took it", bad)
		}
	}
}

func TestNoAllocations(t *testing.T) {
	if raceOn {
		t.Skip("allocation counts are not kept under the race detector (sync.Pool drops at random); run without -race")
	}
	k := rfcKey(t)
	s, err := NewSession(AESCM128SHA1_80, k, k)
	if err != nil {
		t.Fatal(err)
	}
	pkt := rtpPacket(t, 1, 9, make([]byte, 160))
	buf := make([]byte, 1500)
	seq := uint16(1)
	allocs := testing.AllocsPerRun(1000, func() {
		seq++
		binary.BigEndian.PutUint16(pkt[2:], seq)
		n, err := s.Protect(buf, copy(buf, pkt))
		if err == nil {
			_, err = s.Unprotect(buf[:n])
		}
		if err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per packet protected and unprotected, want 0", allocs)
	}
}

// BenchmarkProtect and BenchmarkUnprotect: one 20 ms PCMU packet.
func BenchmarkProtect(b *testing.B) {
	k := rfcKey(b)
	s, _ := NewSession(AESCM128SHA1_80, k, k)
	pkt := rtpPacket(b, 1, 9, make([]byte, 160))
	buf := make([]byte, 1500)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		binary.BigEndian.PutUint16(pkt[2:], uint16(i))
		if _, err := s.Protect(buf, copy(buf, pkt)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnprotect(b *testing.B) {
	k := rfcKey(b)
	tx, _ := NewSession(AESCM128SHA1_80, k, k)
	rx, _ := NewSession(AESCM128SHA1_80, k, k)
	const n = 4096
	pkts := make([][]byte, n)
	for i := range pkts {
		buf := make([]byte, 200)
		m, _ := tx.Protect(buf, copy(buf, rtpPacket(b, uint16(i), 9, make([]byte, 160))))
		pkts[i] = buf[:m]
	}
	work := make([]byte, 200)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%n == 0 && i > 0 {
			rx, _ = NewSession(AESCM128SHA1_80, k, k) // a fresh replay window for the next round
		}
		p := pkts[i%n]
		if _, err := rx.Unprotect(work[:copy(work, p)]); err != nil {
			b.Fatal(err)
		}
	}
}
