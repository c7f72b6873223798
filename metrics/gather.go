package metrics

import (
	"cmp"
	"slices"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
)

// The probe families, their help and how each reads a target's state.
var probeFamilies = []struct {
	name, help string
	value      func(*targetState) (float64, bool)
}{
	{"probe_success", "1 if the last probe of this tenant's check succeeded, 0 if it failed.",
		func(t *targetState) (float64, bool) { return t.success, true }},
	{"probe_duration_seconds", "Wall time of the last probe.",
		func(t *targetState) (float64, bool) { return t.duration, true }},
	{"probe_last_run_timestamp_seconds", "Unix time the last probe started.",
		func(t *targetState) (float64, bool) { return t.lastRun, true }},
	{"probe_http_status_code", "HTTP status of the last response; 0 when none arrived.",
		func(t *targetState) (float64, bool) { return t.status, t.http }},
	{"probe_ssl_earliest_cert_expiry", "Unix time the earliest-expiring certificate of the peer chain expires; only for checks that used TLS.",
		func(t *targetState) (float64, bool) { return t.certExpiry, t.certExpiry != 0 }},
}

const (
	phaseFamily   = "probe_http_duration_seconds"
	phaseHelp     = "Time of each HTTP phase in the last probe (summed over redirects)."
	failureFamily = "probe_failures_total"
	failureHelp   = "Failed probes by reason (dns, connect, tls, timeout, status, assertion, extraction, body_limit, internal)."
)

// Gather implements prometheus.Gatherer. Metrics come out sorted by label
// values within each family, as the exposition format wants them.
func (s *probeStore) Gather() ([]*dto.MetricFamily, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := s.order()
	var out []*dto.MetricFamily
	for _, f := range probeFamilies {
		b := newBatch(len(ts))
		for _, t := range ts {
			if v, ok := f.value(t); ok {
				b.add(t.labels, v, false)
			}
		}
		out = appendFamily(out, f.name, f.help, dto.MetricType_GAUGE, b)
	}
	// Label names sort check, kind, phase, tenant (and reason before
	// tenant): within each (check, kind) group the phase or reason loop is
	// the outer one, over the label values in alphabetical order.
	b := newBatch(len(ts) * len(phaseNames))
	eachGroup(ts, func(group []*targetState) {
		for _, i := range phaseOrder {
			for _, t := range group {
				if t.http {
					b.add(t.phaseLabels[i], t.phases[i], false)
				}
			}
		}
	})
	out = appendFamily(out, phaseFamily, phaseHelp, dto.MetricType_GAUGE, b)
	b = newBatch(0)
	eachGroup(ts, func(group []*targetState) {
		for _, i := range reasonOrder {
			for _, t := range group {
				if t.reasonLabels[i] != nil {
					b.add(t.reasonLabels[i], t.failures[i], true)
				}
			}
		}
	})
	out = appendFamily(out, failureFamily, failureHelp, dto.MetricType_COUNTER, b)
	return out, nil
}

// eachGroup calls f with each run of targets sharing check and kind.
func eachGroup(ts []*targetState, f func([]*targetState)) {
	for start := 0; start < len(ts); {
		end := start + 1
		for end < len(ts) && ts[end].check == ts[start].check && ts[end].kind == ts[start].kind {
			end++
		}
		f(ts[start:end])
		start = end
	}
}

// phaseOrder and reasonOrder index phaseNames and reasons in the
// alphabetical order of their label values.
var (
	phaseOrder  = sortedIndex(phaseNames[:])
	reasonOrder = sortedIndex(reasons[:])
)

func sortedIndex[S ~string](names []S) []int {
	idx := make([]int, len(names))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(names[a], names[b]) })
	return idx
}

// batch allocates a family's metrics in a few slices rather than three
// objects per series.
type batch struct {
	metrics  []dto.Metric
	gauges   []dto.Gauge
	counters []dto.Counter
	values   []float64
}

func newBatch(n int) *batch {
	return &batch{metrics: make([]dto.Metric, 0, n), values: make([]float64, 0, n)}
}

func (b *batch) add(labels []*dto.LabelPair, v float64, counter bool) {
	b.values = append(b.values, v)
	// Appending may move the backing arrays; pointers are taken in family().
	b.metrics = append(b.metrics, dto.Metric{Label: labels})
	if counter {
		b.counters = append(b.counters, dto.Counter{})
	} else {
		b.gauges = append(b.gauges, dto.Gauge{})
	}
}

func appendFamily(out []*dto.MetricFamily, name, help string, typ dto.MetricType, b *batch) []*dto.MetricFamily {
	if len(b.metrics) == 0 {
		return out
	}
	mf := &dto.MetricFamily{Name: proto.String(name), Help: proto.String(help), Type: typ.Enum(),
		Metric: make([]*dto.Metric, len(b.metrics))}
	for i := range b.metrics {
		m := &b.metrics[i]
		if typ == dto.MetricType_COUNTER {
			b.counters[i].Value = &b.values[i]
			m.Counter = &b.counters[i]
		} else {
			b.gauges[i].Value = &b.values[i]
			m.Gauge = &b.gauges[i]
		}
		mf.Metric[i] = m
	}
	return append(out, mf)
}
