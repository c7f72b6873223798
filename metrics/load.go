package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/forewarn/forewarn/probes"
)

// loadMetrics are the load probe's series: live ones while a ramp runs
// (users, rate, error ratio of the current step; every request), what the
// last run found (the knee), and what the config asks (SLO, required
// knee, the tenant's seats).
type loadMetrics struct {
	users, rate, errorRatio *prometheus.GaugeVec
	requests                *prometheus.CounterVec
	duration                *prometheus.HistogramVec
	knee, required          *prometheus.GaugeVec
	sloLatency, sloErrors   *prometheus.GaugeVec
	seats                   *prometheus.GaugeVec
}

// LoadBuckets are the request latency buckets of a load run, in seconds:
// from a fast API call to the slowest answer an SLO would accept.
var LoadBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

func newLoadMetrics(reg prometheus.Registerer) loadMetrics {
	tc := []string{"tenant", "check"}
	gauge := func(name, help string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, tc)
	}
	m := loadMetrics{
		users:      gauge("probe_load_users", "Virtual users of the load run going on now; 0 between runs."),
		rate:       gauge("probe_load_request_rate", "Requests per second of the current load step so far; 0 between runs."),
		errorRatio: gauge("probe_load_error_ratio", "Failed share of the current load step's requests so far; 0 between runs."),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "probe_load_requests_total",
			Help: "Requests load runs sent, by result (ok, error)."}, []string{"tenant", "check", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "probe_load_request_duration_seconds",
			Help: "Latency of load run requests, warm-up included.", Buckets: LoadBuckets}, tc),
		knee:       gauge("probe_load_capacity_knee_users", "Highest concurrent users the last load run found the tenant serving within its SLO."),
		required:   gauge("probe_load_required_users", "Capacity knee the load check requires: seats × its required fraction."),
		sloLatency: gauge("probe_load_slo_latency_seconds", "p95 latency a load step must stay within."),
		sloErrors:  gauge("probe_load_slo_error_ratio", "Error ratio a load step must stay within."),
		seats: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "forewarn_tenant_seats",
			Help: "Concurrent users the tenant's customer contracted for."}, []string{"tenant"}),
	}
	reg.MustRegister(m.users, m.rate, m.errorRatio, m.requests, m.duration, m.knee, m.required,
		m.sloLatency, m.sloErrors, m.seats)
	return m
}

// LoadOptions are the hooks a load run of t reports to: every request into
// the latency histogram and counters, progress into the live gauges.
func (e *Exporter) LoadOptions(t probes.Target) probes.LoadOptions {
	m := e.load
	hist := m.duration.WithLabelValues(t.Tenant, t.Check)
	ok := m.requests.WithLabelValues(t.Tenant, t.Check, "ok")
	fail := m.requests.WithLabelValues(t.Tenant, t.Check, "error")
	users := m.users.WithLabelValues(t.Tenant, t.Check)
	rate := m.rate.WithLabelValues(t.Tenant, t.Check)
	errs := m.errorRatio.WithLabelValues(t.Tenant, t.Check)
	return probes.LoadOptions{
		OnRequest: func(d time.Duration, success bool) {
			hist.Observe(d.Seconds())
			if success {
				ok.Inc()
			} else {
				fail.Inc()
			}
		},
		Progress: func(p probes.LoadProgress) {
			users.Set(float64(p.Users))
			if p.Phase != "measure" || p.Elapsed <= 0 {
				rate.Set(0) // a new step's warm-up: nothing measured yet
				errs.Set(0)
				return
			}
			window := p.Elapsed - (p.StepTime - measureWindow(t))
			if window > 0 {
				rate.Set(float64(p.Requests) / window.Seconds())
			}
			if p.Requests > 0 {
				errs.Set(float64(p.Errors) / float64(p.Requests))
			}
		},
	}
}

// measureWindow is a step's measured part.
func measureWindow(t probes.Target) time.Duration {
	if t.Load == nil {
		return 0
	}
	return t.Load.Ramp.StepDuration - t.Load.Ramp.WarmUp
}

// observeLoad records a finished run: the knee, and the live gauges back
// to 0. A run that completed no step leaves the last knee as it was.
func (m loadMetrics) observe(r probes.Result) {
	m.ended(r.Tenant, r.Check)
	if r.Load != nil && len(r.Load.Steps) > 0 && (r.Load.Stop == probes.StopMax || r.Load.Stop == probes.StopSLO ||
		r.Load.Knee.BreakAt > 0) {
		// Only a run that ramped to its end or to a confirmed break found
		// the knee; one cut short knows a lower bound only.
		m.knee.WithLabelValues(r.Tenant, r.Check).Set(float64(r.Load.Knee.Users))
	}
}

// ended sets the live gauges back to 0.
func (m loadMetrics) ended(tenant, check string) {
	m.users.WithLabelValues(tenant, check).Set(0)
	m.rate.WithLabelValues(tenant, check).Set(0)
	m.errorRatio.WithLabelValues(tenant, check).Set(0)
}

// LoadEnded sets a load check's live gauges back to 0, whatever became of
// its run (a run cut short by a reload delivers no result).
func (e *Exporter) LoadEnded(t probes.Target) {
	e.mu.Lock()
	planned := e.loadKeys[seriesKey{t.Tenant, t.Check}]
	e.mu.Unlock()
	if planned {
		e.load.ended(t.Tenant, t.Check)
	}
}

// setPlan sets the configured series of the plan's load checks and drops
// every load series of a target no longer planned.
func (m loadMetrics) setPlan(targets []probes.Target, keep map[seriesKey]bool, old map[seriesKey]bool) {
	for k := range old {
		if keep[k] {
			continue
		}
		l := prometheus.Labels{"tenant": k.tenant, "check": k.check}
		for _, v := range []*prometheus.GaugeVec{m.users, m.rate, m.errorRatio, m.knee, m.required, m.sloLatency, m.sloErrors} {
			v.DeletePartialMatch(l)
		}
		m.requests.DeletePartialMatch(l)
		m.duration.DeletePartialMatch(l)
	}
	for _, t := range targets {
		if t.Load == nil {
			continue
		}
		m.sloLatency.WithLabelValues(t.Tenant, t.Check).Set(t.Load.SLO.P95.Seconds())
		m.sloErrors.WithLabelValues(t.Tenant, t.Check).Set(t.Load.SLO.ErrorRatio)
		m.required.WithLabelValues(t.Tenant, t.Check).Set(float64(t.Load.Required))
		m.users.WithLabelValues(t.Tenant, t.Check).Add(0)
	}
}

// SetSeats sets forewarn_tenant_seats for every tenant with seats, and
// drops it for the others.
func (e *Exporter) SetSeats(seats map[string]int) {
	e.load.seats.Reset()
	for tenant, n := range seats {
		if n > 0 {
			e.load.seats.WithLabelValues(tenant).Set(float64(n))
		}
	}
}
