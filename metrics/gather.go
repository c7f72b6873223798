package metrics

import (
	"cmp"
	"slices"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
)

// gaugeFamilies is len(probeFamilies), spelled out because targetState
// sizes an array by it and probeFamilies refers to targetState. The two
// declarations below fail to compile when they disagree.
const gaugeFamilies = 6

var (
	_ [len(probeFamilies) - gaugeFamilies]struct{}
	_ [gaugeFamilies - len(probeFamilies)]struct{}
)

// The probe families, their help and how each reads a target's state.
var probeFamilies = [...]struct {
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
	{"probe_steps_completed", "Steps of a login check that passed in the last run, before the first failure.",
		func(t *targetState) (float64, bool) { return t.stepsCompleted, t.login }},
	{"probe_ssl_earliest_cert_expiry", "Unix time the earliest-expiring certificate of the peer chain expires; only for checks that used TLS.",
		func(t *targetState) (float64, bool) { return t.certExpiry, t.certExpiry != 0 }},
}

const (
	phaseFamily   = "probe_http_duration_seconds"
	phaseHelp     = "Time of each HTTP phase in the last probe (summed over redirects)."
	failureFamily = "probe_failures_total"
	failureHelp   = "Failed probes by reason (dns, connect, tls, timeout, status, assertion, extraction, body_limit, capacity, internal)."
)

// series is one exported sample of a target. Its dto objects live as long
// as the target, so a scrape of 90,000 series allocates almost nothing; the
// value is copied in by Gather while it holds the scrape lock, and read by
// the encoder before that lock is released (see gatherTx).
type series struct {
	m dto.Metric
	v float64
}

func newSeries(labels []*dto.LabelPair, counter bool) *series {
	s := &series{}
	s.m.Label = labels
	if counter {
		s.m.Counter = &dto.Counter{Value: &s.v}
	} else {
		s.m.Gauge = &dto.Gauge{Value: &s.v}
	}
	return s
}

// gatherTx returns the probe families and a function to call once they have
// been encoded. It implements half of prometheus.TransactionalGatherer.
//
// Metrics come out sorted by label values within each family, as the
// exposition format wants them, so the registry's normalising sort is a
// linear pass.
func (s *probeStore) gatherTx() ([]*dto.MetricFamily, func()) {
	s.scrape.Lock()
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := s.order()
	out := make([]*dto.MetricFamily, 0, len(probeFamilies)+2)
	for fi, f := range probeFamilies {
		b := s.batch(len(ts))
		for _, t := range ts {
			if v, ok := f.value(t); ok {
				b = append(b, t.gauge(fi, v))
			}
		}
		out = appendFamily(out, f.name, f.help, dto.MetricType_GAUGE, b)
	}
	// Label names sort check, kind, phase, tenant (and reason before
	// tenant): within each (check, kind) group the phase or reason loop is
	// the outer one, over the label values in alphabetical order.
	b := s.batch(len(ts) * len(phaseNames))
	eachGroup(ts, func(group []*targetState) {
		for _, i := range phaseOrder {
			for _, t := range group {
				if t.http {
					b = append(b, t.phase(i))
				}
			}
		}
	})
	out = appendFamily(out, phaseFamily, phaseHelp, dto.MetricType_GAUGE, b)
	b = s.batch(0)
	eachGroup(ts, func(group []*targetState) {
		for _, i := range reasonOrder {
			for _, t := range group {
				if t.failureSeries[i] != nil {
					t.failureSeries[i].v = t.failures[i]
					b = append(b, &t.failureSeries[i].m)
				}
			}
		}
	})
	out = appendFamily(out, failureFamily, failureHelp, dto.MetricType_COUNTER, b)
	out = gatherSteps(out, ts)
	return out, s.scrape.Unlock
}

// batch is a slice for one family's metrics. The caller holds s.mu.
func (s *probeStore) batch(n int) []*dto.Metric { return make([]*dto.Metric, 0, n) }

func (t *targetState) gauge(family int, v float64) *dto.Metric {
	if t.familySeries[family] == nil {
		t.familySeries[family] = newSeries(t.labels, false)
	}
	t.familySeries[family].v = v
	return &t.familySeries[family].m
}

func (t *targetState) phase(i int) *dto.Metric {
	if t.phaseSeries[i] == nil {
		labels := t.labelsWith(phasePairs[i])
		t.phaseSeries[i] = newSeries(labels, false)
	}
	t.phaseSeries[i].v = t.phases[i]
	return &t.phaseSeries[i].m
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

func appendFamily(out []*dto.MetricFamily, name, help string, typ dto.MetricType, metrics []*dto.Metric) []*dto.MetricFamily {
	if len(metrics) == 0 {
		return out
	}
	return append(out, &dto.MetricFamily{Name: proto.String(name), Help: proto.String(help), Type: typ.Enum(), Metric: metrics})
}
