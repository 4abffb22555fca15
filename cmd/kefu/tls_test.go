package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testCert writes a self-signed certificate for 127.0.0.1 named cn, and
// its key, as PEM files named cn.crt and cn.key in dir.
func testCert(t *testing.T, dir, cn string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
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
	writeFile(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})))
	return certFile, keyFile
}

// tlsOptions sends an OPTIONS over a new TLS connection to addr and
// returns the certificate's name and the response's status line.
func tlsOptions(t *testing.T, addr string) (cn, status string) {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // the test's self-signed certificate
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	port := c.LocalAddr().(*net.TCPAddr).Port
	msg := "OPTIONS sip:hotline@" + addr + ";transport=tls SIP/2.0\r\n" +
		fmt.Sprintf("Via: SIP/2.0/TLS 127.0.0.1:%d;branch=z9hG4bK-tls%d\r\n", port, port) +
		"From: <sip:ping@127.0.0.1>;tag=t1\r\nTo: <sip:hotline@127.0.0.1>\r\n" +
		fmt.Sprintf("Call-ID: tls-%d\r\n", port) + "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no answer over TLS: %v", err)
	}
	line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
	return c.ConnectionState().PeerCertificates[0].Subject.CommonName, line
}

// TestIntegrationTLSCertReload: kefu answers over TLS with its certificate;
// after the files change and a SIGHUP, a new connection sees the new one;
// a bad new pair is refused, logged, and the one in use stays.
func TestIntegrationTLSCertReload(t *testing.T) {
	integration(t)
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile := testCert(t, dir, "first")
	tlsAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	a := startAgent(t, "-tls-listen", tlsAddr, "-tls-cert", certFile, "-tls-key", keyFile)
	if cn, status := tlsOptions(t, tlsAddr); cn != "first" || status != "SIP/2.0 200 OK" {
		t.Fatalf("certificate %q, answer %q", cn, status)
	}

	next, nextKey := testCert(t, t.TempDir(), "second")
	for from, to := range map[string]string{next: certFile, nextKey: keyFile} {
		if err := os.Rename(from, to); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if !a.waitLog(`"TLS certificate loaded"`, 10*time.Second) {
		t.Fatal("no certificate reload after SIGHUP")
	}
	if cn, status := tlsOptions(t, tlsAddr); cn != "second" || status != "SIP/2.0 200 OK" {
		t.Errorf("after SIGHUP: certificate %q, answer %q", cn, status)
	}

	writeFile(t, keyFile, "not a key")
	if err := a.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if !a.waitLog(`"TLS certificate reload refused; the one in use stays"`, 10*time.Second) {
		t.Fatal("a bad key was not refused")
	}
	if cn, _ := tlsOptions(t, tlsAddr); cn != "second" {
		t.Errorf("after a refused reload: certificate %q", cn)
	}
}

// TestIntegrationTLSBadCert: kefu refuses to start on a certificate it
// cannot use, and says why.
func TestIntegrationTLSBadCert(t *testing.T) {
	integration(t)
	t.Parallel()
	dir := t.TempDir()
	certFile, _ := testCert(t, dir, "one")
	_, otherKey := testCert(t, dir, "two")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-tls-listen", "127.0.0.1:0", "-tls-cert", certFile, "-tls-key", otherKey}, "does not match"},
		{[]string{"-tls-listen", "127.0.0.1:0", "-tls-cert", filepath.Join(dir, "missing.crt"), "-tls-key", otherKey}, "no such file"},
		{[]string{"-tls-listen", "127.0.0.1:0"}, "both a certificate (-tls-cert) and a key (-tls-key)"},
		{[]string{"-tls-cert", certFile}, "-tls-cert and -tls-key need -tls-listen"},
	} {
		args := append([]string{"run", "-listen", "127.0.0.1:0", "-http", "127.0.0.1:0", "-data", t.TempDir()}, tc.args...)
		out, err := exec.Command(kefuBinary(t), args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("%v: exit %v, want a refusal saying %q:\n%s", tc.args, err, tc.want, out)
		}
	}
}
