package metrics

import (
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forewarn/forewarn/cases"
	"github.com/forewarn/forewarn/probes"
)

var update = flag.Bool("update", false, "rewrite testdata/catalogue.golden")

// fullExporter observes one result of every shape, so that every metric
// forewarn can export has a series.
func fullExporter(t *testing.T) *Exporter {
	t.Helper()
	e := New(BuildInfo{Version: "test", Revision: "abc"})
	now := time.Unix(1_800_000_000, 0)
	e.ObserveResult(probes.Result{
		Tenant: "acme", Check: "tls", Kind: probes.KindHTTP, Start: now, Duration: 120 * time.Millisecond,
		Success: true, StatusCode: 200, TLS: true, CertExpiry: now.Add(90 * 24 * time.Hour),
		Phases: probes.Phases{Connect: time.Millisecond, TLS: 2 * time.Millisecond, Processing: 3 * time.Millisecond},
	})
	e.ObserveResult(probes.Result{
		Tenant: "globex", Check: "health", Kind: probes.KindHTTP, Start: now,
		Reason: probes.ReasonConnect, Message: "connection refused",
	})
	e.ObserveResult(probes.Result{
		Tenant: "acme", Check: "sign-in", Kind: probes.KindLogin, Start: now, Reason: probes.ReasonExtraction,
		StatusCode: 200, StepsCompleted: 1,
		Steps: []probes.StepResult{
			{Name: "login-page", Ran: true, Success: true, StatusCode: 200, Duration: 4 * time.Millisecond},
			{Name: "submit", Ran: true, Reason: probes.ReasonExtraction, StatusCode: 200, Duration: 2 * time.Millisecond},
			{Name: "sign-out"},
		},
	})
	load := probes.Target{Tenant: "acme", Check: "capacity", Kind: probes.KindLoad, Load: &probes.LoadSpec{
		SLO: probes.SLO{P95: 500 * time.Millisecond, ErrorRatio: 0.01}, Required: 500, Seats: 500,
		Ramp: probes.Ramp{Start: 50, Step: 50, Max: 600, StepDuration: 30 * time.Second, WarmUp: 5 * time.Second},
	}}
	e.CaseOpened("outage")
	e.SetOpenCases([]cases.Case{{ID: "acme-1", Tenant: cases.Tenant{ID: "acme"}, Status: cases.StatusOpen,
		Kind: cases.KindOutage, Severity: cases.SeverityCritical}})
	e.QueueDepth("slack", 2)
	e.Failure("slack", "rate_limited")
	e.Delivered("slack", 1500*time.Millisecond)
	e.StoreWrite(500, 3*time.Millisecond, nil)
	e.StoreWrite(500, 0, errors.New("disk full"))
	e.StoreDropped(1)
	e.ObserveLag(3 * time.Millisecond)
	e.RunSkipped(SkipOverlap)
	e.ConfigReloaded(true, now)
	e.SetPlan([]probes.Target{{Tenant: "acme", Check: "tls"}, {Tenant: "globex", Check: "health"}, {Tenant: "acme", Check: "sign-in"}, load})
	e.SetSeats(map[string]int{"acme": 500, "globex": 250, "initech": 0})
	lo := e.LoadOptions(load)
	lo.OnRequest(12*time.Millisecond, true)
	lo.OnRequest(900*time.Millisecond, false)
	lo.Progress(probes.LoadProgress{Users: 150, Phase: "measure", Elapsed: 15 * time.Second, StepTime: 30 * time.Second, Requests: 1000, Errors: 3})
	e.ObserveResult(probes.Result{
		Tenant: "acme", Check: "capacity", Kind: probes.KindLoad, Start: now, Duration: 4 * time.Minute,
		Reason: probes.ReasonCapacity, Load: &probes.LoadResult{
			Steps: []probes.LoadStep{{Users: 150, Passed: true}, {Users: 200}, {Users: 200, Confirm: true}},
			Knee:  probes.Knee{Users: 150, BreakAt: 200},
		},
	})
	return e
}

// TestCatalogue keeps testdata/catalogue.golden, the list of every metric
// name, type and label set forewarn exports, true. Dashboards and alert
// rules are checked against this file, so a rename shows up in review.
func TestCatalogue(t *testing.T) {
	e := fullExporter(t)
	mfs, err := e.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	seen := map[string]bool{}
	for _, mf := range mfs {
		name := mf.GetName()
		if seen[name] {
			t.Errorf("family %s gathered twice: the registry and the probe store both export it", name)
		}
		seen[name] = true
		if strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") {
			continue // the runtime's own; they vary by Go version and platform
		}
		labels := map[string]bool{}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = true
			}
		}
		names := make([]string, 0, len(labels))
		for l := range labels {
			names = append(names, l)
		}
		sort.Strings(names)
		lines = append(lines, fmt.Sprintf("%s %s {%s}", name, strings.ToLower(mf.GetType().String()), strings.Join(names, ",")))
	}
	sort.Strings(lines)
	got := strings.Join(lines, "\n") + "\n"
	const golden = "testdata/catalogue.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./metrics -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("metric catalogue changed; if intended, run go test ./metrics -update and review the diff.\ngot:\n%s\nwant:\n%s", got, want)
	}
}

