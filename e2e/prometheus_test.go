package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/forewarn/forewarn/demo"
)

// TestPrometheusCapacityAlert runs the alert rules in a real Prometheus
// scraping a real forewarn: globex loses capacity in the demo (5 users for
// 20 seats) before forewarn's first load run, umbrella keeps plenty, and
// ForewarnCapacityBelowSeats goes off for globex and for globex only.
func TestPrometheusCapacityAlert(t *testing.T) {
	t.Parallel()
	bin := prometheusBinary(t)
	began := time.Now()
	_, demoURL, _ := startDemo(t, demo.DefaultTenants)
	if out, code := runCLI(t, "demo", "fault", "globex", "capacity", "--users", "5", "--addr", demoURL); code != 0 {
		t.Fatalf("demo fault: exit %d: %s", code, out)
	}
	mon := startProc(t, "run", "--config", quickLoadChecks(t, demoURL, "globex", "umbrella"), "--listen", "127.0.0.1:0")
	base := mon.waitLog(t, "forewarn running", 10*time.Second)["listen"].(string)
	target, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	prom := startPrometheus(t, bin, target.Host)
	t.Logf("Prometheus ready %s after forewarn started", time.Since(started).Round(100*time.Millisecond))

	// Both knees measured and scraped, and the capacity alert active for
	// globex alone.
	var alerts []promAlert
	eventually(t, 90*time.Second, "capacity alert for globex only", func() (bool, string) {
		knees := promQuery(t, prom, "probe_load_capacity_knee_users")
		alerts = capacityAlerts(t, prom)
		state := fmt.Sprintf("knees %v, alerts %v", knees, alerts)
		return len(knees) == 2 && knees["umbrella"] >= 20 && alertTenants(alerts) == "globex", state
	})
	t.Logf("capacity alert %s for globex %s after forewarn started (%s in all)", alerts[0].State,
		time.Since(started).Round(100*time.Millisecond), time.Since(began).Round(100*time.Millisecond))

	// The rules have had two more evaluations since umbrella's knee was
	// scraped: still globex alone.
	time.Sleep(2500 * time.Millisecond)
	alerts = capacityAlerts(t, prom)
	if alertTenants(alerts) != "globex" {
		t.Fatalf("capacity alerts %v, want globex's alone", alerts)
	}
	a := alerts[0]
	knee, _ := strconv.ParseFloat(a.Value, 64)
	if a.Labels["severity"] != "warning" || a.Labels["check"] != "capacity" || knee >= 20 ||
		!strings.Contains(a.Annotations["summary"], "Tenant globex serves only") ||
		!strings.HasSuffix(a.Annotations["runbook_url"], "docs/alerts.md#forewarncapacitybelowseats") {
		t.Errorf("alert %+v", a)
	}
}

// quickLoadChecks is a checks.yaml with a health check, a sign-in and a
// load check ramping 5 → 25 users in 1 s steps every 20 s, for tenants of
// 20 seats each.
func quickLoadChecks(t *testing.T, demoURL string, ids ...string) string {
	t.Helper()
	return writeConfig(t, demoTenants(demoURL, 20, ids...)+`checks:
  - name: health
    kind: http
    interval: 2s
    request: {url: "{{ .Tenant.URL }}/health"}
    expect: {status: [200]}
`+formSignIn+signOutStep+`    interval: 5s
`+capacityLoad+`    interval: 20s
    think_time: 100ms
    ramp: {start: 5, step: 5, max: 25, step_duration: 1s, warm_up: 300ms}
    slo: {p95: 1500ms, error_ratio: 5%}
    limits: {max_users: 25, max_rate: 400, max_duration: 10s}
`)
}

// prometheusBinary finds prometheus on PATH. Without it the test skips,
// except in CI, which must install it.
func prometheusBinary(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("prometheus not installed, and CI must run every test: run `make prometheus` (installs Debian's prometheus package)")
		}
		t.Skip("prometheus not installed: run `make prometheus` (installs Debian's prometheus package)")
	}
	return path
}

