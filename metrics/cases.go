package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/forewarn/forewarn/cases"
)

// caseMetrics are the support cases' and their notifications' series, and
// the history store's writes.
type caseMetrics struct {
	open         *prometheus.GaugeVec
	opened       *prometheus.CounterVec
	queue        *prometheus.GaugeVec
	failures     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	storeWrite   prometheus.Histogram
	storeDropped prometheus.Counter
	storeErrors  prometheus.Counter
}

func newCaseMetrics(reg prometheus.Registerer) caseMetrics {
	m := caseMetrics{
		open: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "forewarn_case_open",
			Help: "1 for each open support case, by tenant, kind and severity."}, []string{"tenant", "kind", "severity"}),
		opened: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "forewarn_cases_opened_total",
			Help: "Support cases opened (reopenings not counted), by kind."}, []string{"kind"}),
		queue: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "forewarn_notify_queue_depth",
			Help: "Notifications waiting to be delivered, by notifier."}, []string{"notifier"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "forewarn_notify_failures_total",
			Help: "Failed delivery attempts, by notifier and reason (connect, timeout, rate_limited, server_error, client_error, gone, invalid, other)."},
			[]string{"notifier", "reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "forewarn_notify_latency_seconds",
			Help:    "Time from a case change to its notification's delivery, by notifier.",
			Buckets: []float64{.1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600}}, []string{"notifier"}),
		storeWrite: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "forewarn_store_write_duration_seconds",
			Help:    "Time to write one batch of results to the history store.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}}),
		storeDropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "forewarn_store_dropped_total",
			Help: "Results not written to history because the write buffer was full."}),
		storeErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "forewarn_store_write_errors_total",
			Help: "Failed writes of result batches to the history store (retried)."}),
	}
	reg.MustRegister(m.open, m.opened, m.queue, m.failures, m.latency, m.storeWrite, m.storeDropped, m.storeErrors)
	return m
}

// CaseOpened counts a new case.
func (e *Exporter) CaseOpened(kind string) { e.cases.opened.WithLabelValues(kind).Inc() }

// SetOpenCases exports the open cases, replacing the previous set.
func (e *Exporter) SetOpenCases(cs []cases.Case) {
	e.cases.open.Reset()
	for _, c := range cs {
		if c.Open() {
			e.cases.open.WithLabelValues(c.Tenant.ID, string(c.Kind), string(c.Severity)).Set(1)
		}
	}
}

// QueueDepth, Failure and Delivered are the notification dispatcher's hooks.
func (e *Exporter) QueueDepth(notifier string, n int) {
	e.cases.queue.WithLabelValues(notifier).Set(float64(n))
}

func (e *Exporter) Failure(notifier, reason string) {
	e.cases.failures.WithLabelValues(notifier, reason).Inc()
}

func (e *Exporter) Delivered(notifier string, latency time.Duration) {
	e.cases.latency.WithLabelValues(notifier).Observe(latency.Seconds())
}

// StoreWrite is the history store's hook for each batch written.
func (e *Exporter) StoreWrite(rows int, took time.Duration, err error) {
	if err != nil {
		e.cases.storeErrors.Inc()
		return
	}
	e.cases.storeWrite.Observe(took.Seconds())
}

// StoreDropped counts results the store could not buffer.
func (e *Exporter) StoreDropped(n int) { e.cases.storeDropped.Add(float64(n)) }
