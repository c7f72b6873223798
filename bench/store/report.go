package main

import (
	"bufio"
	"fmt"
	"github.com/forewarn/forewarn/bench/internal/benchenv"
	"os"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Goal from the issue.
const goalPerSecond = 20_000

// rawRetention is the store's default raw retention: raw rows kept at any
// time per check are rawRetention ÷ interval.
const rawRetention = 48 * time.Hour

const mib = 1 << 20

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// fsType is the file system dir is on, from /proc/mounts (the longest
// mount point that holds it).
func fsType(dir string) string {
	f, err := os.Open("/proc/mounts")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	best, typ := "", "unknown"
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 3 {
			continue
		}
		if mp := fs[1]; strings.HasPrefix(dir, mp) && len(mp) > len(best) {
			best, typ = mp, fs[2]+" on "+fs[0]
		}
	}
	return typ
}

func verdict(ok bool) string {
	if ok {
		return "MET"
	}
	return "MISSED"
}

// quantile is the nearest-rank q-quantile of sorted ds.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// thousands is n with comma separators.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func (r *report) print(o options) {
	fmt.Printf("\n## forewarn store on SQLite — %s\n\n", r.began.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Printf("Machine: %d CPUs (%s), %s; databases in %s (%s), SQLite journal_mode=WAL, synchronous=FULL (the store's settings: an fsync per commit; under a backlog one transaction takes many batches' worth, see rows per batch below).\n",
		runtime.NumCPU(), benchenv.CPUModel(), benchenv.GoVersion(), r.dir, r.fs)
	fmt.Printf("Load average at the start / after each phase: %s; other work on the machine (builds, tests) shares the CPUs and the disk.\n\n",
		strings.Join(r.load, " / "))
	r.printThroughput(o)
	if o.disk {
		r.printDisk(o)
	}
}

func (r *report) printThroughput(o options) {
	t := r.throughput
	var took []time.Duration
	var rows, failed int
	for _, b := range t.batches {
		if b.err != nil {
			failed++
			continue
		}
		took = append(took, b.took)
		rows += b.rows
	}
	slices.Sort(took)
	perSec := float64(t.written) / t.wall.Seconds()
	secs := perSecond(t.batches)
	late := secs[len(secs)/2:]
	if len(late) == 0 {
		late = []int{0}
	}
	lateMed := median(late)
	batch := "the store's default batch size"
	if o.batch > 0 {
		batch = fmt.Sprintf("BatchSize %d", o.batch)
	}
	fmt.Printf("### (a) Sustained batched inserts: Record for %s, then Flush (%s)\n\n", o.duration, batch)
	fmt.Printf("A fleet of %s tenants, %s checks: http health and api with phases and TLS, five-step logins, 1 %% failures; "+
		"their Start times advance one 60 s interval per round of the fleet (%s of history written). Each batch is one transaction: "+
		"the raw rows and the upserts of their hourly and daily rollups. Record pauses while %s results wait, so the writer is never idle.\n\n",
		thousands(int64(o.tenants)), thousands(int64(t.targets)), t.simulated.Round(time.Minute), thousands(int64(o.maxQueue)))
	fmt.Println("| figure | value | goal |")
	fmt.Println("|---|---:|---|")
	fmt.Printf("| results written (dropped) | %s (%d) in %.1f s, flush included | |\n", thousands(int64(t.written)), t.dropped, t.wall.Seconds())
	fmt.Printf("| **sustained results/s** (written ÷ wall time) | **%.0f** | > %s: %s |\n", perSec, thousands(goalPerSecond), verdict(perSec > goalPerSecond))
	fmt.Printf("| time Record waited for the writer (≈ 100 %%: the writer is the limit, not the generator) | %.1f of %.1f s | |\n", t.paused.Seconds(), t.recording.Seconds())
	fmt.Printf("| **steady state: median results committed per wall second, second half of the run** | **%d** (lowest %d) | > %s: %s |\n",
		lateMed, slices.Min(late), thousands(goalPerSecond), verdict(lateMed > goalPerSecond))
	fmt.Printf("| batches (failed) | %d (%d), %.0f rows each on average | |\n", len(t.batches), failed, float64(rows)/float64(max(len(took), 1)))
	fmt.Printf("| batch write latency p50 / p90 / p99 / max (OnWrite) | %s / %s / %s / %s | |\n",
		ms(quantile(took, .5)), ms(quantile(took, .9)), ms(quantile(took, .99)), ms(quantile(took, 1)))
	fmt.Printf("| CPU of this process (writer + result generation) | %.1f s = %.0f %% of one core | |\n",
		t.cpu.Seconds(), 100*t.cpu.Seconds()/t.wall.Seconds())
	fmt.Printf("| database file at the end | %.1f MiB | |\n\n", float64(t.dbBytes)/mib)
	fmt.Printf("Results committed in each wall second, thousands, in order (the first seconds write into a nearly empty file): %s\n\n", series(secs))
}

// perSecond is the rows committed in each full wall second from the
// first batch's start on, in order; the last, partial second is left out.
// A batch's rows are spread evenly over the time its transaction took:
// under a backlog the writer commits thousands of rows at once, and
// counting them all in the second the commit ended would make a steady
// writer look like alternating bursts and gaps.
func perSecond(bs []batchWrite) []int {
	var ok []batchWrite
	for _, b := range bs {
		if b.err == nil && b.rows > 0 {
			ok = append(ok, b)
		}
	}
	if len(ok) < 2 {
		return nil
	}
	first := ok[0].end.Add(-ok[0].took)
	last := int(ok[len(ok)-1].end.Sub(first) / time.Second) // partial: left out
	counts := make([]float64, last+1)
	for _, b := range ok {
		spread(counts, b.end.Add(-b.took).Sub(first), b.end.Sub(first), float64(b.rows))
	}
	full := make([]int, last)
	for s := range full {
		full[s] = int(counts[s] + 0.5)
	}
	return full
}

// spread adds n to counts, per second, evenly over [from, to).
func spread(counts []float64, from, to time.Duration, n float64) {
	if to <= from {
		counts[min(int(to/time.Second), len(counts)-1)] += n
		return
	}
	perNS := n / float64(to-from)
	for t := from; t < to; {
		s := t / time.Second
		next := min((s+1)*time.Second, to)
		counts[min(int(s), len(counts)-1)] += perNS * float64(next-t)
		t = next
	}
}

// median is the median of xs; xs is not changed.
func median(xs []int) int {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// series is xs in thousands, as "27.5 23.5 18.5".
func series(xs []int) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%.1f", float64(x)/1000)
	}
	return strings.Join(parts, " ")
}
