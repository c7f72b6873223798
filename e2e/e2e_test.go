// Package e2e runs the forewarn binary as a user does: `forewarn demo` and
// `forewarn run` as separate processes on 127.0.0.1, observed through
// /metrics and the demo's fault API.
package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/forewarn/forewarn/demo"
)

var binary string

func TestMain(m *testing.M) {
	// The demo and checks.yaml share the synthetic users' password, as
	// `make run` sets it.
	if os.Getenv("FOREWARN_DEMO_PASSWORD") == "" {
		os.Setenv("FOREWARN_DEMO_PASSWORD", "e2e-password")
	}
	if os.Getenv("FOREWARN_DEMO_PASSWORD_ACME") == "" {
		os.Setenv("FOREWARN_DEMO_PASSWORD_ACME", "e2e-acme-password")
	}
	dir, err := os.MkdirTemp("", "forewarn-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "forewarn")
	build := exec.Command("go", "build", "-o", binary, "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building forewarn:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a forewarn process this test started; its JSON log lines are
// scanned for a given message.
type proc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	logs []map[string]any
	seen chan struct{}
}

func startProc(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(binary, append([]string{"--log-format", "json"}, args...)...), seen: make(chan struct{}, 1)}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go p.scan(stderr)
	t.Cleanup(func() { p.stop(t) })
	return p
}

func (p *proc) scan(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			line = map[string]any{"msg": sc.Text()}
		}
		p.mu.Lock()
		p.logs = append(p.logs, line)
		p.mu.Unlock()
		select {
		case p.seen <- struct{}{}:
		default:
		}
	}
}

// waitLog returns the first log line with message msg.
func (p *proc) waitLog(t *testing.T, msg string, limit time.Duration) map[string]any {
	t.Helper()
	deadline := time.After(limit)
	for {
		p.mu.Lock()
		for _, l := range p.logs {
			if l["msg"] == msg {
				p.mu.Unlock()
				return l
			}
		}
		p.mu.Unlock()
		select {
		case <-p.seen:
		case <-deadline:
			p.mu.Lock()
			logs := fmt.Sprint(p.logs)
			p.mu.Unlock()
			t.Fatalf("no log %q within %s; logs: %s", msg, limit, logs)
		}
	}
}

// stop sends SIGTERM to the process this test started and checks it exits
// cleanly and promptly.
func (p *proc) stop(t *testing.T) {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("%s exited uncleanly after SIGTERM: %v", p.cmd.Args[3], err)
		}
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		t.Errorf("%s did not exit within 5 s of SIGTERM", p.cmd.Args[3])
	}
}

// startDemo starts `forewarn demo` on free loopback ports and returns its
// HTTP and HTTPS base URLs.
func startDemo(t *testing.T, tenants int) (*proc, string, string) {
	p := startProc(t, "demo", "--tenants", fmt.Sprint(tenants), "--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0")
	l := p.waitLog(t, "demo SaaS listening", 10*time.Second)
	return p, l["http"].(string), l["https"].(string)
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// successes returns probe_success per tenant/check from /metrics.
func successes(t *testing.T, base string) map[string]string {
	_, body := get(t, base+"/metrics")
	out := map[string]string{}
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, "probe_success{") {
			continue
		}
		labels := line[len("probe_success{"):strings.Index(line, "}")]
		var tenant, check string
		for _, kv := range strings.Split(labels, ",") {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "tenant":
				tenant = strings.Trim(v, `"`)
			case "check":
				check = strings.Trim(v, `"`)
			}
		}
		out[tenant+"/"+check] = line[strings.LastIndex(line, " ")+1:]
	}
	return out
}

// eventually polls cond until it holds or the limit passes.
func eventually(t *testing.T, limit time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s; last state: %s", what, limit, state)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func fault(t *testing.T, demoURL, tenant string, f demo.Fault) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := demo.SetFaultRemote(ctx, demoURL, tenant, f); err != nil {
		t.Fatal(err)
	}
}

func clearFault(t *testing.T, demoURL, tenant string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := demo.ClearFaultRemote(ctx, demoURL, tenant); err != nil {
		t.Fatal(err)
	}
}
