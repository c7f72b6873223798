// Command outage measures the time from an injected outage to the Slack
// message that opens its support case, end to end on 127.0.0.1: the demo
// SaaS (`forewarn demo`), the monitor (`forewarn run`) probing each demo
// tenant's health every interval with a SQLite store, and an in-process
// fake Slack (slacktest) that records when each case's root message
// arrives and which tenant it names.
//
// Once every tenant has passed a probe, the demo's admin API puts the
// "down" fault (connection closed without a response) on N tenants at the
// same instant t0; the time to each tenant's Slack root is measured. A
// round's outages are then cleared and their cases left to resolve; the
// next round takes other tenants, since a case failing again within the
// reopen window (1 h) would reopen its thread rather than post a root.
// Each round starts at a random phase of the interval, so the wait for the
// first failing run is sampled rather than fixed by the start time.
//
// Goal (issue "Support cases before the customer calls"): every message
// under threshold × interval + 1 s (31 s at 10 s and 3).
//
//	go run ./bench/outage -bin bin/forewarn -inject 10 -rounds 2
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/forewarn/forewarn/bench/internal/benchenv"

	"github.com/forewarn/forewarn/scheduler"
)

type options struct {
	bin       string
	tenants   int
	inject    int
	rounds    int
	interval  time.Duration
	threshold int
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin/forewarn", "forewarn binary")
	flag.IntVar(&o.tenants, "tenants", 20, "demo tenants, each probed by one http health check")
	flag.IntVar(&o.inject, "inject", 10, "tenants put down at once in each round")
	flag.IntVar(&o.rounds, "rounds", 2, "rounds, each on tenants of its own")
	flag.DurationVar(&o.interval, "interval", 10*time.Second, "check interval")
	flag.IntVar(&o.threshold, "threshold", 3, "cases.failure_threshold")
	flag.Parse()
	if o.inject < 1 || o.rounds < 1 || o.threshold < 1 || o.interval < time.Second || o.inject*o.rounds > o.tenants {
		fmt.Fprintln(os.Stderr, "outage: want inject, rounds, threshold ≥ 1, interval ≥ 1s and inject × rounds ≤ tenants")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if os.Getenv("FOREWARN_DEMO_PASSWORD") == "" {
		os.Setenv("FOREWARN_DEMO_PASSWORD", "outage-benchmark")
	}
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "outage:", err)
		os.Exit(1)
	}
}

// goal is threshold intervals and a second.
func (o options) goal() time.Duration { return time.Duration(o.threshold)*o.interval + time.Second }

// bench is one benchmark run: its processes, the fake and the findings.
type bench struct {
	o        options
	ids      []string
	demoBase string
	metrics  string
	slack    *fakeSlack
	log      *logWatch

	began                 time.Time
	loadBefore, loadAfter string
	commands              []string
	extraYAML             string
	rounds                []round
}

