package loadreport

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forewarn/forewarn/probes"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

const ms = time.Millisecond

func step(users int, p50, p95, p99 time.Duration, errRatio float64, passed bool) probes.LoadStep {
	req := int64(users) * 60
	return probes.LoadStep{
		Users: users, Duration: 50 * time.Second, Requests: req, Errors: int64(errRatio * float64(req)),
		Rate: float64(req) / 50, ErrorRatio: errRatio, P50: p50, P95: p95, P99: p99, Max: 2 * p99,
		InFlight: users / 3, Passed: passed,
	}
}

// Typical is the curve of a tenant that breaks at 200 users, confirmed by
// a re-run, against 500 seats of which it must serve half.
func Typical() probes.LoadResult {
	confirm := step(200, 330*ms, 1020*ms, 1900*ms, 0.029, false)
	confirm.Confirm = true
	return probes.LoadResult{
		Model: probes.LoadClosed, SLO: probes.SLO{P95: 500 * ms, ErrorRatio: 0.01},
		Seats: 500, Required: 250, Planned: []int{50, 100, 150, 200, 250, 300},
		Steps: []probes.LoadStep{
			step(50, 4200*time.Microsecond, 8700*time.Microsecond, 14*ms, 0, true),
			step(100, 61*ms, 180*ms, 260*ms, 0.0004, true),
			step(150, 120*ms, 410*ms, 530*ms, 0.004, true),
			step(200, 310*ms, 990*ms, 1800*ms, 0.032, false),
			confirm,
		},
		Knee: probes.Knee{Users: 150, BreakAt: 200},
		Stop: "slo", Message: "p95 1020ms over the SLO's 500ms at 200 users, confirmed by a re-run",
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./loadreport -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s changed; if intended, run go test ./loadreport -update and review the diff.\ngot:\n%s", path, got)
	}
}

func TestTableGolden(t *testing.T) {
	var b bytes.Buffer
	Table(&b, Typical())
	golden(t, "typical.txt.golden", b.Bytes())
}

func TestSVGGolden(t *testing.T) {
	var b bytes.Buffer
	if err := SVG(&b, "acme", "load", Typical()); err != nil {
		t.Fatal(err)
	}
	golden(t, "typical.svg.golden", b.Bytes())
	var again bytes.Buffer
	_ = SVG(&again, "acme", "load", Typical())
	if !bytes.Equal(b.Bytes(), again.Bytes()) {
		t.Error("two charts of the same result differ")
	}
}

func TestTableStates(t *testing.T) {
	all := Typical()
	all.Steps = all.Steps[:3]
	all.Planned = []int{50, 100, 150}
	all.Knee = probes.Knee{Users: 150, AtMax: true}
	all.Stop, all.Message = "max", ""

	none := Typical()
	none.Steps = []probes.LoadStep{step(50, 800*ms, 2*time.Second, 3*time.Second, 0.2, false)}
	none.Knee = probes.Knee{}
	none.Stop, none.Message = "slo", "p95 2000ms over the SLO's 500ms at 50 users"

	over := Typical()
	over.Knee = probes.Knee{Users: 600, BreakAt: 650}

	exact := Typical()
	exact.Knee = probes.Knee{Users: 500, BreakAt: 550}

	noSeats := Typical()
	noSeats.Seats, noSeats.Required = 0, 0

	empty := probes.LoadResult{SLO: probes.SLO{P95: 500 * ms, ErrorRatio: 0.01}, Seats: 500,
		Planned: []int{50, 100}, Stop: "sign-in", Message: "the sign-in failed: status 401"}

	aborted := Typical()
	aborted.Steps = aborted.Steps[:2]
	aborted.Knee = probes.Knee{Users: 100}
	aborted.Stop, aborted.Message = "aborted", "interrupted"

	cases := []struct {
		name string
		r    probes.LoadResult
		want []string
	}{
		{"typical", Typical(), []string{
			"SLO: p95 ≤ 500ms, errors ≤ 1%",
			"capacity knee: 150 users (broke at 200, confirmed)",
			"seats: 500, serves 30% of its 500 seats",
			"required: 250 users, NOT met (knee 150)",
			"stopped: slo after 4 of 6 planned levels: p95 1020ms",
			"200*", "* re-run of the level", "FAIL (p95, errors)", "8.7ms", "990ms", "1900ms", "<0.1%"}},
		{"all passing", all, []string{
			"capacity knee: met the SLO at every level up to 150: knee ≥ 150",
			"serves at least 30% of its 500 seats", "stopped: max\n"}},
		{"none passing", none, []string{"capacity knee: no level met the SLO\n", "serves none of its 500 seats",
			"stopped: slo after 1 of 6 planned levels: p95 2000ms"}},
		{"spare", over, []string{"serves its 500 seats with 20% to spare", "required: 250 users, met"}},
		{"exact", exact, []string{"serves its 500 seats with nothing to spare"}},
		{"no seats", noSeats, []string{"headroom: unknown: the tenant has no seats"}},
		{"no steps", empty, []string{"no step ran\n", "capacity knee: unknown: no step ran",
			"seats: 500, unknown: no step ran", "stopped: sign-in after 0 of 2 planned levels: the sign-in failed: status 401"}},
		{"aborted", aborted, []string{"capacity knee: ≥ 100 users (the ramp ended before any break)",
			"serves at least 20% of its 500 seats", "not shown: the ramp ended at a knee of at least 100"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			Table(&b, c.r)
			for _, w := range c.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("missing %q in:\n%s", w, b.String())
				}
			}
			if c.r.Seats == 0 && strings.Contains(b.String(), "seats:") {
				t.Errorf("seats line without seats:\n%s", b.String())
			}
		})
	}
}

