package loadreport

import (
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/forewarn/forewarn/probes"
)

// Table writes r's curve as a text table, one row per step run, then the
// knee, the headroom over the seats and why the ramp stopped.
func Table(w io.Writer, r probes.LoadResult) {
	fmt.Fprintf(w, "SLO: %s\n\n", SLOText(r.SLO))
	if len(r.Steps) == 0 {
		fmt.Fprintln(w, "no step ran")
	} else {
		steps(w, r)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "capacity knee: %s\n", KneeText(r))
	if r.Seats > 0 {
		fmt.Fprintf(w, "seats: %d, %s\n", r.Seats, Headroom(r))
	} else {
		fmt.Fprintf(w, "headroom: %s\n", Headroom(r))
	}
	if r.Required > 0 {
		fmt.Fprintf(w, "required: %d users, %s\n", r.Required, requiredVerdict(r))
	}
	if s := stopText(r); s != "" {
		fmt.Fprintf(w, "stopped: %s\n", s)
	}
}

func steps(w io.Writer, r probes.LoadResult) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	// AlignRight right-aligns the numbers; the verdict, after the last tab,
	// is no cell and stays left-aligned.
	fmt.Fprintln(tw, "USERS\tREQ/S\tERRORS\tP50\tP95\tP99\tMAX\tIN-FLIGHT\t  SLO")
	confirms := false
	for _, s := range r.Steps {
		users := strconv.Itoa(s.Users)
		if s.Confirm {
			users += "*"
			confirms = true
		}
		p50, p95, p99, mx := "-", "-", "-", "-"
		if s.Requests > 0 {
			p50, p95, p99, mx = Latency(s.P50), Latency(s.P95), Latency(s.P99), Latency(s.Max)
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%s\t%s\t%s\t%s\t%s\t%d\t  %s\n",
			users, s.Rate, errorCell(s), p50, p95, p99, mx, s.InFlight, Verdict(s, r.SLO))
	}
	tw.Flush()
	if confirms {
		fmt.Fprintln(w, "* re-run of the level to confirm its break")
	}
}

// Verdict is a step against the SLO: "pass", or "FAIL (p95, errors)"
// naming what it missed.
func Verdict(s probes.LoadStep, slo probes.SLO) string {
	if s.Passed {
		return "pass"
	}
	if m := missed(s, slo); m != "" {
		return "FAIL (" + m + ")"
	}
	return "FAIL"
}

// StepLine is one finished step in a line, for the log of a running ramp:
// "200 users: 240.0 req/s, errors 3.2%, p95 990ms: FAIL (p95, errors)".
func StepLine(s probes.LoadStep, slo probes.SLO) string {
	p95 := "-"
	if s.Requests > 0 {
		p95 = Latency(s.P95)
	}
	again := ""
	if s.Confirm {
		again = " (re-run)"
	}
	return fmt.Sprintf("%d users%s: %.1f req/s, errors %s, p95 %s: %s",
		s.Users, again, s.Rate, errorCell(s), p95, Verdict(s, slo))
}

func requiredVerdict(r probes.LoadResult) string {
	switch {
	case len(r.Steps) == 0:
		return "not measured"
	case r.Knee.Users >= r.Required:
		return "met"
	case r.Knee.BreakAt == 0 && !r.Knee.AtMax:
		return fmt.Sprintf("not shown: the ramp ended at a knee of at least %d", r.Knee.Users)
	default:
		return fmt.Sprintf("NOT met (knee %d)", r.Knee.Users)
	}
}

// stopText is why the ramp ended and how far it got: "slo after 4 of 12
// planned levels: p95 990ms over 500ms at 200 users".
func stopText(r probes.LoadResult) string {
	if r.Stop == "" && r.Message == "" {
		return ""
	}
	s := r.Stop
	if s == "" {
		s = "unknown"
	}
	if n := levelsRun(r); len(r.Planned) > 0 && n < len(r.Planned) {
		s += fmt.Sprintf(" after %d of %d planned levels", n, len(r.Planned))
	}
	if r.Message != "" {
		s += ": " + r.Message
	}
	return s
}

// levelsRun counts the distinct levels the steps ran, confirmations aside.
func levelsRun(r probes.LoadResult) int {
	n := 0
	for _, s := range r.Steps {
		if !s.Confirm {
			n++
		}
	}
	return n
}
