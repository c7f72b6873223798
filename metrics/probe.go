package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/forewarn/forewarn/probes"
)

var probeLabels = []string{"tenant", "check", "kind"}

type seriesKey struct{ tenant, check string }

type probeMetrics struct {
	success    *prometheus.GaugeVec
	duration   *prometheus.GaugeVec
	lastRun    *prometheus.GaugeVec
	phase      *prometheus.GaugeVec
	status     *prometheus.GaugeVec
	certExpiry *prometheus.GaugeVec
	failures   *prometheus.CounterVec

	// mu serialises observe and retain, so that a result of a target a
	// reload just dropped cannot re-create its series after retain deleted
	// them.
	mu sync.Mutex
	// plan holds the targets whose results are exported; nil until the
	// first SetPlan, which means "export everything".
	plan map[seriesKey]bool
	// seen remembers the kind of every (tenant, check) that has series, so
	// retain can delete exactly the series a reload dropped, each by its full
	// label set (DeletePartialMatch scans every series: too slow at 10,000
	// tenants).
	seen map[seriesKey]probes.Kind
}

func newProbeMetrics(reg prometheus.Registerer) *probeMetrics {
	gauge := func(name, help string, extra ...string) *prometheus.GaugeVec {
		v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help},
			append(append([]string{}, probeLabels...), extra...))
		reg.MustRegister(v)
		return v
	}
	m := &probeMetrics{
		success:    gauge("probe_success", "1 if the last probe of this tenant's check succeeded, 0 if it failed."),
		duration:   gauge("probe_duration_seconds", "Wall time of the last probe."),
		lastRun:    gauge("probe_last_run_timestamp_seconds", "Unix time the last probe started."),
		phase:      gauge("probe_http_duration_seconds", "Time of each HTTP phase in the last probe (summed over redirects).", "phase"),
		status:     gauge("probe_http_status_code", "HTTP status of the last response; 0 when none arrived."),
		certExpiry: gauge("probe_ssl_earliest_cert_expiry", "Unix time the earliest-expiring certificate of the peer chain expires; only for checks that used TLS."),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "probe_failures_total",
			Help: "Failed probes by reason (dns, connect, tls, timeout, status, assertion, extraction, body_limit, internal).",
		}, append(append([]string{}, probeLabels...), "reason")),
		seen: map[seriesKey]probes.Kind{},
	}
	reg.MustRegister(m.failures)
	return m
}

func (m *probeMetrics) observe(r probes.Result) {
	key := seriesKey{r.Tenant, r.Check}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.plan != nil && !m.plan[key] {
		return // finished after a reload removed it
	}
	m.seen[key] = r.Kind
	l := []string{r.Tenant, r.Check, string(r.Kind)}
	m.success.WithLabelValues(l...).Set(boolFloat(r.Success))
	m.duration.WithLabelValues(l...).Set(r.Duration.Seconds())
	m.lastRun.WithLabelValues(l...).Set(float64(r.Start.UnixNano()) / 1e9)
	if r.Kind == probes.KindHTTP {
		m.status.WithLabelValues(l...).Set(float64(r.StatusCode))
		r.Phases.Each(func(phase string, d time.Duration) {
			m.phase.WithLabelValues(r.Tenant, r.Check, string(r.Kind), phase).Set(d.Seconds())
		})
	}
	// Kept from an earlier run when this one did not reach a handshake: the
	// certificate did not change because the connection failed.
	if r.TLS && !r.CertExpiry.IsZero() {
		m.certExpiry.WithLabelValues(l...).Set(float64(r.CertExpiry.Unix()))
	}
	if !r.Success {
		reason := r.Reason
		if reason == probes.ReasonNone {
			reason = probes.ReasonInternal
		}
		m.failures.WithLabelValues(r.Tenant, r.Check, string(r.Kind), string(reason)).Inc()
	}
}

func (m *probeMetrics) retain(keep map[seriesKey]bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.plan = keep
	for k, kind := range m.seen {
		if keep[k] {
			continue
		}
		l := []string{k.tenant, k.check, string(kind)}
		for _, v := range []*prometheus.GaugeVec{m.success, m.duration, m.lastRun, m.status, m.certExpiry} {
			v.DeleteLabelValues(l...)
		}
		for _, phase := range probes.PhaseNames {
			m.phase.DeleteLabelValues(k.tenant, k.check, string(kind), phase)
		}
		for _, reason := range probes.Reasons {
			m.failures.DeleteLabelValues(k.tenant, k.check, string(kind), string(reason))
		}
		delete(m.seen, k)
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
