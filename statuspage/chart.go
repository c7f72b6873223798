package statuspage

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/forewarn/forewarn/store"
)

// chart is an SVG line chart drawn on the server: numbers only, so the
// template needs no escaping beyond its own; colours come from the
// stylesheet's classes.
type chart struct {
	Title, Desc string
	W, H        int
	Left, Top   float64 // the plot area
	Right, Bot  float64
	Series      []series
	YTicks      []tick
	XTicks      []tick
	Refs        []refLine
	Dots        []dot
}

type series struct {
	Class, Label string
	Paths        []string // polyline points, one per run of data without gaps
}

type tick struct {
	Pos   float64
	Label string
}

type refLine struct {
	Y            float64
	Class, Label string
}

type dot struct {
	X, Y  float64
	Title string
}

const (
	chartW, chartH = 640, 180
	padLeft        = 52
	padRight       = 10
	padTop         = 10
	padBottom      = 22
)

func newChart(title, desc string) *chart {
	return &chart{Title: title, Desc: desc, W: chartW, H: chartH, Left: padLeft, Top: padTop,
		Right: chartW - padRight, Bot: chartH - padBottom}
}

func (c *chart) x(frac float64) float64 { return c.Left + frac*(c.Right-c.Left) }
func (c *chart) y(frac float64) float64 { return c.Bot - frac*(c.Bot-c.Top) }

// niceCeil is the smallest 1, 2 or 5 × 10^k at or above v.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*e >= v {
			return m * e
		}
	}
	return 10 * e
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

func coord(f float64) string { return strconv.FormatFloat(round1(f), 'f', -1, 64) }

// responseChart draws the median and p95 of successful runs per hour, from
// from for hours hours; an hour without a success is a gap.
func responseChart(rows []store.Rollup, from time.Time, hours int) *chart {
	c := newChart("Response times, last 7 days", "Median and 95th percentile of successful runs per hour, in milliseconds.")
	type point struct{ p50, p95 float64 }
	pts := make([]*point, hours)
	top := 0.0
	for _, r := range rows {
		i := int(r.Start.Sub(from) / time.Hour)
		if i < 0 || i >= hours || r.Successes == 0 {
			continue
		}
		p := &point{ms(r.Quantile(0.5)), ms(r.Quantile(0.95))}
		pts[i] = p
		top = max(top, p.p95)
	}
	if top == 0 {
		return nil
	}
	top = niceCeil(top * 1.05)
	for _, f := range []float64{0, 0.5, 1} {
		c.YTicks = append(c.YTicks, tick{round1(c.y(f)), msLabel(top * f)})
	}
	for h := 0; h < hours; h++ {
		if t := from.Add(time.Duration(h) * time.Hour); t.Hour() == 0 {
			c.XTicks = append(c.XTicks, tick{round1(c.x(float64(h) / float64(hours))), t.Format("Jan 2")})
		}
	}
	for _, s := range []struct {
		class, label string
		v            func(*point) float64
	}{{"p95", "95th percentile", func(p *point) float64 { return p.p95 }}, {"p50", "median", func(p *point) float64 { return p.p50 }}} {
		sr := series{Class: s.class, Label: s.label}
		var b strings.Builder
		for i, p := range pts {
			if p == nil {
				if b.Len() > 0 {
					sr.Paths = append(sr.Paths, b.String())
					b.Reset()
				}
				continue
			}
			fmt.Fprintf(&b, "%s,%s ", coord(c.x((float64(i)+0.5)/float64(hours))), coord(c.y(s.v(p)/top)))
		}
		if b.Len() > 0 {
			sr.Paths = append(sr.Paths, b.String())
		}
		c.Series = append(c.Series, sr)
	}
	return c
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func msLabel(v float64) string {
	if v >= 1000 {
		return strconv.FormatFloat(v/1000, 'f', -1, 64) + " s"
	}
	return strconv.FormatFloat(v, 'f', -1, 64) + " ms"
}

// capacityChart draws each run's knee over the span, against the seats.
func capacityChart(points []trendPoint, seats int, from, to time.Time) *chart {
	if len(points) == 0 {
		return nil
	}
	c := newChart("Capacity, last 90 days", "Concurrent users served within the SLO at each load run, against the contracted seats.")
	top := float64(seats)
	for _, p := range points {
		top = max(top, float64(p.Knee))
	}
	top = niceCeil(top * 1.1)
	for _, f := range []float64{0, 0.5, 1} {
		c.YTicks = append(c.YTicks, tick{round1(c.y(f)), strconv.FormatFloat(top*f, 'f', -1, 64)})
	}
	span := to.Sub(from)
	for t := from.Truncate(24*time.Hour).AddDate(0, 0, 1); t.Before(to); t = t.AddDate(0, 0, 1) {
		if t.Day() == 1 {
			c.XTicks = append(c.XTicks, tick{round1(c.x(float64(t.Sub(from)) / float64(span))), t.Format("Jan")})
		}
	}
	if seats > 0 {
		c.Refs = append(c.Refs, refLine{round1(c.y(float64(seats) / top)), "seats", "seats " + strconv.Itoa(seats)})
	}
	var b strings.Builder
	for _, p := range points {
		x, y := c.x(float64(p.Time.Sub(from))/float64(span)), c.y(float64(p.Knee)/top)
		fmt.Fprintf(&b, "%s,%s ", coord(x), coord(y))
		c.Dots = append(c.Dots, dot{X: round1(x), Y: round1(y),
			Title: p.Time.Format("2006-01-02") + ": " + strconv.Itoa(p.Knee) + " users"})
	}
	c.Series = []series{{Class: "knee", Label: "capacity knee", Paths: []string{b.String()}}}
	return c
}