func run(ctx context.Context, o options) error {
	dir, err := os.MkdirTemp("", "forewarn-outage-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b := &bench{o: o, began: time.Now(), loadBefore: benchenv.LoadAverage()}
	demo, mon, err := b.startAll(ctx, dir)
	// Deferred calls run last first: the monitor stops before the fake
	// Slack it posts to, the demo last.
	if demo != nil {
		defer benchenv.Stop(demo)
	}
	if b.slack != nil {
		defer b.slack.stop()
	}
	if mon != nil {
		defer benchenv.Stop(mon)
	}
	if err != nil {
		return err
	}
	for i := range o.rounds {
		r, err := b.round(ctx, i, b.ids[i*o.inject:(i+1)*o.inject])
		if err != nil {
			return err
		}
		b.rounds = append(b.rounds, r)
	}
	b.loadAfter = benchenv.LoadAverage()
	b.print(os.Stdout)
	return nil
}

// startAll starts the fake Slack, the demo and the monitor, and waits
// until every tenant has passed a probe.
func (b *bench) startAll(ctx context.Context, dir string) (demo, mon *exec.Cmd, err error) {
	o := b.o
	var demoAddr, tlsAddr, monAddr string
	for _, p := range []*string{&demoAddr, &tlsAddr, &monAddr} {
		if *p, err = benchenv.FreeAddr(); err != nil {
			return nil, nil, err
		}
	}
	b.demoBase, b.metrics = "http://"+demoAddr, "http://"+monAddr+"/metrics"
	checks := filepath.Join(dir, "checks.yaml")
	base, ids, err := demoChecks(o, b.demoBase, "https://"+tlsAddr)
	if err != nil {
		return nil, nil, err
	}
	b.ids, b.slack = ids, newFakeSlack(ids)
	b.extraYAML = benchSections(o, filepath.Join(dir, "forewarn.db"), b.slack.apiURL())
	if err := os.WriteFile(checks, append(base, b.extraYAML...), 0o600); err != nil {
		return nil, nil, err
	}
	b.commands = append(b.commands, fmt.Sprintf("%s demo checks --tenants %d --checks health --interval %s --url %s --tls-url https://%s > checks.yaml  # + the sections below",
		o.bin, o.tenants, o.interval, b.demoBase, tlsAddr))
	demoArgs := []string{"demo", "--tenants", fmt.Sprint(o.tenants), "--listen", demoAddr, "--tls-listen", tlsAddr, "--log-format", "json", "--log-level", "warn"}
	if demo, err = benchenv.Start(o.bin, os.Stderr, demoArgs...); err != nil {
		return nil, nil, err
	}
	b.commands = append(b.commands, fmt.Sprintf("%s %s", o.bin, join(demoArgs)))
	if err := benchenv.WaitOK(ctx, b.demoBase+"/t/"+b.ids[0]+"/health", 30*time.Second); err != nil {
		return demo, nil, err
	}
	monArgs := []string{"run", "--config", checks, "--listen", monAddr, "--log-format", "json", "--log-level", "info", "--no-watch"}
	mon = exec.Command(o.bin, monArgs...)
	pipe, err := mon.StderrPipe()
	if err != nil {
		return demo, nil, err
	}
	mon.Stdout = os.Stderr
	if err := mon.Start(); err != nil {
		return demo, nil, fmt.Errorf("starting the monitor: %w", err)
	}
	b.log = watchLog(pipe)
	b.commands = append(b.commands, fmt.Sprintf("%s %s", o.bin, join(monArgs)))
	if err := benchenv.WaitOK(ctx, "http://"+monAddr+"/readyz", 60*time.Second); err != nil {
		return demo, mon, err
	}
	fmt.Fprintf(os.Stderr, "monitor ready; waiting until all %d tenants have passed a probe…\n", len(b.ids))
	return demo, mon, waitAllUp(ctx, b.metrics, b.ids, 3*o.interval+10*time.Second)
}

// round is one injection into several tenants at once.
type round struct {
	t0       time.Time
	putSpan  time.Duration // from t0 until the last PUT was answered
	tenants  []outcome
	stray    []post // roots for tenants not put down
	resolved int    // of the round's cases, how many resolved in Slack afterwards
}

// outcome is what happened to one tenant, as offsets from t0.
type outcome struct {
	tenant   string
	slot     time.Duration // the check's first run after t0 (scheduler offsets)
	failing  time.Duration // the monitor logged its first failure
	opened   time.Duration // the monitor logged the case opened
	root     time.Duration // the Slack root arrived
	ok       bool          // a root arrived
	logged   bool          // failing and opened were both logged
	rootPost post
}

// third is when the threshold-th failing run was planned to start.
func (c outcome) third(o options) time.Duration {
	return c.slot + time.Duration(o.threshold-1)*o.interval
}

func (b *bench) round(ctx context.Context, n int, tenants []string) (round, error) {
	o := b.o
	// A random phase of the interval: t0 against the checks' offsets.
	if err := benchenv.Sleep(ctx, time.Duration(rand.Int64N(int64(o.interval)))); err != nil {
		return round{}, err
	}
	r, err := b.inject(ctx, tenants)
	if err != nil {
		return r, err
	}
	fmt.Fprintf(os.Stderr, "round %d: %d tenants down at %s; waiting for their Slack roots…\n", n+1, len(tenants), r.t0.Format("15:04:05.000"))
	b.waitRoots(ctx, &r, o.goal()+30*time.Second)
	b.fillFromLog(&r)
	r.stray = b.slack.rootsOutside(tenants, r.t0)
	for _, id := range tenants {
		if err := setFault(ctx, b.demoBase, id, ""); err != nil {
			return r, err
		}
	}
	fmt.Fprintf(os.Stderr, "round %d: cleared; waiting for the cases to resolve…\n", n+1)
	r.resolved = b.waitResolved(ctx, r, time.Duration(3)*o.interval+15*time.Second)
	return r, nil
}

// inject puts the down fault on every tenant at once; t0 is taken just
// before the first request leaves.
func (b *bench) inject(ctx context.Context, tenants []string) (round, error) {
	var r round
	errs := make([]error, len(tenants))
	var wg sync.WaitGroup
	r.t0 = time.Now()
	for i, id := range tenants {
		wg.Go(func() { errs[i] = setFault(ctx, b.demoBase, id, "down") })
	}
	wg.Wait()
	r.putSpan = time.Since(r.t0)
	for i, id := range tenants {
		if errs[i] != nil {
			return r, errs[i]
		}
		key := id + "/health"
		r.tenants = append(r.tenants, outcome{tenant: id, slot: scheduler.NextSlot(key, b.o.interval, r.t0).Sub(r.t0)})
	}
	return r, nil
}

// waitRoots waits until every tenant of r has its Slack root, or limit.
func (b *bench) waitRoots(ctx context.Context, r *round, limit time.Duration) {
	deadline := r.t0.Add(limit)
	for {
		missing := 0
		for i := range r.tenants {
			c := &r.tenants[i]
			if c.ok {
				continue
			}
			if p, ok := b.slack.firstRoot(c.tenant, r.t0); ok {
				c.ok, c.root, c.rootPost = true, p.at.Sub(r.t0), p
				continue
			}
			missing++
		}
		if missing == 0 || time.Now().After(deadline) || benchenv.Sleep(ctx, 50*time.Millisecond) != nil {
			return
		}
	}
}

// fillFromLog adds the monitor's own times: the first failure and the
// case opening. The log's times have millisecond precision.
func (b *bench) fillFromLog(r *round) {
	since := r.t0.Truncate(time.Millisecond)
	for i := range r.tenants {
		c := &r.tenants[i]
		f, ok1 := b.log.first(c.tenant, msgFailing, since)
		op, ok2 := b.log.first(c.tenant, msgOpened, since)
		c.logged = ok1 && ok2
		c.failing, c.opened = f.Sub(r.t0), op.Sub(r.t0)
	}
}

// waitResolved waits until each root of the round has been edited to
// resolved, so the next round starts with nothing in flight.
func (b *bench) waitResolved(ctx context.Context, r round, limit time.Duration) int {
	deadline := time.Now().Add(limit)
	for {
		n := 0
		for _, c := range r.tenants {
			if _, ok := b.slack.resolvedAt(c.rootPost.ts); ok && c.ok {
				n++
			}
		}
		if n == len(r.tenants) || time.Now().After(deadline) || benchenv.Sleep(ctx, 200*time.Millisecond) != nil {
			return n
		}
	}
}
