package main

import (
	"log/slog"
	"time"

	"github.com/kefu-hotline/kefu/sip"
)

// loadCert reads the TLS certificate when -tls-listen is set: nil without
// TLS, an error (kefu does not start) when the files are missing,
// unreadable, do not match or are out of date.
func loadCert(f *runFlags) (*sip.Cert, error) {
	if f.tlsListen == "" {
		return nil, nil
	}
	return sip.LoadCert(f.tlsCert, f.tlsKey)
}

// reloadCert reads the certificate files again on SIGHUP: new TLS
// connections get the new certificate; a bad one is refused and the one in
// use stays.
func reloadCert(c *sip.Cert, log *slog.Logger) {
	if c == nil {
		return
	}
	if err := c.Reload(); err != nil {
		log.Error("TLS certificate reload refused; the one in use stays", "error", err.Error(), "expires", c.Leaf().NotAfter.Format(time.RFC3339))
		return
	}
	leaf := c.Leaf()
	log.Info("TLS certificate loaded", "subject", leaf.Subject.String(), "expires", leaf.NotAfter.Format(time.RFC3339))
}
