package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// sample is one run of one generator against the demo.
type sample struct {
	gen     string // "forewarn" or "vegeta"
	command string
	usage
	// served is what the demo counted: the same measure for both
	// generators, whatever each one reports of itself.
	served  int64
	demoCPU float64 // seconds of the demo's CPU while the generator ran
	// What the generator reported: forewarn over its measured window (the
	// step after its warm-up), vegeta over the whole attack.
	requests, errors int64
	p50, p99         time.Duration
}

func (s sample) perSecond() float64 { return float64(s.served) / s.wall.Seconds() }

func (s sample) perCPUSecond() float64 { return float64(s.served) / s.cpu.Seconds() }

// plan is a forewarn load check with a flat ramp: users for one step.
type plan struct {
	users               int
	step, warmUp, think time.Duration
}

// checkYAML is the load check forewarn runs: a token pool of one dummy
// token (the health action does not send it), a one-step ramp, an SLO that
// always passes and caps high enough not to throttle.
const checkYAML = `# written by bench/loadgen
load: {max_users: %[1]d, max_rate: 1000000000, max_concurrent_runs: 1, max_duration: 1h}
tenants:
  - {id: %[2]s, name: %[2]s, url: %[3]q}
checks:
  - name: load
    kind: load
    interval: 24h
    timeout: 10s
    scenario: {tokens_file: %[4]q}
    actions:
      - name: health
        request: {url: "{{ .Tenant.URL }}/health"}
        expect: {status: [200]}
    think_time: %[5]s
    ramp: {start: %[6]d, step: %[6]d, max: %[6]d, step_duration: %[7]s, warm_up: %[8]s}
    slo: {p95: 1m, error_ratio: 100%%}
    limits: {max_rate: 1000000000, max_duration: 1h}
`

// ms writes a duration as the config reads it.
func ms(d time.Duration) string { return fmt.Sprintf("%dms", d.Milliseconds()) }

func (b *bench) writeCheck(name string, p plan) (string, error) {
	tokens := filepath.Join(b.dir, "tokens.txt")
	if err := os.WriteFile(tokens, []byte("loadgen-dummy-token\n"), 0o600); err != nil {
		return "", err
	}
	path := filepath.Join(b.dir, name+".yaml")
	y := fmt.Sprintf(checkYAML, max(p.users, 1000), b.demo.tenant, b.demo.base+"/t/"+b.demo.tenant,
		tokens, ms(p.think), p.users, ms(p.step), ms(p.warmUp))
	if b.sampleYAML == "" {
		b.sampleYAML = y
	}
	return path, os.WriteFile(path, []byte(y), 0o600)
}

// capacityJSON is the part of `forewarn capacity --json` read here.
type capacityJSON struct {
	Success bool   `json:"success"`
	Message string `json:"message"`
	Load    struct {
		Steps []struct {
			Users    int     `json:"users"`
			Requests int64   `json:"requests"`
			Errors   int64   `json:"errors"`
			P50      float64 `json:"p50_seconds"`
			P99      float64 `json:"p99_seconds"`
		} `json:"steps"`
	} `json:"load"`
}

func (b *bench) forewarn(ctx context.Context, name string, p plan) (sample, error) {
	path, err := b.writeCheck(name, p)
	if err != nil {
		return sample{}, err
	}
	args := []string{"capacity", b.demo.tenant, "load", "-c", path, "--json", "--no-progress", "--chart", ""}
	s := sample{gen: "forewarn", command: b.o.bin + " " + strings.Join(args[:len(args)-1], " ") + ` ""`}
	out, err := b.measure(ctx, &s, func() (usage, []byte, error) { return runChild(ctx, nil, b.o.bin, args...) })
	if err != nil {
		return s, err
	}
	var res capacityJSON
	if err := json.Unmarshal(out, &res); err != nil {
		return s, fmt.Errorf("forewarn capacity output: %w", err)
	}
	if len(res.Load.Steps) != 1 {
		return s, fmt.Errorf("forewarn capacity ran %d steps, want 1: %s", len(res.Load.Steps), res.Message)
	}
	st := res.Load.Steps[0]
	s.requests, s.errors = st.Requests, st.Errors
	s.p50, s.p99 = seconds(st.P50), seconds(st.P99)
	return s, nil
}

func seconds(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

// vegetaReport is the part of `vegeta report -type=json` read here.
type vegetaReport struct {
	Latencies struct {
		P50 int64 `json:"50th"`
		P99 int64 `json:"99th"`
	} `json:"latencies"`
	Requests int64   `json:"requests"`
	Success  float64 `json:"success"`
}

// vegeta attacks the health URL with workers workers at rate ("0": as
// fast as they go) for d, then reads its results back with vegeta report.
func (b *bench) vegeta(ctx context.Context, name string, workers int, rate string, d time.Duration) (sample, error) {
	results := filepath.Join(b.dir, name+".bin")
	defer os.Remove(results)
	target := "GET " + b.demo.healthURL()
	args := []string{"attack", "-rate=" + rate, fmt.Sprintf("-max-workers=%d", workers), fmt.Sprintf("-workers=%d", workers),
		"-duration=" + d.String(), "-keepalive", "-output", results}
	s := sample{gen: "vegeta", command: fmt.Sprintf("echo %q | %s %s", target, b.vegetaBin, strings.Join(args, " "))}
	_, err := b.measure(ctx, &s, func() (usage, []byte, error) {
		return runChild(ctx, strings.NewReader(target+"\n"), b.vegetaBin, args...)
	})
	if err != nil {
		return s, err
	}
	_, out, err := runChild(ctx, nil, b.vegetaBin, "report", "-type=json", results)
	if err != nil {
		return s, err
	}
	var rep vegetaReport
	if err := json.Unmarshal(out, &rep); err != nil {
		return s, fmt.Errorf("vegeta report: %w", err)
	}
	s.requests = rep.Requests
	s.errors = rep.Requests - int64(rep.Success*float64(rep.Requests)+0.5)
	s.p50, s.p99 = time.Duration(rep.Latencies.P50), time.Duration(rep.Latencies.P99)
	return s, nil
}

// measure runs one generator between a reset and a read of the demo's
// counters, and fills s with what the process cost and the demo served.
func (b *bench) measure(ctx context.Context, s *sample, run func() (usage, []byte, error)) ([]byte, error) {
	if err := b.demo.resetLoad(); err != nil {
		return nil, err
	}
	cpu0 := b.demo.cpuSeconds()
	u, out, err := run()
	s.usage = u
	s.demoCPU = b.demo.cpuSeconds() - cpu0
	if err != nil {
		return out, err
	}
	s.served, err = b.demo.served()
	if err != nil {
		return out, err
	}
	b.commands = append(b.commands, s.command)
	return out, nil
}
