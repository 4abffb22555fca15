package main

import (
	"fmt"
	"log/slog"

	"github.com/kefu-hotline/kefu/sip"
	"github.com/prometheus/client_golang/prometheus"
)

// sourceACL builds who may call and register from -allow, -allow-agents
// and -trusted (sip/acl.go says how they compose), and registers its
// refusal counter. The lists are flags, not keys of the configuration
// file, on purpose: they describe the network kefu is deployed in, like
// -listen and -trusted, and belong to whoever deploys it; the
// configuration file is the flows, which operators change and reload
// through the ops API, and a flows reload must not be able to open the
// hotline to the world.
func sourceACL(f *runFlags, reg prometheus.Registerer, log *slog.Logger) (*sip.ACL, error) {
	var cfg sip.ACLConfig
	var err error
	if cfg.Calls, err = sip.ParsePrefixes(f.allow); err != nil {
		return nil, fmt.Errorf("-allow: %w", err)
	}
	if cfg.Trusted, err = sip.ParsePrefixes(f.trusted); err != nil {
		return nil, fmt.Errorf("-trusted: %w", err)
	}
	if cfg.Agents, err = sip.ParsePrefixes(f.allowAgents); err != nil {
		return nil, fmt.Errorf("-allow-agents: %w", err)
	}
	acl, err := sip.NewACL(cfg)
	if err != nil {
		return nil, err
	}
	reg.MustRegister(acl)
	if len(cfg.Calls) == 0 {
		log.Info("source ACL off: any source may place calls (set -allow to the trunks' addresses)")
	} else {
		log.Info("source ACL", "calls", fmt.Sprint(cfg.Calls), "trusted", fmt.Sprint(cfg.Trusted), "agents", fmt.Sprint(cfg.Agents))
	}
	return acl, nil
}
