package statuspage

import (
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
