package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/forewarn/forewarn/bench/internal/benchenv"
)

var client = &http.Client{Timeout: 5 * time.Second}

// demoChecks is the demo's checks.yaml for the run's tenants, one http
// health check each, and the tenant ids in file order.
func demoChecks(o options, demoURL, tlsURL string) ([]byte, []string, error) {
	var out bytes.Buffer
	cmd := exec.Command(o.bin, "demo", "checks", "--tenants", fmt.Sprint(o.tenants), "--checks", "health",
		"--interval", o.interval.String(), "--url", demoURL, "--tls-url", tlsURL)
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, nil, fmt.Errorf("forewarn demo checks: %w", err)
	}
	var file struct {
		Tenants []struct {
			ID string `yaml:"id"`
		} `yaml:"tenants"`
	}
	if err := yaml.Unmarshal(out.Bytes(), &file); err != nil {
		return nil, nil, fmt.Errorf("reading the generated checks: %w", err)
	}
	ids := make([]string, len(file.Tenants))
	for i, t := range file.Tenants {
		ids[i] = t.ID
	}
	return out.Bytes(), ids, nil
}

// benchSections are the store, cases and notify sections appended to the
// demo's checks.
func benchSections(o options, dbPath, slackURL string) string {
	return fmt.Sprintf(`store: {dsn: %q}
cases: {failure_threshold: %d, success_threshold: 2, min_duration: 0s}
notify:
  slack: {token: xoxb-bench, channel: "#%s", api_url: %q}
`, "sqlite:"+dbPath, o.threshold, benchChannel, slackURL)
}

// setFault puts mode on tenant id (down) or clears it (mode "").
func setFault(ctx context.Context, demoBase, id, mode string) error {
	method, body := http.MethodDelete, ""
	if mode != "" {
		method, body = http.MethodPut, `{"mode":"`+mode+`"}`
	}
	req, err := http.NewRequestWithContext(ctx, method, demoBase+"/admin/tenants/"+id+"/fault", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s fault of %s: %s: %s", method, id, resp.Status, bytes.TrimSpace(b))
	}
	return nil
}

// successes reads probe_success by tenant from the monitor's /metrics.
func successes(metricsURL string) (map[string]float64, error) {
	resp, err := client.Get(metricsURL)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, m := range mfs["probe_success"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "tenant" {
				out[l.GetValue()] = m.GetGauge().GetValue()
			}
		}
	}
	return out, nil
}

// waitAllUp waits until every tenant's last probe succeeded.
func waitAllUp(ctx context.Context, metricsURL string, ids []string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var last map[string]float64
	for time.Now().Before(deadline) {
		s, err := successes(metricsURL)
		if err == nil {
			last = s
			up := 0
			for _, id := range ids {
				if s[id] == 1 {
					up++
				}
			}
			if up == len(ids) {
				return nil
			}
		}
		if err := benchenv.Sleep(ctx, 250*time.Millisecond); err != nil {
			return err
		}
	}
	return errors.New(fmt.Sprint("not every tenant up within ", limit, ": probe_success ", last))
}
