package slack

import (
	"fmt"
	"strings"

	slackgo "github.com/slack-go/slack"

	"github.com/forewarn/forewarn/cases"
)

// maxCurveRows bounds the curve table so it fits one section.
const maxCurveRows = 40

// capacityBlocks shows what a load run found: the knee against the seats
// and the knee required, and the measured curve.
func capacityBlocks(p *cases.Capacity) []slackgo.Block {
	var b strings.Builder
	b.WriteString("*Capacity*")
	if !p.MeasuredAt.IsZero() {
		b.WriteString(" · measured " + slackDate(p.MeasuredAt))
	}
	fmt.Fprintf(&b, "\nKnee *%d* users · seats *%d* · required *%d*", p.Knee, p.Seats, p.Required)
	if h, ok := headroom(p); ok {
		fmt.Fprintf(&b, " · headroom *%+.0f %%*", h)
	}
	if p.BreakAt > 0 {
		fmt.Fprintf(&b, "\nFirst confirmed break at %d users", p.BreakAt)
	}
	blocks := []slackgo.Block{section(b.String())}
	if len(p.Curve) > 0 {
		blocks = append(blocks, section(fit("```"+curveTable(p.Curve)+"```", maxSection)))
	}
	return blocks
}

// headroom is how far the knee is above (+) or below (−) what the tenant
// must serve, in percent of it: the required knee, or else the seats.
func headroom(p *cases.Capacity) (float64, bool) {
	need := p.Required
	if need <= 0 {
		need = p.Seats
	}
	if need <= 0 {
		return 0, false
	}
	return float64(p.Knee-need) / float64(need) * 100, true
}

// curveTable is the load curve as monospaced rows: users, requests per
// second, error ratio, p95, and whether the step met the SLO.
func curveTable(curve []cases.CurvePoint) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%6s %9s %7s %8s  %s\n", "users", "req/s", "err %", "p95", "step")
	row := func(p cases.CurvePoint) {
		result := "pass"
		if !p.Passed {
			result = "FAIL"
		}
		fmt.Fprintf(&b, "%6d %9.1f %7.1f %8s  %s\n", p.Users, p.Rate, p.ErrorRatio*100, latency(p.P95), result)
	}
	if len(curve) <= maxCurveRows {
		for _, p := range curve {
			row(p)
		}
	} else {
		half := maxCurveRows / 2
		for _, p := range curve[:half] {
			row(p)
		}
		fmt.Fprintf(&b, "%6s  (%d steps left out)\n", "…", len(curve)-2*half)
		for _, p := range curve[len(curve)-half:] {
			row(p)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}
