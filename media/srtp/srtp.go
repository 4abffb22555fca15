// Package srtp protects a call's RTP with SRTP (RFC 3711) keyed by SDES
// (RFC 4568): the AES_CM_128_HMAC_SHA1_80 and _32 suites, on pion/srtp.
// Packets are protected and unprotected in place, in the RTP session's
// reused buffers: nothing is allocated per packet.
//
// Keys are secrets: Key and Suite never print key material, and nothing
// here logs.
package srtp

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	pionrtp "github.com/pion/rtp"
	pionsrtp "github.com/pion/srtp/v3"
)

// Suite is an SRTP crypto suite of RFC 4568.
type Suite uint8

// The suites kefu speaks.
const (
	AESCM128SHA1_80 Suite = iota + 1 // AES_CM_128_HMAC_SHA1_80, the one every SDES peer has
	AESCM128SHA1_32                  // AES_CM_128_HMAC_SHA1_32
)

// ParseSuite reads a suite name as SDP writes it.
func ParseSuite(name string) (Suite, bool) {
	switch strings.ToUpper(name) {
	case "AES_CM_128_HMAC_SHA1_80":
		return AESCM128SHA1_80, true
	case "AES_CM_128_HMAC_SHA1_32":
		return AESCM128SHA1_32, true
	}
	return 0, false
}

// String returns the suite's SDP name.
func (s Suite) String() string {
	switch s {
	case AESCM128SHA1_80:
		return "AES_CM_128_HMAC_SHA1_80"
	case AESCM128SHA1_32:
		return "AES_CM_128_HMAC_SHA1_32"
	}
	return fmt.Sprintf("suite(%d)", uint8(s))
}

// TagLen is the authentication tag's length in bytes.
func (s Suite) TagLen() int {
	if s == AESCM128SHA1_32 {
		return 4
	}
	return 10
}

func (s Suite) profile() pionsrtp.ProtectionProfile {
	if s == AESCM128SHA1_32 {
		return pionsrtp.ProtectionProfileAes128CmHmacSha1_32
	}
	return pionsrtp.ProtectionProfileAes128CmHmacSha1_80
}

// KeyLen is the length of an SDES master key and salt: 16 and 14 bytes.
const KeyLen = 30

// Key is a master key followed by its master salt.
type Key [KeyLen]byte

// NewKey returns a fresh random key.
func NewKey() (Key, error) {
	var k Key
	if _, err := rand.Read(k[:]); err != nil {
		return Key{}, fmt.Errorf("srtp: key: %w", err)
	}
	return k, nil
}

// ParseInline reads the base64 key-salt of an SDES "inline:" key
// parameter (without the lifetime and MKI that may follow it).
func ParseInline(s string) (Key, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(s)
	}
	if err != nil || len(b) != KeyLen {
		return Key{}, errors.New("srtp: inline key: want 30 bytes of base64")
	}
	return Key(b), nil
}

// Inline is the key as an SDES "inline:" parameter writes it. It is the
// secret itself: write it into SDP only.
func (k Key) Inline() string { return base64.StdEncoding.EncodeToString(k[:]) }

// String hides the key.
func (k Key) String() string { return "srtp.Key(hidden)" }

// GoString hides the key from %#v too.
func (k Key) GoString() string { return k.String() }

// Errors of Unprotect: the packet is dropped.
var (
	// ErrAuth: the authentication tag is wrong (a forged or corrupted
	// packet, or the wrong key).
	ErrAuth = errors.New("srtp: authentication failed")
	// ErrReplay: the packet was seen already, or is older than the
	// replay window.
	ErrReplay = errors.New("srtp: replayed packet")
	// ErrShort: not an SRTP packet.
	ErrShort = errors.New("srtp: not an SRTP packet")
)

// ReplayWindow is how many packets behind the newest one a packet may
// arrive and still be taken (RFC 3711 3.3.2 asks for at least 64).
const ReplayWindow = 128

// Session holds one media leg's SRTP contexts: ours, for what kefu sends,
// and the peer's, for what it receives. Protect is for the sending
// goroutine, Unprotect for the receiving one; SetRemote may come from
// any.
type Session struct {
	suite Suite
	tx    *pionsrtp.Context
	rx    atomic.Pointer[pionsrtp.Context]
	txHdr pionrtp.Header
	rxHdr pionrtp.Header
}

// NewSession keys a session: local protects what kefu sends, remote is
// the peer's key for what it sends.
func NewSession(suite Suite, local, remote Key) (*Session, error) {
	s := &Session{suite: suite}
	tx, err := newContext(suite, local)
	if err != nil {
		return nil, err
	}
	s.tx = tx
	if err := s.SetRemote(remote); err != nil {
		return nil, err
	}
	return s, nil
}

func newContext(suite Suite, k Key) (*pionsrtp.Context, error) {
	if suite != AESCM128SHA1_80 && suite != AESCM128SHA1_32 {
		return nil, fmt.Errorf("srtp: unknown suite %v", suite)
	}
	c, err := pionsrtp.CreateContext(k[:16], k[16:], suite.profile(), pionsrtp.SRTPReplayProtection(ReplayWindow))
	if err != nil {
		return nil, fmt.Errorf("srtp: %w", err)
	}
	return c, nil
}

// SetRemote rekeys what the peer sends (a re-INVITE with a new key).
func (s *Session) SetRemote(remote Key) error {
	rx, err := newContext(s.suite, remote)
	if err != nil {
		return err
	}
	s.rx.Store(rx)
	return nil
}

// Suite returns the session's suite.
func (s *Session) Suite() Suite { return s.suite }

// Overhead is how many bytes Protect adds to a packet.
func (s *Session) Overhead() int { return s.suite.TagLen() }

// Protect encrypts the RTP packet in buf[:n] in place and appends its
// authentication tag; buf must have Overhead bytes of room after n. It
// returns the protected length.
func (s *Session) Protect(buf []byte, n int) (int, error) {
	if n+s.Overhead() > len(buf) {
		return 0, errors.New("srtp: no room for the authentication tag")
	}
	out, err := s.tx.EncryptRTP(buf[:0:len(buf)], buf[:n], &s.txHdr)
	if err != nil {
		return 0, fmt.Errorf("srtp: protect: %w", err)
	}
	return len(out), nil
}

// Unprotect authenticates and decrypts the SRTP packet pkt in place and
// returns the RTP packet's length; a packet that fails (ErrAuth,
// ErrReplay, ErrShort) is to be dropped.
func (s *Session) Unprotect(pkt []byte) (int, error) {
	out, err := s.rx.Load().DecryptRTP(pkt[:0:len(pkt)], pkt, &s.rxHdr)
	switch {
	case err == nil:
		return len(out), nil
	case errors.Is(err, pionsrtp.ErrFailedToVerifyAuthTag):
		return 0, ErrAuth
	case strings.Contains(err.Error(), "duplicated"):
		return 0, ErrReplay
	}
	return 0, ErrShort
}
