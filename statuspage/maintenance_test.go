package statuspage

import (
	"strings"
	"testing"
	"time"

	"github.com/forewarn/forewarn/config"
	"github.com/forewarn/forewarn/store"
)

func TestSubtractNeverGoesNegative(t *testing.T) {
	day := t0.Truncate(24 * time.Hour)
	daily := []store.Rollup{
		{Tenant: "a", Check: "health", Start: day, Runs: 100, Successes: 100},
		{Tenant: "a", Check: "api", Start: day, Runs: 100, Successes: 40},
		{Tenant: "b", Check: "health", Start: day, Runs: 10, Successes: 10},
	}
	subtract(daily, map[maintKey]counts{
		{"a", "health", day}: {runs: 20, ok: 0},  // down in its window: the day keeps 80 of 80
		{"a", "api", day}:    {runs: 50, ok: 45}, // more successes than the day holds (read in between)
		{"b", "health", day}: {runs: 12, ok: 12},
	})
	for i, want := range [][2]int64{{80, 80}, {50, 0}, {0, 0}} {
		if got := [2]int64{daily[i].Runs, daily[i].Successes}; got != want {
			t.Errorf("%s/%s: runs, successes %v, want %v", daily[i].Tenant, daily[i].Check, got, want)
		}
	}
}

// TestFutureWindowKeepsKeptDays: scheduling a window for next week reads
// no day again; a window over a past day reads that day only.
func TestFutureWindowKeepsKeptDays(t *testing.T) {
	f := standardFixture()
	f.maint = nil
	s := f.server(t, nil)
	h := s.Handler()
	mustGet(t, h, "/")
	rebuild := func() int {
		before := f.st.count("SeriesRollups")
		f.clock.Add(6 * time.Second)
		mustGet(t, h, "/")
		s.Close()
		mustGet(t, h, "/")
		return f.st.count("SeriesRollups") - before
	}
	f.maint = []config.Maintenance{{Start: t0.Add(7 * 24 * time.Hour), End: t0.Add(7*24*time.Hour + 2*time.Hour)}}
	if n := rebuild(); n != 1 {
		t.Errorf("a window next week: %d rollup reads, want 1 (today)", n)
	}
	past := t0.Truncate(24*time.Hour).AddDate(0, 0, -3)
	f.maint = append(f.maint, config.Maintenance{Tenant: "t-001", Start: past.Add(2 * time.Hour), End: past.Add(5 * time.Hour)})
	if n := rebuild(); n != 3 {
		t.Errorf("a window 3 days ago: %d rollup reads, want 3 (today, that day, its hours)", n)
	}
}

// TestLateResultsInMaintenanceHour: results of a window's hour written
// after the hour ended (a probe that ran into it, a writer behind) are
// taken out too: its offsets are read again until it is dayFinalAfter old.
func TestLateResultsInMaintenanceHour(t *testing.T) {
	f := newFixture(tenantsN(2, 1))
	f.clock.Add(-25 * time.Minute) // 14:05: the 13:00 hour ended 5 minutes ago
	today := t0.Truncate(24 * time.Hour)
	edit := func(runs, ok, hourRuns int64) {
		f.st.mu.Lock()
		defer f.st.mu.Unlock()
		for i, r := range f.st.rollups {
			if r.Tenant != "pub-001" || r.Check != "health" {
				continue
			}
			switch {
			case r.Period == store.Day && r.Start.Equal(today):
				f.st.rollups[i].Runs, f.st.rollups[i].Successes = runs, ok
			case r.Period == store.Hour && r.Start.Hour() == 12:
				f.st.rollups[i].Successes = 0
			case r.Period == store.Hour && r.Start.Hour() == 13:
				f.st.rollups[i].Runs, f.st.rollups[i].Successes = hourRuns, 0
			}
		}
	}
	edit(2880, 2640, 120) // down through 12:00–14:00, in its window
	f.maint = []config.Maintenance{{Tenant: "pub-001", Check: "health", Start: today.Add(11*time.Hour + 40*time.Minute), End: today.Add(14*time.Hour + 2*time.Minute)}}
	s := f.server(t, nil)
	h := s.Handler()
	tip := func() string {
		body := mustGet(t, h, "/")
		tenant := body[strings.Index(body, `data-tenant="pub-001"`):]
		return tenant[strings.Index(tenant, `data-tip="`+today.Format("2006-01-02")):][:40]
	}
	if got := tip(); !strings.Contains(got, "100% uptime") {
		t.Fatalf("today reads %q, want 100%% (the window's hours taken out)", got)
	}
	edit(2890, 2640, 130) // ten more failures of 13:00, written late
	f.clock.Add(6 * time.Second)
	mustGet(t, h, "/") // starts the rebuild
	s.Close()
	if got := tip(); !strings.Contains(got, "100% uptime") {
		t.Errorf("after late results in the window's last hour, today reads %q, want 100%%", got)
	}
}
