package statuspage

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/forewarn/forewarn/cases"
)

// State is how a component, a check or the whole service is doing; the
// pages' data-state attributes and the API's "state" fields.
type State string

// The states, from no news to the worst.
const (
	StateUnknown       State = "unknown" // no data
	StateOperational   State = "operational"
	StateMaintenance   State = "maintenance"
	StateDegraded      State = "degraded"
	StatePartialOutage State = "partial_outage"
	StateMajorOutage   State = "major_outage"
)

var stateRank = map[State]int{StateUnknown: 0, StateOperational: 1, StateMaintenance: 2, StateDegraded: 3,
	StatePartialOutage: 4, StateMajorOutage: 5}

func worse(a, b State) State {
	if stateRank[b] > stateRank[a] {
		return b
	}
	return a
}

// Label is the state in words, for a component.
func (st State) Label() string {
	switch st {
	case StateOperational:
		return "Operational"
	case StateMaintenance:
		return "Under maintenance"
	case StateDegraded:
		return "Degraded performance"
	case StatePartialOutage:
		return "Partial outage"
	case StateMajorOutage:
		return "Major outage"
	}
	return "No data"
}

// Summary is the state in one line, for a whole page.
func (st State) Summary() string {
	switch st {
	case StateOperational:
		return "All systems operational"
	case StateMaintenance:
		return "Scheduled maintenance in progress"
	case StateDegraded:
		return "Degraded performance for some customers"
	case StatePartialOutage:
		return "Partial outage"
	case StateMajorOutage:
		return "Major outage"
	}
	return "No data yet"
}

// TenantSummary is the state in one line, for one tenant's page.
func (st State) TenantSummary() string {
	switch st {
	case StateOperational:
		return "All checks operational"
	case StateDegraded:
		return "Degraded performance"
	case StatePartialOutage:
		return "Some checks are failing"
	case StateMajorOutage:
		return "Outage"
	}
	return st.Summary()
}

// caseState is what an active cause of this kind makes of its check.
func caseState(k cases.Kind) State {
	switch k {
	case cases.KindOutage:
		return StateMajorOutage
	case cases.KindDegraded, cases.KindCapacity:
		return StateDegraded
	}
	return StateOperational
}

// counts are runs and successes.
type counts struct{ runs, ok int64 }

func (c *counts) add(o counts) { c.runs += o.runs; c.ok += o.ok }

// day is one bar: a UTC day's runs, successes and incidents.
type day struct {
	Date      time.Time
	Runs, OK  int64
	Incidents int
}

// HasData is false for a day without runs.
func (d day) HasData() bool { return d.Runs > 0 }

// Uptime is successes/runs.
func (d day) Uptime() float64 { return ratio(counts{d.Runs, d.OK}) }

// State is the bar's colour: ≥ 99.9 % operational, ≥ 99 % degraded,
// ≥ 95 % partial outage, below: major outage.
func (d day) State() State {
	if d.Runs == 0 {
		return StateUnknown
	}
	return uptimeState(d.Uptime())
}

func uptimeState(u float64) State {
	switch {
	case u >= 0.999:
		return StateOperational
	case u >= 0.99:
		return StateDegraded
	case u >= 0.95:
		return StatePartialOutage
	}
	return StateMajorOutage
}

// Title is the bar's tooltip.
func (d day) Title() string {
	s := d.Date.Format("2006-01-02") + ": "
	if d.Runs == 0 {
		s += "no data"
	} else {
		s += pct(d.Uptime()) + " uptime"
	}
	switch d.Incidents {
	case 0:
	case 1:
		s += ", 1 incident"
	default:
		s += ", " + strconv.Itoa(d.Incidents) + " incidents"
	}
	return s
}

func ratio(c counts) float64 {
	if c.runs == 0 {
		return 0
	}
	return float64(c.ok) / float64(c.runs)
}

// uptime is the uptime over the last 7, 30 and 90 days of bars.
type uptime struct {
	D7, D30, D90 counts
}

func uptimeOf(ds []day) uptime {
	var u uptime
	for i, d := range ds {
		c := counts{d.Runs, d.OK}
		back := len(ds) - i // 1 for today
		if back <= 7 {
			u.D7.add(c)
		}
		if back <= 30 {
			u.D30.add(c)
		}
		u.D90.add(c)
	}
	return u
}

// window returns the counts of the last n days (7, 30 or 90).
func (u uptime) window(n int) (counts, bool) {
	switch n {
	case 7:
		return u.D7, true
	case 30:
		return u.D30, true
	case 90:
		return u.D90, true
	}
	return counts{}, false
}

// Pct7, Pct30 and Pct90 are for templates: "99.95%", or "–" without data.
func (u uptime) Pct7() string  { return pctOrDash(u.D7) }
func (u uptime) Pct30() string { return pctOrDash(u.D30) }
func (u uptime) Pct90() string { return pctOrDash(u.D90) }

func pctOrDash(c counts) string {
	if c.runs == 0 {
		return "–"
	}
	return pct(ratio(c))
}

// pct formats an uptime, rounding down so that 99.996 % never shows as
// 100 %: "100%", "99.99%".
func pct(f float64) string {
	if f >= 1 {
		return "100%"
	}
	v := math.Floor(f*10000) / 100
	return strconv.FormatFloat(v, 'f', 2, 64) + "%"
}

// nullableRatio is an uptime for JSON: null without runs.
func nullableRatio(c counts) *float64 {
	if c.runs == 0 {
		return nil
	}
	f := math.Floor(ratio(c)*1e6) / 1e6
	return &f
}

// daysFrom returns the 90 UTC dates of the bars, oldest first, ending with
// today's.
func daysFrom(now time.Time) []time.Time {
	today := now.UTC().Truncate(24 * time.Hour)
	out := make([]time.Time, days)
	for i := range out {
		out[i] = today.AddDate(0, 0, i-(days-1))
	}
	return out
}

// dayIndex is the bar of t, or -1 outside the 90 days.
func dayIndex(first, t time.Time) int {
	if t.Before(first) {
		return -1
	}
	i := int(t.Sub(first) / (24 * time.Hour))
	if i >= days {
		return -1
	}
	return i
}

// countIncidents adds 1 to each bar a span [start, end) touches (end zero:
// open, until now).
func countIncidents(ds []day, start, end, now time.Time) {
	if len(ds) == 0 {
		return
	}
	if end.IsZero() {
		end = now
	}
	first := ds[0].Date
	from := max(dayIndex(first, start), 0)
	if start.Before(first) && end.Before(first) {
		return
	}
	to := dayIndex(first, end)
	if to < 0 {
		to = len(ds) - 1
	}
	for i := from; i <= to && i < len(ds); i++ {
		ds[i].Incidents++
	}
}

func durationText(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return d.Round(100 * time.Millisecond).String()
}
