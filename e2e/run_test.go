package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/forewarn/forewarn/config"
	"github.com/forewarn/forewarn/demo"
	"github.com/forewarn/forewarn/probes"
)

// A fault in one tenant turns that tenant's probe_success to 0 — and no
// other tenant's — then back to 1 when the fault clears.
func TestFaultInOneTenantFailsOnlyThatTenant(t *testing.T) {
	t.Parallel()
	const tenants = 6
	_, demoURL, tlsURL := startDemo(t, tenants)
	_, mon, _ := startMonitorChecks(t, tenants, demoURL, tlsURL, demo.CheckHealth, demo.CheckAPI)

	allUp := func() (bool, string) {
		s := successes(t, mon)
		for _, v := range s {
			if v != "1" {
				return false, fmt.Sprint(s)
			}
		}
		return len(s) == tenants*2, fmt.Sprint(s)
	}
	eventually(t, 10*time.Second, "every tenant up", allUp)

	fault(t, demoURL, "globex", demo.Fault{Mode: demo.ModeError, Status: 503})
	eventually(t, 10*time.Second, "only globex down", func() (bool, string) {
		s := successes(t, mon)
		for k, v := range s {
			wantDown := strings.HasPrefix(k, "globex/")
			if wantDown != (v == "0") {
				return false, fmt.Sprint(s)
			}
		}
		return len(s) == tenants*2, fmt.Sprint(s)
	})
	_, body := get(t, mon+"/metrics")
	if !strings.Contains(body, `probe_failures_total{check="health",kind="http",reason="status",tenant="globex"}`) {
		t.Errorf("no status failure counted for globex:\n%s", grepLines(body, "probe_failures_total"))
	}
	if !strings.Contains(body, `probe_http_status_code{check="health",kind="http",tenant="globex"} 503`) {
		t.Errorf("globex status code not 503:\n%s", grepLines(body, "probe_http_status_code"))
	}

	clearFault(t, demoURL, "globex")
	eventually(t, 10*time.Second, "globex recovered", allUp)
}

func startMonitorChecks(t *testing.T, tenants int, httpURL, tlsURL string, checks ...string) (*proc, string, string) {
	cfg := writeChecks(t, tenants, httpURL, tlsURL, checks...)
	p := startProc(t, "run", "--config", cfg, "--listen", "127.0.0.1:0")
	l := p.waitLog(t, "forewarn running", 10*time.Second)
	return p, l["listen"].(string), cfg
}

