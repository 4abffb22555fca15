package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/sip"
	"github.com/prometheus/client_golang/prometheus"
)

// opsCollector exposes what ops alert on beyond the calls (issue 16): the
// open and overdue complaints and open callbacks, the RTP port pool, the
// running configuration's version and the build.
type opsCollector struct {
	st      dataStore
	agent   *sip.Agent
	current func() *flows.Bundle
	build   buildInfo
	log     *slog.Logger

	records, ports, portsTotal, config, buildDesc *prometheus.Desc
}

func newOpsCollector(st dataStore, agent *sip.Agent, current func() *flows.Bundle, log *slog.Logger) *opsCollector {
	return &opsCollector{st: st, agent: agent, current: current, build: readBuildInfo(), log: log,
		records:    prometheus.NewDesc("kefu_records_open", "Open records: callbacks not yet made, complaints not replied to, and of those overdue (past their deadline) or interrupted.", []string{"kind"}, nil),
		ports:      prometheus.NewDesc("kefu_rtp_ports_in_use", "RTP ports held by media legs (one per leg: two per bridged call).", nil, nil),
		portsTotal: prometheus.NewDesc("kefu_rtp_ports", "RTP ports the -rtp-ports range holds (its even ports).", nil, nil),
		config:     prometheus.NewDesc("kefu_config_info", "The configuration in force (1), by version.", []string{"version"}, nil),
		buildDesc:  prometheus.NewDesc("kefu_build_info", "The running binary (1), by version, revision and Go version.", []string{"version", "revision", "go"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *opsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.records, c.ports, c.portsTotal, c.config, c.buildDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *opsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	now := time.Now()
	if sum, err := c.st.Summary(ctx, now, now); err != nil {
		c.log.Warn("metrics: the records' summary", "error", err.Error())
	} else {
		for kind, n := range map[string]int{"callbacks": sum.OpenCallbacks, "complaints": sum.OpenComplaints,
			"complaints_overdue": sum.Overdue, "complaints_interrupted": sum.Interrupted} {
			ch <- prometheus.MustNewConstMetric(c.records, prometheus.GaugeValue, float64(n), kind)
		}
	}
	inUse, total := c.agent.RTPPorts()
	ch <- prometheus.MustNewConstMetric(c.ports, prometheus.GaugeValue, float64(inUse))
	ch <- prometheus.MustNewConstMetric(c.portsTotal, prometheus.GaugeValue, float64(total))
	ch <- prometheus.MustNewConstMetric(c.config, prometheus.GaugeValue, 1, c.current().Version)
	ch <- prometheus.MustNewConstMetric(c.buildDesc, prometheus.GaugeValue, 1, c.build.Version, c.build.Revision, c.build.GoVersion)
}

// reloadsCounter counts reloads by result (ok, refused).
func reloadsCounter(reg prometheus.Registerer) *prometheus.CounterVec {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kefu_reloads_total",
		Help: "Configuration reloads, by result: ok, or refused (a bad file; the running one stayed).",
	}, []string{"result"})
	v.WithLabelValues("ok")
	v.WithLabelValues("refused")
	reg.MustRegister(v)
	return v
}
