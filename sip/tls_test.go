package sip

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// writeCert makes a self-signed certificate for 127.0.0.1 named cn, valid
// from notBefore for a day, and writes it and its key as PEM files in dir.
func writeCert(t *testing.T, dir, cn string, notBefore time.Time) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: notBefore, NotAfter: notBefore.Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, cn+".crt"), filepath.Join(dir, cn+".key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestLoadCertRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	certA, keyA := writeCert(t, dir, "a", time.Now().Add(-time.Hour))
	_, keyB := writeCert(t, dir, "b", time.Now().Add(-time.Hour))
	oldCert, oldKey := writeCert(t, dir, "old", time.Now().Add(-48*time.Hour))
	for _, tc := range []struct{ name, cert, key, want string }{
		{"missing cert", filepath.Join(dir, "none.crt"), keyA, "no such file"},
		{"missing key", certA, filepath.Join(dir, "none.key"), "no such file"},
		{"no key given", certA, "", "both a certificate"},
		{"mismatched", certA, keyB, "does not match"},
		{"not PEM", keyA, keyA, "certificate"},
		{"expired", oldCert, oldKey, "not now"},
	} {
		if _, err := LoadCert(tc.cert, tc.key); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error with %q", tc.name, err, tc.want)
		}
	}
	if _, err := LoadCert(certA, keyA); err != nil {
		t.Fatal(err)
	}
}

// TestTLSStream: the stream limits and the conformance filter hold over
// TLS too; only modern TLS is spoken; a reloaded certificate is what new
// connections see, and a bad one is refused with the old one kept.
func TestTLSStream(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeCert(t, dir, "kefu", time.Now().Add(-time.Hour))
	cert, err := LoadCert(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := newStreamServerOn(t, tls.NewListener(ln, cert.ServerConfig()), "TLS", TCPLimits{MessageTime: 300 * time.Millisecond})
	dial := func(cfg *tls.Config) (*tls.Conn, error) {
		c, err := tls.Dial("tcp", s.l.Addr().String(), cfg)
		if err == nil {
			t.Cleanup(func() { _ = c.Close() })
		}
		return c, err
	}
	insecure := func() *tls.Config { return &tls.Config{InsecureSkipVerify: true} } //nolint:gosec // a test's self-signed certificate

	c, err := dial(insecure())
	if err != nil {
		t.Fatal(err)
	}
	if got := c.ConnectionState().PeerCertificates[0].Subject.CommonName; got != "kefu" {
		t.Errorf("certificate %q", got)
	}
	bad := strings.Replace(options("bad1"), "CSeq: 1 OPTIONS", "CSeq: one OPTIONS", 1)
	if _, err := io.WriteString(c, bad+options("good1")); err != nil {
		t.Fatal(err)
	}
	if res := readUntil(t, c, "\r\n\r\n"); !strings.HasPrefix(res, "SIP/2.0 400 Bad Request\r\n") {
		t.Errorf("want a 400 on the TLS connection, got %q", res)
	}
	s.waitPassed("Call-ID: good1\r\n")

	// Old protocol versions and weak suites are refused.
	if _, err := dial(&tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}); err == nil { //nolint:gosec // the refused version is the point
		t.Error("TLS 1.1 was accepted")
	}
	if _, err := dial(&tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12, //nolint:gosec // the refused suite is the point
		CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_128_GCM_SHA256}}); err == nil {
		t.Error("a CBC or RSA key exchange suite was accepted")
	}
	// Plain TCP on the TLS port: closed (a failed handshake).
	raw, err := net.Dial("tcp", s.l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raw.Close() })
	_, _ = io.WriteString(raw, options("plain"))
	waitClosed(t, raw)
	// A connection that never handshakes is closed after the slow limit.
	idle, err := net.Dial("tcp", s.l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idle.Close() })
	waitClosed(t, idle)

	// Reload: new connections see the new certificate; the open one goes on.
	next, nextKey := writeCert(t, dir, "kefu2", time.Now().Add(-time.Hour))
	if err := os.Rename(next, certFile); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(nextKey, keyFile); err != nil {
		t.Fatal(err)
	}
	if err := cert.Reload(); err != nil {
		t.Fatal(err)
	}
	c2, err := dial(insecure())
	if err != nil {
		t.Fatal(err)
	}
	if got := c2.ConnectionState().PeerCertificates[0].Subject.CommonName; got != "kefu2" {
		t.Errorf("after reload the certificate is %q", got)
	}
	if _, err := io.WriteString(c, options("still-on-old")); err != nil {
		t.Fatal(err)
	}
	s.waitPassed("Call-ID: still-on-old\r\n")
	// A bad file is refused and the certificate in use stays.
	if err := os.WriteFile(keyFile, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := cert.Reload(); err == nil {
		t.Error("a garbage key was taken")
	}
	c3, err := dial(insecure())
	if err != nil {
		t.Fatal(err)
	}
	if got := c3.ConnectionState().PeerCertificates[0].Subject.CommonName; got != "kefu2" {
		t.Errorf("after a refused reload the certificate is %q", got)
	}
}

func TestTLSListenAddr(t *testing.T) {
	for in, want := range map[string]string{
		"0.0.0.0": "0.0.0.0:5061", "127.0.0.1:5071": "127.0.0.1:5071", "::1": "[::1]:5061", "[::1]": "[::1]:5061", "[::1]:0": "[::1]:0",
	} {
		if got := TLSListenAddr(in); got != want {
			t.Errorf("TLSListenAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestContactOverTLS: requests that came over TLS get a Contact on the TLS
// port, sips: for a sips: request and ;transport=tls for a sip: one.
func TestContactOverTLS(t *testing.T) {
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	a := &Agent{udp: udp, tls: &streamListener{}, tlsPort: 5071}
	a.adv = addrOf(udp.LocalAddr())
	for _, tc := range []struct{ scheme, transport, want string }{
		{"sip", "TLS", "<sip:kefu@127.0.0.1:5071;transport=tls>"},
		{"sips", "TLS", "<sips:kefu@127.0.0.1:5071>"},
		{"sip", "TCP", ";transport=tcp>"},
	} {
		req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: tc.scheme, User: "hotline", Host: "127.0.0.1"})
		req.SetTransport(tc.transport)
		if got := a.contact(req).Value(); !strings.HasSuffix(got, tc.want) {
			t.Errorf("%s over %s: Contact %s, want …%s", tc.scheme, tc.transport, got, tc.want)
		}
	}
}
