package statuspage

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/forewarn/forewarn/cases"
	"github.com/forewarn/forewarn/config"
	"github.com/forewarn/forewarn/probes"
	"github.com/forewarn/forewarn/store"
)

// benchFleet describes the benchmark's fleet: tenants × checks × days of
// results written through store.Record, as forewarn run writes them.
type benchFleet struct {
	Tenants int
	Days    int
	Now     time.Time
}

var benchRegions = []string{"eu-west", "us-east", "us-west", "ap-south"}

func (f benchFleet) tenants() []config.Tenant {
	out := make([]config.Tenant, f.Tenants)
	for i := range out {
		out[i] = config.Tenant{
			ID: fmt.Sprintf("tenant-%05d", i), Name: fmt.Sprintf("Customer %05d Ltd", i),
			Region: benchRegions[i%len(benchRegions)], Seats: 100 + i%900, Plan: []string{"enterprise", "business", "team"}[i%3],
			Public: i < 2,
		}
	}
	return out
}

func (f benchFleet) checks() []config.Check {
	ids := make([]string, f.Tenants)
	for i := range ids {
		ids[i] = fmt.Sprintf("tenant-%05d", i)
	}
	return []config.Check{
		{Name: "health", Kind: probes.KindHTTP, Tenants: ids},
		{Name: "sign-in", Kind: probes.KindLogin, Tenants: ids},
		{Name: "capacity", Kind: probes.KindLoad, Tenants: ids[:min(len(ids), 50)]},
	}
}

// fill writes the fleet's history: one result per tenant, check and day
// (a rollup row is a rollup row, whatever its count of runs), roughly one
// failing day in 300, a few hours of today, capacity runs for 50 tenants
// and 300 cases, some open.
func (f benchFleet) fill(ctx context.Context, s *store.Store) error {
	today := f.Now.UTC().Truncate(24 * time.Hour)
	checks := []struct {
		name string
		kind probes.Kind
	}{{"health", probes.KindHTTP}, {"sign-in", probes.KindLogin}}
	n := 0
	for d := f.Days - 1; d >= 0; d-- {
		day := today.AddDate(0, 0, -d)
		for i := range f.Tenants {
			for ci, c := range checks {
				start := day.Add(time.Duration((i*7+ci*13)%(20*60)) * time.Minute)
				if start.After(f.Now) {
					start = f.Now.Add(-time.Minute)
				}
				ok := (i*31+d*17+ci)%300 != 0
				r := probes.Result{Tenant: fmt.Sprintf("tenant-%05d", i), Check: c.name, Kind: c.kind, Start: start,
					Duration: time.Duration(20+(i+d)%180) * time.Millisecond, Success: ok, StatusCode: 200}
				if !ok {
					r.Reason, r.Message, r.StatusCode = probes.ReasonStatus, "status 503, want 200", 503
				}
				s.Record(r)
				if n++; n%50000 == 0 {
					if err := s.Flush(ctx); err != nil {
						return err
					}
				}
			}
		}
	}
	for i := range min(f.Tenants, 50) {
		for d := f.Days - 1; d >= 0; d -= 7 {
			seats := 100 + i%900
			knee := seats * (70 + (i+d)%50) / 100
			s.Record(probes.Result{Tenant: fmt.Sprintf("tenant-%05d", i), Check: "capacity", Kind: probes.KindLoad,
				Start: today.AddDate(0, 0, -d).Add(3 * time.Hour), Duration: 10 * time.Minute, Success: knee >= seats,
				Load: &probes.LoadResult{Seats: seats, Required: seats, Knee: probes.Knee{Users: knee, BreakAt: knee + seats/10},
					Steps: []probes.LoadStep{{Users: knee, Passed: true, Rate: float64(knee) * 4}}}})
		}
	}
	if err := s.Flush(ctx); err != nil {
		return err
	}
	for i := range 300 {
		tenant := fmt.Sprintf("tenant-%05d", (i*37)%f.Tenants)
		opened := today.AddDate(0, 0, -(i % f.Days)).Add(time.Duration(i%20) * time.Hour)
		c := cases.Case{ID: fmt.Sprintf("%s-%03d", tenant, i), Tenant: cases.Tenant{ID: tenant}, Kind: cases.KindOutage,
			Severity: cases.SeverityMajor, Status: cases.StatusResolved, OpenedAt: opened,
			ResolvedAt: opened.Add(40 * time.Minute),
			Causes: []cases.Cause{{Check: "sign-in", Probe: probes.KindLogin, Kind: cases.KindOutage, Reason: "status",
				FirstMessage: "internal: db-7 pool exhausted", Since: opened}}}
		if i%60 == 0 {
			c.Status, c.ResolvedAt = cases.StatusOpen, time.Time{}
		}
		data, _ := json.Marshal(c)
		rec := store.CaseRecord{ID: c.ID, Tenant: tenant, Kind: string(c.Kind), Severity: string(c.Severity),
			State: string(c.Status), OpenedAt: c.OpenedAt, ResolvedAt: c.ResolvedAt, UpdatedAt: opened, Seq: 1, Data: data}
		if err := s.ApplyCaseChange(ctx, rec, []store.EventRecord{{Seq: 1, Type: "opened", Time: opened, Data: data}}, nil); err != nil {
			return err
		}
	}
	return nil
}

// benchStore opens the benchmark's SQLite store, filling it first unless
// FOREWARN_STATUSPAGE_BENCH_DB names a file that a previous run filled
// (the marker file next to it says so): filling 10,000 tenants × 90 days
// through Record takes a minute or two.
func benchStore(tb testing.TB, f benchFleet) *store.Store {
	tb.Helper()
	ctx := context.Background()
	path := os.Getenv("FOREWARN_STATUSPAGE_BENCH_DB")
	if path == "" {
		path = filepath.Join(tb.TempDir(), "bench.db")
	}
	marker := path + fmt.Sprintf(".filled-%d-%d-%s", f.Tenants, f.Days, f.Now.Format("20060102"))
	_, err := os.Stat(marker)
	filled := err == nil
	s, err := store.OpenWith(ctx, "sqlite:"+path, store.Options{RetentionInterval: -1, BatchSize: 5000,
		BufferSize: 200000, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close(context.Background()) })
	if !filled {
		start := time.Now()
		if err := f.fill(ctx, s); err != nil {
			tb.Fatal(err)
		}
		tb.Logf("filled %d tenants × %d days in %s", f.Tenants, f.Days, time.Since(start).Round(time.Second))
		if err := os.WriteFile(marker, nil, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return s
}
