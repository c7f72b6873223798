package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// usage is what one generator process cost, as the kernel accounted it
// when the process was reaped (wait4's rusage: the child alone).
type usage struct {
	wall   time.Duration
	cpu    time.Duration // user + system
	maxRSS int64         // bytes
}

// runChild runs bin to completion, feeding it stdin and collecting its
// stdout; ctx ending sends it SIGTERM (by its PID), then SIGKILL.
func runChild(ctx context.Context, stdin io.Reader, bin string, args ...string) (usage, []byte, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &stdout, &stderr
	began := time.Now()
	err := cmd.Run()
	u := usage{wall: time.Since(began)}
	if st := cmd.ProcessState; st != nil {
		u.cpu = st.UserTime() + st.SystemTime()
		if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
			u.maxRSS = ru.Maxrss * 1024 // KiB on Linux
		}
	}
	if err != nil {
		return u, stdout.Bytes(), fmt.Errorf("%s %s: %w\n%s", bin, strings.Join(args, " "), err, tail(stderr.String(), 2000))
	}
	return u, stdout.Bytes(), nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// demo is the demo SaaS this benchmark started, and its admin API.
type demo struct {
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:PORT
	tenant string
	client *http.Client
}

func startDemo(ctx context.Context, bin, listen, tlsListen, tenant string) (*demo, error) {
	cmd := exec.Command(bin, "demo", "--tenants", "1", "--listen", listen, "--tls-listen", tlsListen,
		"--capacity", tenant+"=0", "--log-format", "json", "--log-level", "warn")
	// Only its synthetic users sign in with the password; none does here.
	cmd.Env = append(os.Environ(), "FOREWARN_DEMO_PASSWORD=loadgen-benchmark")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the demo: %w", err)
	}
	d := &demo{cmd: cmd, base: "http://" + listen, tenant: tenant, client: &http.Client{Timeout: 5 * time.Second}}
	if err := d.waitReady(ctx, 30*time.Second); err != nil {
		d.stop()
		return nil, err
	}
	return d, nil
}

func (d *demo) healthURL() string { return d.base + "/t/" + d.tenant + "/health" }

// stop ends the demo by its PID: SIGTERM, then SIGKILL after 10 s.
func (d *demo) stop() {
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = d.cmd.Process.Kill()
		<-done
	}
}

func (d *demo) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if resp, err := d.client.Get(d.healthURL()); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return errors.New("demo not ready in " + limit.String())
}

// cpuSeconds is the demo's user+system CPU so far, from /proc (Linux).
func (d *demo) cpuSeconds() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", d.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ is 100 on Linux
}

func (d *demo) admin(method, path string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, d.base+"/admin/tenants/"+d.tenant+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	return nil
}

// resetLoad zeroes the tenant's request counters.
func (d *demo) resetLoad() error { return d.admin(http.MethodDelete, "/load", nil, nil) }

// served is how many requests the tenant received since the last reset.
func (d *demo) served() (int64, error) {
	var st struct {
		Requests int64 `json:"requests"`
	}
	err := d.admin(http.MethodGet, "/load", nil, &st)
	return st.Requests, err
}

func (d *demo) slow(delay time.Duration) error {
	return d.admin(http.MethodPut, "/fault", map[string]string{"mode": "slow", "delay": delay.String()}, nil)
}

func (d *demo) clearFault() error { return d.admin(http.MethodDelete, "/fault", nil, nil) }

// buildVegeta installs vegeta from the Go module proxy into dir, from a
// directory outside any module so that no go.mod is read or changed, and
// returns its path and module version.
func buildVegeta(ctx context.Context, dir, version string) (bin, modVersion, command string, err error) {
	pkg := "github.com/tsenart/vegeta/v12@" + version
	cmd := exec.CommandContext(ctx, "go", "install", pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=-mod=mod", "GOWORK=off")
	command = fmt.Sprintf("cd %s && GOBIN=%s GOFLAGS=-mod=mod go install %s", dir, dir, pkg)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", "", command, fmt.Errorf("building vegeta: %w\n%s", err, out)
	}
	bin = dir + "/vegeta"
	return bin, moduleVersion(ctx, bin), command, nil
}

// moduleVersion reads vegeta's module version from its build info: the
// binary's own -version is empty when built with go install.
func moduleVersion(ctx context.Context, bin string) string {
	out, err := exec.CommandContext(ctx, "go", "version", "-m", bin).Output()
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == "mod" {
			return f[1] + " " + f[2]
		}
	}
	return "unknown"
}
