// Command fleet benchmarks forewarn on a large fleet: it starts the demo SaaS
// with N tenants and a monitor probing each of them once per interval, both
// as separate processes on 127.0.0.1, then reports the monitor's scheduler
// lag, CPU, resident memory and /metrics scrape time and size.
//
//	go run ./bench/fleet -bin bin/forewarn -tenants 10000 -duration 3m
package main

import (
	"context"
	"flag"
	"fmt"
	"github.com/forewarn/forewarn/bench/internal/benchenv"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

type options struct {
	bin        string
	tenants    int
	interval   time.Duration
	duration   time.Duration
	listen     string
	demoListen string
	tlsListen  string
	checks     string
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin/forewarn", "forewarn binary")
	flag.IntVar(&o.tenants, "tenants", 10000, "demo tenants, each probed by one http check")
	flag.DurationVar(&o.interval, "interval", time.Minute, "check interval")
	flag.DurationVar(&o.duration, "duration", 3*time.Minute, "how long to measure the running monitor")
	flag.StringVar(&o.listen, "listen", "127.0.0.1:18080", "monitor listener")
	flag.StringVar(&o.demoListen, "demo-listen", "127.0.0.1:18081", "demo HTTP listener")
	flag.StringVar(&o.tlsListen, "demo-tls-listen", "127.0.0.1:18443", "demo TLS listener")
	flag.StringVar(&o.checks, "checks", "health", "the demo check each tenant gets: health, sign-in, api-token, oauth …")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The demo and the sign-in checks share the synthetic users' password.
	if os.Getenv("FOREWARN_DEMO_PASSWORD") == "" {
		os.Setenv("FOREWARN_DEMO_PASSWORD", "fleet-benchmark")
	}
	// The generated checks give every tenant the shared password.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "FOREWARN_DEMO_PASSWORD_") {
			os.Unsetenv(k)
		}
	}
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "fleet:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	dir, err := os.MkdirTemp("", "forewarn-fleet-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	checks := filepath.Join(dir, "checks.yaml")
	if err := writeChecks(o, checks); err != nil {
		return err
	}
	demo, err := benchenv.Start(o.bin, os.Stderr, "demo", "--tenants", fmt.Sprint(o.tenants), "--listen", o.demoListen, "--tls-listen", o.tlsListen, "--log-level", "warn")
	if err != nil {
		return err
	}
	defer benchenv.Stop(demo)
	began := time.Now()
	mon, err := benchenv.Start(o.bin, os.Stderr, "run", "--config", checks, "--listen", o.listen, "--log-level", "warn", "--no-watch")
	if err != nil {
		return err
	}
	defer benchenv.Stop(mon)
	base := "http://" + o.listen
	if err := benchenv.WaitOK(ctx, base+"/readyz", 60*time.Second); err != nil {
		return err
	}
	fmt.Printf("monitor ready after %s with %d targets (%s); measuring for %s\n", time.Since(began).Round(time.Millisecond), o.tenants, o.checks, o.duration)
	rep, err := measure(ctx, o, mon.Process.Pid, demo.Process.Pid, base+"/metrics")
	if err != nil {
		return err
	}
	rep.print(o)
	return nil
}

func writeChecks(o options, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	cmd := exec.Command(o.bin, "demo", "checks", "--tenants", fmt.Sprint(o.tenants), "--checks", o.checks,
		"--interval", o.interval.String(), "--url", "http://"+o.demoListen, "--tls-url", "https://"+o.tlsListen)
	cmd.Stdout, cmd.Stderr = f, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("writing checks: %w", err)
	}
	return nil
}
