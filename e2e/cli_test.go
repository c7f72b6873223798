package e2e

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/forewarn/forewarn/demo"
)

// A change to the file is picked up without a signal.
func TestReloadOnFileChange(t *testing.T) {
	t.Parallel()
	_, demoURL, tlsURL := startDemo(t, 3)
	cfg := writeChecks(t, 3, demoURL, tlsURL, demo.CheckHealth)
	p := startProc(t, "run", "--config", cfg, "--listen", "127.0.0.1:0", "--watch-interval", "200ms")
	mon := p.waitLog(t, "forewarn running", 10*time.Second)["listen"].(string)

	two, _ := os.ReadFile(writeChecks(t, 2, demoURL, tlsURL, demo.CheckHealth))
	if err := os.WriteFile(cfg, two, 0o644); err != nil {
		t.Fatal(err)
	}
	l := p.waitLog(t, "configuration reloaded", 5*time.Second)
	if l["why"] != "file changed" || l["targets"] != float64(2) {
		t.Errorf("reload log = %v, want why=file changed, targets=2", l)
	}
	_, body := get(t, mon+"/metrics")
	if !strings.Contains(body, "forewarn_plan_targets 2") {
		t.Errorf("plan not reloaded:\n%s", grepLines(body, "forewarn_plan"))
	}
}

// SIGTERM with probes in flight (a tenant answering in 5 s) exits cleanly
// within a second: probes are canceled, not waited for.
func TestShutdownWithProbesInFlightIsPrompt(t *testing.T) {
	t.Parallel()
	_, demoURL, tlsURL := startDemo(t, 2)
	fault(t, demoURL, "acme", demo.Fault{Mode: demo.ModeSlow, Delay: 5 * time.Second})
	p, mon, _ := startMonitorChecks(t, 2, demoURL, tlsURL, demo.CheckHealth)
	eventually(t, 5*time.Second, "a probe in flight", func() (bool, string) {
		_, body := get(t, mon+"/metrics")
		return strings.Contains(body, "forewarn_probes_in_flight 1"), grepLines(body, "in_flight")
	})
	began := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	err := p.cmd.Wait()
	if took := time.Since(began); took > 1500*time.Millisecond {
		t.Errorf("exit took %s after SIGTERM with a probe in flight, want about a second at most", took)
	}
	if err != nil {
		t.Errorf("exit after SIGTERM: %v, want status 0", err)
	}
}

func TestCheckPrintsPlan(t *testing.T) {
	t.Parallel()
	out, code := runCLI(t, "check", "--config", "../checks.yaml")
	if code != 0 {
		t.Fatalf("check ../checks.yaml: exit %d\n%s", code, out)
	}
	for _, want := range []string{"is valid: 20 tenants, 7 checks", "TENANT", "NEXT RUN (UTC)", "acme", "every 30s", "vandelay", "every 1m0s"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "soylent  api") {
		t.Error("select: starter tenants must not get the api check")
	}
	out, code = runCLI(t, "check", "-q", "--config", "../checks.yaml")
	if code != 0 || out != "" {
		t.Errorf("check -q on a valid file: exit %d, output %q; want 0 and nothing", code, out)
	}
}

func TestVersionAndHelp(t *testing.T) {
	t.Parallel()
	if out, code := runCLI(t, "version"); code != 0 || !strings.HasPrefix(out, "forewarn ") {
		t.Errorf("version: exit %d %q", code, out)
	}
	out, code := runCLI(t, "--help")
	if code != 0 {
		t.Errorf("--help: exit %d", code)
	}
	for _, cmd := range []string{"run", "check", "probe", "demo", "version"} {
		if !strings.Contains(out, "  "+cmd) {
			t.Errorf("--help does not list %s:\n%s", cmd, out)
		}
	}
	if _, code := runCLI(t, "frobnicate"); code != 2 {
		t.Errorf("an unknown command: exit %d, want 2", code)
	}
}
