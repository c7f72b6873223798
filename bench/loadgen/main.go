// Command loadgen benchmarks forewarn's load generator against vegeta on
// this machine, side by side in one run, against one demo tenant on
// 127.0.0.1 (GET /t/acme/health, its capacity lifted):
//
//   - throughput: requests the demo served per CPU-second of the
//     generator, at the same concurrency and duration, the two run in
//     turn for a few rounds (goal: forewarn/vegeta ≥ 1.0);
//   - latency accuracy: p50/p99 at 100 users against a fixed injected
//     delay of 20 ms (goal: forewarn within 1 ms of it);
//   - memory: forewarn's peak RSS at 1,000 users and at 1 (goal: under
//     64 MiB per 1,000 users).
//
// vegeta is built from the Go module proxy into a temporary directory
// (never a dependency of forewarn) unless -vegeta names a binary.
//
//	go run ./bench/loadgen -bin bin/forewarn -rounds 3 -duration 20s -concurrency 50
package main

import (
	"context"
	"flag"
	"fmt"
	"github.com/forewarn/forewarn/bench/internal/benchenv"
	"os"
	"os/signal"
	"syscall"
	"time"
)

type options struct {
	bin           string
	vegeta        string
	vegetaVersion string
	tenant        string
	listen        string
	tlsListen     string

	rounds      int
	duration    time.Duration
	concurrency int

	delay           time.Duration
	latencyUsers    int
	latencyDuration time.Duration

	rssUsers    int
	rssDuration time.Duration
	rssThink    time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin/forewarn", "forewarn binary")
	flag.StringVar(&o.vegeta, "vegeta", "", "a vegeta binary to use; empty: build one with go install into a temporary directory")
	flag.StringVar(&o.vegetaVersion, "vegeta-version", "latest", "the vegeta module version to build")
	flag.StringVar(&o.tenant, "tenant", "acme", "the demo tenant to load")
	flag.StringVar(&o.listen, "demo-listen", "", "demo HTTP listener (default: a free 127.0.0.1 port)")
	flag.StringVar(&o.tlsListen, "demo-tls-listen", "", "demo TLS listener (default: a free 127.0.0.1 port)")
	flag.IntVar(&o.rounds, "rounds", 3, "throughput rounds, each running forewarn and vegeta once")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "each throughput run's duration")
	flag.IntVar(&o.concurrency, "concurrency", 50, "throughput concurrency: forewarn users, vegeta workers")
	flag.DurationVar(&o.delay, "delay", 20*time.Millisecond, "latency accuracy: the delay injected on the tenant")
	flag.IntVar(&o.latencyUsers, "latency-users", 100, "latency accuracy: users (forewarn) and workers (vegeta)")
	flag.DurationVar(&o.latencyDuration, "latency-duration", 15*time.Second, "latency accuracy: each run's duration (forewarn's includes a 2s warm-up)")
	flag.IntVar(&o.rssUsers, "rss-users", 1000, "memory: forewarn users of the large run")
	flag.DurationVar(&o.rssDuration, "rss-duration", 15*time.Second, "memory: each run's duration (3s of it warm-up)")
	flag.DurationVar(&o.rssThink, "rss-think", time.Second, "memory: think time of each user")
	flag.Parse()
	if o.rounds < 1 || o.concurrency < 1 || o.latencyUsers < 1 || o.rssUsers < 2 ||
		o.duration < 2*time.Second || o.latencyDuration < 3*time.Second || o.rssDuration < 4*time.Second {
		fmt.Fprintln(os.Stderr, "loadgen: want rounds, concurrency, latency-users ≥ 1, rss-users ≥ 2, duration ≥ 2s, latency-duration ≥ 3s, rss-duration ≥ 4s")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// bench is one benchmark run: its processes, files and findings.
type bench struct {
	o         options
	dir       string
	demo      *demo
	vegetaBin string

	rep        report
	commands   []string
	sampleYAML string
}

func run(ctx context.Context, o options) error {
	dir, err := os.MkdirTemp("", "forewarn-loadgen-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b := &bench{o: o, dir: dir, vegetaBin: o.vegeta}
	b.rep.began = time.Now()
	b.rep.loadBefore = benchenv.LoadAverage()
	if b.vegetaBin == "" {
		fmt.Fprintf(os.Stderr, "building vegeta %s from the module proxy…\n", o.vegetaVersion)
		var cmd string
		b.vegetaBin, b.rep.vegetaVersion, cmd, err = buildVegeta(ctx, dir, o.vegetaVersion)
		b.commands = append(b.commands, cmd)
		if err != nil {
			return err
		}
	} else {
		b.rep.vegetaVersion = moduleVersion(ctx, b.vegetaBin)
	}
	if err := b.startDemo(ctx); err != nil {
		return err
	}
	defer b.demo.stop()
	for _, phase := range []func(context.Context) error{b.throughput, b.latency, b.memory} {
		if err := phase(ctx); err != nil {
			return err
		}
	}
	b.rep.loadAfter = benchenv.LoadAverage()
	b.rep.took = time.Since(b.rep.began)
	b.print(os.Stdout)
	return nil
}

func (b *bench) startDemo(ctx context.Context) error {
	listen, tlsListen := b.o.listen, b.o.tlsListen
	var err error
	if listen == "" {
		if listen, err = benchenv.FreeAddr(); err != nil {
			return err
		}
	}
	if tlsListen == "" {
		if tlsListen, err = benchenv.FreeAddr(); err != nil {
			return err
		}
	}
	b.demo, err = startDemo(ctx, b.o.bin, listen, tlsListen, b.o.tenant)
	if err != nil {
		return err
	}
	b.commands = append(b.commands, fmt.Sprintf("%s demo --tenants 1 --listen %s --tls-listen %s --capacity '%s=0' --log-format json --log-level warn",
		b.o.bin, listen, tlsListen, b.o.tenant))
	return nil
}

// throughput runs forewarn and vegeta in turn, the order swapped every
// round so that neither always runs on a warmer (or busier) machine.
func (b *bench) throughput(ctx context.Context) error {
	o := b.o
	p := plan{users: o.concurrency, step: o.duration, warmUp: time.Second}
	for i := range o.rounds {
		var r round
		gens := []func() error{
			func() (err error) { r.forewarn, err = b.forewarn(ctx, "throughput", p); return err },
			func() (err error) {
				r.vegeta, err = b.vegeta(ctx, "throughput", o.concurrency, "0", o.duration)
				return err
			},
		}
		if i%2 == 1 {
			gens[0], gens[1] = gens[1], gens[0]
		}
		for _, g := range gens {
			if err := g(); err != nil {
				return err
			}
			pause(ctx)
		}
		fmt.Fprintf(os.Stderr, "round %d/%d: forewarn %.0f req/CPU-s, vegeta %.0f req/CPU-s, ratio %.2f\n",
			i+1, o.rounds, r.forewarn.perCPUSecond(), r.vegeta.perCPUSecond(), r.ratio())
		b.rep.rounds = append(b.rep.rounds, r)
	}
	return nil
}

// latency injects the delay on the tenant and measures it with both.
func (b *bench) latency(ctx context.Context) error {
	o := b.o
	if err := b.demo.slow(o.delay); err != nil {
		return err
	}
	defer b.demo.clearFault()
	p := plan{users: o.latencyUsers, step: o.latencyDuration, warmUp: 2 * time.Second}
	var err error
	if b.rep.latForewarn, err = b.forewarn(ctx, "latency", p); err != nil {
		return err
	}
	pause(ctx)
	if b.rep.latVegeta, err = b.vegeta(ctx, "latency", o.latencyUsers, "0", o.latencyDuration); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "latency at %s: forewarn p50 %s p99 %s, vegeta p50 %s p99 %s\n", o.delay,
		b.rep.latForewarn.p50, b.rep.latForewarn.p99, b.rep.latVegeta.p50, b.rep.latVegeta.p99)
	pause(ctx)
	p = plan{users: 1, step: floorDuration, warmUp: 2 * time.Second}
	if b.rep.floorForewarn, err = b.forewarn(ctx, "latency-1", p); err != nil {
		return err
	}
	pause(ctx)
	if b.rep.floorVegeta, err = b.vegeta(ctx, "latency-1", 1, "0", floorDuration); err != nil {
		return err
	}
	pause(ctx)
	return b.demo.clearFault()
}

// floorDuration is the length of the 1-user latency runs.
const floorDuration = 6 * time.Second

// memory measures forewarn's peak RSS at 1 user and at many, and vegeta's
// with as many workers at the same request rate, for reference.
func (b *bench) memory(ctx context.Context) error {
	o := b.o
	p := plan{users: 1, step: o.rssDuration, warmUp: 3 * time.Second, think: o.rssThink}
	var err error
	if b.rep.rssOne, err = b.forewarn(ctx, "rss-1", p); err != nil {
		return err
	}
	pause(ctx)
	p.users = o.rssUsers
	if b.rep.rssMany, err = b.forewarn(ctx, fmt.Sprintf("rss-%d", o.rssUsers), p); err != nil {
		return err
	}
	pause(ctx)
	rate := fmt.Sprintf("%d/%s", o.rssUsers, o.rssThink)
	if b.rep.rssVegeta, err = b.vegeta(ctx, "rss", o.rssUsers, rate, o.rssDuration); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "memory: forewarn %d users %.1f MiB, 1 user %.1f MiB; vegeta %d workers %.1f MiB\n",
		o.rssUsers, mib(b.rep.rssMany.maxRSS), mib(b.rep.rssOne.maxRSS), o.rssUsers, mib(b.rep.rssVegeta.maxRSS))
	return nil
}

// pause lets the last run's connections close before the next one.
func pause(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-time.After(time.Second):
	}
}
