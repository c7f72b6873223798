// Package loadreport turns a load run's curve (probes.LoadResult) into what
// people read: a text table with the knee and the headroom over the
// tenant's seats, and a self-contained SVG chart of latency and errors
// against users.
//
// Every function here is pure: it writes to the io.Writer it is given and
// nothing else, and the same result always gives the same bytes.
package loadreport

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/forewarn/forewarn/probes"
)

// Latency formats a latency for a table cell or a chart label: one decimal
// below 10ms, whole milliseconds below 10s, then seconds with one decimal.
// Milliseconds up to 10s keep a column comparable at a glance.
func Latency(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case d < 10*time.Millisecond:
		return strconv.FormatFloat(ms, 'f', 1, 64) + "ms"
	case d < 10*time.Second:
		return strconv.FormatFloat(math.Round(ms), 'f', 0, 64) + "ms"
	default:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	}
}

// Percent formats a ratio (0.01) as a percentage ("1%", "0.5%"), with no
// trailing zeros and at most three decimals.
func Percent(ratio float64) string {
	p := math.Round(ratio*100*1000) / 1000
	return strconv.FormatFloat(p, 'f', -1, 64) + "%"
}

// errorCell is a step's error ratio for the table: one decimal, and "<0.1%"
// rather than a misleading "0.0%" when a few requests did fail.
func errorCell(s probes.LoadStep) string {
	switch {
	case s.Errors == 0 && s.ErrorRatio == 0:
		return "0%"
	case s.ErrorRatio < 0.0005:
		return "<0.1%"
	}
	return fmt.Sprintf("%.1f%%", s.ErrorRatio*100)
}

// SLOText is the SLO in one line: "p95 ≤ 500ms, errors ≤ 1%".
func SLOText(slo probes.SLO) string {
	p95 := "p95 not limited"
	if slo.P95 > 0 {
		p95 = "p95 ≤ " + Latency(slo.P95)
	}
	return p95 + ", errors ≤ " + Percent(slo.ErrorRatio)
}

// missed says which part of the SLO a failed step missed: "p95", "errors"
// or both. A step with nothing completed has an error ratio of 1.
func missed(s probes.LoadStep, slo probes.SLO) string {
	p95 := slo.P95 > 0 && s.P95 > slo.P95
	errs := s.ErrorRatio > slo.ErrorRatio
	switch {
	case p95 && errs:
		return "p95, errors"
	case p95:
		return "p95"
	case errs:
		return "errors"
	}
	return ""
}

// confirmedBreak reports whether the steps hold a confirmation re-run of
// level users: the runner's BreakAt then rests on two measurements.
func confirmedBreak(r probes.LoadResult, users int) bool {
	for _, s := range r.Steps {
		if s.Confirm && s.Users == users {
			return true
		}
	}
	return false
}

// KneeText is the knee in one line, as the table and the chart state it.
func KneeText(r probes.LoadResult) string {
	k := r.Knee
	switch {
	case len(r.Steps) == 0:
		return "unknown: no step ran"
	case k.AtMax:
		return fmt.Sprintf("met the SLO at every level up to %d: knee ≥ %d", k.Users, k.Users)
	case k.Users == 0 && k.BreakAt > 0:
		return fmt.Sprintf("no level met the SLO (broke at %d%s)", k.BreakAt, confirmedSuffix(r))
	case k.Users == 0:
		return "no level met the SLO"
	case k.BreakAt > 0:
		return fmt.Sprintf("%d users (broke at %d%s)", k.Users, k.BreakAt, confirmedSuffix(r))
	default:
		// The ramp ended before its max without a confirmed break (aborted,
		// time cap): the knee is only a lower bound.
		return fmt.Sprintf("≥ %d users (the ramp ended before any break)", k.Users)
	}
}

func confirmedSuffix(r probes.LoadResult) string {
	if confirmedBreak(r, r.Knee.BreakAt) {
		return ", confirmed"
	}
	return ""
}

// Headroom is the knee against the tenant's seats, as a plain verdict:
// "serves 30% of its 500 seats", "serves its 500 seats with 20% to spare".
// Percentages round down, so a tenant at 99.6% does not read as serving
// all its seats.
func Headroom(r probes.LoadResult) string {
	k := r.Knee
	switch {
	case r.Seats <= 0:
		return "unknown: the tenant has no seats"
	case len(r.Steps) == 0:
		return "unknown: no step ran"
	case k.Users == 0:
		return fmt.Sprintf("serves none of its %d seats", r.Seats)
	}
	atLeast := ""
	if k.AtMax || k.BreakAt == 0 {
		atLeast = "at least "
	}
	if k.Users < r.Seats {
		pct := math.Floor(float64(k.Users) * 100 / float64(r.Seats))
		return fmt.Sprintf("serves %s%.0f%% of its %d seats", atLeast, pct, r.Seats)
	}
	spare := math.Floor(float64(k.Users-r.Seats) * 100 / float64(r.Seats))
	if spare == 0 && atLeast == "" {
		return fmt.Sprintf("serves its %d seats with nothing to spare", r.Seats)
	}
	return fmt.Sprintf("serves its %d seats with %s%.0f%% to spare", r.Seats, atLeast, spare)
}
