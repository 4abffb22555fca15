package sip

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the agent's Prometheus collectors.
type Metrics struct {
	Calls      *prometheus.CounterVec // by end cause
	Active     prometheus.Gauge
	Answered   prometheus.Counter
	Rejected   *prometheus.CounterVec // by SIP status
	Malformed  prometheus.Counter
	Screened   *prometheus.CounterVec // by verdict kind and reason
	AnswerTime prometheus.Histogram   // INVITE received → 200 OK sent, minus the answer delay
	RTPSent    prometheus.Counter
	RTPRecv    prometheus.Counter
	RTPLost    prometheus.Counter
	Flood      *prometheus.CounterVec // by method, action and reason
	Transfers  *prometheus.CounterVec // by how (refer, bridge) and outcome
	Refused    *prometheus.CounterVec // requests the conformance filter answered, by SIP status
	TCPClosed  *prometheus.CounterVec // SIP connections kefu closed, by reason
	// SRTPDropped counts SRTP packets dropped, by reason: auth (failed
	// authentication) or replay (seen already, too old, unreadable).
	SRTPDropped *prometheus.CounterVec
}

// NewMetrics creates the collectors and registers them on reg (nil: not
// registered, for tests).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Calls:       prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kefu_calls_total", Help: "Calls ended, by cause."}, []string{"cause"}),
		Active:      prometheus.NewGauge(prometheus.GaugeOpts{Name: "kefu_calls_active", Help: "Calls in progress (ringing or answered)."}),
		Answered:    prometheus.NewCounter(prometheus.CounterOpts{Name: "kefu_calls_answered_total", Help: "Calls answered with 200 OK."}),
		Rejected:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kefu_invites_rejected_total", Help: "INVITEs refused, by SIP status."}, []string{"status"}),
		Screened:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kefu_screened_total", Help: "INVITEs screened, by verdict (allow, reject, route) and reason (list, repeat, anonymous, error)."}, []string{"kind", "reason"}),
		Malformed:   prometheus.NewCounter(prometheus.CounterOpts{Name: "kefu_sip_malformed_total", Help: "Malformed SIP messages (UDP and TCP)."}),
		AnswerTime:  prometheus.NewHistogram(prometheus.HistogramOpts{Name: "kefu_answer_processing_seconds", Help: "INVITE to 200 OK, not counting the configured answer delay.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		RTPSent:     prometheus.NewCounter(prometheus.CounterOpts{Name: "kefu_rtp_packets_sent_total", Help: "RTP packets sent."}),
		RTPRecv:     prometheus.NewCounter(prometheus.CounterOpts{Name: "kefu_rtp_packets_received_total", Help: "RTP packets received."}),
		RTPLost:     prometheus.NewCounter(prometheus.CounterOpts{Name: "kefu_rtp_packets_lost_total", Help: "RTP packets lost in reception (sequence gaps)."}),
		Flood:       prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kefu_flood_denied_total", Help: "Requests the flood guard refused, by method, action (reject, drop) and reason (scanner_ua, source_rate, caller_rate, source_banned)."}, []string{"method", "action", "reason"}),
		Transfers:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kefu_transfers_total", Help: "Transfer attempts, by how (refer, bridge) and outcome (ok, unconfirmed, no_final, failed_after_accept, refused, failed, timeout, hangup)."}, []string{"how", "outcome"}),
		Refused:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kefu_sip_refused_total", Help: "SIP requests the conformance checks answered, by status (400, 416, 420, 483, 505, ...)."}, []string{"status"}),
		TCPClosed:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kefu_sip_tcp_closed_total", Help: "SIP connections (TCP and TLS) kefu closed, by reason (too_large, slow, idle, per_source, framing, tls_handshake)."}, []string{"reason"}),
		SRTPDropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kefu_srtp_dropped_total", Help: "SRTP packets dropped, by reason: auth (failed authentication: forged, corrupted or wrongly keyed) and replay (seen already, too old or unreadable)."}, []string{"reason"}),
	}
	if reg != nil {
		reg.MustRegister(m.Screened, m.Calls, m.Active, m.Answered, m.Rejected, m.Malformed, m.AnswerTime, m.RTPSent, m.RTPRecv, m.RTPLost, m.Flood, m.Transfers,
			m.Refused, m.TCPClosed, m.SRTPDropped)
	}
	return m
}
