package metrics

import (
	"cmp"
	"slices"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/forewarn/forewarn/probes"
)

// probeStore keeps the last result of every target as plain values and turns
// them into metric families when scraped. It is a prometheus.Gatherer rather
// than a set of GaugeVecs for speed at fleet size: with 10,000 targets a
// GaugeVec scrape spent half its time sorting 90,000 series that arrive in
// map order and hashing label values. Here every target's label pairs are
// built once, families are emitted already in the registry's sort order (so
// its normalising sort is a linear pass), and recording a result is a few
// field writes under a mutex.
type probeStore struct {
	// scrape is held from the start of a gather until its families are
	// encoded, because the exported dto objects are reused between scrapes.
	scrape sync.Mutex
	mu     sync.Mutex
	// plan holds the targets whose results are exported; nil until the
	// first SetPlan, which means "export everything".
	plan    map[seriesKey]bool
	targets map[seriesKey]*targetState
	// sorted is targets in (check, kind, tenant) order: the order of their
	// label values. nil after a target was added or removed.
	sorted []*targetState
}

type seriesKey struct{ tenant, check string }

type targetState struct {
	check, kind, tenant string
	labels              []*dto.LabelPair // check, kind, tenant: sorted by name

	// The exported series, made on first use and written only by gatherTx.
	familySeries  [gaugeFamilies]*series
	phaseSeries   [len(phaseNames)]*series
	failureSeries [len(reasons)]*series // also marks which reasons were seen

	success, duration, lastRun float64
	http                       bool // an HTTP or login result: status and phases apply
	login                      bool // a login result: steps apply
	stepsCompleted             float64
	steps                      []*stepState // in the order first seen
	status                     float64
	phases                     [len(phaseNames)]float64
	certExpiry                 float64 // 0: no TLS seen yet
	failures                   [len(reasons)]float64
}

var (
	phaseNames = [5]string(probes.PhaseNames)
	reasons    = [10]probes.Reason(probes.Reasons)
)

func newProbeStore() *probeStore {
	return &probeStore{targets: map[seriesKey]*targetState{}}
}

func (s *probeStore) observe(r probes.Result) {
	key := seriesKey{r.Tenant, r.Check}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.plan != nil && !s.plan[key] {
		return // finished after a reload removed it
	}
	t := s.targets[key]
	if t == nil || t.kind != string(r.Kind) {
		t = newTargetState(r)
		s.targets[key] = t
		s.sorted = nil
	}
	t.success = boolFloat(r.Success)
	t.duration = seconds(r.Duration)
	t.lastRun = float64(r.Start.UnixMilli()) / 1e3
	if r.Kind == probes.KindLogin {
		t.observeSteps(r)
	}
	if r.Kind == probes.KindHTTP || r.Kind == probes.KindLogin {
		t.http = true
		t.status = float64(r.StatusCode)
		i := 0
		r.Phases.Each(func(_ string, d time.Duration) { t.phases[i] = seconds(d); i++ })
	}
	// Kept from an earlier run when this one did not reach a handshake: the
	// certificate did not change because the connection failed. A response
	// without TLS means the check no longer uses it: the series goes.
	switch {
	case r.TLS && !r.CertExpiry.IsZero():
		t.certExpiry = float64(r.CertExpiry.Unix())
	case !r.TLS && r.StatusCode != 0:
		t.certExpiry = 0
	}
	if !r.Success {
		t.fail(r.Reason)
	}
}

func newTargetState(r probes.Result) *targetState {
	t := &targetState{check: r.Check, kind: string(r.Kind), tenant: r.Tenant}
	t.labels = pairs("check", t.check, "kind", t.kind, "tenant", t.tenant)
	return t
}

func (t *targetState) fail(reason probes.Reason) {
	i := slices.Index(reasons[:], reason)
	if i < 0 {
		i = slices.Index(reasons[:], probes.ReasonInternal)
	}
	if t.failureSeries[i] == nil {
		labels := t.labelsWith(reasonPairs[i])
		t.failureSeries[i] = newSeries(labels, true)
	}
	t.failures[i]++
}

// retain drops every target not in keep and exports only keep from now on.
func (s *probeStore) retain(keep map[seriesKey]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.plan = keep
	for k := range s.targets {
		if !keep[k] {
			delete(s.targets, k)
			s.sorted = nil
		}
	}
}

// labelsWith is the target's labels with one more between kind and tenant
// (phase, reason and step all sort there). The pairs are shared, not
// copied: at 10,000 targets × 25 series, one pair per label per series was
// a fifth of the heap. They are never changed once made.
func (t *targetState) labelsWith(extra *dto.LabelPair) []*dto.LabelPair {
	return []*dto.LabelPair{t.labels[0], t.labels[1], extra, t.labels[2]}
}

// phasePairs and reasonPairs are the fixed extra label pairs.
var (
	phasePairs  = fixedPairs("phase", phaseNames[:])
	reasonPairs = fixedPairs("reason", reasons[:])
)

func fixedPairs[S ~string](name string, values []S) []*dto.LabelPair {
	out := make([]*dto.LabelPair, len(values))
	for i, v := range values {
		out[i] = pairs(name, string(v))[0]
	}
	return out
}

func pairs(kv ...string) []*dto.LabelPair {
	out := make([]*dto.LabelPair, 0, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		out = append(out, &dto.LabelPair{Name: proto.String(kv[i]), Value: proto.String(kv[i+1])})
	}
	return out
}

// seconds is d in seconds to the microsecond. The nanosecond digits carry
// nothing a probe can measure, and every digit costs time to format and
// compress on each scrape.
func seconds(d time.Duration) float64 {
	return float64(d.Round(time.Microsecond)/time.Microsecond) / 1e6
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// order returns the targets sorted by their label values, caching the slice
// until the set of targets changes. The caller holds s.mu.
func (s *probeStore) order() []*targetState {
	if s.sorted == nil {
		s.sorted = make([]*targetState, 0, len(s.targets))
		for _, t := range s.targets {
			s.sorted = append(s.sorted, t)
		}
		slices.SortFunc(s.sorted, func(a, b *targetState) int {
			return cmp.Or(cmp.Compare(a.check, b.check), cmp.Compare(a.kind, b.kind), cmp.Compare(a.tenant, b.tenant))
		})
	}
	return s.sorted
}
