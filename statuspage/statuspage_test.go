package statuspage

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/forewarn/forewarn/cases"
	"github.com/forewarn/forewarn/config"
	"github.com/forewarn/forewarn/probes"
)

// standardFixture: 6 tenants in two regions, one public, with an open
// outage, a resolved degradation, a capacity case and maintenance.
func standardFixture() *fixture {
	f := newFixture(tenantsN(6, 0))
	f.addCase("t-001-open", "t-001", cases.KindOutage, "sign-in", probes.KindLogin, t0.Add(-40*time.Minute), time.Time{},
		"POST https://t-001.saas.example/login: dial tcp 10.0.0.7:443: connection refused")
	f.addCase("t-002-old", "t-002", cases.KindDegraded, "health", probes.KindHTTP, t0.AddDate(0, 0, -10), t0.AddDate(0, 0, -10).Add(time.Hour),
		"slow: 4.2s over max_duration 2s on db-replica-3")
	f.addCase("t-003-cap", "t-003", cases.KindCapacity, "capacity", probes.KindLoad, t0.Add(-11*time.Hour), time.Time{},
		"capacity knee 60 users is below the 130 required")
	f.addCase("pub-000-old", "pub-000", cases.KindOutage, "api", probes.KindHTTP, t0.AddDate(0, 0, -3), t0.AddDate(0, 0, -3).Add(20*time.Minute),
		"GET /api/items: status 500")
	f.maint = []config.Maintenance{
		{Start: t0.Add(24 * time.Hour), End: t0.Add(26 * time.Hour), Reason: "Database upgrade"},
		{Tenant: "t-004", Start: t0.Add(-time.Hour), End: t0.Add(time.Hour), Reason: "Customer 004 Ltd data migration"},
	}
	return f
}

