package ops

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// queueCollector exposes the queues' figures to Prometheus at scrape time
// (CS-SLA: waiting, time in queue, answered and abandoned).
type queueCollector struct {
	figures                    QueueFigures
	waiting, longest, estimate *prometheus.Desc
	left, leftSeconds          *prometheus.Desc
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
	}
}

// Describe implements prometheus.Collector.
func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.waiting, c.longest, c.estimate, c.left, c.leftSeconds} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	for _, f := range c.figures(time.Now()) {
		ch <- prometheus.MustNewConstMetric(c.waiting, prometheus.GaugeValue, float64(f.Waiting), f.Queue)
		ch <- prometheus.MustNewConstMetric(c.longest, prometheus.GaugeValue, f.LongestWait.Seconds(), f.Queue)
		ch <- prometheus.MustNewConstMetric(c.estimate, prometheus.GaugeValue, f.EstimatedWait.Seconds(), f.Queue)
		for outcome, s := range map[string]struct {
			n   int64
			sum float64
		}{"answered": {f.Answered.Count, f.Answered.Total.Seconds()}, "abandoned": {f.Abandoned.Count, f.Abandoned.Total.Seconds()}, "timed_out": {f.TimedOut.Count, f.TimedOut.Total.Seconds()}} {
			ch <- prometheus.MustNewConstMetric(c.left, prometheus.CounterValue, float64(s.n), f.Queue, outcome)
			ch <- prometheus.MustNewConstMetric(c.leftSeconds, prometheus.CounterValue, s.sum, f.Queue, outcome)
		}
	}
}
