package statuspage

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forewarn/forewarn/config"
	"github.com/forewarn/forewarn/internal/benchfleet"
)

// The benchmarks serve a fleet of 10,000 tenants (FOREWARN_STATUSPAGE_BENCH_TENANTS)
// with 90 days of rollups in SQLite, written through store.Record as
// forewarn run writes them (internal/benchfleet, shared with the
// bench/statuspage driver). Filling takes about 3 minutes; set
// FOREWARN_STATUSPAGE_BENCH_DB to a path to keep the database between runs.
//
//	go test -run '^$' -bench PublicPage -benchtime 20s ./statuspage/
var benchNow = time.Date(2026, 11, 23, 14, 30, 0, 0, time.UTC)

type benchSetup struct {
	srv     *Server
	ts      *httptest.Server
	tenants []config.Tenant
	cold    time.Duration
}

var (
	benchOnce sync.Once
	bench     *benchSetup
)

func setupBench(b *testing.B) *benchSetup {
	benchOnce.Do(func() {
		n := 10000
		if v, err := strconv.Atoi(os.Getenv("FOREWARN_STATUSPAGE_BENCH_TENANTS")); err == nil && v > 0 {
			n = v
		}
		f := benchfleet.Fleet{Tenants: n, Days: 90, Now: benchNow}
		st := benchStore(benchTB{b}, f)
		tenants, checks := f.TenantConfigs(), f.CheckConfigs()
		started := time.Now()
		s, err := New(Options{Store: st, Tenants: func() []config.Tenant { return tenants },
			Checks: func() []config.Check { return checks }, Secret: []byte("bench secret of thirty-two bytes"),
			Clock: func() time.Time { return benchNow.Add(time.Since(started)) }, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		t := time.Now()
		if _, err := s.publicModel(context.Background()); err != nil {
			b.Fatal(err)
		}
		bench = &benchSetup{srv: s, ts: httptest.NewServer(s.Handler()), tenants: tenants, cold: time.Since(t)}
	})
	if bench == nil {
		b.Fatal("setup failed")
	}
	return bench
}

// benchTB keeps the store open past the first benchmark: its cleanup
// would close it when that benchmark ends.
type benchTB struct{ *testing.B }

func (benchTB) Cleanup(func()) {}

func (b benchTB) TempDir() string {
	d, err := os.MkdirTemp("", "statuspage-bench")
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// load sends n GETs over conns connections, as browsers do (gzip, kept
// alive), and returns the latencies.
func load(b *testing.B, conns, n int, path func(i int) string) []time.Duration {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				req, _ := http.NewRequest(http.MethodGet, bench.ts.URL+path(i), nil)
				req.Header.Set("Accept-Encoding", "gzip")
				t := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				lat[i] = time.Since(t)
				if err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d requests failed", f, n)
	}
	return lat
}

func report(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	q := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(len(lat))/b.Elapsed().Seconds(), "req/s")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkPublicPage: b.N requests for / over 200 connections, while the
// model is rebuilt every 5 s in the background. cold-build-s is the first
// build: 90 days of rollups read from SQLite.
func BenchmarkPublicPage(b *testing.B) {
	s := setupBench(b)
	b.ResetTimer()
	report(b, load(b, 200, b.N, func(int) string { return "/" }))
	b.ReportMetric(s.cold.Seconds(), "cold-build-s")
}

// BenchmarkPublicJSON is BenchmarkPublicPage for /api/v1/status.
func BenchmarkPublicJSON(b *testing.B) {
	setupBench(b)
	b.ResetTimer()
	report(b, load(b, 200, b.N, func(int) string { return "/api/v1/status" }))
}

// BenchmarkTenantPages: 200 connections open the private pages of 1,000
// tenants at random: the crowd of an outage. Each page is built on its
// first request and at most every 5 s after.
func BenchmarkTenantPages(b *testing.B) {
	s := setupBench(b)
	paths := make([]string, min(1000, len(s.tenants)))
	for i := range paths {
		paths[i] = "/t/" + s.srv.TenantToken(s.tenants[i*len(s.tenants)/len(paths)].ID)
	}
	b.ResetTimer()
	report(b, load(b, 200, b.N, func(int) string { return paths[rand.IntN(len(paths))] }))
}

// BenchmarkPublicPageWrk measures / with wrk (a C load generator, so the
// client does not take the server's CPU as Go's does): 200 connections,
// 20 s (FOREWARN_STATUSPAGE_WRK_DURATION). It runs once, whatever b.N.
func BenchmarkPublicPageWrk(b *testing.B) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		b.Skip("wrk not installed (apt-get install wrk)")
	}
	s := setupBench(b)
	d := os.Getenv("FOREWARN_STATUSPAGE_WRK_DURATION")
	if d == "" {
		d = "20s"
	}
	b.ResetTimer()
	out, err := exec.Command(wrk, "-t2", "-c200", "-d"+d, "--latency", "-H", "Accept-Encoding: gzip", s.ts.URL+"/").CombinedOutput()
	if err != nil {
		b.Fatalf("wrk: %v\n%s", err, out)
	}
	b.StopTimer()
	b.Logf("wrk:\n%s", out)
	for name, re := range map[string]string{"p50-ms": `50%\s+([\d.]+)(us|ms|s)`, "p99-ms": `99%\s+([\d.]+)(us|ms|s)`} {
		if m := regexp.MustCompile(re).FindSubmatch(out); m != nil {
			v, _ := strconv.ParseFloat(string(m[1]), 64)
			switch string(m[2]) {
			case "us":
				v /= 1000
			case "s":
				v *= 1000
			}
			b.ReportMetric(v, name)
		}
	}
	if m := regexp.MustCompile(`Requests/sec:\s+([\d.]+)`).FindSubmatch(out); m != nil {
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		b.ReportMetric(v, "req/s")
	}
	b.ReportMetric(0, "ns/op")
}