func TestPublicPage(t *testing.T) {
	f := standardFixture()
	s := f.server(t, nil)
	h := s.Handler()
	body := mustGet(t, h, "/")

	for _, want := range []string{
		`<main id="main" class="wrap" data-page="public">`,
		`id="overall"`, `data-component="eu-west/sign-in"`, `data-component="us-east/api"`, `data-component="eu-west/web"`,
		`id="component-eu-west-sign-in"`, `data-tenant="pub-000"`, `Open Corp 000`,
		`<h3 class="region-name">eu-west</h3>`, `id="open-incidents"`, `id="history"`, `id="maintenance"`,
		`Degraded performance for some customers`, `Database upgrade`, `Scheduled maintenance for some customers`,
		`id="last-checked"`, `data-tip="2026-11-23: 100% uptime"`, `<time datetime="2026-11-23T14:30:00Z" data-local>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("public page lacks %q", want)
		}
	}
	// t-001's sign-in outage: one tenant of three in us-east.
	if !strings.Contains(body, `data-component="us-east/sign-in" data-state="partial_outage"`) {
		t.Error("us-east/sign-in is not in partial outage")
	}
	if !strings.Contains(body, `data-component="eu-west/sign-in" data-state="operational"`) {
		t.Error("eu-west/sign-in is not operational")
	}
	if !strings.Contains(body, `id="overall" class="overall" data-state="partial_outage"`) {
		t.Errorf("overall state is not partial outage:\n%s", section(body, "overall"))
	}
	// Every bar has 90 days.
	for _, bars := range regexp.MustCompile(`(?s)<ol class="bars".*?</ol>`).FindAllString(body, -1) {
		if n := strings.Count(bars, "<li "); n != days {
			t.Fatalf("a bar has %d days", n)
		}
	}
	// Open incidents come before the history, and the capacity case is
	// not public by default.
	if strings.Index(body, `id="open-incidents"`) > strings.Index(body, `id="history"`) {
		t.Error("history before open incidents")
	}
	if n := strings.Count(body, `class="incident"`); n != 3 {
		t.Errorf("%d incidents shown, want 3 (open outage, old degradation, public tenant's)", n)
	}
	if !strings.Contains(body, `data-state="open" data-impact="outage"`) {
		t.Error("the open outage is not shown as open")
	}
	// A day with an incident says so in its tooltip.
	if !strings.Contains(body, `data-tip="2026-11-20: 100% uptime, 1 incident"`) {
		t.Error("no tooltip counts the public tenant's incident of 2026-11-20")
	}
}

func section(body, id string) string {
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		return ""
	}
	end := min(len(body), i+600)
	return body[i:end]
}

func TestTenantPage(t *testing.T) {
	f := standardFixture()
	s := f.server(t, nil)
	h := s.Handler()
	body := mustGet(t, h, "/t/"+s.TenantToken("t-003"))
	for _, want := range []string{
		`data-page="tenant" data-tenant="t-003"`, `Customer 003 Ltd`, `id="check-health"`, `data-check="sign-in"`,
		`id="capacity"`, `data-knee="39"`, `data-seats="130"`, `data-trend="falling"`, `class="chart"`,
		`Reduced capacity`, `<meta name="robots" content="noindex, nofollow">`, `data-window="30d"`,
		`<polyline class="line p95"`, `data-quantile="p95"`, `data-check="health" data-state="operational"`,
		`data-check="api" data-state="operational"`, `data-state="degraded" aria-live="polite">`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("tenant page lacks %q", want)
		}
	}
	for _, leak := range []string{"capacity knee 60 users", "internal knee text", "t-003-cap"} {
		if strings.Contains(body, leak) {
			t.Errorf("tenant page shows internal text %q", leak)
		}
	}
	// t-001's page shows its open outage on its sign-in check.
	body = mustGet(t, h, "/t/"+s.TenantToken("t-001"))
	if !strings.Contains(body, `data-check="sign-in" data-state="major_outage"`) || !strings.Contains(body, "Service disruption") {
		t.Errorf("t-001's sign-in outage is not on its page:\n%s", section(body, "checks"))
	}
	if strings.Contains(body, "connection refused") {
		t.Error("the probe's error text is on the tenant page")
	}
	// t-004 sees its own maintenance with its reason.
	body = mustGet(t, h, "/t/"+s.TenantToken("t-004"))
	if !strings.Contains(body, "Customer 004 Ltd data migration") || !strings.Contains(body, `data-state="in_progress"`) {
		t.Error("t-004's maintenance window is not on its page")
	}
}

func TestJSONMatchesSchema(t *testing.T) {
	f := standardFixture()
	s := f.server(t, nil)
	h := s.Handler()
	sch := compileSchemas(t)
	validate(t, sch["status"], mustGet(t, h, "/api/v1/status"))
	validate(t, sch["tenant-status"], mustGet(t, h, "/api/v1/tenants/"+s.TenantToken("t-001")+"/status"))

	var st apiStatus
	if err := json.Unmarshal([]byte(mustGet(t, h, "/api/v1/status")), &st); err != nil {
		t.Fatal(err)
	}
	if st.Status.State != StatePartialOutage || len(st.Components) != 6 || len(st.Tenants) != 1 || st.Tenants[0].ID != "pub-000" {
		t.Errorf("status %+v, %d components, tenants %+v", st.Status, len(st.Components), st.Tenants)
	}
	if len(st.Incidents) == 0 || st.Incidents[0].State != "open" {
		t.Errorf("incidents %+v", st.Incidents)
	}
	// The schema documents the routes: both are served.
	for _, p := range []string{"/api/v1/schema/status.schema.json", "/api/v1/schema/tenant-status.schema.json"} {
		mustGet(t, h, p)
	}
}

func TestHeaders(t *testing.T) {
	f := standardFixture()
	s := f.server(t, nil)
	h := s.Handler()
	tok := s.TenantToken("t-001")
	for path, cache := range map[string]string{
		"/": "public, max-age=5", "/api/v1/status": "public, max-age=5", "/feed.atom": "public, max-age=5",
		"/badge/status.svg": "public, max-age=5", "/badge/pub-000/uptime-30d.svg": "public, max-age=5",
		"/t/" + tok: "private, max-age=5", "/t/" + tok + "/feed.atom": "private, max-age=5",
		"/t/" + tok + "/badge/uptime-30d.svg": "private, max-age=5", "/api/v1/tenants/" + tok + "/status": "private, max-age=5",
		"/static/style.css": "public, max-age=31536000, immutable", "/nope": "no-store", "/t/wrong": "no-store",
	} {
		r := get(t, h, path)
		for _, k := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options"} {
			if r.header.Get(k) == "" {
				t.Errorf("%s: no %s", path, k)
			}
		}
		if got := r.header.Get("Cache-Control"); got != cache {
			t.Errorf("%s: Cache-Control %q, want %q", path, got, cache)
		}
		if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: headers %v", path, r.header)
		}
	}
	csp := get(t, h, "/").header.Get("Content-Security-Policy")
	if strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
	// The page has no inline script or style for the CSP to block.
	body := mustGet(t, h, "/")
	if regexp.MustCompile(`<script>|<script [^>]*>[^<]|<style|style="| on[a-z]+="`).MatchString(body) {
		t.Error("the page has inline script or style")
	}
}

func TestGzipAndETag(t *testing.T) {
	f := standardFixture()
	h := f.server(t, nil).Handler()
	plain := get(t, h, "/")
	z := get(t, h, "/", "Accept-Encoding", "br, gzip;q=0.8")
	if z.header.Get("Content-Encoding") != "gzip" {
		t.Fatal("not gzipped")
	}
	zr, err := gzip.NewReader(strings.NewReader(z.body))
	if err != nil {
		t.Fatal(err)
	}
	unz, _ := io.ReadAll(zr)
	if !bytes.Equal(unz, []byte(plain.body)) {
		t.Error("gzipped body differs")
	}
	if get(t, h, "/", "Accept-Encoding", "gzip;q=0").header.Get("Content-Encoding") != "" {
		t.Error("gzip;q=0 got gzip")
	}
	if r := get(t, h, "/", "If-None-Match", plain.header.Get("ETag")); r.code != http.StatusNotModified || r.body != "" {
		t.Errorf("If-None-Match: %d", r.code)
	}
}

func TestFeedAndBadges(t *testing.T) {
	f := standardFixture()
	s := f.server(t, nil)
	h := s.Handler()
	feed := mustGet(t, h, "/feed.atom")
	if !strings.HasPrefix(feed, `<?xml version="1.0" encoding="UTF-8"?>`) || strings.Count(feed, "<entry>") != 3 {
		t.Errorf("public feed:\n%s", feed)
	}
	var parsed atomFeed
	if err := xmlUnmarshal(feed, &parsed); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(parsed.Entries[0].ID, "urn:uuid:") {
		t.Errorf("entry id %q", parsed.Entries[0].ID)
	}
	tfeed := mustGet(t, h, "/t/"+s.TenantToken("t-003")+"/feed.atom")
	if !strings.Contains(tfeed, "Reduced capacity") {
		t.Errorf("t-003's feed lacks its capacity case:\n%s", tfeed)
	}
	for _, p := range []string{"/badge/status.svg", "/badge/uptime-7d.svg", "/badge/uptime-30d.svg", "/badge/uptime-90d.svg",
		"/badge/pub-000/status.svg", "/t/" + s.TenantToken("t-002") + "/badge/uptime-90d.svg"} {
		r := get(t, h, p)
		if r.code != 200 || r.header.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(r.body, "<svg ") {
			t.Errorf("%s: %d %s", p, r.code, r.body)
		}
	}
	if b := mustGet(t, h, "/badge/status.svg"); !strings.Contains(b, "partial outage") {
		t.Errorf("status badge: %s", b)
	}
	if b := mustGet(t, h, "/badge/uptime-90d.svg"); !strings.Contains(b, "uptime 90d: 99.") {
		t.Errorf("uptime badge: %s", b)
	}
}

func TestCacheHitsStoreOncePerTTL(t *testing.T) {
	f := standardFixture()
	s := f.server(t, nil)
	h := s.Handler()
	tok := s.TenantToken("t-001")
	mustGet(t, h, "/")
	mustGet(t, h, "/t/"+tok)
	first := f.st.reads()
	for range 200 {
		for _, p := range []string{"/", "/api/v1/status", "/feed.atom", "/badge/status.svg", "/t/" + tok, "/api/v1/tenants/" + tok + "/status"} {
			mustGet(t, h, p)
		}
	}
	if got := f.st.reads(); got != first {
		t.Fatalf("the store was read %d more times within the TTL", got-first)
	}
	// Past the TTL one request starts a rebuild and is served the last
	// page meanwhile; the rebuild reads today only, not 90 days again: its
	// daily rollups, and the current hour, which t-004's maintenance takes
	// out (its finished hours are kept).
	days := f.st.count("SeriesRollups")
	f.clock.Add(6 * time.Second)
	mustGet(t, h, "/")
	s.Close() // wait for the build
	if got := f.st.count("SeriesRollups") - days; got != 2 {
		t.Errorf("a rebuild made %d rollup reads, want 2 (today, and the current hour of a window)", got)
	}
}

func TestStoreDownServesLastPage(t *testing.T) {
	f := standardFixture()
	s := f.server(t, nil)
	h := s.Handler()
	before := mustGet(t, h, "/")
	f.st.mu.Lock()
	f.st.fail = io.ErrUnexpectedEOF
	f.st.mu.Unlock()
	f.clock.Add(time.Minute)
	mustGet(t, h, "/")
	s.Close()
	if after := mustGet(t, h, "/"); after != before {
		t.Error("a failed rebuild changed the page")
	}
	// Without any page yet, a failing store is a 503.
	s2 := f.server(t, nil)
	if r := get(t, s2.Handler(), "/"); r.code != http.StatusServiceUnavailable {
		t.Errorf("no page and no store: %d", r.code)
	}
}

func TestEmptyStore(t *testing.T) {
	f := &fixture{now: t0, clock: &fakeClock{t: t0}, st: newFakeStore(), tenants: tenantsN(3)}
	s := f.server(t, nil)
	h := s.Handler()
	body := mustGet(t, h, "/")
	if !strings.Contains(body, "No checks have run yet") || !strings.Contains(body, `data-state="unknown"`) {
		t.Errorf("empty page:\n%s", body)
	}
	mustGet(t, h, "/t/"+s.TenantToken("t-001"))
	validate(t, compileSchemas(t)["status"], mustGet(t, h, "/api/v1/status"))
}

func TestLocalTimeScriptIsOptional(t *testing.T) {
	f := standardFixture()
	h := f.server(t, nil).Handler()
	body := mustGet(t, h, "/")
	js := regexp.MustCompile(`<script src="(/static/local\.js\?v=[0-9a-f]+)" defer></script>`).FindStringSubmatch(body)
	if js == nil {
		t.Fatal("no local-time script")
	}
	if r := get(t, h, js[1]); r.code != 200 || !strings.Contains(r.header.Get("Content-Type"), "javascript") {
		t.Errorf("script: %d", r.code)
	}
	// Without it, times still read in UTC, with their age.
	if !strings.Contains(body, `data-local>2026-11-23 13:50 UTC</time> <span class="ago">(40 min ago)</span>`) {
		t.Error("the open incident's start is not in UTC with its age")
	}
}

// TestServingAllocates little: a request to a built page costs a few
// allocations, not a new router (the monitor asks for Handler per request).
func TestServingAllocatesLittle(t *testing.T) {
	f := standardFixture()
	s := f.server(t, nil)
	mustGet(t, s.Handler(), "/")
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	allocs := testing.AllocsPerRun(200, func() {
		s.Handler().ServeHTTP(httptest.NewRecorder(), req)
	})
	if allocs > 40 {
		t.Errorf("serving / allocates %.0f times a request, want at most 40", allocs)
	}
	t.Logf("%.0f allocations a request", allocs)
}

// stuckWriter is a reader that takes no bytes: its Write blocks.
type stuckWriter struct {
	h       http.Header
	release chan struct{}
}

func (w *stuckWriter) Header() http.Header { return w.h }
func (w *stuckWriter) WriteHeader(int)     {}
func (w *stuckWriter) Write(b []byte) (int, error) {
	<-w.release
	return len(b), nil
}

// TestSlowReaderDoesNotHoldThePages: responses are written a few at a
// time, but readers that take no bytes hold no one up past sendWait.
func TestSlowReaderDoesNotHoldThePages(t *testing.T) {
	f := standardFixture()
	s := f.server(t, nil)
	h := s.Handler()
	mustGet(t, h, "/")
	release := make(chan struct{})
	defer close(release)
	for range cap(s.sending) + 2 {
		go h.ServeHTTP(&stuckWriter{h: http.Header{}, release: release}, httptest.NewRequest(http.MethodGet, "/", nil))
	}
	time.Sleep(50 * time.Millisecond) // they hold every turn
	start := time.Now()
	if body := mustGet(t, h, "/"); !strings.Contains(body, `id="overall"`) {
		t.Fatal("no page")
	}
	if d := time.Since(start); d > sendWait+time.Second {
		t.Errorf("a page took %s behind readers that take nothing, want about %s", d, sendWait)
	}
}

// recordingWriter notes each Write's size and the events between them.
type recordingWriter struct {
	h      http.Header
	events []string
}

func (w *recordingWriter) Header() http.Header { return w.h }
func (w *recordingWriter) WriteHeader(int)     {}
func (w *recordingWriter) Write(b []byte) (int, error) {
	w.events = append(w.events, fmt.Sprintf("write %d", len(b)))
	return len(b), nil
}

// TestTurnEndsAfterFirstChunk: a large body gives its turn back after the
// bytes a socket takes at once, before the rest, which waits on the reader.
func TestTurnEndsAfterFirstChunk(t *testing.T) {
	body := []byte(strings.Repeat("x", 40<<10))
	resp := &response{status: http.StatusOK, contentType: "text/plain", body: body, etag: `"e"`}
	w := &recordingWriter{h: http.Header{}}
	resp.write(w, httptest.NewRequest(http.MethodGet, "/", nil), func() { w.events = append(w.events, "turn ends") })
	want := []string{fmt.Sprintf("write %d", sendChunk), "turn ends", fmt.Sprintf("write %d", len(body)-sendChunk)}
	if !slices.Equal(w.events, want) {
		t.Errorf("events %q, want %q", w.events, want)
	}
	w = &recordingWriter{h: http.Header{}}
	resp.body = body[:100]
	resp.write(w, httptest.NewRequest(http.MethodGet, "/", nil), func() { w.events = append(w.events, "turn ends") })
	if want := []string{"write 100", "turn ends"}; !slices.Equal(w.events, want) {
		t.Errorf("small body: events %q, want %q", w.events, want)
	}
}
