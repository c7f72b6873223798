package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forewarn/forewarn/demo"
)

// repoChecks writes the repository's checks.yaml pointed at this test's
// demo, every check run each second: the file users run, not a test copy.
func repoChecks(t *testing.T, httpURL, tlsURL string) string {
	t.Helper()
	b, err := os.ReadFile("../checks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := filepath.Abs("../demo/ca.pem")
	r := strings.NewReplacer(
		"http://127.0.0.1:8081", httpURL, "https://127.0.0.1:8443", tlsURL,
		"ca_file: demo/ca.pem", "ca_file: "+ca,
		"interval: 30s", "interval: 1s", "interval: 1m", "interval: 1s",
		"timeout: 10s", "timeout: 1s",
		// No load run in the middle of other tests: TestCapacity… run it.
		"select: {capacity_test: [nightly]}", "select: {capacity_test: [none]}",
	)
	return writeConfig(t, r.Replace(string(b)))
}

// metricValue returns the value of the series whose line starts with
// prefix, or "" when absent.
func metricValue(body, prefix string) string {
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, prefix) {
			return line[strings.LastIndex(line, " ")+1:]
		}
	}
	return ""
}

// Every tenant signs in with every login check of checks.yaml; then a
// sign-in fault in one tenant fails exactly that tenant's sign-in, at the
// step where it breaks, with the reason it breaks for.
func TestSignInAllTenantsThenFaultFailsOneAtTheRightStep(t *testing.T) {
	t.Parallel()
	_, demoURL, tlsURL := startDemo(t, demo.DefaultTenants)
	p := startProc(t, "run", "--config", repoChecks(t, demoURL, tlsURL), "--listen", "127.0.0.1:0")
	mon := p.waitLog(t, "forewarn running", 10*time.Second)["listen"].(string)

	allUp := func() (bool, string) {
		_, body := get(t, mon+"/metrics")
		var bad []string
		n := 0
		for _, line := range strings.Split(body, "\n") {
			if !strings.HasPrefix(line, "probe_success{") || !strings.Contains(line, `kind="login"`) {
				continue
			}
			n++
			if !strings.HasSuffix(line, " 1") {
				bad = append(bad, line)
			}
		}
		return n >= demo.DefaultTenants && len(bad) == 0, fmt.Sprintf("%d login series, failing: %v", n, bad)
	}
	eventually(t, 15*time.Second, "every tenant signed in", allUp)

	cases := []struct {
		mode  demo.Mode
		check string
		step  string
		why   string
	}{
		{demo.ModeWrongCredentials, "sign-in", "submit", "status"},    // 401, want 303
		{demo.ModeWrongCredentials, "api-token", "session", "status"}, // 401
		{demo.ModeWrongCredentials, "oauth", "token", "status"},       // 401 invalid_client
		{demo.ModeSessionExpiry, "sign-in", "home", "assertion"},      // sent back to the login page: no "Welcome"
		{demo.ModeTokenError, "api-token", "session", "status"},       // 500
	}
	for _, c := range cases {
		counter := fmt.Sprintf(`probe_failures_total{check=%q,kind="login",reason=%q,tenant="umbrella"}`, c.check, c.why)
		_, body := get(t, mon+"/metrics")
		before := metricValue(body, counter)
		fault(t, demoURL, "umbrella", demo.Fault{Mode: c.mode})
		eventually(t, 10*time.Second, fmt.Sprintf("%s fails umbrella's %s at %s with %s", c.mode, c.check, c.step, c.why), func() (bool, string) {
			_, body := get(t, mon+"/metrics")
			failed := metricValue(body, fmt.Sprintf(`probe_step_success{check=%q,kind="login",step=%q,tenant="umbrella"}`, c.check, c.step))
			after := metricValue(body, counter)
			others := failingOthers(body, c.check, "umbrella")
			return failed == "0" && after != "" && after != before && len(others) == 0,
				fmt.Sprintf("step success %q, %s %q → %q, other tenants failing %v", failed, counter, before, after, others)
		})
		clearFault(t, demoURL, "umbrella")
		eventually(t, 10*time.Second, "umbrella signs in again", allUp)
	}
}

// failingOthers lists the tenants other than except whose check fails.
func failingOthers(body, check, except string) []string {
	var out []string
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, fmt.Sprintf(`probe_success{check=%q,`, check)) &&
			!strings.Contains(line, `tenant="`+except+`"`) && !strings.HasSuffix(line, " 1") {
			out = append(out, line)
		}
	}
	return out
}

// The synthetic users' password never appears in what forewarn shows:
// `forewarn probe` (text and JSON), the monitor's log, /metrics — also while
// sign-ins fail and error bodies are quoted.
func TestPasswordNeverShown(t *testing.T) {
	t.Parallel()
	passwords := []string{os.Getenv("FOREWARN_DEMO_PASSWORD"), os.Getenv("FOREWARN_DEMO_PASSWORD_ACME")}
	_, demoURL, tlsURL := startDemo(t, 3)
	cfg := repoChecks(t, demoURL, tlsURL)
	fault(t, demoURL, "acme", demo.Fault{Mode: demo.ModeWrongCredentials})

	var shown []string
	for _, check := range []string{"sign-in", "api-token", "oauth"} {
		for _, args := range [][]string{{"probe", "acme", check}, {"probe", "acme", check, "--json"}, {"probe", "globex", check}} {
			out, _ := runCLI(t, append(args, "--config", cfg)...)
			shown = append(shown, out)
		}
	}
	p := startProc(t, "run", "--config", cfg, "--listen", "127.0.0.1:0")
	mon := p.waitLog(t, "forewarn running", 10*time.Second)["listen"].(string)
	p.waitLog(t, "probe failing", 10*time.Second)
	_, metrics := get(t, mon+"/metrics")
	shown = append(shown, metrics)
	p.mu.Lock()
	shown = append(shown, fmt.Sprint(p.logs))
	p.mu.Unlock()

	all := strings.Join(shown, "\n")
	if !strings.Contains(all, "FAIL (status)") || !strings.Contains(all, "<secret>") {
		t.Fatalf("expected failing sign-ins with masked values in the output:\n%s", all)
	}
	for _, password := range passwords {
		for _, line := range strings.Split(all, "\n") {
			if strings.Contains(line, password) {
				t.Errorf("password shown: %s", line)
			}
		}
	}
}
