package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/forewarn/forewarn/loadreport"
	"github.com/forewarn/forewarn/probes"
)

// printLoadPlan prints what a run of t would do, from its LoadSpec alone:
// the --dry-run of capacity. It sends nothing.
func printLoadPlan(e *env, t probes.Target) {
	l := t.Load
	levels := l.Ramp.Levels()
	fmt.Fprintf(e.stdout, "%s  load  dry run: nothing is sent\n", t.Key())
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	row := func(name, format string, args ...any) {
		fmt.Fprintf(tw, "  %s\t"+format+"\n", append([]any{name}, args...)...)
	}
	row("ramp", "%d levels: %s users", len(levels), levelList(levels))
	row("steps", "%s each, of which the first %s is warm-up (not measured)", dur(l.Ramp.StepDuration), dur(l.Ramp.WarmUp))
	planned := time.Duration(len(levels)) * l.Ramp.StepDuration
	row("duration", "%s if every level runs; at worst %s, when every level is re-run to confirm a break", dur(planned), dur(2*planned))
	row("model", "%s", modelText(l))
	row("users", "%s", scenarioText(l.Scenario))
	row("actions", "%s", actionsText(l.Actions))
	row("SLO", "%s", loadreport.SLOText(l.SLO))
	row("seats", "%s", seatsText(l))
	row("limits", "%s", limitsText(l.Limits))
	if peak, exact := peakRate(l); peak > 0 {
		how := "at most, if every response were instant"
		if exact {
			how = "the open model's arrival rate"
		}
		row("peak rate", "%.0f requests/s at %d users (%s)", peak, l.Ramp.Max, how)
	}
	for _, w := range l.Windows {
		row("window", "scheduled runs only from cron %q for %s; this command runs now", w.Cron, dur(w.Duration))
	}
	tw.Flush()
	printLimitVerdict(e.stdout, l, planned)
}

// printLimitVerdict says whether the ramp as planned stays within its own
// limits: what would certainly pass one, then what might.
func printLimitVerdict(w io.Writer, l *probes.LoadSpec, planned time.Duration) {
	var would, might []string
	lim := l.Limits
	if lim.MaxUsers > 0 && l.Ramp.Max > lim.MaxUsers {
		would = append(would, fmt.Sprintf("the ramp reaches %d users, over max users %d: the run would be refused", l.Ramp.Max, lim.MaxUsers))
	}
	if lim.MaxDuration > 0 && l.Ramp.StepDuration > 0 {
		fit := int(lim.MaxDuration / l.Ramp.StepDuration)
		switch levels := l.Ramp.Levels(); {
		case planned > lim.MaxDuration && fit < len(levels):
			last := "before its first level ends"
			if fit > 0 {
				last = fmt.Sprintf("after level %d (%d users)", fit, levels[fit-1])
			}
			would = append(would, fmt.Sprintf("the levels take %s, over max duration %s: the time cap ends the ramp %s",
				dur(planned), dur(lim.MaxDuration), last))
		case 2*planned > lim.MaxDuration:
			might = append(might, fmt.Sprintf("re-runs to confirm breaks could take it past max duration %s", dur(lim.MaxDuration)))
		}
	}
	if lim.MaxRate > 0 {
		switch peak, exact := peakRate(l); {
		// The rate cap holds requests back rather than stopping the run;
		// the wait then shows as latency (open model) or fewer requests.
		case peak > lim.MaxRate && exact:
			would = append(would, fmt.Sprintf("%.0f requests/s at %d users, over max rate %s/s: requests would be held back",
				peak, l.Ramp.Max, num(lim.MaxRate)))
		case peak > lim.MaxRate:
			might = append(might, fmt.Sprintf("up to %.0f requests/s at %d users with fast responses, over max rate %s/s: requests would be held back",
				peak, l.Ramp.Max, num(lim.MaxRate)))
		case peak == 0:
			might = append(might, fmt.Sprintf("no think time: only the tenant's latency bounds the rate, which may reach max rate %s/s",
				num(lim.MaxRate)))
		}
	}
	switch {
	case len(would) > 0:
		fmt.Fprintln(w, "would exceed its limits:")
	case len(might) > 0:
		fmt.Fprintln(w, "within its limits as planned, but it may reach one:")
	default:
		fmt.Fprintln(w, "within its limits")
	}
	for _, s := range append(would, might...) {
		fmt.Fprintf(w, "  - %s\n", s)
	}
}

// peakRate is the request rate at the ramp's top level: exact in the open
// model, an upper bound in the closed one (every request is followed by at
// least the think time); 0 when nothing bounds it.
func peakRate(l *probes.LoadSpec) (perSecond float64, exact bool) {
	users := float64(l.Ramp.Max)
	switch {
	case l.Model == probes.LoadOpen && l.Pace > 0:
		return users * float64(max(len(l.Actions), 1)) / l.Pace.Seconds(), true
	case l.Model != probes.LoadOpen && l.ThinkTime > 0:
		return users / l.ThinkTime.Seconds(), false
	}
	return 0, false
}

func modelText(l *probes.LoadSpec) string {
	if l.Model == probes.LoadOpen {
		return fmt.Sprintf("open: each user starts an iteration every %s, whatever the tenant answers", dur(l.Pace))
	}
	think := "no think time"
	if l.ThinkTime > 0 {
		think = "then thinks " + dur(l.ThinkTime)
		if l.ThinkJitter > 0 {
			think += " (+ up to " + dur(l.ThinkJitter) + ")"
		}
	}
	return "closed: each user sends a request when its previous one answered, " + think
}

func scenarioText(s probes.LoadScenario) string {
	if len(s.Tokens) > 0 {
		return fmt.Sprintf("from a pool of %d tokens, no sign-in", len(s.Tokens))
	}
	out := fmt.Sprintf("each signs in with login check %q (%s)", s.LoginCheck, plural(len(s.SignIn), "step"))
	if len(s.SignOut) > 0 {
		out += fmt.Sprintf(" and signs out when done (%s)", plural(len(s.SignOut), "step"))
	}
	return out
}

func actionsText(steps []probes.Step) string {
	names := make([]string, len(steps))
	for i, s := range steps {
		names[i] = s.Name
	}
	return fmt.Sprintf("%d per iteration: %s", len(steps), strings.Join(names, ", "))
}

func seatsText(l *probes.LoadSpec) string {
	seats := "unknown"
	if l.Seats > 0 {
		seats = strconv.Itoa(l.Seats)
	}
	if l.Required > 0 {
		return fmt.Sprintf("%s; the check fails at a knee below %d users", seats, l.Required)
	}
	return seats + "; no knee is required"
}

func limitsText(lim probes.LoadLimits) string {
	var parts []string
	if lim.MaxUsers > 0 {
		parts = append(parts, fmt.Sprintf("max users %d", lim.MaxUsers))
	}
	if lim.MaxRate > 0 {
		parts = append(parts, "max rate "+num(lim.MaxRate)+"/s")
	}
	if lim.MaxDuration > 0 {
		parts = append(parts, "max duration "+dur(lim.MaxDuration))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// levelList shows every level of a short ramp, the ends of a long one.
func levelList(levels []int) string {
	s := make([]string, len(levels))
	for i, u := range levels {
		s[i] = strconv.Itoa(u)
	}
	if len(s) > 16 {
		return strings.Join(s[:8], " ") + " … " + strings.Join(s[len(s)-3:], " ")
	}
	return strings.Join(s, " ")
}

// dur is a duration without trailing zero units: "1m", "1m30s", "2h".
func dur(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
