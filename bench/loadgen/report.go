package main

import (
	"fmt"
	"github.com/forewarn/forewarn/bench/internal/benchenv"
	"io"
	"runtime"
	"slices"
	"time"
)

// Goals from the issue.
const (
	goalRatio    = 1.0
	goalAccuracy = time.Millisecond
	goalRSS      = 64 << 20 // bytes per 1,000 users
)

type round struct{ forewarn, vegeta sample }

// ratio is forewarn's requests per CPU-second over vegeta's.
func (r round) ratio() float64 { return r.forewarn.perCPUSecond() / r.vegeta.perCPUSecond() }

type report struct {
	began                 time.Time
	took                  time.Duration
	loadBefore, loadAfter string
	vegetaVersion         string

	rounds                     []round
	latForewarn, latVegeta     sample
	floorForewarn, floorVegeta sample // one user at a time: the delay as served
	rssOne, rssMany, rssVegeta sample
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func verdict(ok bool) string {
	if ok {
		return "MET"
	}
	return "MISSED"
}

func (b *bench) print(w io.Writer) {
	r := &b.rep
	fmt.Fprintf(w, "\n## forewarn load generator vs vegeta — %s\n\n", r.began.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "Machine: %d CPUs (%s), %s; vegeta %s built from the Go module proxy.\n", runtime.NumCPU(), benchenv.CPUModel(), benchenv.GoVersion(), r.vegetaVersion)
	fmt.Fprintf(w, "Load average before / after: %s / %s. The demo runs on the same CPUs as the generator; other work on the machine adds noise.\n", r.loadBefore, r.loadAfter)
	fmt.Fprintf(w, "Target: GET %s (demo, 1 tenant, capacity lifted). Whole run: %s.\n\n", b.demo.healthURL(), r.took.Round(time.Second))
	b.printThroughput(w)
	b.printLatency(w)
	b.printMemory(w)
	b.printCommands(w)
}

func (b *bench) printThroughput(w io.Writer) {
	r := &b.rep
	fmt.Fprintf(w, "### Throughput per CPU-second: %d concurrent, %s each, %d rounds (order swapped every round)\n\n", b.o.concurrency, b.o.duration, len(r.rounds))
	fmt.Fprintln(w, "Requests are those the demo counted; CPU is the generator process's user+system time; req/s is over the process's wall time.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| round | generator | requests served | req/s | CPU s | req per CPU-s | max RSS | demo CPU s | errors (own count) |")
	fmt.Fprintln(w, "|---:|---|---:|---:|---:|---:|---:|---:|---:|")
	var ratios []float64
	for i, rd := range r.rounds {
		for _, s := range []sample{rd.forewarn, rd.vegeta} {
			fmt.Fprintf(w, "| %d | %s | %d | %.0f | %.2f | %.0f | %.1f MiB | %.2f | %d of %d |\n", i+1, s.gen, s.served,
				s.perSecond(), s.cpu.Seconds(), s.perCPUSecond(), mib(s.maxRSS), s.demoCPU, s.errors, s.requests)
		}
		ratios = append(ratios, rd.ratio())
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| round | forewarn / vegeta (req per CPU-s) | forewarn / vegeta (req/s) |")
	fmt.Fprintln(w, "|---:|---:|---:|")
	for i, rd := range r.rounds {
		fmt.Fprintf(w, "| %d | %.2f | %.2f |\n", i+1, rd.ratio(), rd.forewarn.perSecond()/rd.vegeta.perSecond())
	}
	m := median(ratios)
	fmt.Fprintf(w, "\n**Median ratio forewarn/vegeta, requests per CPU-second: %.2f (goal ≥ %.1f: %s)**\n\n", m, goalRatio, verdict(m >= goalRatio))
}

func (b *bench) printLatency(w io.Writer) {
	r := &b.rep
	d := b.o.delay
	fmt.Fprintf(w, "### Latency accuracy: slow fault of %s, %d users / workers, %s each\n\n", d, b.o.latencyUsers, b.o.latencyDuration)
	fmt.Fprintln(w, "forewarn's percentiles are its step's after a 2s warm-up (HDR histogram, µs); vegeta's cover its whole attack.")
	fmt.Fprintf(w, "The 1-user rows (%s each) show the delay as the demo and the kernel serve it, without contention for the CPUs.\n\n", floorDuration)
	fmt.Fprintln(w, "| generator | users | requests (own count) | p50 | p99 | p50 − delay | p99 − delay | req/s served | CPU s |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	rows := []struct {
		users int
		s     sample
	}{{b.o.latencyUsers, r.latForewarn}, {b.o.latencyUsers, r.latVegeta}, {1, r.floorForewarn}, {1, r.floorVegeta}}
	for _, row := range rows {
		s := row.s
		fmt.Fprintf(w, "| %s | %d | %d | %s | %s | %+.3f ms | %+.3f ms | %.0f | %.2f |\n", s.gen, row.users, s.requests,
			s.p50.Round(time.Microsecond), s.p99.Round(time.Microsecond), msf(s.p50-d), msf(s.p99-d), s.perSecond(), s.cpu.Seconds())
	}
	f := r.latForewarn
	ok := absDur(f.p50-d) <= goalAccuracy && absDur(f.p99-d) <= goalAccuracy
	fmt.Fprintf(w, "\n**forewarn p50 and p99 within %s of %s at %d users: %s**\n\n", goalAccuracy, d, b.o.latencyUsers, verdict(ok))
}

func (b *bench) printMemory(w io.Writer) {
	r := &b.rep
	n := b.o.rssUsers
	fmt.Fprintf(w, "### Memory: peak RSS (the process's maxrss), think time %s, %s each\n\n", b.o.rssThink, b.o.rssDuration)
	fmt.Fprintln(w, "| run | users | requests served | max RSS | CPU s |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|")
	row := func(name string, users int, s sample) {
		fmt.Fprintf(w, "| %s | %d | %d | %.1f MiB | %.2f |\n", name, users, s.served, mib(s.maxRSS), s.cpu.Seconds())
	}
	row("forewarn", 1, r.rssOne)
	row("forewarn", n, r.rssMany)
	row(fmt.Sprintf("vegeta, -rate=%d/%s (reference)", n, b.o.rssThink), n, r.rssVegeta)
	// The goal is per 1,000 users: for another count, scale it.
	goal := float64(goalRSS) * float64(n) / 1000
	incr := float64(r.rssMany.maxRSS-r.rssOne.maxRSS) * 1000 / float64(n-1)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "- total peak RSS at %d users (strict reading): **%.1f MiB** (goal < %.0f MiB: %s)\n",
		n, mib(r.rssMany.maxRSS), goal/(1<<20), verdict(float64(r.rssMany.maxRSS) < goal))
	fmt.Fprintf(w, "- increment over the 1-user run, per 1,000 users: **%.1f MiB** (goal < 64 MiB: %s)\n\n", incr/(1<<20), verdict(incr < goalRSS))
}

func (b *bench) printCommands(w io.Writer) {
	fmt.Fprintln(w, "### Commands")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "```")
	var seen []string
	for _, c := range b.commands {
		if !slices.Contains(seen, c) {
			seen = append(seen, c)
			fmt.Fprintln(w, c)
		}
	}
	fmt.Fprintln(w, "```")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "The throughput run's checks.yaml (the others differ in the ramp and think_time):\n\n```yaml\n%s```\n", b.sampleYAML)
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
