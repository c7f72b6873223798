// Command statuspage benchmarks the status pages as forewarn run serves
// them, next to the probes: it fills (or reuses) a SQLite store with
// 10,000 tenants × 90 days of rollups (internal/benchfleet, the same
// history as the statuspage package's in-process benchmarks), starts the
// demo SaaS and a monitor probing one http check per tenant every 60 s
// over that store, both as separate processes on 127.0.0.1, then measures
// three phases: no page load, wrk on the public page /, and wrk on one
// tenant's private page /t/{token}. For each it reports the pages' latency
// (wrk), the monitor's scheduler lag (from forewarn_scheduler_lag_seconds),
// CPU and resident memory.
//
//	go run ./bench/statuspage -bin bin/forewarn -duration 20s
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/forewarn/forewarn/bench/internal/benchenv"
)

type options struct {
	bin         string
	tenants     int
	days        int
	interval    time.Duration
	duration    time.Duration
	connections int
	threads     int
	db          string
	refill      bool
	tenant      int // the private page's tenant, by number
	listen      string
	demoListen  string
	tlsListen   string
	settle      time.Duration
	pause       time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin/forewarn", "forewarn binary")
	flag.IntVar(&o.tenants, "tenants", 10000, "tenants: in the store's history, in the demo and in checks.yaml")
	flag.IntVar(&o.days, "days", 90, "days of history in the store")
	flag.DurationVar(&o.interval, "interval", time.Minute, "interval of each tenant's http check")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "length of each phase (wrk -d)")
	flag.IntVar(&o.connections, "connections", 200, "wrk connections (-c)")
	flag.IntVar(&o.threads, "threads", 2, "wrk threads (-t)")
	flag.StringVar(&o.db, "db", "", "SQLite file holding the filled history, reused when its marker says it was filled (default: "+defaultDB("{tenants}", "{days}")+")")
	flag.BoolVar(&o.refill, "refill", false, "fill the store again even if it was filled before (on another day, say)")
	flag.IntVar(&o.tenant, "tenant", 0, "number of the tenant whose private page is loaded (tenant-00000 has capacity runs and cases)")
	flag.StringVar(&o.listen, "listen", "127.0.0.1:28080", "monitor listener (status pages and /metrics)")
	flag.StringVar(&o.demoListen, "demo-listen", "127.0.0.1:28081", "demo HTTP listener")
	flag.StringVar(&o.tlsListen, "demo-tls-listen", "127.0.0.1:28082", "demo TLS listener")
	flag.DurationVar(&o.settle, "settle", 65*time.Second, "time from the monitor's start to the first phase: by default every target has run once, and the store's first retention pass (a minute after start) is over")
	flag.DurationVar(&o.pause, "pause", 5*time.Second, "wait between phases")
	flag.Parse()
	if o.db == "" {
		o.db = defaultDB(fmt.Sprint(o.tenants), fmt.Sprint(o.days))
	}
	if o.tenant < 0 || o.tenant >= o.tenants {
		fmt.Fprintf(os.Stderr, "statuspage: -tenant %d: want 0 to %d\n", o.tenant, o.tenants-1)
		os.Exit(2)
	}
	for _, a := range []string{o.listen, o.demoListen, o.tlsListen} {
		if !strings.HasPrefix(a, "127.0.0.1:") {
			fmt.Fprintf(os.Stderr, "statuspage: %s: listen on 127.0.0.1 only\n", a)
			os.Exit(2)
		}
	}
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		fmt.Fprintln(os.Stderr, "statuspage: wrk is not installed: apt-get install wrk")
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The demo wants its synthetic users' password; the http checks never
	// sign in.
	if os.Getenv("FOREWARN_DEMO_PASSWORD") == "" {
		os.Setenv("FOREWARN_DEMO_PASSWORD", "statuspage-benchmark")
	}
	if err := run(ctx, o, wrk); err != nil {
		if errors.Is(err, context.Canceled) {
			err = errors.New("interrupted; child processes stopped")
		}
		fmt.Fprintln(os.Stderr, "statuspage:", err)
		stop()
		os.Exit(1)
	}
}

