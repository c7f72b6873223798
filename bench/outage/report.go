package main

import (
	"fmt"
	"github.com/forewarn/forewarn/bench/internal/benchenv"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"
)

// join shows args as a shell would take them.
func join(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " '\"$#;&|") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}

func secs(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "**NO**"
}

func verdict(ok bool) string {
	if ok {
		return "MET"
	}
	return "MISSED"
}

// spread is min, median and max of ds; ds is not changed.
func spread(ds []time.Duration) (lo, mid, hi time.Duration) {
	if len(ds) == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	mid = s[len(s)/2]
	if len(s)%2 == 0 {
		mid = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[0], mid, s[len(s)-1]
}

func mean(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(len(ds))
}

func (b *bench) print(w io.Writer) {
	o := b.o
	fmt.Fprintf(w, "\n## forewarn: time from an injected outage to the Slack message — %s\n\n", b.began.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "Machine: %d CPUs (%s), %s. Load average before / after: %s / %s; other work on the machine (builds, tests) shares the CPUs and the disk.\n\n",
		runtime.NumCPU(), benchenv.CPUModel(), benchenv.GoVersion(), b.loadBefore, b.loadAfter)
	fmt.Fprintf(w, "Setup, all on 127.0.0.1: `forewarn demo` with %d tenants; `forewarn run` probing each tenant's /health every %s "+
		"(cases: failure_threshold %d, success_threshold 2, min_duration 0s; store: SQLite in a temporary directory); "+
		"Slack: an in-process slacktest fake. Outage: the demo's `down` fault (connection closed without a response), "+
		"PUT on %d tenants at once at t0, at a random phase of the interval; each round takes other tenants.\n\n",
		o.tenants, o.interval, o.threshold, o.inject)
	fmt.Fprintln(w, "Times are seconds after t0. *Planned* is the check's next slot after t0 from the scheduler's offsets (scheduler.NextSlot); "+
		"*logged* times are the monitor's own JSON log (ms precision); *Slack root* is when chat.postMessage reached the fake.")
	fmt.Fprintln(w)
	for i, r := range b.rounds {
		b.printRound(w, i, r)
	}
	b.printSummary(w)
	b.printCommands(w)
}

func (b *bench) printRound(w io.Writer, n int, r round) {
	o := b.o
	fmt.Fprintf(w, "### Round %d — t0 %s UTC, all PUTs answered within %s\n\n", n+1, r.t0.UTC().Format("15:04:05.000"), r.putSpan.Round(time.Microsecond))
	fmt.Fprintf(w, "| tenant | 1st failing run planned | 1st failure logged | %s failing run planned | case opened logged | Slack root | root − %s run planned | < %s |\n",
		ordinal(o.threshold), ordinal(o.threshold), secsGoal(o))
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|:---:|")
	for _, c := range r.tenants {
		failing, opened := "—", "—"
		if c.logged {
			failing, opened = secs(c.failing), secs(c.opened)
		}
		root, over := "none", "—"
		if c.ok {
			root, over = secs(c.root), fmt.Sprintf("+%s", secs(c.root-c.third(o)))
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", c.tenant, secs(c.slot), failing, secs(c.third(o)), opened, root, over,
			yesNo(c.ok && c.root < o.goal()))
	}
	fmt.Fprintf(w, "\nRoots for tenants not put down: %d. Cases of the round resolved in Slack (root edited) after the faults were cleared: %d of %d.\n\n",
		len(r.stray), r.resolved, len(r.tenants))
}

func ordinal(n int) string {
	switch n {
	case 1:
		return "1st"
	case 2:
		return "2nd"
	case 3:
		return "3rd"
	}
	return fmt.Sprintf("%dth", n)
}

func secsGoal(o options) string { return fmt.Sprintf("%g s", o.goal().Seconds()) }

// figures gathers, over the rounds (all of them when n < 0), the times to
// the root, the overhead past the planned last failing run and the
// notification path alone (case opened → root).
func (b *bench) figures(n int) (roots, over, notify []time.Duration, missing int) {
	for i, r := range b.rounds {
		if n >= 0 && i != n {
			continue
		}
		for _, c := range r.tenants {
			if !c.ok {
				missing++
				continue
			}
			roots = append(roots, c.root)
			over = append(over, c.root-c.third(b.o))
			if c.logged {
				notify = append(notify, c.root-c.opened)
			}
		}
	}
	return roots, over, notify, missing
}

func (b *bench) printSummary(w io.Writer) {
	o := b.o
	fmt.Fprintln(w, "### Summary: t0 → Slack root")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "| round | tenants | roots | min | p50 | max | mean | all < %s |\n", secsGoal(o))
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|:---:|")
	for i := range b.rounds {
		b.summaryRow(w, fmt.Sprint(i+1), i)
	}
	allOK := b.summaryRow(w, "all", -1)
	_, over, notify, _ := b.figures(-1)
	olo, omid, ohi := spread(over)
	nlo, nmid, nhi := spread(notify)
	minT, maxT := time.Duration(o.threshold-1)*o.interval, time.Duration(o.threshold)*o.interval
	fmt.Fprintf(w, "\n**Every Slack root under %s: %s**\n\n", secsGoal(o), verdict(allOK))
	fmt.Fprintf(w, "Expectation: the first failing run is the check's next slot after t0, uniform over [0, %s) since t0 falls at a random phase "+
		"against the scheduler's fixed offsets; the case opens on the %s failing run, %d intervals later: %s–%s after t0 (mean %s), "+
		"plus the probe and the delivery. The goal leaves 1 s for those.\n\n",
		o.interval, ordinal(o.threshold), o.threshold-1, minT, maxT, (minT+maxT)/2)
	fmt.Fprintf(w, "- root − %s failing run planned (probe, case loop, SQLite commit, dispatcher, chat.postMessage): min %s s, p50 %s s, max %s s\n",
		ordinal(o.threshold), secs(olo), secs(omid), secs(ohi))
	fmt.Fprintf(w, "- case opened (logged) → Slack root, the notification path alone: min %s s, p50 %s s, max %s s\n",
		secs(nlo), secs(nmid), secs(nhi))
	fmt.Fprintf(w, "- monitor errors logged: %d; Slack calls: %s\n\n", b.log.errorCount(), b.slack.callSummary())
}

// summaryRow prints the row of round n (all rounds when n < 0) and says
// whether every root arrived within the goal.
func (b *bench) summaryRow(w io.Writer, name string, n int) bool {
	roots, _, _, missing := b.figures(n)
	lo, mid, hi := spread(roots)
	ok := missing == 0 && len(roots) > 0 && hi < b.o.goal()
	fmt.Fprintf(w, "| %s | %d | %d | %s | %s | %s | %s | %s |\n", name, len(roots)+missing, len(roots),
		secs(lo), secs(mid), secs(hi), secs(mean(roots)), yesNo(ok))
	return ok
}

func (b *bench) printCommands(w io.Writer) {
	fmt.Fprintln(w, "### Commands")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "```")
	for _, c := range b.commands {
		fmt.Fprintln(w, c)
	}
	fmt.Fprintf(w, "curl -X PUT -d '{\"mode\":\"down\"}' %s/admin/tenants/{id}/fault   # at t0, for each tenant of the round, concurrently\n", b.demoBase)
	fmt.Fprintf(w, "curl -X DELETE %s/admin/tenants/{id}/fault                       # after the round\n", b.demoBase)
	fmt.Fprintln(w, "```")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Sections appended to the generated checks.yaml (api_url: the fake's; slack-go needs the trailing /, forewarn adds it when missing):\n\n```yaml\n%s```\n", b.extraYAML)
}