func TestFailureSetsReasonAndZeroSuccess(t *testing.T) {
	body := scrape(t, fullExporter(t))
	for _, want := range []string{
		`probe_success{check="health",kind="http",tenant="globex"} 0`,
		`probe_failures_total{check="health",kind="http",reason="connect",tenant="globex"} 1`,
		`probe_http_status_code{check="health",kind="http",tenant="globex"} 0`,
		`probe_success{check="tls",kind="http",tenant="acme"} 1`,
		`probe_http_duration_seconds{check="tls",kind="http",phase="tls",tenant="acme"} 0.002`,
		`probe_ssl_earliest_cert_expiry{check="tls",kind="http",tenant="acme"} 1.807776e+09`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("scrape lacks %s\n%s", want, grep(body, "probe_"))
		}
	}
}

// Every family comes out sorted by label values, so the exposition is
// stable and the registry's sort is cheap.
func TestScrapeIsSorted(t *testing.T) {
	e := New(BuildInfo{})
	for _, tenant := range []string{"zeta", "acme", "mid"} {
		for _, check := range []string{"web", "api"} {
			e.ObserveResult(probes.Result{Tenant: tenant, Check: check, Kind: probes.KindHTTP, Reason: probes.ReasonStatus})
			e.ObserveResult(probes.Result{Tenant: tenant, Check: check, Kind: probes.KindHTTP, Reason: probes.ReasonTimeout})
		}
		e.ObserveResult(probes.Result{Tenant: tenant, Check: "sign-in", Kind: probes.KindLogin, Success: true,
			Steps: []probes.StepResult{{Name: "submit", Ran: true}, {Name: "login-page", Ran: true}, {Name: "me", Ran: true}}})
	}
	mfs, done := e.probe.gatherTx()
	defer done()
	for _, mf := range mfs {
		var prev string
		for _, m := range mf.GetMetric() {
			var key []string
			for _, lp := range m.GetLabel() {
				key = append(key, lp.GetValue())
			}
			k := strings.Join(key, "\x00")
			if k < prev {
				t.Errorf("%s: %q after %q", mf.GetName(), k, prev)
			}
			prev = k
		}
	}
}

func TestSetPlanDeletesRemovedTargets(t *testing.T) {
	e := fullExporter(t)
	e.SetPlan([]probes.Target{{Tenant: "acme", Check: "tls"}})
	e.SetSeats(map[string]int{"acme": 500}) // globex left the config
	body := scrape(t, e)
	if strings.Contains(body, `tenant="globex"`) {
		t.Errorf("series of a removed tenant still exported:\n%s", grep(body, "globex"))
	}
	if !strings.Contains(body, `probe_success{check="tls",kind="http",tenant="acme"} 1`) {
		t.Errorf("series of a kept tenant lost:\n%s", grep(body, "probe_success"))
	}
	if !strings.Contains(body, "forewarn_plan_targets 1") {
		t.Errorf("forewarn_plan_targets not updated:\n%s", grep(body, "forewarn_plan"))
	}
}

func TestCertExpiryOnlyWhenTLSUsed(t *testing.T) {
	e := fullExporter(t)
	body := scrape(t, e)
	if got := strings.Count(body, "probe_ssl_earliest_cert_expiry{"); got != 1 {
		t.Errorf("probe_ssl_earliest_cert_expiry series = %d, want 1 (only the TLS check):\n%s", got, grep(body, "ssl"))
	}
}

func scrape(t *testing.T, e *Exporter) string {
	t.Helper()
	rec := httptest.NewRecorder()
	e.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/metrics: %d", rec.Code)
	}
	return rec.Body.String()
}

func grep(body, s string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestResultOfRemovedTargetIsDropped(t *testing.T) {
	e := fullExporter(t)
	e.SetPlan([]probes.Target{{Tenant: "acme", Check: "tls"}})
	e.SetSeats(map[string]int{"acme": 500}) // globex left the config
	// A probe of globex that was in flight during the reload finishes now.
	e.ObserveResult(probes.Result{Tenant: "globex", Check: "health", Kind: probes.KindHTTP, Success: true})
	if body := scrape(t, e); strings.Contains(body, `tenant="globex"`) {
		t.Errorf("a late result re-created series of a removed target:\n%s", grep(body, "globex"))
	}
}

// Scrapes reuse their dto objects, so concurrent scrapes, results and
// reloads must not race (run with -race) and every scrape must be whole.
func TestConcurrentScrapesObservesAndReloads(t *testing.T) {
	e := fleet(200)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				r := result(probes.Target{Tenant: fmt.Sprintf("tenant-%05d", (n*7+i)%200), Check: "health", Kind: probes.KindHTTP})
				r.Success, r.Reason = n%2 == 0, probes.ReasonTimeout
				e.ObserveResult(r)
				if n%500 == 0 {
					e.SetPlan(planOf(200 - n%3))
				}
			}
		}()
	}
	for range 20 {
		var inner sync.WaitGroup
		for range 3 {
			inner.Add(1)
			go func() {
				defer inner.Done()
				if body := scrape(t, e); !strings.Contains(body, "probe_success{") {
					t.Error("a scrape lost the probe families")
				}
			}()
		}
		inner.Wait()
	}
	close(stop)
	wg.Wait()
}

