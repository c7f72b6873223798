package loadreport

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/forewarn/forewarn/probes"
)

// The chart's geometry, in SVG user units (px).
const (
	chartW, chartH = 800, 480
	plotL, plotR   = 72, 736
	plotT, plotB   = 104, 410
	textL          = 20  // left edge of the title block
	charW          = 6.2 // average width of an 11px sans-serif character, to place labels
)

// Colours: blue latency, orange errors, red for what broke, green the knee.
const (
	colP95    = "#1d4ed8"
	colLight  = "#93c5fd"
	colErr    = "#f59e0b"
	colFail   = "#dc2626"
	colKnee   = "#16a34a"
	colSeats  = "#6b7280"
	colGrid   = "#e5e7eb"
	colAxis   = "#374151"
	colSubtle = "#4b5563"
)

// SVG writes r as a self-contained SVG chart: users across; p95 latency
// (p50 and p99 lighter) on the left axis in ms; the error ratio as bars on
// the right axis in %; the SLO p95 dashed; the seats and the knee as
// vertical lines; failed steps in red. No script, no external font or
// stylesheet; every text is escaped, and the same r gives the same bytes.
func SVG(w io.Writer, tenant, check string, r probes.LoadResult) error {
	c := newChart(r)
	b := &c.b
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n",
		chartW, chartH, chartW, chartH)
	title := tenant + " / " + check + " — capacity curve"
	fmt.Fprintf(b, "<title>%s</title>\n", esc(title))
	fmt.Fprintf(b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", chartW, chartH)
	fmt.Fprintf(b, `<text x="%d" y="26" font-size="17" font-weight="bold" fill="#111827">%s</text>`+"\n", textL, esc(title))
	for i, line := range c.subtitle() {
		fmt.Fprintf(b, `<text x="%d" y="%d" fill="%s">%s</text>`+"\n", textL, 46+16*i, colSubtle, esc(line))
	}
	c.legend(84)
	fmt.Fprintf(b, `<clipPath id="plot"><rect x="%d" y="%d" width="%d" height="%d"/></clipPath>`+"\n",
		plotL, plotT, plotR-plotL, plotB-plotT)
	c.axes()
	if len(r.Steps) == 0 {
		fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle" font-size="14" fill="%s">no step ran</text>`+"\n",
			(plotL+plotR)/2, (plotT+plotB)/2, colSubtle)
	}
	c.errorBars()
	c.sloLine()
	c.verticals()
	c.latencyLines()
	c.markers()
	if c.clipped {
		fmt.Fprintf(b, `<text x="%d" y="%d" fill="%s">▲ above the axis, which is capped at %sms so the SLO region stays readable</text>`+"\n",
			plotL, chartH-6, colSubtle, tickLabel(c.lat.hi))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// chart holds the scales of one result while its SVG is written.
type chart struct {
	r            probes.LoadResult
	users        scale
	lat          scale // ms
	errs         scale // %
	seatsOnChart bool
	clipped      bool // a latency point lies above the axis
	b            strings.Builder
}

func newChart(r probes.LoadResult) *chart {
	top, seats := usersTop(r)
	users := niceScale(top, true)
	if onEdge := float64(r.Knee.Users) == users.hi || (seats && float64(r.Seats) == users.hi); onEdge {
		users = users.extended() // a vertical line on the right axis would vanish into it
	}
	return &chart{
		r:            r,
		users:        users,
		lat:          niceScale(latencyTop(r), false),
		errs:         niceScale(errorTop(r), false),
		seatsOnChart: seats,
	}
}

func (c *chart) x(users float64) float64 { return plotL + users/c.users.hi*(plotR-plotL) }
func (c *chart) yLat(ms float64) float64 { return plotB - ms/c.lat.hi*(plotB-plotT) }
func (c *chart) yErr(pc float64) float64 { return plotB - pc/c.errs.hi*(plotB-plotT) }

// subtitle is what the chart concludes, in two lines under the title.
func (c *chart) subtitle() []string {
	first := "SLO: " + SLOText(c.r.SLO)
	if c.r.Model != "" {
		first += " · " + string(c.r.Model) + " model"
	}
	if len(c.r.Steps) == 0 {
		return []string{first}
	}
	return []string{first, "capacity knee: " + KneeText(c.r) + " · " + Headroom(c.r)}
}

// legend writes one row of swatches and names at baseline y.
func (c *chart) legend(y int) {
	x := float64(textL)
	mid := f(float64(y) - 4)
	item := func(name, swatch string, args ...any) {
		fmt.Fprintf(&c.b, swatch+"\n", args...)
		fmt.Fprintf(&c.b, `<text x="%s" y="%d">%s</text>`+"\n", f(x+23), y, esc(name))
		x += 23 + float64(len([]rune(name)))*charW + 16
	}
	line := func(name, style string) {
		item(name, `<line x1="%s" y1="%s" x2="%s" y2="%s" %s/>`, f(x), mid, f(x+18), mid, style)
	}
	line("p95", `stroke="`+colP95+`" stroke-width="2.5"`)
	line("p50", `stroke="`+colLight+`" stroke-width="1.5"`)
	line("p99", `stroke="`+colLight+`" stroke-width="1.5" stroke-dasharray="4 3"`)
	line("SLO p95", `stroke="`+colFail+`" stroke-width="1.5" stroke-dasharray="6 4"`)
	item("errors (right axis)", `<rect x="%s" y="%d" width="10" height="10" fill="%s" fill-opacity="0.5"/>`, f(x+4), y-10, colErr)
	item("failed step", `<circle cx="%s" cy="%s" r="4" fill="%s"/>`, f(x+9), mid, colFail)
	if c.hasConfirm() {
		item("re-run to confirm", `<circle cx="%s" cy="%s" r="4" fill="#ffffff" stroke="%s" stroke-width="2"/>`, f(x+9), mid, colFail)
	}
}

func (c *chart) hasConfirm() bool {
	for _, s := range c.r.Steps {
		if s.Confirm {
			return true
		}
	}
	return false
}

// axes draws the grid, both y axes, the x axis and their labels.
func (c *chart) axes() {
	b := &c.b
	for _, t := range c.lat.ticks {
		y := f(c.yLat(t))
		fmt.Fprintf(b, `<line x1="%d" y1="%s" x2="%d" y2="%s" stroke="%s"/>`+"\n", plotL, y, plotR, y, colGrid)
		fmt.Fprintf(b, `<text x="%d" y="%s" text-anchor="end" dominant-baseline="middle" fill="%s">%s</text>`+"\n",
			plotL-6, y, colAxis, tickLabel(t))
	}
	for _, t := range c.errs.ticks {
		fmt.Fprintf(b, `<text x="%d" y="%s" dominant-baseline="middle" fill="%s">%s%%</text>`+"\n",
			plotR+6, f(c.yErr(t)), colErr, tickLabel(t))
	}
	for _, t := range c.users.ticks {
		x := f(c.x(t))
		fmt.Fprintf(b, `<line x1="%s" y1="%d" x2="%s" y2="%d" stroke="%s"/>`+"\n", x, plotB, x, plotB+5, colAxis)
		fmt.Fprintf(b, `<text x="%s" y="%d" text-anchor="middle" fill="%s">%s</text>`+"\n", x, plotB+18, colAxis, tickLabel(t))
	}
	fmt.Fprintf(b, `<path d="M%d %dV%dH%dV%d" fill="none" stroke="%s"/>`+"\n", plotL, plotT, plotB, plotR, plotT, colAxis)
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle" fill="%s">users</text>`+"\n", (plotL+plotR)/2, plotB+36, colAxis)
	mid := (plotT + plotB) / 2
	fmt.Fprintf(b, `<text transform="translate(20 %d) rotate(-90)" text-anchor="middle" fill="%s">latency (ms)</text>`+"\n", mid, colAxis)
	fmt.Fprintf(b, `<text transform="translate(%d %d) rotate(90)" text-anchor="middle" fill="%s">errors (%%)</text>`+"\n", chartW-16, mid, colErr)
}

// errorBars draws each step's error ratio; a confirmation re-run's bar
// stands just right of its level's first bar.
func (c *chart) errorBars() {
	bw := c.barWidth()
	for _, s := range c.r.Steps {
		if s.ErrorRatio <= 0 {
			continue
		}
		x := c.x(float64(s.Users)) - bw/2
		if s.Confirm {
			x += bw
		}
		y := c.yErr(min(s.ErrorRatio*100, c.errs.hi))
		fmt.Fprintf(&c.b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s" fill-opacity="0.5"/>`+"\n",
			f(x), f(y), f(bw), f(plotB-y), colErr)
	}
}

// barWidth is 40% of the narrowest gap between levels, within 4–18px.
func (c *chart) barWidth() float64 {
	gap := float64(plotR - plotL)
	prev := -1.0
	for _, s := range c.r.Steps {
		x := c.x(float64(s.Users))
		if prev >= 0 && x != prev {
			gap = min(gap, max(x-prev, prev-x))
		}
		prev = x
	}
	return min(max(gap*0.4, 4), 18)
}

// sloLine draws the SLO p95, dashed red on the latency axis. The error
// SLO has no line of its own: it would often sit on top of this one, and
// the subtitle and the failed markers already tell it.
func (c *chart) sloLine() {
	p := msOf(c.r.SLO.P95)
	if p <= 0 {
		return
	}
	y := c.yLat(p)
	fmt.Fprintf(&c.b, `<line x1="%d" y1="%s" x2="%d" y2="%s" stroke="%s" stroke-width="1.5" stroke-dasharray="6 4"/>`+"\n",
		plotL, f(y), plotR, f(y), colFail)
	fmt.Fprintf(&c.b, `<text x="%d" y="%s" text-anchor="end" fill="%s">%s</text>`+"\n",
		plotR-4, f(y-4), colFail, esc("SLO p95 "+Latency(c.r.SLO.P95)))
}

// verticals draws the seats and the knee, each labelled at the top of the
// plot on its own row so the two labels never overlap.
func (c *chart) verticals() {
	if s := c.r.Seats; s > 0 {
		label := "seats " + strconv.Itoa(s)
		if c.seatsOnChart {
			c.vertical(float64(s), colSeats, "", label, plotT+12)
		} else {
			fmt.Fprintf(&c.b, `<text x="%d" y="%d" text-anchor="end" fill="%s">%s</text>`+"\n",
				plotR-4, plotT+12, colSeats, esc(label+" →"))
		}
	}
	k := c.r.Knee
	if len(c.r.Steps) == 0 || k.Users <= 0 {
		return
	}
	label := "knee " + strconv.Itoa(k.Users)
	if k.AtMax || k.BreakAt == 0 {
		label = "knee ≥ " + strconv.Itoa(k.Users)
	}
	c.vertical(float64(k.Users), colKnee, ` stroke-width="2"`, label, plotT+26)
}

func (c *chart) vertical(users float64, colour, extra, label string, labelY int) {
	x := c.x(users)
	fmt.Fprintf(&c.b, `<line x1="%s" y1="%d" x2="%s" y2="%d" stroke="%s"%s/>`+"\n", f(x), plotT, f(x), plotB, colour, extra)
	anchor, lx := "start", x+4
	if lx+float64(len([]rune(label)))*charW > plotR {
		anchor, lx = "end", x-4
	}
	fmt.Fprintf(&c.b, `<text x="%s" y="%d" text-anchor="%s" fill="%s">%s</text>`+"\n", f(lx), labelY, anchor, colour, esc(label))
}

// latencyLines draws p50, p99 and p95 through each level's first run,
// clipped to the plot: a line leaving the top shows the axis cap.
func (c *chart) latencyLines() {
	series := []struct {
		pick  func(probes.LoadStep) float64
		style string
	}{
		{func(s probes.LoadStep) float64 { return msOf(s.P50) }, `stroke="` + colLight + `" stroke-width="1.5"`},
		{func(s probes.LoadStep) float64 { return msOf(s.P99) }, `stroke="` + colLight + `" stroke-width="1.5" stroke-dasharray="4 3"`},
		{func(s probes.LoadStep) float64 { return msOf(s.P95) }, `stroke="` + colP95 + `" stroke-width="2.5"`},
	}
	for _, sr := range series {
		var pts []string
		for _, s := range c.r.Steps {
			if s.Confirm || s.Requests == 0 {
				continue
			}
			pts = append(pts, f(c.x(float64(s.Users)))+","+f(c.yLat(min(sr.pick(s), 20*c.lat.hi))))
		}
		if len(pts) > 1 {
			fmt.Fprintf(&c.b, `<polyline points="%s" fill="none" %s stroke-linejoin="round" clip-path="url(#plot)"/>`+"\n",
				strings.Join(pts, " "), sr.style)
		}
	}
}

// markers draws every step's p95: blue when it met the SLO, red when not,
// hollow for a confirmation re-run, which stands over its own error bar
// just right of its level so it never hides the first run; pinned to the
// top with its value when above the axis. A step with nothing completed
// has no latency: its marker sits on the x axis.
func (c *chart) markers() {
	bw := c.barWidth()
	for _, s := range c.r.Steps {
		col := colP95
		if !s.Passed {
			col = colFail
		}
		fill := col
		if s.Confirm {
			fill = "#ffffff"
		}
		x, ms := c.x(float64(s.Users)), msOf(s.P95)
		if s.Confirm {
			x += bw
		}
		if s.Requests == 0 {
			ms = 0
		}
		if ms > c.lat.hi {
			c.clipped = true
			fmt.Fprintf(&c.b, `<path d="M%s %dl-5 8h10z" fill="%s"/>`+"\n", f(x), plotT, col)
			fmt.Fprintf(&c.b, `<text x="%s" y="%d" text-anchor="middle" fill="%s">%s</text>`+"\n",
				f(x), plotT-4, col, esc(Latency(s.P95)))
			continue
		}
		fmt.Fprintf(&c.b, `<circle cx="%s" cy="%s" r="4" fill="%s" stroke="%s" stroke-width="2"/>`+"\n", f(x), f(c.yLat(ms)), fill, col)
	}
}

// f formats a coordinate with one decimal: enough for a screen, and stable.
func f(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// esc escapes s as XML character data: a tenant named <script> stays text.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder never fails
	return b.String()
}