func writeChecks(t *testing.T, tenants int, httpURL, tlsURL string, checks ...string) string {
	t.Helper()
	cfg := t.TempDir() + "/checks.yaml"
	f, err := os.Create(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	opts := []demo.ChecksOption{demo.ChecksInterval(time.Second), demo.ChecksCAFile(caFile(t))}
	if len(checks) > 0 {
		opts = append(opts, demo.ChecksOnly(checks...))
	}
	if err := demo.WriteChecks(f, demo.Tenants(tenants), httpURL, tlsURL, opts...); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func caFile(t *testing.T) string {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(wd, "/e2e") + "/demo/ca.pem"
}

// SIGHUP reloads: a broken file keeps the old plan running and says so in a
// metric; a valid file with a tenant removed drops that tenant's series.
func TestReloadKeepsPlanOnBadFileAndDropsRemovedTenants(t *testing.T) {
	t.Parallel()
	_, demoURL, tlsURL := startDemo(t, 3)
	p, mon, cfg := startMonitorChecks(t, 3, demoURL, tlsURL, demo.CheckHealth)
	eventually(t, 10*time.Second, "three tenants probed", func() (bool, string) {
		s := successes(t, mon)
		return len(s) == 3, fmt.Sprint(s)
	})

	good, _ := os.ReadFile(cfg)
	if err := os.WriteFile(cfg, append(good, []byte("  - name: [broken\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Process.Signal(syscall.SIGHUP)
	eventually(t, 5*time.Second, "failed reload reported", func() (bool, string) {
		_, body := get(t, mon+"/metrics")
		return strings.Contains(body, "forewarn_config_last_reload_successful 0"), grepLines(body, "forewarn_config")
	})
	if s := successes(t, mon); len(s) != 3 {
		t.Errorf("a broken reload changed the plan: %v", s)
	}

	two := writeChecks(t, 2, demoURL, tlsURL, demo.CheckHealth)
	b, _ := os.ReadFile(two)
	if err := os.WriteFile(cfg, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Process.Signal(syscall.SIGHUP)
	eventually(t, 5*time.Second, "removed tenant's series gone", func() (bool, string) {
		_, body := get(t, mon+"/metrics")
		removed := demo.Tenants(3)[2].ID
		return strings.Contains(body, "forewarn_config_last_reload_successful 1") &&
			!strings.Contains(body, `tenant="`+removed+`"`), grepLines(body, removed)
	})
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	_, demoURL, tlsURL := startDemo(t, 1)
	_, mon, _ := startMonitorChecks(t, 1, demoURL, tlsURL, demo.CheckHealth)
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := get(t, mon+path); code != 200 {
			t.Errorf("%s = %d %q, want 200", path, code, body)
		}
	}
	// The status page has / (and whatever else it does not know: a 404).
	if code, body := get(t, mon+"/"); code != 200 || !strings.Contains(body, `data-page="public"`) {
		t.Errorf("/ = %d, want the public status page", code)
	}
	if code, _ := get(t, mon+"/t/not-a-token"); code != 404 {
		t.Errorf("/t/not-a-token = %d, want 404", code)
	}
}

// `forewarn probe` runs one check now: exit 0 and phases when it passes,
// exit 1 and the reason when it fails.
func TestProbeCommand(t *testing.T) {
	t.Parallel()
	_, demoURL, tlsURL := startDemo(t, 2)
	cfg := writeChecks(t, 2, demoURL, tlsURL)

	out, code := runCLI(t, "probe", "acme", "tls", "--config", cfg)
	if code != 0 || !strings.Contains(out, "OK") || !strings.Contains(out, "tls ") || !strings.Contains(out, "certificate expires") {
		t.Errorf("probe acme tls: exit %d\n%s", code, out)
	}
	fault(t, demoURL, "acme", demo.Fault{Mode: demo.ModeExpiredTLS})
	out, code = runCLI(t, "probe", "acme", "tls", "--config", cfg)
	if code != 1 || !strings.Contains(out, "FAIL (tls)") || !strings.Contains(out, "expired") {
		t.Errorf("probe acme tls with an expired certificate: exit %d, want 1 and FAIL (tls)\n%s", code, out)
	}
	out, code = runCLI(t, "probe", "nosuch", "health", "--config", cfg)
	if code != 2 || !strings.Contains(out, `no tenant "nosuch"`) || !strings.Contains(out, "acme") {
		t.Errorf("probe of an unknown tenant: exit %d, want 2 and the known tenants\n%s", code, out)
	}
}

// An invalid checks.yaml stops `forewarn run` before anything starts, with
// every error and its position.
func TestRunRefusesInvalidConfig(t *testing.T) {
	t.Parallel()
	cfg := t.TempDir() + "/checks.yaml"
	os.WriteFile(cfg, []byte("tenants:\n  - id: acme\n    url: http://127.0.0.1:1/\n    seets: 5\nchecks:\n  - name: h\n    kind: http\n    interval: soon\n    request: {url: \"{{ .Tenant.URL }}/\"}\n"), 0o644)
	out, code := runCLI(t, "run", "--config", cfg, "--listen", "127.0.0.1:0")
	if code != 1 {
		t.Errorf("exit %d, want 1\n%s", code, out)
	}
	for _, want := range []string{"checks.yaml:4:5:", "seets", "checks.yaml:8:15:", `"soon"`, "nothing was started"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func runCLI(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, binary, args...).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// The checks.yaml at the repository root works as is against the demo:
// same tenants, loopback only, and every target passes.
func TestRepoChecksYAMLPassesAgainstDemo(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load("../checks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := demo.Tenants(demo.DefaultTenants)
	if len(cfg.Tenants) != len(want) {
		t.Fatalf("checks.yaml has %d tenants, the demo serves %d", len(cfg.Tenants), len(want))
	}
	for i, tn := range cfg.Tenants {
		if tn.ID != want[i].ID || tn.Seats != want[i].Seats || tn.Public != want[i].Public {
			t.Errorf("tenant %d: checks.yaml %+v, demo %+v", i, tn, want[i])
		}
	}
	srv, err := demo.New(demo.Options{Listen: "127.0.0.1:0", TLSListen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	httpHost, tlsHost := host(srv.URL()), host(srv.TLSURL())
	for _, tg := range cfg.Targets {
		if tg.Kind == probes.KindLoad {
			// Load runs against a demo process in TestCapacity….
			if u, err := url.Parse(tg.Load.Tenant.URL); err != nil || u.Hostname() != "127.0.0.1" {
				t.Errorf("%s loads %s: every demo target must be on 127.0.0.1", tg.Key(), tg.Load.Tenant.URL)
			}
			continue
		}
		if tg.Kind == probes.KindLogin {
			// Sign-ins run against a demo process in TestSignInAllTenants….
			if u, err := url.Parse(tg.Login.Tenant.URL); err != nil || u.Hostname() != "127.0.0.1" {
				t.Errorf("%s signs in at %s: every demo target must be on 127.0.0.1", tg.Key(), tg.Login.Tenant.URL)
			}
			continue
		}
		u, err := url.Parse(tg.HTTP.Request.URL)
		if err != nil || u.Hostname() != "127.0.0.1" {
			t.Errorf("%s probes %s: every demo target must be on 127.0.0.1", tg.Key(), tg.HTTP.Request.URL)
			continue
		}
		r := strings.NewReplacer("127.0.0.1:8081", httpHost, "127.0.0.1:8443", tlsHost)
		tg.HTTP.Request.URL = r.Replace(tg.HTTP.Request.URL)
		if res := probes.Run(context.Background(), tg); !res.Success {
			t.Errorf("%s: %s: %s", tg.Key(), res.Reason, res.Message)
		}
	}
}

func host(base string) string {
	u, _ := url.Parse(base)
	return u.Host
}

func grepLines(body, s string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