func TestLatency(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0.0ms", 4250 * time.Microsecond: "4.2ms", 9949 * time.Microsecond: "9.9ms",
		10 * ms: "10ms", 412400 * time.Microsecond: "412ms", 9999 * ms: "9999ms", 12340 * ms: "12.3s",
	} {
		if got := Latency(d); got != want {
			t.Errorf("Latency(%s) = %q, want %q", d, got, want)
		}
	}
	for r, want := range map[float64]string{0.01: "1%", 0.005: "0.5%", 0.07: "7%", 0: "0%", 0.00125: "0.125%"} {
		if got := Percent(r); got != want {
			t.Errorf("Percent(%v) = %q, want %q", r, got, want)
		}
	}
}

func TestNiceScale(t *testing.T) {
	for _, c := range []struct {
		max     float64
		integer bool
		hi      float64
		ticks   int
	}{
		{550, false, 600, 7}, {1000, false, 1000, 6}, {2, false, 2, 5}, {0.3, false, 0.3, 7},
		{3, true, 3, 4}, {0, true, 1, 2}, {601, true, 800, 5}, {12000, false, 12000, 7}, {1.1, false, 1.2, 7},
	} {
		s := niceScale(c.max, c.integer)
		if s.hi != c.hi || len(s.ticks) != c.ticks {
			t.Errorf("niceScale(%v) = hi %v, %d ticks %v; want hi %v, %d ticks", c.max, s.hi, len(s.ticks), s.ticks, c.hi, c.ticks)
		}
	}
}

// decode checks the chart is well-formed XML and returns its character
// data, the text a reader sees.
func decode(t *testing.T, svg []byte) (text string, elements map[string]int) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(svg))
	elements = map[string]int{}
	var b strings.Builder
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not valid XML: %v\n%s", err, svg)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			elements[tok.Name.Local]++
		case xml.CharData:
			b.Write(tok)
			b.WriteByte('\n')
		}
	}
	return b.String(), elements
}

func TestSVGEscapes(t *testing.T) {
	var b bytes.Buffer
	if err := SVG(&b, `<script>alert("x")</script>`, `a&b'"`, Typical()); err != nil {
		t.Fatal(err)
	}
	text, elements := decode(t, b.Bytes())
	if elements["script"] != 0 {
		t.Errorf("a tenant name became a script element:\n%s", b.String())
	}
	if !strings.Contains(text, `<script>alert("x")</script> / a&b'" — capacity curve`) {
		t.Errorf("the title is not the names as text:\n%s", text)
	}
	for _, bad := range []string{"http://", "https://", "@import", "<image", "href"} {
		if strings.Contains(strings.ReplaceAll(b.String(), `xmlns="http://www.w3.org/2000/svg"`, ""), bad) {
			t.Errorf("chart refers to something outside itself: %q", bad)
		}
	}
}

func TestSVGCases(t *testing.T) {
	one := Typical()
	one.Steps = one.Steps[:1]
	one.Knee = probes.Knee{Users: 50, AtMax: true}

	noSeats := Typical()
	noSeats.Seats = 0

	bigSeats := Typical()
	bigSeats.Seats = 10000

	outlier := Typical()
	outlier.Steps[3].P95, outlier.Steps[3].P99 = 60*time.Second, 60*time.Second

	none := Typical()
	none.Steps = []probes.LoadStep{step(50, 3*time.Second, 5*time.Second, 8*time.Second, 1, false)}
	none.Knee = probes.Knee{}

	empty := probes.LoadResult{SLO: probes.SLO{P95: 500 * ms, ErrorRatio: 0.01}, Seats: 500}

	cases := []struct {
		name       string
		r          probes.LoadResult
		want, not  []string
		markers    int
		gridAtMost float64 // top latency tick, ms
	}{
		{"typical", Typical(), []string{"seats 500", "knee 150", "SLO p95 500ms", "acme / load — capacity curve"}, []string{"▲"}, 5, 2000},
		{"one step", one, []string{"knee ≥ 50", "seats 500"}, nil, 1, 1000},
		{"no seats", noSeats, []string{"knee 150"}, []string{"seats 500"}, 5, 2000},
		{"seats far off", bigSeats, []string{"seats 10000 →", "knee 150"}, nil, 5, 2000},
		{"outlier", outlier, []string{"▲", "60.0s", "capped at 2000ms"}, nil, 4, 2000},
		{"none passing", none, []string{"no level met the SLO"}, []string{"knee 0", ">knee"}, 1, 10000},
		{"no steps", empty, []string{"no step ran", "seats 500"}, []string{"knee"}, 0, 1000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := SVG(&b, "acme", "load", c.r); err != nil {
				t.Fatal(err)
			}
			text, elements := decode(t, b.Bytes())
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("missing text %q in:\n%s", w, text)
				}
			}
			for _, n := range c.not {
				if strings.Contains(text, n) {
					t.Errorf("unexpected text %q in:\n%s", n, text)
				}
			}
			// one circle per plotted step, plus the legend's one or two
			legend := 1
			if strings.Contains(text, "re-run to confirm") {
				legend = 2
			}
			if got := elements["circle"] - legend; got != c.markers {
				t.Errorf("%d step markers, want %d", got, c.markers)
			}
			if top := newChart(c.r).lat.hi; top > c.gridAtMost {
				t.Errorf("latency axis tops at %vms, want at most %vms", top, c.gridAtMost)
			}
		})
	}
}

func TestSVGWriteError(t *testing.T) {
	if err := SVG(failWriter{}, "acme", "load", Typical()); err == nil {
		t.Error("a failed write returned no error")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
