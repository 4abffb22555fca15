package sip

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows"
)

// TestVerifyTrunkPeer: a certificate kefu meets on a connection it opened
// is taken for a TLS trunk whose host it is valid for (the SNI name, or
// the trunk's IP when kefu dialled an address) and whose ca_file vouches
// for it, or that pins it; any other is refused, and so is a connection
// to no TLS trunk.
func TestVerifyTrunkPeer(t *testing.T) {
	dir := t.TempDir()
	certFile, _ := writeCert(t, dir, "trunk", time.Now().Add(-time.Hour)) // 127.0.0.1 and localhost
	otherFile, _ := writeCert(t, dir, "other", time.Now().Add(-time.Hour))
	leaf := readLeaf(t, certFile)
	sum := sha256.Sum256(leaf.Raw)
	pin := hex.EncodeToString(sum[:])
	wrongPin := hex.EncodeToString(make([]byte, sha256.Size))
	for _, tc := range []struct {
		name  string
		def   flows.TrunkDef
		host  string
		sni   string // the name kefu sent: "" when it dialled an IP
		valid bool
	}{
		{"IP, its CA", flows.TrunkDef{CAFile: certFile}, "127.0.0.1", "", true},
		{"IP, another CA", flows.TrunkDef{CAFile: otherFile}, "127.0.0.1", "", false},
		{"IP, the system's roots", flows.TrunkDef{}, "127.0.0.1", "", false},
		{"another IP, its CA", flows.TrunkDef{CAFile: certFile}, "127.0.0.2", "", false},
		{"IPv6 in brackets, not in the certificate", flows.TrunkDef{CAFile: certFile}, "[::1]", "", false},
		{"name, its CA", flows.TrunkDef{CAFile: certFile}, "localhost", "localhost", true},
		{"name, case", flows.TrunkDef{CAFile: certFile}, "LocalHost", "localhost", true},
		{"a name no trunk has", flows.TrunkDef{CAFile: certFile}, "localhost", "trunk.example", false},
		{"pinned", flows.TrunkDef{Pin: pin}, "127.0.0.1", "", true},
		{"pinned with colons, another CA", flows.TrunkDef{CAFile: otherFile, Pin: colons(pin)}, "127.0.0.1", "", true},
		{"pinned to another", flows.TrunkDef{CAFile: certFile, Pin: wrongPin}, "127.0.0.1", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.def.Name = "carrier"
			tt, err := newTrunkTLS(tc.def, tc.host)
			if err != nil {
				t.Fatal(err)
			}
			a := &Agent{}
			a.tlsTrunks.Store(&tlsTrunkSet{list: []*trunkTLS{tt}})
			err = a.verifyPeer(tls.ConnectionState{ServerName: tc.sni, PeerCertificates: []*x509.Certificate{leaf}})
			if (err == nil) != tc.valid {
				t.Errorf("verifyPeer: %v; want valid %v", err, tc.valid)
			}
		})
	}
	a := &Agent{}
	a.clientTLS() // no trunks yet
	if err := a.verifyPeer(tls.ConnectionState{PeerCertificates: []*x509.Certificate{leaf}}); !errors.Is(err, errNoTLSTrunk) {
		t.Errorf("a connection to no TLS trunk: %v", err)
	}
	if _, err := newTrunkTLS(flows.TrunkDef{CAFile: dir + "/none.pem"}, "127.0.0.1"); err == nil {
		t.Error("a missing ca_file taken")
	}
}

func readLeaf(t *testing.T, file string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// colons writes a fingerprint as openssl does: AB:CD:...
func colons(h string) string {
	var out []byte
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			out = append(out, ':')
		}
		out = append(out, h[i], h[i+1])
	}
	return string(out)
}
