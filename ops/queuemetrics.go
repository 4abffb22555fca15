package ops

import (
	"time"

	"github.com/kefu-hotline/kefu/flows/queue"

	"github.com/prometheus/client_golang/prometheus"
)

// queueCollector exposes the queues' figures to Prometheus at scrape time
// (CS-SLA: waiting, time in queue, answered and abandoned).
type queueCollector struct {
	figures                    QueueFigures
	waiting, longest, estimate *prometheus.Desc
	left, leftSeconds          *prometheus.Desc
	level, asa, abandonment    *prometheus.Desc
	agents                     *prometheus.Desc
}

// NewQueueCollector returns a collector of the queues' figures: callers
// waiting, the longest wait and the estimate now, and the calls that left
// each queue (answered, abandoned, timed out) with their total wait.
func NewQueueCollector(figures QueueFigures) prometheus.Collector {
	q := []string{"queue"}
	return &queueCollector{
		figures:     figures,
		waiting:     prometheus.NewDesc("kefu_queue_waiting", "Callers waiting in the queue.", q, nil),
		longest:     prometheus.NewDesc("kefu_queue_longest_wait_seconds", "The longest wait of the callers waiting now.", q, nil),
		estimate:    prometheus.NewDesc("kefu_queue_estimated_wait_seconds", "The wait a caller joining now is told.", q, nil),
		left:        prometheus.NewDesc("kefu_queue_left_total", "Calls that left the queue, by outcome (answered, abandoned, timed_out).", []string{"queue", "outcome"}, nil),
		leftSeconds: prometheus.NewDesc("kefu_queue_left_wait_seconds_total", "Their waits, summed, by outcome.", []string{"queue", "outcome"}, nil),
		level:       prometheus.NewDesc("kefu_queue_service_level", "Share of the answered callers answered within 20 s (CS-SLA); 1 before any was answered.", q, nil),
		asa:         prometheus.NewDesc("kefu_queue_average_speed_of_answer_seconds", "Mean wait of the answered callers.", q, nil),
		agents:      prometheus.NewDesc("kefu_queue_agents", "Agents serving the queue now (signed in, not paused).", q, nil),
		abandonment: prometheus.NewDesc("kefu_queue_abandonment_ratio", "Share of the callers who left the queue by hanging up.", q, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.waiting, c.longest, c.estimate, c.left, c.leftSeconds, c.level, c.asa, c.abandonment, c.agents} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	for _, f := range c.figures(time.Now()) {
		ch <- prometheus.MustNewConstMetric(c.waiting, prometheus.GaugeValue, float64(f.Waiting), f.Queue)
		ch <- prometheus.MustNewConstMetric(c.longest, prometheus.GaugeValue, f.LongestWait.Seconds(), f.Queue)
		ch <- prometheus.MustNewConstMetric(c.estimate, prometheus.GaugeValue, f.EstimatedWait.Seconds(), f.Queue)
		ch <- prometheus.MustNewConstMetric(c.level, prometheus.GaugeValue, ServiceLevel(f.Answered), f.Queue)
		ch <- prometheus.MustNewConstMetric(c.agents, prometheus.GaugeValue, float64(f.Agents), f.Queue)
		ch <- prometheus.MustNewConstMetric(c.asa, prometheus.GaugeValue, f.Answered.Mean.Seconds(), f.Queue)
		abandon := 0.0
		if n := f.Answered.Count + f.Abandoned.Count + f.TimedOut.Count; n > 0 {
			abandon = float64(f.Abandoned.Count) / float64(n)
		}
		ch <- prometheus.MustNewConstMetric(c.abandonment, prometheus.GaugeValue, abandon, f.Queue)
		for outcome, s := range map[string]struct {
			n   int64
			sum float64
		}{"answered": {f.Answered.Count, f.Answered.Total.Seconds()}, "abandoned": {f.Abandoned.Count, f.Abandoned.Total.Seconds()}, "timed_out": {f.TimedOut.Count, f.TimedOut.Total.Seconds()}} {
			ch <- prometheus.MustNewConstMetric(c.left, prometheus.CounterValue, float64(s.n), f.Queue, outcome)
			ch <- prometheus.MustNewConstMetric(c.leftSeconds, prometheus.CounterValue, s.sum, f.Queue, outcome)
		}
	}
}

// ServiceLevel is the share of answered callers whose wait was at most
// 20 s (CS-SLA), from the cumulative wait buckets; 1 when none was
// answered yet.
func ServiceLevel(w queue.WaitStats) float64 {
	if w.Count == 0 {
		return 1
	}
	for _, b := range w.Buckets {
		if b.UpTo == queue.Duration(20*time.Second) {
			return float64(b.Count) / float64(w.Count)
		}
	}
	return 1
}
