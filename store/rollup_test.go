package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/forewarn/forewarn/probes"
)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// rollupWant is what a test checks of a Rollup.
type rollupWant struct {
	start               time.Time
	runs, ok            int64
	sum, minDur, maxDur time.Duration
}

func checkRollups(t *testing.T, what string, got []Rollup, want []rollupWant) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d buckets, want %d: %+v", what, len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if !g.Start.Equal(w.start) || g.Runs != w.runs || g.Successes != w.ok ||
			g.DurationSum != w.sum || g.DurationMin != w.minDur || g.DurationMax != w.maxDur {
			t.Errorf("%s[%d] = start %v runs %d ok %d sum %v min %v max %v\n%s want start %v runs %d ok %d sum %v min %v max %v",
				what, i, g.Start, g.Runs, g.Successes, g.DurationSum, g.DurationMin, g.DurationMax,
				"", w.start, w.runs, w.ok, w.sum, w.minDur, w.maxDur)
		}
	}
}

// Results either side of an hour and a day boundary land in the right
// buckets, and a second batch adds to the first (the upsert path), min and
// max included, also when the first had no success.
func TestRollupsAcrossBoundaries(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := openStore(t, b.dsn(t), testOptions())
		day1 := time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
		day2 := day1.Add(24 * time.Hour)
		h22, h23 := day1.Add(22*time.Hour), day1.Add(23*time.Hour)
		at := func(base time.Time, d time.Duration) time.Time { return base.Add(d) }

		// Batch 1.
		s.Record(httpResult("acme", "health", at(h23, -time.Millisecond), ms(100), true)) // 22:59:59.999
		s.Record(httpResult("acme", "health", h23, ms(9000), false))                      // 23:00, failed
		s.Record(httpResult("acme", "health", at(day2, -time.Millisecond), ms(300), true))
		s.Record(httpResult("acme", "health", day2, ms(2000), true)) // 00:00 next day
		s.Record(httpResult("acme", "health", day2.Add(time.Hour), ms(7), false))
		flush(t, s)
		// Batch 2: merges into stored rows.
		s.Record(httpResult("acme", "health", h22.Add(time.Minute), ms(50), true))
		s.Record(httpResult("acme", "health", day2.Add(time.Hour+time.Minute), ms(40), true)) // bucket had no success
		s.Record(httpResult("acme", "health", h23.Add(time.Minute), ms(400), true))
		flush(t, s)

		hours, err := s.HourlyRollups(ctx, "acme", "health", h22, day2.Add(2*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		checkRollups(t, "hourly", hours, []rollupWant{
			{h22, 2, 2, ms(150), ms(50), ms(100)},
			{h23, 3, 2, ms(700), ms(300), ms(400)},
			{day2, 1, 1, ms(2000), ms(2000), ms(2000)},
			{day2.Add(time.Hour), 2, 1, ms(40), ms(40), ms(40)},
		})
		days, err := s.DailyUptime(ctx, "acme", "health", day1, day2.Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		checkRollups(t, "daily", days, []rollupWant{
			{day1, 5, 4, ms(850), ms(50), ms(400)},
			{day2, 3, 2, ms(2040), ms(40), ms(2000)},
		})
		if u := days[0].Uptime(); u != 0.8 {
			t.Errorf("day 1 uptime = %v, want 0.8", u)
		}
		// 50, 100, 300, 400 ms: buckets ≤50ms, ≤100ms, ≤500ms (twice).
		want := [len(LatencyBounds) + 1]int64{3: 1, 4: 1, 6: 2}
		if days[0].Latency != want {
			t.Errorf("day 1 latency histogram = %v, want %v", days[0].Latency, want)
		}

		// A range starting mid-day includes that day; one ending at a
		// bucket's start excludes it.
		days, err = s.DailyUptime(ctx, "acme", "health", day1.Add(23*time.Hour), day2)
		if err != nil || len(days) != 1 || !days[0].Start.Equal(day1) {
			t.Errorf("DailyUptime(day 1 23:00, day 2) = %+v, %v; want day 1 only", days, err)
		}
	})
}

// AggregateRollups sums a component's series per bucket; Selector filters
// by tenant, check and kind.
func TestAggregateRollups(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := openStore(t, b.dsn(t), testOptions())
		day := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
		s.Record(httpResult("acme", "health", day.Add(time.Hour), ms(20), true))
		s.Record(httpResult("globex", "health", day.Add(2*time.Hour), ms(80), true))
		s.Record(httpResult("globex", "health", day.Add(3*time.Hour), ms(80), false))
		s.Record(httpResult("initech", "health", day.Add(3*time.Hour), ms(5), true))
		load := httpResult("acme", "capacity", day.Add(3*time.Hour), 10*time.Minute, true)
		load.Kind = probes.KindLoad
		s.Record(load)
		flush(t, s)

		agg, err := s.AggregateRollups(ctx, Day, Selector{Tenants: []string{"acme", "globex"}, Kinds: []probes.Kind{probes.KindHTTP}},
			day, day.Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		checkRollups(t, "aggregate", agg, []rollupWant{{day, 3, 2, ms(100), ms(20), ms(80)}})
		if agg[0].Tenant != "" || agg[0].Period != Day {
			t.Errorf("aggregate = %+v, want no tenant, period day", agg[0])
		}

		series, err := s.SeriesRollups(ctx, Hour, Selector{Checks: []string{"health"}}, day, day.Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range series {
			names = append(names, r.Tenant+"@"+r.Start.Format("15"))
		}
		if got := strings.Join(names, " "); got != "acme@01 globex@02 globex@03 initech@03" {
			t.Errorf("series = %s", got)
		}

		all, err := s.AggregateRollups(ctx, Day, Selector{}, day, day.Add(24*time.Hour))
		if err != nil || len(all) != 1 || all[0].Runs != 5 {
			t.Errorf("aggregate of everything = %+v, %v; want 5 runs", all, err)
		}
	})
}

func TestQuantile(t *testing.T) {
	var r Rollup
	add := func(d time.Duration, n int) {
		for range n {
			if r.Successes == 0 || d < r.DurationMin {
				r.DurationMin = d
			}
			r.DurationMax = max(r.DurationMax, d)
			r.Successes++
			r.Runs++
			r.DurationSum += d
			r.Latency[latencyBucket(d)]++
		}
	}
	if r.Quantile(0.95) != 0 || r.MeanDuration() != 0 || r.Uptime() != 0 {
		t.Fatal("empty rollup: want zeros")
	}
	add(ms(30), 90) // bucket (25, 50]
	add(ms(400), 10)
	for _, c := range []struct {
		q      float64
		lo, hi time.Duration
	}{
		{0, ms(30), ms(30)},
		{0.5, ms(30), ms(50)},
		{0.95, ms(250), ms(400)},
		{1, ms(400), ms(400)},
	} {
		if got := r.Quantile(c.q); got < c.lo || got > c.hi {
			t.Errorf("Quantile(%v) = %v, want in [%v, %v]", c.q, got, c.lo, c.hi)
		}
	}
	if m := r.MeanDuration(); m != ms(67) {
		t.Errorf("mean = %v, want 67ms", m)
	}
	if latencyBucket(ms(5)) != 0 || latencyBucket(ms(5)+1) != 1 || latencyBucket(time.Hour) != len(LatencyBounds) {
		t.Error("latencyBucket bounds are not (prev, bound]")
	}
}

func TestCapacityRuns(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := openStore(t, b.dsn(t), testOptions())
		run := func(tenant string, start time.Time, knee int) probes.Result {
			r := httpResult(tenant, "capacity", start, 4*time.Minute, knee >= 50)
			r.Kind = probes.KindLoad
			r.Load = &probes.LoadResult{
				Model: probes.LoadClosed, SLO: probes.SLO{P95: ms(800), ErrorRatio: 0.01},
				Seats: 100, Required: 50, Planned: []int{25, 50, 75, 100},
				Steps: []probes.LoadStep{
					{Users: 25, Start: start, Duration: 30 * time.Second, Requests: 1000, Rate: 33.3,
						ErrorRatio: 0, P50: ms(20), P95: ms(90), P99: ms(150), Max: ms(300), InFlight: 25, Passed: true},
					{Users: 50, Start: start.Add(30 * time.Second), Duration: 30 * time.Second, Requests: 900, Errors: 90,
						Rate: 30, ErrorRatio: 0.1, P95: ms(2000), InFlight: 50},
				},
				Knee: probes.Knee{Users: knee, BreakAt: 50}, Stop: "slo", Message: "p95 2s > 800ms at 50 users",
			}
			return r
		}
		s.Record(run("acme", t0, 25))
		s.Record(run("acme", t0.Add(24*time.Hour), 75))
		s.Record(run("globex", t0, 60))
		flush(t, s)

		latest, err := s.LatestCapacity(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		if len(latest) != 1 || latest[0].Knee.Users != 75 || !latest[0].Start.Equal(t0.Add(24*time.Hour)) {
			t.Fatalf("latest = %+v, want the second acme run", latest)
		}
		all, err := s.LatestCapacity(ctx, "")
		if err != nil || len(all) != 2 || all[1].Tenant != "globex" {
			t.Errorf("latest of all = %+v, %v; want acme and globex", all, err)
		}
		hist, err := s.CapacityHistory(ctx, "acme", "capacity", t0, t0.Add(48*time.Hour))
		if err != nil || len(hist) != 2 {
			t.Fatalf("history = %+v, %v; want 2 runs", hist, err)
		}
		h := hist[0]
		in := run("acme", t0, 25)
		if h.Knee != in.Load.Knee || h.Seats != 100 || h.Required != 50 || h.Stop != "slo" ||
			h.StopMessage != in.Load.Message || h.SLO != in.Load.SLO || h.Model != probes.LoadClosed ||
			len(h.Planned) != 4 || h.Success || h.Duration != 4*time.Minute {
			t.Errorf("stored run = %+v", h)
		}
		if len(h.Steps) != 2 || h.Steps[0] != in.Load.Steps[0] || h.Steps[1] != in.Load.Steps[1] {
			t.Errorf("stored curve\n got %+v\nwant %+v", h.Steps, in.Load.Steps)
		}
		// The run is a result too, and counts in its check's rollup.
		if res, _ := s.Results(ctx, "acme", "capacity", t0, t0.Add(time.Hour), 0); len(res) != 1 || res[0].Kind != probes.KindLoad {
			t.Errorf("load result = %+v", res)
		}
	})
}
