package main

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"time"

	"github.com/forewarn/forewarn/bench/internal/benchenv"
)

const (
	pageGoal = 50 * time.Millisecond
	lagGoal  = 0.050 // seconds; also a bucket bound, so "later than" is exact
)

func printReport(o options, fill fillInfo, public, private page, rs []*phaseResult) {
	base := rs[0]
	fmt.Printf("\nstatus page benchmark: %d tenants × %d days of rollups in SQLite, 1 http check per tenant every %s;\n",
		o.tenants, o.days, o.interval)
	fmt.Printf("phases of %s, wrk -t%d -c%d --latency --timeout 10s, Accept-Encoding: gzip\n", o.duration, o.threads, o.connections)
	fmt.Printf("machine: %s, %d cores, %s\n", benchenv.CPUModel(), runtime.NumCPU(), benchenv.GoVersion())
	how := "reused"
	if fill.filled {
		how = "filled in " + fill.took.Round(time.Second).String()
	}
	fmt.Printf("store: %s (%s; history ends %s)\n", fill.path, how, fill.day.Format("2006-01-02"))
	fmt.Printf("first responses: public %s (waits for the monitor's first build), private %s in %s\n\n",
		public, private, private.took.Round(time.Millisecond))

	row := func(name, goal string, f func(*phaseResult) string) {
		fmt.Printf("  %-30s", name)
		for _, r := range rs {
			fmt.Printf(" %20s", f(r))
		}
		fmt.Printf("   %s\n", goal)
	}
	wrkRow := func(name, goal string, f func(*wrkResult) string) {
		row(name, goal, func(r *phaseResult) string {
			if r.wrk == nil {
				return "–"
			}
			return f(r.wrk)
		})
	}
	fmt.Printf("  %-30s", "figure")
	for _, r := range rs {
		fmt.Printf(" %20s", r.name)
	}
	fmt.Printf("   %s\n", "goal")
	wrkRow("page p50 / p99", "p99 < 50 ms", func(w *wrkResult) string { return ms(w.p50) + " / " + ms(w.p99) })
	wrkRow("page max", "", func(w *wrkResult) string { return ms(w.max) })
	wrkRow("page req/s", "", func(w *wrkResult) string { return fmt.Sprintf("%.0f", w.reqPerSec) })
	wrkRow("page errors (non-2xx+socket)", "0", func(w *wrkResult) string { return fmt.Sprint(w.non2xx + socketErrors(w.socketErrors)) })
	wrkRow("wrk CPU", "", func(w *wrkResult) string { return fmt.Sprintf("%.1f s", w.cpu.Seconds()) })
	row("probe runs in window", fmt.Sprintf("≈ %.0f", float64(o.tenants)*o.duration.Seconds()/o.interval.Seconds()),
		func(r *phaseResult) string { return fmt.Sprintf("%.0f", r.lag.count) })
	row("scheduler lag p50", "", func(r *phaseResult) string { return lagMS(r.lagP50) })
	row("scheduler lag p99", "< 50 ms", func(r *phaseResult) string { return lagMS(r.lagP99) })
	row("  its bucket", "", func(r *phaseResult) string { return bucketText(r.lag, r.lagP99) })
	row("runs > 50 ms late (exact)", "< 1 %", func(r *phaseResult) string {
		n, _ := r.lag.over(lagGoal)
		return fmt.Sprintf("%.0f (%.2f %%)", n, 100*n/math.Max(r.lag.count, 1))
	})
	row("monitor CPU (% of one core)", "", func(r *phaseResult) string {
		return fmt.Sprintf("%.1f s (%.0f %%)", r.cpuMonitor, 100*r.cpuMonitor/r.wall.Seconds())
	})
	row("monitor RSS max / end", "", func(r *phaseResult) string { return fmt.Sprintf("%.0f / %.0f MiB", r.rssMax, r.rssEnd) })
	row("demo CPU", "", func(r *phaseResult) string { return fmt.Sprintf("%.1f s", r.cpuDemo) })
	row("/metrics scrape before / after", "", func(r *phaseResult) string { return ms(r.scrape0) + " / " + ms(r.scrape1) })
	row("targets failing / run so far", "0", func(r *phaseResult) string { return fmt.Sprintf("%d / %d", r.failing, r.targets) })
	row("load average at the end", "", func(r *phaseResult) string { return r.loadAvg })
	fmt.Printf("\n  lag buckets (le): %s. Quantiles interpolate within a bucket, as histogram_quantile\n", base.lag.boundsText())
	fmt.Printf("  does: read them to the bucket's resolution. Runs > 50 ms is exact (50 ms is a bound).\n\n")

	var failed, judged int
	verdict := func(ok bool, format string, args ...any) {
		judged++
		word := "PASS"
		if !ok {
			word, failed = "FAIL", failed+1
		}
		fmt.Printf("  %s  %s\n", word, fmt.Sprintf(format, args...))
	}
	for _, r := range rs[1:] {
		w := r.wrk
		verdict(w.p99 < pageGoal, "%s page p99 %s < 50 ms", r.name, ms(w.p99))
		if errs := w.non2xx + socketErrors(w.socketErrors); errs > 0 {
			verdict(false, "%s page: %d errors (non-2xx %d, socket: %s)", r.name, errs, w.non2xx, w.socketErrors)
		}
	}
	for _, r := range rs {
		n, _ := r.lag.over(lagGoal)
		verdict(r.lagP99 < lagGoal && n < 0.01*r.lag.count, "%s: scheduler lag p99 %s < 50 ms (%.0f of %.0f runs later than 50 ms)",
			r.name, lagMS(r.lagP99), n, r.lag.count)
	}
	if lo, hi := base.lag.bucketOf(base.lagP99); !math.IsNaN(base.lagP99) {
		limit := base.lagP99 + (hi - lo)
		for _, r := range rs[1:] {
			verdict(r.lagP99 <= limit, "%s: lag p99 %s ≤ baseline %s + its bucket's width %s (%s) = %s",
				r.name, lagMS(r.lagP99), lagMS(base.lagP99), lagMS(hi-lo), bucketText(base.lag, base.lagP99), lagMS(limit))
		}
	}
	if failed == 0 {
		fmt.Printf("\nall %d goals met\n", judged)
	} else {
		fmt.Printf("\n%d of %d goals missed\n", failed, judged)
	}
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

func lagMS(s float64) string {
	if math.IsNaN(s) {
		return "no runs"
	}
	return fmt.Sprintf("%.2f ms", s*1000)
}

// bucketText names the bucket v falls in, in ms.
func bucketText(h histogram, v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	lo, hi := h.bucketOf(v)
	return fmt.Sprintf("%g–%g ms", lo*1000, hi*1000)
}

// socketErrors sums wrk's "connect 0, read 0, write 0, timeout 0".
func socketErrors(s string) int {
	n := 0
	for _, part := range strings.Split(s, ",") {
		var kind string
		var v int
		if _, err := fmt.Sscan(strings.TrimSpace(part), &kind, &v); err == nil {
			n += v
		}
	}
	return n
}
