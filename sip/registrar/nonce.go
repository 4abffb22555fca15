package registrar

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"sync"
	"time"
)

// A nonce is self-validating: base64url(issued || random || mac), where
// issued is the Unix time in nanoseconds (8 bytes, big-endian), random is
// 8 bytes, and mac is the first 16 bytes of HMAC-SHA-256 over both under
// the Store's key (drawn when the process starts for the memory store;
// drawn once and shared by every node for a shared one, so a REGISTER
// challenged by one node may answer to another) and drawn anew, for this
// process, whenever the table of used nonces overflows. Challenging a
// request stores nothing; nonces of an earlier process on a memory store
// fail the MAC (a correct response with one gets stale=true, so phones
// re-authenticate on their own after a restart). The used nonces are
// remembered per process: a shared store's bindings refuse a replayed
// REGISTER anyway (its CSeq is not above the binding's).
const (
	nonceRaw = 8 + 8 + 16
	nonceLen = (nonceRaw*8 + 5) / 6 // base64 without padding
)

// nonces issues and checks nonces and remembers, for each nonce that
// carried a correct response, the highest nc seen, so a replayed request
// is refused. Only authenticated requests add entries, and they go when
// the nonce expires; at most max are kept.
type nonces struct {
	ttl int64 // nanoseconds

	mu   sync.Mutex
	key  [32]byte // drawn anew when used is cleared: every earlier nonce goes stale
	used map[string]nonceUse
	max  int
}

type nonceUse struct {
	nc      uint32 // highest nc seen; noQOP for a response without qop
	expires int64
}

// maxSkew is how far ahead of this process's clock a nonce may have been
// issued: by another goroutine, or by another node.
const maxSkew = 2 * time.Second

// noQOP marks a nonce used by a response without qop (no nc): such a
// nonce is good for one request.
const noQOP = ^uint32(0)

func newNonces(ttl int64, max int, key [32]byte) *nonces {
	return &nonces{ttl: ttl, max: max, used: map[string]nonceUse{}, key: key}
}

// issue returns a fresh nonce stamped with now.
func (n *nonces) issue(now int64) string {
	var b [nonceRaw]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now))
	_, _ = rand.Read(b[8:16])
	var mac [32]byte
	n.mu.Lock()
	copy(b[16:], n.sign(b[:16], mac[:0]))
	n.mu.Unlock()
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// sign computes the MAC; n.mu is held.
func (n *nonces) sign(msg, dst []byte) []byte {
	m := hmac.New(sha256.New, n.key[:])
	m.Write(msg)
	return m.Sum(dst)[:16]
}

// nonceState is what check found.
type nonceState int

const (
	nonceOK      nonceState = iota
	nonceInvalid            // not ours (forged, or from an earlier process)
	nonceExpired
	nonceReplay // nc not above the last one, or a second use without qop
)

// check validates nonce at now and, when it is good, records nc (0: no
// qop) as used.
func (n *nonces) check(nonce string, nc uint32, now int64) nonceState {
	if len(nonce) != nonceLen {
		return nonceInvalid
	}
	b, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(b) != nonceRaw {
		return nonceInvalid
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	var mac [32]byte
	if !hmac.Equal(n.sign(b[:16], mac[:0]), b[16:]) {
		return nonceInvalid
	}
	issued := int64(binary.BigEndian.Uint64(b[:8]))
	if issued > now+int64(maxSkew) { // goroutines' clocks, or nodes'
		return nonceInvalid
	}
	exp := issued + n.ttl
	if now >= exp {
		return nonceExpired
	}
	if nc == 0 {
		nc = noQOP
	}
	u, seen := n.used[nonce]
	if seen && (u.nc == noQOP || nc == noQOP || nc <= u.nc) {
		return nonceReplay
	}
	if !seen && len(n.used) >= n.max {
		n.sweepLocked(now)
		if len(n.used) >= n.max {
			// Forget every use, and with a new key every nonce issued so
			// far, so none can be replayed.
			clear(n.used)
			_, _ = rand.Read(n.key[:])
			return nonceReplay
		}
	}
	n.used[nonce] = nonceUse{nc: nc, expires: exp}
	return nonceOK
}

// sweep forgets expired nonces.
func (n *nonces) sweep(now int64) {
	n.mu.Lock()
	n.sweepLocked(now)
	n.mu.Unlock()
}

func (n *nonces) sweepLocked(now int64) {
	for k, u := range n.used {
		if now >= u.expires {
			delete(n.used, k)
		}
	}
}

func (n *nonces) size() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.used)
}
