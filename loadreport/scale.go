package loadreport

import (
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/forewarn/forewarn/probes"
)

// scale is a linear axis from 0 to hi with round ticks.
type scale struct {
	hi    float64
	ticks []float64
}

// niceScale covers [0, max] with four to eight ticks at 1, 2, 2.5 or 5 × 10^k
// (the classic "nice numbers" of Heckbert, Graphics Gems I). integer keeps
// the step at 1 or more, for counts of users.
func niceScale(max float64, integer bool) scale {
	if !(max > 0) || math.IsInf(max, 0) {
		max = 1
	}
	step := niceStep(max / 6)
	if integer && step < 1 {
		step = 1
	}
	n := int(math.Ceil(max/step - 1e-9))
	s := scale{hi: math.Round(float64(n)*step*1e6) / 1e6}
	for i := 0; i <= n; i++ {
		s.ticks = append(s.ticks, math.Round(float64(i)*step*1e6)/1e6)
	}
	return s
}

// extended adds one more tick step at the top.
func (s scale) extended() scale {
	if len(s.ticks) < 2 {
		return s
	}
	hi := math.Round((s.hi+s.ticks[1])*1e6) / 1e6
	return scale{hi: hi, ticks: append(slices.Clone(s.ticks), hi)}
}

func niceStep(rough float64) float64 {
	exp := math.Pow(10, math.Floor(math.Log10(rough)))
	switch f := rough / exp; {
	case f <= 1:
		return exp
	case f <= 2:
		return 2 * exp
	case f <= 2.5:
		return 2.5 * exp
	case f <= 5:
		return 5 * exp
	default:
		return 10 * exp
	}
}

func tickLabel(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// latencyTop is the top of the latency axis, in ms, before rounding to a
// nice tick.
//
// A huge outlier (a step whose requests all hit the timeout) would squash
// every other point and the SLO line into the bottom pixels. The axis is
// therefore capped at 4× the larger of the SLO p95 and the median step p95;
// points above the cap are drawn at the top edge, marked ▲ with their
// value. A log axis would keep every point but flatten the region around
// the SLO, which is what the chart is for, and it reads badly to anyone who
// does not use log scales daily. The median keeps a curve that is entirely
// far above the SLO (nothing passed) on the chart.
func latencyTop(r probes.LoadResult) float64 {
	var p95s []float64
	top := msOf(r.SLO.P95) * 1.1
	for _, s := range r.Steps {
		if s.Requests == 0 {
			continue
		}
		p95s = append(p95s, msOf(s.P95))
		top = max(top, msOf(s.P99), msOf(s.P95))
	}
	if len(p95s) == 0 {
		return max(top, 1)
	}
	slices.Sort(p95s)
	median := p95s[len(p95s)/2]
	if len(p95s)%2 == 0 {
		median = (median + p95s[len(p95s)/2-1]) / 2
	}
	limit := 4 * max(msOf(r.SLO.P95), median)
	return max(min(top, limit), 1)
}

// usersTop is the right end of the users axis: the highest level planned
// or run. The seats widen it only when they are within 3× of that, so a
// ramp far short of a big tenant's seats is not squashed to the left edge;
// the seats are then named at the edge instead.
func usersTop(r probes.LoadResult) (top float64, seatsOnChart bool) {
	for _, u := range r.Planned {
		top = max(top, float64(u))
	}
	for _, s := range r.Steps {
		top = max(top, float64(s.Users))
	}
	top = max(top, float64(r.Knee.Users), float64(r.Knee.BreakAt))
	if r.Seats > 0 && (top == 0 || float64(r.Seats) <= 3*top) {
		return max(top, float64(r.Seats)), true
	}
	return max(top, 10), false
}

// errorTop is the top of the error axis in percent: the worst step, and
// twice the SLO so its line sits inside; at least 1%, at most 100%.
func errorTop(r probes.LoadResult) float64 {
	top := max(r.SLO.ErrorRatio*100*2, 1)
	for _, s := range r.Steps {
		top = max(top, s.ErrorRatio*100)
	}
	return min(top, 100)
}
