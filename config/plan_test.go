package config

import (
	"bytes"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/forewarn/forewarn/probes"
)

func loadGood(t *testing.T) *Config {
	t.Helper()
	cfg, err := LoadWith("testdata/good/checks.yaml", testOptions())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestPlan(t *testing.T) {
	cfg := loadGood(t)
	type row struct {
		key               string
		interval, timeout time.Duration
		schedule          string
	}
	// Check order first, then tenant order; initech's health is disabled,
	// api selects eu-west enterprise/business (acme only), nightly selects
	// tier gold, mars selects nobody.
	want := []row{
		{"acme/health", 30 * time.Second, 5 * time.Second, ""},
		{"globex/health", 10 * time.Second, 5 * time.Second, ""}, // override interval
		{"acme/api", time.Minute, 10 * time.Second, ""},          // defaults
		{"acme/nightly", 0, 10 * time.Second, "0 3 * * *"},       // scheduled: defaults.timeout
		{"acme/fast", 5 * time.Second, 5 * time.Second, ""},      // inherited timeout capped
		{"globex/fast", 5 * time.Second, 5 * time.Second, ""},
		{"initech/fast", 5 * time.Second, 5 * time.Second, ""},
	}
	var got []row
	for _, tg := range cfg.Targets {
		got = append(got, row{tg.Key(), tg.Interval, tg.Timeout, tg.Schedule})
		if tg.Kind != probes.KindHTTP || tg.HTTP == nil {
			t.Errorf("%s: kind %q, HTTP %v", tg.Key(), tg.Kind, tg.HTTP)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("targets:\ngot  %v\nwant %v", got, want)
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], "checks[4].name: check selects no tenant") {
		t.Errorf("warnings = %q", cfg.Warnings)
	}
}

func TestPlanTopLevel(t *testing.T) {
	cfg := loadGood(t)
	if cfg.Listen != "127.0.0.1:9090" || cfg.File != "testdata/good/checks.yaml" {
		t.Errorf("listen %q, file %q", cfg.Listen, cfg.File)
	}
	wantDefaults := Defaults{Interval: time.Minute, Timeout: 10 * time.Second, BodyLimit: 512 << 10, MaxRedirects: 5}
	if cfg.Defaults != wantDefaults {
		t.Errorf("defaults = %+v, want %+v", cfg.Defaults, wantDefaults)
	}
	acme := cfg.Tenants[0]
	if acme.Name != "Acme Corp" || acme.URL != "http://127.0.0.1:8081/t/acme" || acme.Seats != 500 ||
		acme.Labels["tier"] != "gold" || acme.SlackChannel != "#support-acme" || acme.Public {
		t.Errorf("acme = %+v", acme)
	}
	if globex := cfg.Tenants[1]; globex.Name != "globex" || !globex.Public {
		t.Errorf("globex = %+v (name defaults to id)", globex)
	}
	var names []string
	for _, c := range cfg.Checks {
		names = append(names, c.Name+":"+strings.Join(c.Tenants, ","))
	}
	want := []string{"health:acme,globex", "api:acme", "nightly:acme", "fast:acme,globex,initech", "mars:"}
	if !slices.Equal(names, want) {
		t.Errorf("checks = %q, want %q", names, want)
	}
}

func target(t *testing.T, cfg *Config, key string) probes.Target {
	t.Helper()
	for _, tg := range cfg.Targets {
		if tg.Key() == key {
			return tg
		}
	}
	t.Fatalf("no target %s", key)
	return probes.Target{}
}

func TestPlanHTTPSpec(t *testing.T) {
	cfg := loadGood(t)
	api := target(t, cfg, "acme/api").HTTP
	wantReq := probes.HTTPRequest{
		Method: "POST",
		URL:    "http://127.0.0.1:8081/t/acme/api?user=synthetic@acme.example", // tenant var wins over global
		Headers: map[string]string{
			"Authorization": "Bearer acme-tok-777", "X-Key": fileSecret, "Accept": "application/json",
		},
		Body: `{"greeting": "hello", "pw": "hunter2-pw"}`, // global var, tenant secret
	}
	if !reflect.DeepEqual(api.Request, wantReq) {
		t.Errorf("request:\ngot  %+v\nwant %+v", api.Request, wantReq)
	}
	if api.FollowRedirects || api.MaxRedirects != 5 || api.BodyLimit != 2<<20 {
		t.Errorf("redirects %v/%d, body limit %d", api.FollowRedirects, api.MaxRedirects, api.BodyLimit)
	}
	if api.TLS.ServerName != "acme.demo.forewarn.test" || !strings.HasSuffix(api.TLS.CAFile, "good/ca.pem") ||
		!strings.HasPrefix(string(api.TLS.CAPEM), "-----BEGIN CERTIFICATE-----") || api.TLS.Roots == nil {
		t.Errorf("tls = %+v", api.TLS)
	}
	e := api.Expect
	wantJSON := []probes.JSONAssertion{
		{Path: "status", Op: probes.JSONEquals, Value: "ok"},
		{Path: "items.#", Op: probes.JSONGt, Number: 0},
		{Path: "maintenance", Op: probes.JSONExists, Value: "false"},
	}
	if !slices.Equal(e.Status, []int{201}) || !slices.Equal(e.BodyNotContains, []string{"error", "Acme Corp down"}) ||
		len(e.BodyMatches) != 1 || !e.BodyMatches[0].MatchString(`"version":"12"`) || !reflect.DeepEqual(e.JSON, wantJSON) {
		t.Errorf("expect = %+v", e)
	}
}

func TestPlanOverrides(t *testing.T) {
	cfg := loadGood(t)
	acme := target(t, cfg, "acme/health").HTTP
	globex := target(t, cfg, "globex/health").HTTP
	if acme.Request.Method != "GET" || acme.BodyLimit != 512<<10 || !acme.FollowRedirects {
		t.Errorf("defaults not applied: %+v", acme)
	}
	// The override replaces status and max_duration and keeps the check's
	// body_contains and cert_valid_for.
	wantAcme := probes.HTTPExpect{BodyContains: []string{"ok"}, MaxDuration: 2 * time.Second, CertValidFor: 14 * 24 * time.Hour}
	wantGlobex := wantAcme
	wantGlobex.Status, wantGlobex.MaxDuration = []int{200, 204}, time.Second
	if !reflect.DeepEqual(acme.Expect, wantAcme) {
		t.Errorf("acme expect = %+v, want %+v", acme.Expect, wantAcme)
	}
	if !reflect.DeepEqual(globex.Expect, wantGlobex) {
		t.Errorf("globex expect = %+v, want %+v", globex.Expect, wantGlobex)
	}
}

func TestSecrets(t *testing.T) {
	cfg := loadGood(t)
	acme := target(t, cfg, "acme/api")
	want := []string{"glob-tok-999", "hunter2-pw", "acme-tok-777", fileSecret}
	if !slices.Equal(acme.Secrets, want) {
		t.Errorf("acme secrets = %q, want %q", acme.Secrets, want)
	}
	if globex := target(t, cfg, "globex/fast"); !slices.Equal(globex.Secrets, []string{"glob-tok-999"}) {
		t.Errorf("globex secrets = %q: only global ones", globex.Secrets)
	}
	line := "GET " + acme.HTTP.Request.URL + " Authorization: " + acme.HTTP.Request.Headers["Authorization"] + " " + acme.HTTP.Request.Body + " " + fileSecret
	redacted := cfg.Redact(line)
	assertNoSecret(t, redacted)
	if !strings.Contains(redacted, "Bearer <secret>") {
		t.Errorf("Redact(%q) = %q", line, redacted)
	}
}

// TestCARoots checks that a CA file is parsed once at load and its pool
// shared by every target that names it, whatever tenant or check.
func TestCARoots(t *testing.T) {
	pem, err := os.ReadFile("testdata/good/ca.pem")
	if err != nil {
		t.Fatal(err)
	}
	src := `
tenants: [{id: acme, url: "https://acme.example"}, {id: globex, url: "https://globex.example"}]
checks:
  - {name: a, kind: http, request: {url: "{{ .Tenant.URL }}/a"}, tls: {ca_file: ca.pem}}
  - {name: b, kind: http, request: {url: "{{ .Tenant.URL }}/b"}, tls: {ca_file: /cfg/ca.pem}}
  - {name: c, kind: http, request: {url: "{{ .Tenant.URL }}/c"}, tls: {ca_file: other.pem}}
  - {name: d, kind: http, request: {url: "{{ .Tenant.URL }}/d"}}
`
	reads := map[string]int{}
	files := map[string]string{"/cfg/ca.pem": string(pem), "/cfg/other.pem": string(pem)}
	o := Options{ReadFile: func(p string) ([]byte, error) {
		reads[p]++
		return []byte(files[p]), nil
	}}
	cfg, err := Parse("checks.yaml", []byte(src), "/cfg", o)
	if err != nil {
		t.Fatal(err)
	}
	want, err := probes.CertPool(pem)
	if err != nil {
		t.Fatal(err)
	}
	shared := target(t, cfg, "acme/a").HTTP.TLS
	if shared.Roots == nil || !shared.Roots.Equal(want) || !bytes.Equal(shared.CAPEM, pem) {
		t.Fatalf("acme/a tls = %+v: want Roots parsed from CAPEM", shared)
	}
	for _, key := range []string{"globex/a", "acme/b", "globex/b"} {
		if got := target(t, cfg, key).HTTP.TLS; got.Roots != shared.Roots || got.CAFile != "/cfg/ca.pem" {
			t.Errorf("%s: roots %p, file %s: want the pool of acme/a, %p", key, got.Roots, got.CAFile, shared.Roots)
		}
	}
	other := target(t, cfg, "acme/c").HTTP.TLS
	if other.Roots == shared.Roots || !other.Roots.Equal(want) || target(t, cfg, "globex/c").HTTP.TLS.Roots != other.Roots {
		t.Errorf("other.pem: roots %p, want its own pool shared by its targets", other.Roots)
	}
	if r := target(t, cfg, "acme/d").HTTP.TLS.Roots; r != nil {
		t.Errorf("no ca_file: roots %p, want nil (system roots)", r)
	}
	if reads["/cfg/ca.pem"] != 1 || reads["/cfg/other.pem"] != 1 {
		t.Errorf("reads = %v, want each file once", reads)
	}
}
