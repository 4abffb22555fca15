package sip

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// FuzzInfoKeys: the keys of a SIP INFO body (application/dtmf-relay,
// application/dtmf). Beyond not panicking: another content type yields
// nothing; every key is one of the sixteen; there is no more than one per
// line naming a signal; and a key kefu writes (setKeyBody, what it passes
// on across a bridge) reads back as itself.
func FuzzInfoKeys(f *testing.F) {
	f.Add("application/dtmf-relay", "Signal=5\r\nDuration=160\r\n")
	f.Add("application/dtmf-relay", "signal= #\nduration=250\n")
	f.Add("Application/DTMF-Relay; charset=utf-8", "Signal=a\r\nSignal=12\r\nSignal=\r\n=5\r\nSignal=*")
	f.Add("application/dtmf", "5")
	f.Add("application/dtmf", "Signal=\x00")
	f.Add("application/sdp", "Signal=1")
	f.Add("", "Signal=1")
	f.Fuzz(func(t *testing.T, ct, body string) {
		req := sip.NewRequest(sip.INFO, sip.Uri{Scheme: "sip", Host: "127.0.0.1"})
		if ct != "" {
			req.AppendHeader(sip.NewHeader("Content-Type", ct))
		}
		req.SetBody([]byte(body))
		keys, ok := infoKeys(req)
		low := strings.ToLower(strings.TrimSpace(ct)) // as a header value is read
		if ok != (strings.HasPrefix(low, "application/dtmf-relay") || strings.HasPrefix(low, "application/dtmf")) {
			t.Fatalf("content type %q: ok = %v", ct, ok)
		}
		if !ok && len(keys) > 0 {
			t.Fatalf("keys %q from a body of type %q", string(keys), ct)
		}
		if n := strings.Count(strings.ToLower(body), "signal"); len(keys) > n {
			t.Fatalf("%d keys from %d signal lines: %q", len(keys), n, body)
		}
		for _, k := range keys {
			if !strings.ContainsRune("0123456789*#ABCD", k) {
				t.Fatalf("key %q from %q", k, body)
			}
			back := sip.NewRequest(sip.INFO, sip.Uri{Scheme: "sip", Host: "127.0.0.1"})
			setKeyBody(back, k)
			if got, ok := infoKeys(back); !ok || len(got) != 1 || got[0] != k {
				t.Fatalf("key %q written and read back as %q", k, string(got))
			}
		}
	})
}
