package metrics

import (
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
)

// selfMetrics are forewarn's own health, under forewarn_.
type selfMetrics struct {
	lag        prometheus.Histogram
	inFlight   prometheus.Gauge
	skipped    *prometheus.CounterVec
	targets    prometheus.Gauge
	reloadOK   prometheus.Gauge
	reloadTime prometheus.Gauge
}

// SkipOverlap is the reason a run is skipped when the previous run of the
// same job is still going.
const SkipOverlap = "overlap"

func newSelfMetrics(reg prometheus.Registerer, build BuildInfo) selfMetrics {
	m := selfMetrics{
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "forewarn_scheduler_lag_seconds",
			Help: "How late probes start against their planned time (waiting for a free probe slot included).",
			// Classic buckets: they work with every Prometheus version,
			// native histograms need a feature flag on older servers.
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "forewarn_probes_in_flight",
			Help: "Probes running now.",
		}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "forewarn_scheduler_skipped_total",
			Help: "Runs not started, by reason (overlap: the job's previous run was still going).",
		}, []string{"reason"}),
		targets: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "forewarn_plan_targets",
			Help: "Targets (tenant × check) in the running plan.",
		}),
		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "forewarn_config_last_reload_successful",
			Help: "1 if the last load of checks.yaml succeeded; 0 if it failed and the previous plan is still running.",
		}),
		reloadTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "forewarn_config_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last successful load of checks.yaml.",
		}),
	}
	m.skipped.WithLabelValues(SkipOverlap)
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "forewarn_build_info",
		Help: "Always 1; labels name the running build.",
		ConstLabels: prometheus.Labels{
			"version": build.Version, "revision": build.Revision, "goversion": runtime.Version(),
		},
	})
	info.Set(1)
	reg.MustRegister(m.lag, m.inFlight, m.skipped, m.targets, m.reloadOK, m.reloadTime, info)
	return m
}