// startPrometheus runs Prometheus on a free loopback port with a temporary
// data directory, scraping target every second and evaluating the rules of
// alertrules/ every second, and returns its base URL once ready. It is
// stopped by its PID when the test ends.
func startPrometheus(t *testing.T, bin, target string) string {
	t.Helper()
	rules, err := filepath.Abs("../alertrules")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	conf := fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [%q]
scrape_configs:
  - job_name: forewarn
    static_configs: [{targets: [%q]}]
`, filepath.Join(rules, "*.yml"), target)
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	// The port is free when picked, but another test may take it before
	// Prometheus binds it: then try another.
	for attempt := 1; ; attempt++ {
		addr := freeAddr(t)
		logPath := filepath.Join(dir, fmt.Sprintf("prometheus-%d.log", attempt))
		base, err := runPrometheus(t, bin, cfg, filepath.Join(dir, fmt.Sprintf("data-%d", attempt)), addr, logPath)
		if err == nil {
			return base
		}
		logs, _ := os.ReadFile(logPath)
		if attempt == 3 || !strings.Contains(string(logs), "address already in use") {
			t.Fatalf("prometheus: %v\n%s", err, logs)
		}
	}
}

func runPrometheus(t *testing.T, bin, cfg, data, addr, logPath string) (string, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config.file="+cfg, "--storage.tsdb.path="+data, "--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); logFile.Close() }()
	t.Cleanup(func() { stopPrometheus(t, cmd.Process.Pid, exited, logPath) })

	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			return "", fmt.Errorf("exited before ready: %v", err)
		default:
		}
		if resp, err := http.Get(base + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, nil
			}
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("not ready within 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stopPrometheus ends the Prometheus this test started, by its PID: SIGTERM,
// then SIGKILL if it has not exited within 10 s.
func stopPrometheus(t *testing.T, pid int, exited chan error, logPath string) {
	select {
	case err := <-exited:
		exited <- err
		return
	default:
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			logs, _ := os.ReadFile(logPath)
			t.Errorf("prometheus (pid %d) exited uncleanly after SIGTERM: %v\n%s", pid, err, logs)
		}
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(pid, syscall.SIGKILL)
		<-exited
		t.Errorf("prometheus (pid %d) did not exit within 10 s of SIGTERM", pid)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// promAlert is an alert as Prometheus's /api/v1/alerts lists it.
type promAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
	Value       string            `json:"value"`
}

func (a promAlert) String() string {
	return fmt.Sprintf("%s{tenant=%q} %s %s", a.Labels["alertname"], a.Labels["tenant"], a.State, a.Value)
}

func promGet(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Status != "success" {
		t.Fatalf("GET %s: %d %s %v", u, resp.StatusCode, body.Error, err)
	}
	if err := json.Unmarshal(body.Data, v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

// capacityAlerts are the pending or firing ForewarnCapacityBelowSeats alerts.
func capacityAlerts(t *testing.T, prom string) []promAlert {
	var data struct {
		Alerts []promAlert `json:"alerts"`
	}
	promGet(t, prom+"/api/v1/alerts", &data)
	var out []promAlert
	for _, a := range data.Alerts {
		if a.Labels["alertname"] == "ForewarnCapacityBelowSeats" && (a.State == "pending" || a.State == "firing") {
			out = append(out, a)
		}
	}
	return out
}

func alertTenants(alerts []promAlert) string {
	var tenants []string
	for _, a := range alerts {
		tenants = append(tenants, a.Labels["tenant"])
	}
	slices.Sort(tenants)
	return strings.Join(tenants, ",")
}

// promQuery runs an instant query and returns each series' value by tenant.
func promQuery(t *testing.T, prom, query string) map[string]float64 {
	var data struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	}
	promGet(t, prom+"/api/v1/query?query="+url.QueryEscape(query), &data)
	out := map[string]float64{}
	for _, r := range data.Result {
		s, _ := r.Value[1].(string)
		v, _ := strconv.ParseFloat(s, 64)
		out[r.Metric["tenant"]] = v
	}
	return out
}
