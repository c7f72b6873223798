package statuspage

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/forewarn/forewarn/config"
	"github.com/forewarn/forewarn/probes"
	"github.com/forewarn/forewarn/store"
)

// capacityView is a load check's latest knee against the tenant's seats,
// with the knees of the last 90 days.
type capacityView struct {
	Check      string
	MeasuredAt time.Time
	Knee       int
	AtMax      bool // every level passed: Knee is a lower bound
	BreakAt    int
	Seats      int
	Required   int
	Passed     bool
	Trend      []trendPoint
	TrendWord  string // rising, falling, steady; "" with too few runs
	Chart      *chart
}

type trendPoint struct {
	Time time.Time
	Knee int
}

// KneeText is "150" or "at least 600".
func (c *capacityView) KneeText() string {
	if c.AtMax {
		return "at least " + strconv.Itoa(c.Knee)
	}
	return strconv.Itoa(c.Knee)
}

// Percent is the knee as a share of the seats: "30%"; "" without seats.
func (c *capacityView) Percent() string {
	if c.Seats <= 0 {
		return ""
	}
	return strconv.Itoa(c.Knee*100/c.Seats) + "%"
}

// MeterMax is the meter's scale: the seats, or the knee when above.
func (c *capacityView) MeterMax() int { return max(c.Seats, c.Knee, 1) }

// HTMLID is the section's element id.
func (c *capacityView) HTMLID() string { return "capacity-" + slug(c.Check) }

// capacity reads the runs of the last 90 days of each of the tenant's
// load checks; the latest is the one shown. (store.LatestCapacity would
// do, but its query scans every tenant's runs.)
func (s *Server) capacity(ctx context.Context, t config.Tenant, loadChecks []string, now time.Time) ([]*capacityView, error) {
	from := now.AddDate(0, 0, -days)
	var out []*capacityView
	for _, check := range loadChecks {
		if s.o.Components.Checks[check] == Hidden {
			continue
		}
		hist, err := s.o.Store.CapacityHistory(ctx, t.ID, check, from, now.Add(time.Minute))
		if err != nil {
			return nil, err
		}
		if len(hist) == 0 {
			continue
		}
		r := hist[len(hist)-1]
		v := &capacityView{Check: r.Check, MeasuredAt: r.Start, Knee: r.Knee.Users, AtMax: r.Knee.AtMax,
			BreakAt: r.Knee.BreakAt, Seats: t.Seats, Required: r.Required}
		if v.Seats == 0 {
			v.Seats = r.Seats
		}
		v.Passed = r.Success
		if r.Required > 0 {
			v.Passed = r.Knee.Users >= r.Required
		}
		for _, h := range hist {
			v.Trend = append(v.Trend, trendPoint{h.Start, h.Knee.Users})
		}
		v.TrendWord = trendWord(v.Trend)
		v.Chart = capacityChart(v.Trend, v.Seats, from, now)
		out = append(out, v)
	}
	return out, nil
}

// trendWord compares the mean knee of the latest three runs with that of
// the first three in the span: more than 10 % apart is a trend.
func trendWord(ps []trendPoint) string {
	if len(ps) < 2 {
		return ""
	}
	k := min(3, len(ps)/2)
	mean := func(xs []trendPoint) float64 {
		sum := 0
		for _, x := range xs {
			sum += x.Knee
		}
		return float64(sum) / float64(len(xs))
	}
	first, last := mean(ps[:k]), mean(ps[len(ps)-k:])
	switch {
	case first == 0 && last == 0:
		return "steady"
	case last > first*1.1:
		return "rising"
	case last < first*0.9:
		return "falling"
	}
	return "steady"
}

// loadChecks are the tenant's load checks: configured for it, or seen in
// its rollups.
func loadChecks(n *snapshot, tenant string, daily []store.Rollup) []string {
	var out []string
	for _, c := range n.checks {
		if c.Kind == probes.KindLoad && slices.Contains(c.Tenants, tenant) {
			out = append(out, c.Name)
		}
	}
	for _, r := range daily {
		if r.Kind == probes.KindLoad && !slices.Contains(out, r.Check) {
			out = append(out, r.Check)
		}
	}
	return out
}