func defaultDB(tenants, days string) string {
	return filepath.Join(os.TempDir(), "forewarn-bench-statuspage", "fleet-"+tenants+"x"+days+"d.db")
}

func run(ctx context.Context, o options, wrk string) error {
	fill, err := prepareStore(ctx, o)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "forewarn-bench-statuspage-run-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	checks := filepath.Join(dir, "checks.yaml")
	if err := writeChecks(o, checks); err != nil {
		return err
	}
	privatePath, err := privateLink(ctx, o, checks)
	if err != nil {
		return err
	}

	demo, err := start(o.bin, "demo", "--tenants", fmt.Sprint(o.tenants), "--listen", o.demoListen,
		"--tls-listen", o.tlsListen, "--log-level", "warn")
	if err != nil {
		return err
	}
	defer stopProcess(demo)
	if err := benchenv.WaitOK(ctx, "http://"+o.demoListen+"/t/"+demoTenants(1)[0].ID+"/health", 60*time.Second); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	began := time.Now()
	mon, err := start(o.bin, "run", "--config", checks, "--listen", o.listen, "--log-level", "warn", "--no-watch")
	if err != nil {
		return err
	}
	defer stopProcess(mon)
	base := "http://" + o.listen
	if err := benchenv.WaitOK(ctx, base+"/readyz", 120*time.Second); err != nil {
		return fmt.Errorf("monitor: %w", err)
	}
	ready := time.Since(began)
	// The monitor builds the public page in the background from start
	// (Warm): the first request waits for that build, 90 days of rollups.
	public, err := fetch(ctx, base+"/", 5*time.Minute)
	if err != nil {
		return fmt.Errorf("public page: %w", err)
	}
	publicAt := time.Since(began)
	private, err := fetch(ctx, base+privatePath, time.Minute)
	if err != nil {
		return fmt.Errorf("private page: %w", err)
	}
	fmt.Printf("monitor ready after %s; public page answered %s after start (%s), private page %s (%s)\n",
		ready.Round(time.Millisecond), publicAt.Round(time.Millisecond), public, private.took.Round(time.Millisecond), private)
	history, days, err := privateHistory(ctx, base, privatePath)
	if err != nil {
		return err
	}
	fmt.Printf("private page history: %s\n", history)
	if days < o.days-1 {
		fmt.Printf("warning: the private page shows %d days with runs, not %d: is the store filled for these tenants?\n", days, o.days)
	}
	wait := max(time.Until(began.Add(o.settle)), 0)
	fmt.Printf("settling for %s (until %s after the monitor's start), then %d phases of %s; load average %s\n",
		wait.Round(time.Second), o.settle, 3, o.duration, benchenv.LoadAverage())
	if err := benchenv.Sleep(ctx, wait); err != nil {
		return err
	}

	phases := []phase{
		{name: "baseline", what: "no page load"},
		{name: "public", what: "wrk on /", path: "/"},
		{name: "private", what: "wrk on /t/{token} (" + tenantID(o.tenant) + ")", path: privatePath},
	}
	pids := pids{monitor: mon.Process.Pid, demo: demo.Process.Pid}
	var results []*phaseResult
	for i, p := range phases {
		if i > 0 {
			if err := benchenv.Sleep(ctx, o.pause); err != nil {
				return err
			}
		}
		fmt.Printf("phase %d/%d: %s (%s) …\n", i+1, len(phases), p.name, p.what)
		r, err := measure(ctx, o, wrk, base, p, pids)
		if err != nil {
			return fmt.Errorf("phase %s: %w", p.name, err)
		}
		results = append(results, r)
	}
	printReport(o, fill, public, private, results)
	return nil
}
