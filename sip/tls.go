package sip

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// SIP over TLS (RFC 3261 26.2, RFC 5630). The TLS listener sits under the
// same stream listener as TCP (tcp.go), so TLS connections get the same
// framing, conformance filter, size, slow-sender, idle and per-source
// limits; the handshake must be done within the time a new connection has
// for its first message.

// DefaultTLSPort is the port of -tls-listen given as a host only.
const DefaultTLSPort = 5061

// Cert is the certificate kefu presents to TLS peers. Reload reads the
// files again (SIGHUP): new connections get the new certificate, those
// open keep theirs, and a bad new pair is refused with the old one kept.
type Cert struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

// LoadCert reads a PEM certificate (chain) and its private key. It refuses
// files that are missing or unreadable, a key that does not match, and a
// certificate that is not valid now.
func LoadCert(certFile, keyFile string) (*Cert, error) {
	c := &Cert{certFile: certFile, keyFile: keyFile}
	if err := c.Reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// Reload reads the certificate files again; on an error the certificate
// in use stays.
func (c *Cert) Reload() error {
	if c.certFile == "" || c.keyFile == "" {
		return errors.New("tls: both a certificate (-tls-cert) and a key (-tls-key) are needed")
	}
	for _, f := range []string{c.certFile, c.keyFile} {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("tls: %w", err)
		}
	}
	pair, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("tls: certificate %s with key %s: %w", c.certFile, c.keyFile, err)
	}
	leaf := pair.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return fmt.Errorf("tls: certificate %s: %w", c.certFile, err)
		}
	}
	now := time.Now()
	if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		return fmt.Errorf("tls: certificate %s is valid from %s to %s, not now", c.certFile,
			leaf.NotBefore.Format(time.RFC3339), leaf.NotAfter.Format(time.RFC3339))
	}
	c.cur.Store(&pair)
	return nil
}

// Leaf returns the certificate in use.
func (c *Cert) Leaf() *x509.Certificate {
	if p := c.cur.Load(); p != nil {
		return p.Leaf
	}
	return nil
}

// ServerConfig is the TLS configuration of kefu's listener: TLS 1.2 with
// ECDHE and AEAD ciphers only, or TLS 1.3 (whose suites are all AEAD).
func (c *Cert) ServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return c.cur.Load(), nil },
	}
}

// TLSListenAddr completes a -tls-listen value: a host alone gets the
// default port 5061.
func TLSListenAddr(s string) string {
	if _, _, err := net.SplitHostPort(s); err == nil {
		return s
	}
	return net.JoinHostPort(strings.Trim(s, "[]"), fmt.Sprint(DefaultTLSPort))
}

// listenTLS binds the TLS listener under the stream limits.
func (a *Agent) listenTLS() error {
	if a.cfg.TLSListen == "" {
		return nil
	}
	if a.cfg.TLSCert == nil {
		return errors.New("sip: TLSListen without TLSCert")
	}
	l, err := net.Listen("tcp", TLSListenAddr(a.cfg.TLSListen))
	if err != nil {
		return fmt.Errorf("sip: listen tls: %w", err)
	}
	a.tlsPort = l.Addr().(*net.TCPAddr).Port
	a.tls = newStreamListener(tls.NewListener(l, a.cfg.TLSCert.ServerConfig()), "TLS", a.filter, a.cfg.TCP, a.connInUse)
	return nil
}

// TLSAddr returns the bound SIP TLS address, nil without TLS.
func (a *Agent) TLSAddr() net.Addr {
	if a.tls == nil {
		return nil
	}
	return a.tls.Addr()
}

// overTLS reports whether req came (or goes) over TLS.
func overTLS(req *sip.Request) bool { return strings.EqualFold(req.Transport(), "TLS") }

// addVia is sipgo's ClientRequestAddVia with the right sent-by port over
// TLS: sipgo's client knows one port, the UDP one, and the peer's NAT and
// RFC 3261 18.2.2 want the port kefu listens on for that transport.
func (a *Agent) addVia(c *sipgo.Client, r *sip.Request) error {
	if err := sipgo.ClientRequestAddVia(c, r); err != nil {
		return err
	}
	if overTLS(r) && a.tls != nil {
		r.Via().Port = a.tlsPort
	}
	return nil
}
