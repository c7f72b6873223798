// Package metrics exports probe results and forewarn's own health to
// Prometheus.
//
// Probe results keep the names blackbox_exporter made familiar
// (probe_success, probe_duration_seconds, probe_http_duration_seconds{phase}…)
// so that an SRE's PromQL carries over; each series is labelled with tenant,
// check and kind. Cardinality is tenants × checks × a few: nothing is
// labelled per request, per URL or per user.
package metrics

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/forewarn/forewarn/probes"
)

// Exporter holds every metric forewarn exports, in its own registry.
type Exporter struct {
	reg *prometheus.Registry

	probe *probeStore
	self  selfMetrics
	load  loadMetrics
	cases caseMetrics

	mu       sync.Mutex
	loadKeys map[seriesKey]bool // load targets of the plan, to drop on reload
}

// BuildInfo labels forewarn_build_info.
type BuildInfo struct {
	Version, Revision string
}

// New builds an Exporter with probe, self-health, Go runtime and process
// metrics registered.
func New(build BuildInfo) *Exporter {
	reg := prometheus.NewRegistry()
	e := &Exporter{reg: reg}
	e.probe = newProbeStore()
	e.self = newSelfMetrics(reg, build)
	e.load = newLoadMetrics(reg)
	e.cases = newCaseMetrics(reg)
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return e
}

// Registry is where later packages register their own collectors. Probe
// results are not in it: use Gatherer to read everything.
func (e *Exporter) Registry() *prometheus.Registry { return e.reg }

// Gatherer gathers every metric, the registry's and the probe results',
// as copies the caller may keep. /metrics uses the cheaper transactional
// form.
func (e *Exporter) Gatherer() prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		mfs, done, err := gatherer{e}.Gather()
		defer done()
		out := make([]*dto.MetricFamily, len(mfs))
		for i, mf := range mfs {
			out[i] = proto.Clone(mf).(*dto.MetricFamily)
		}
		return out, err
	})
}

// gatherer concatenates the registry's families with the probe store's. It
// is a prometheus.TransactionalGatherer: the probe families reuse their dto
// objects between scrapes, so they stay locked until encoded (done).
//
// prometheus.Gatherers would merge the two too, but it re-validates and
// hashes every series to detect duplicates: a third of a 10,000-target
// scrape. The probe families cannot collide with the registry's (New
// registers no probe_* metric, and TestCatalogue sees every family), and the
// store emits them valid and sorted by construction (TestScrapeIsSorted).
type gatherer struct{ e *Exporter }

func (g gatherer) Gather() ([]*dto.MetricFamily, func(), error) {
	mfs, err := g.e.reg.Gather()
	probe, done := g.e.probe.gatherTx()
	mfs = append(mfs, probe...)
	slices.SortFunc(mfs, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	return mfs, done, err
}

// Handler serves /metrics. Errors while gathering are reported in the
// response rather than failing the scrape silently.
//
// The exposition is encoded into memory and then sent: the probe families
// stay locked until encoded (see gatherer), and a scraper that stops
// reading must not hold that lock and block every later scrape. Gzipped,
// 10,000 targets are about 0.5 MB.
func (e *Exporter) Handler() http.Handler {
	h := promhttp.HandlerForTransactional(gatherer{e}, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
		Registry:            e.reg, // promhttp_metric_handler_* about scrapes themselves
		DisableCompression:  true,  // compressed below, faster
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := &bufferedResponse{header: http.Header{}, code: http.StatusOK, body: buffers.Get().(*bytes.Buffer)}
		defer buffers.Put(b.body)
		b.body.Reset()
		h.ServeHTTP(b, r)
		for k, v := range b.header {
			w.Header()[k] = v
		}
		w.Header().Add("Vary", "Accept-Encoding")
		if !acceptsGzip(r) || b.code != http.StatusOK {
			w.WriteHeader(b.code)
			_, _ = w.Write(b.body.Bytes())
			return
		}
		out := buffers.Get().(*bytes.Buffer)
		defer buffers.Put(out)
		out.Reset()
		gzipFast(out, b.body.Bytes())
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Del("Content-Length")
		w.WriteHeader(b.code)
		_, _ = w.Write(out.Bytes())
	})
}

// Buffers and compressors are reused: a 10,000-target page is 8 MB of text.
var (
	buffers  = sync.Pool{New: func() any { return new(bytes.Buffer) }}
	gzippers = sync.Pool{New: func() any {
		zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
		return zw
	}}
)

// gzipFast compresses p into out at gzip.BestSpeed: half a 10,000-target
// scrape went to promhttp's default level, for a page only about 1.5×
// smaller.
func gzipFast(out *bytes.Buffer, p []byte) {
	zw := gzippers.Get().(*gzip.Writer)
	defer gzippers.Put(zw)
	zw.Reset(out)
	_, _ = zw.Write(p)
	_ = zw.Close()
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		if strings.TrimSpace(strings.SplitN(part, ";", 2)[0]) == "gzip" {
			return true
		}
	}
	return false
}

// bufferedResponse is an http.ResponseWriter that keeps everything in memory.
type bufferedResponse struct {
	header http.Header
	code   int
	body   *bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header         { return b.header }
func (b *bufferedResponse) WriteHeader(code int)        { b.code = code }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }

// ObserveResult records one probe result.
func (e *Exporter) ObserveResult(r probes.Result) {
	e.probe.observe(r)
	if r.Kind == probes.KindLoad {
		e.mu.Lock()
		planned := e.loadKeys[seriesKey{r.Tenant, r.Check}]
		e.mu.Unlock()
		if planned { // a late result of a removed target re-creates nothing
			e.load.observe(r)
		}
	}
}

// SetPlan makes the exported series match the plan: series of tenants or
// checks no longer in it are deleted, so a removed tenant disappears from
// /metrics on reload instead of freezing at its last value.
func (e *Exporter) SetPlan(targets []probes.Target) {
	keep := make(map[seriesKey]bool, len(targets))
	for _, t := range targets {
		keep[seriesKey{t.Tenant, t.Check}] = true
	}
	e.probe.retain(keep)
	e.self.targets.Set(float64(len(targets)))
	loadKeys := map[seriesKey]bool{}
	for _, t := range targets {
		if t.Kind == probes.KindLoad {
			loadKeys[seriesKey{t.Tenant, t.Check}] = true
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.load.setPlan(targets, loadKeys, e.loadKeys)
	e.loadKeys = loadKeys
}

// ObserveLag records how late a run started against its planned time.
func (e *Exporter) ObserveLag(d time.Duration) { e.self.lag.Observe(d.Seconds()) }

// ProbeStarted and ProbeFinished track forewarn_probes_in_flight.
func (e *Exporter) ProbeStarted()  { e.self.inFlight.Inc() }
func (e *Exporter) ProbeFinished() { e.self.inFlight.Dec() }

// RunSkipped counts a run not started, e.g. because the previous run of the
// same job was still going.
func (e *Exporter) RunSkipped(reason string) { e.self.skipped.WithLabelValues(reason).Inc() }

// ConfigReloaded records the outcome of loading checks.yaml.
func (e *Exporter) ConfigReloaded(ok bool, at time.Time) {
	if ok {
		e.self.reloadOK.Set(1)
		e.self.reloadTime.Set(float64(at.UnixNano()) / 1e9)
		return
	}
	e.self.reloadOK.Set(0)
}
