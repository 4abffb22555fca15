package sip

import (
	"bytes"
	"fmt"
	"hash/fnv"
)

// RFC 2543 requests carry no From tag, and sipgo cannot key a transaction
// without one (it refuses such a request with 400), though RFC 3261 and
// RFC 4475 (3.4.1) ask that they be served. The filter gives such a
// request a tag derived from its Call-ID and From URI, so every request of
// the call gets the same one, and the transports take it off everything
// kefu sends, so the peer never sees it.

// rfc2543TagPrefix starts every tag kefu makes up; 16 hex digits follow.
const rfc2543TagPrefix = "kefu2543-"

var rfc2543Marker = []byte(";tag=" + rfc2543TagPrefix)

func rfc2543Tag(callID, fromURI string) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(callID))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(fromURI))
	return fmt.Sprintf("%s%016x", rfc2543TagPrefix, h.Sum64())
}

// stripRFC2543Tags takes the made-up tags out of an outgoing message.
func stripRFC2543Tags(b []byte) []byte {
	if !bytes.Contains(b, rfc2543Marker) {
		return b
	}
	out := make([]byte, 0, len(b))
	for {
		i := bytes.Index(b, rfc2543Marker)
		if i < 0 || len(b) < i+len(rfc2543Marker)+16 {
			return append(out, b...)
		}
		out = append(out, b[:i]...)
		b = b[i+len(rfc2543Marker)+16:]
	}
}