func planOf(n int) []probes.Target {
	ts := make([]probes.Target, n)
	for i := range ts {
		ts[i] = probes.Target{Tenant: fmt.Sprintf("tenant-%05d", i), Check: "health", Kind: probes.KindHTTP}
	}
	return ts
}

// A scraper that stops reading must not block the next scrape.
func TestStalledScraperDoesNotBlockOthers(t *testing.T) {
	e := fleet(10000) // 8 MB uncompressed: more than socket buffers hold
	srv := httptest.NewServer(e.Handler())
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Ask for the page uncompressed and never read the answer.
	fmt.Fprintf(conn, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
	time.Sleep(200 * time.Millisecond)
	done := make(chan error, 1)
	go func() {
		resp, err := http.Get(srv.URL + "/metrics")
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a second scrape hung behind a scraper that stopped reading")
	}
}

func TestCertExpiryGoesWhenCheckStopsUsingTLS(t *testing.T) {
	e := fullExporter(t)
	e.ObserveResult(probes.Result{Tenant: "acme", Check: "tls", Kind: probes.KindHTTP, Success: true, StatusCode: 200})
	if body := scrape(t, e); strings.Contains(body, "probe_ssl_earliest_cert_expiry{") {
		t.Errorf("certificate expiry kept after the check answered without TLS:\n%s", grep(body, "ssl"))
	}
}

func TestLoginStepSeries(t *testing.T) {
	body := scrape(t, fullExporter(t))
	for _, want := range []string{
		`probe_step_success{check="sign-in",kind="login",step="login-page",tenant="acme"} 1`,
		`probe_step_success{check="sign-in",kind="login",step="submit",tenant="acme"} 0`,
		`probe_step_success{check="sign-in",kind="login",step="sign-out",tenant="acme"} 0`,
		`probe_step_duration_seconds{check="sign-in",kind="login",step="login-page",tenant="acme"} 0.004`,
		`probe_step_http_status_code{check="sign-in",kind="login",step="submit",tenant="acme"} 200`,
		`probe_steps_completed{check="sign-in",kind="login",tenant="acme"} 1`,
		`probe_failures_total{check="sign-in",kind="login",reason="extraction",tenant="acme"} 1`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("scrape lacks %s\n%s", want, grep(body, "sign-in"))
		}
	}
	if strings.Contains(body, `probe_steps_completed{check="health"`) {
		t.Error("probe_steps_completed exported for an http check")
	}
}

// A step renamed by a reload stops being exported under its old name.
func TestRemovedStepSeriesDisappear(t *testing.T) {
	e := fullExporter(t)
	e.ObserveResult(probes.Result{Tenant: "acme", Check: "sign-in", Kind: probes.KindLogin, Success: true, StepsCompleted: 2,
		Steps: []probes.StepResult{{Name: "login-page", Ran: true, Success: true}, {Name: "post-form", Ran: true, Success: true}}})
	body := scrape(t, e)
	if strings.Contains(body, `step="submit"`) || strings.Contains(body, `step="sign-out"`) {
		t.Errorf("series of steps no longer configured still exported:\n%s", grep(body, "probe_step_success"))
	}
	if !strings.Contains(body, `probe_step_success{check="sign-in",kind="login",step="post-form",tenant="acme"} 1`) {
		t.Errorf("new step not exported:\n%s", grep(body, "probe_step_success"))
	}
}

// Prometheus asks for gzip: the page it gets decodes to the plain one.
func TestGzipScrapeDecodesToPlainPage(t *testing.T) {
	e := fullExporter(t)
	plain := scrape(t, e)
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept-Encoding", "gzip, deflate")
	rec := httptest.NewRecorder()
	e.Handler().ServeHTTP(rec, req)
	if rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding = %q, want gzip", rec.Header().Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	// Scrape counters of promhttp itself differ between two scrapes.
	strip := func(s string) string { return grep(s, "probe_") }
	if strip(string(got)) != strip(plain) {
		t.Errorf("gzip page differs from the plain one:\n%s\n---\n%s", strip(string(got)), strip(plain))
	}
}
