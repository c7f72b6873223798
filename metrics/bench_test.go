package metrics

import (
	"fmt"
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/forewarn/forewarn/probes"
)

// fleet is an exporter holding results of n tenants × 1 check, as in the
// 10,000-tenant fleet benchmark.
func fleet(n int) *Exporter {
	e := New(BuildInfo{Version: "bench"})
	targets := make([]probes.Target, n)
	for i := range targets {
		targets[i] = probes.Target{Tenant: fmt.Sprintf("tenant-%05d", i), Check: "health", Kind: probes.KindHTTP}
	}
	e.SetPlan(targets)
	for i, t := range targets {
		r := result(t)
		// Real values have every digit: nanosecond durations, timestamps
		// to the nanosecond. Formatting them is much of a scrape's cost.
		jitter := time.Duration(i*7919%100000) * time.Nanosecond
		r.Start = r.Start.Add(jitter)
		r.Duration += jitter
		r.Phases.Connect += jitter / 3
		r.Phases.Processing += jitter / 2
		r.Phases.Transfer += jitter / 5
		e.ObserveResult(r)
	}
	return e
}

func result(t probes.Target) probes.Result {
	return probes.Result{
		Tenant: t.Tenant, Check: t.Check, Kind: t.Kind, Start: time.Now(), Duration: 3 * time.Millisecond,
		Success: true, StatusCode: 200,
		Phases: probes.Phases{Connect: 200 * time.Microsecond, Processing: 2 * time.Millisecond, Transfer: 100 * time.Microsecond},
	}
}

// BenchmarkScrape10k serves /metrics for 10,000 targets the way Prometheus
// asks for it (gzip).
func BenchmarkScrape10k(b *testing.B) {
	e := fleet(10000)
	h := e.Handler()
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest("GET", "/metrics", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
		io.Copy(io.Discard, rec.Body)
	}
}

// BenchmarkObserve records one result into a 10,000-target exporter.
func BenchmarkObserve(b *testing.B) {
	e := fleet(10000)
	r := result(probes.Target{Tenant: "tenant-05000", Check: "health", Kind: probes.KindHTTP})
	b.ReportAllocs()
	for b.Loop() {
		e.ObserveResult(r)
	}
}
