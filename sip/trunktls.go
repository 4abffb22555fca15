package sip

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/kefu-hotline/kefu/flows"
)

// Outbound TLS: the connections kefu opens itself, to trunks with
// transport: tls. sipgo dials them with one tls.Config for the whole user
// agent, so kefu's does no checking of its own in the handshake and
// decides in VerifyConnection, from the trunks configured now: a
// certificate is taken when it is valid for a TLS trunk's host (the name
// kefu sent as SNI; for a trunk named by its IP address, its IP) and
// chains to that trunk's roots (ca_file, else the system's), or is the
// one the trunk pins.

// trunkTLS is what kefu checks on a TLS trunk's certificate.
type trunkTLS struct {
	name  string
	host  string         // the URI's host, brackets dropped
	ip    bool           // host is an IP address
	roots *x509.CertPool // nil: the system's
	pin   *[sha256.Size]byte
}

// newTrunkTLS reads d's ca_file and pin.
func newTrunkTLS(d flows.TrunkDef, host string) (*trunkTLS, error) {
	host = strings.Trim(host, "[]")
	_, err := netip.ParseAddr(host)
	t := &trunkTLS{name: d.Name, host: host, ip: err == nil}
	if d.CAFile != "" {
		pem, err := os.ReadFile(d.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		t.roots = x509.NewCertPool()
		if !t.roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: no PEM certificate", d.CAFile)
		}
	}
	if d.Pin != "" {
		pin, ok := flows.ParsePin(d.Pin)
		if !ok {
			return nil, fmt.Errorf("pin %q is not a SHA-256 fingerprint", d.Pin)
		}
		t.pin = &pin
	}
	return t, nil
}

// check reports whether chain (the peer's, leaf first) is acceptable for
// t.
func (t *trunkTLS) check(chain []*x509.Certificate) error {
	leaf := chain[0]
	if t.pin != nil {
		if sha256.Sum256(leaf.Raw) != *t.pin {
			return fmt.Errorf("trunk %s: the certificate is not the one pinned", t.name)
		}
		return nil
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{DNSName: t.host, Roots: t.roots, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	if err != nil {
		return fmt.Errorf("trunk %s: %w", t.name, err)
	}
	return nil
}

// errNoTLSTrunk refuses a TLS connection kefu opened to no TLS trunk.
var errNoTLSTrunk = errors.New("tls: kefu opens TLS connections to trunks with transport: tls only")

// verifyPeer decides a TLS connection kefu opened: cs.ServerName is the
// host kefu dialled (empty for an IP address, which TLS does not send).
func (a *Agent) verifyPeer(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("tls: the peer sent no certificate")
	}
	var errs []error
	for _, t := range a.tlsTrunks.Load().list {
		if t.ip != (cs.ServerName == "") || !t.ip && !strings.EqualFold(t.host, cs.ServerName) {
			continue
		}
		err := t.check(cs.PeerCertificates)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return errNoTLSTrunk
	}
	return errors.Join(errs...)
}

// tlsTrunkSet is the TLS trunks of the configuration in force.
type tlsTrunkSet struct{ list []*trunkTLS }

// clientTLS is the configuration of the TLS connections kefu opens: TLS
// 1.2 or later, the trunk's certificate checked by verifyPeer, and kefu's
// own certificate (-tls-cert) for a trunk that asks for one.
func (a *Agent) clientTLS() *tls.Config {
	a.tlsTrunks.Store(&tlsTrunkSet{})
	c := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // verifyPeer checks, per trunk
		VerifyConnection:   a.verifyPeer,
	}
	if cert := a.cfg.TLSCert; cert != nil {
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			if p := cert.cur.Load(); p != nil {
				return p, nil
			}
			return &tls.Certificate{}, nil
		}
	}
	return c
}
