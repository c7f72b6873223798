// Package benchfleet is the status page benchmarks' fleet: tenants ×
// checks × days of results written into a history store through
// store.Record, as forewarn run writes them. The statuspage package's
// in-process benchmarks and the bench/statuspage driver fill their SQLite
// stores with it, so both measure the same history.
package benchfleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/forewarn/forewarn/cases"
	"github.com/forewarn/forewarn/config"
	"github.com/forewarn/forewarn/probes"
	"github.com/forewarn/forewarn/store"
)

// Fleet describes the benchmark's fleet: Tenants tenants, each with an
// http check (health) and a sign-in check, Days days of history ending on
// Now's day, capacity runs for the first 50 tenants and 300 cases.
type Fleet struct {
	Tenants int
	Days    int
	Now     time.Time
}

// Regions are the tenants' regions, in turn.
var Regions = []string{"eu-west", "us-east", "us-west", "ap-south"}

// TenantID is the id of tenant number i (0-based): tenant-00000 on.
func TenantID(i int) string { return fmt.Sprintf("tenant-%05d", i) }

// TenantConfigs are the fleet's tenants as checks.yaml describes them; the
// first two are public.
func (f Fleet) TenantConfigs() []config.Tenant {
	out := make([]config.Tenant, f.Tenants)
	for i := range out {
		out[i] = config.Tenant{
			ID: TenantID(i), Name: fmt.Sprintf("Customer %05d Ltd", i),
			Region: Regions[i%len(Regions)], Seats: 100 + i%900, Plan: []string{"enterprise", "business", "team"}[i%3],
			Public: i < 2,
		}
	}
	return out
}

// CheckConfigs are the checks whose history Fill writes: health (http)
// and sign-in (login) for every tenant, capacity (load) for the first 50.
func (f Fleet) CheckConfigs() []config.Check {
	ids := make([]string, f.Tenants)
	for i := range ids {
		ids[i] = TenantID(i)
	}
	return []config.Check{
		{Name: "health", Kind: probes.KindHTTP, Tenants: ids},
		{Name: "sign-in", Kind: probes.KindLogin, Tenants: ids},
		{Name: "capacity", Kind: probes.KindLoad, Tenants: ids[:min(len(ids), 50)]},
	}
}

// Fill writes the fleet's history: one result per tenant, check and day
// (a rollup row is a rollup row, whatever its count of runs), roughly one
// failing day in 300, a few hours of today, capacity runs for 50 tenants
// and 300 cases, some open.
func (f Fleet) Fill(ctx context.Context, s *store.Store) error {
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
				r := probes.Result{Tenant: TenantID(i), Check: c.name, Kind: c.kind, Start: start,
					Duration: time.Duration(20+(i+d)%180) * time.Millisecond, Success: ok, StatusCode: 200}
				if !ok {
					r.Reason, r.Message, r.StatusCode = probes.ReasonStatus, "status 503, want 200", 503
				}
				s.Record(r)
				if n++; n%50000 == 0 {
					if err := ctx.Err(); err != nil {
						return err
					}
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
			s.Record(probes.Result{Tenant: TenantID(i), Check: "capacity", Kind: probes.KindLoad,
				Start: today.AddDate(0, 0, -d).Add(3 * time.Hour), Duration: 10 * time.Minute, Success: knee >= seats,
				Load: &probes.LoadResult{Seats: seats, Required: seats, Knee: probes.Knee{Users: knee, BreakAt: knee + seats/10},
					Steps: []probes.LoadStep{{Users: knee, Passed: true, Rate: float64(knee) * 4}}}})
		}
	}
	if err := s.Flush(ctx); err != nil {
		return err
	}
	for i := range 300 {
		tenant := TenantID((i * 37) % f.Tenants)
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

// marker is the file next to a filled database that says what it holds.
func (f Fleet) marker(path string) string {
	return path + fmt.Sprintf(".filled-%d-%d-%s", f.Tenants, f.Days, f.Now.UTC().Format("20060102"))
}

// Filled reports whether the SQLite file at path was filled by Prepare
// with this fleet's tenants and days, and on which day (UTC) its history
// ends. The newest fill wins when there are several.
func Filled(path string, tenants, days int) (day time.Time, ok bool) {
	prefix := path + fmt.Sprintf(".filled-%d-%d-", tenants, days)
	found, _ := filepath.Glob(globEscape(prefix) + "*")
	for _, m := range found {
		d, err := time.Parse("20060102", strings.TrimPrefix(m, prefix))
		if err != nil {
			continue
		}
		if _, err := os.Stat(path); err == nil && d.After(day) {
			day, ok = d, true
		}
	}
	return day, ok
}

func globEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`)
	return r.Replace(s)
}

// StoreOptions are the store options a fill writes with: big batches, a
// buffer no fill overruns, no background retention.
func StoreOptions() store.Options {
	return store.Options{RetentionInterval: -1, BatchSize: 5000, BufferSize: 200000,
		Logger: slog.New(slog.DiscardHandler)}
}

// Prepare makes path a SQLite store holding the fleet's history, unless a
// marker next to it says an earlier Prepare did so already: it returns
// whether it filled. It fills a new file next to path (path + ".filling",
// removed first if a fill was interrupted) and renames it into place when
// done, so path never holds half a fleet. A file at path without the
// marker is refused rather than written over. logf, if not nil, hears
// about progress.
func (f Fleet) Prepare(ctx context.Context, path string, logf func(format string, args ...any)) (filled bool, err error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	marker := f.marker(path)
	if _, err := os.Stat(marker); err == nil {
		if _, err := os.Stat(path); err == nil {
			return false, nil
		}
	}
	if _, err := os.Stat(path); err == nil {
		return false, fmt.Errorf("%s exists but no marker (%s) says it holds this fleet: remove it or choose another path", path, filepath.Base(marker))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return false, err
	}
	tmp := path + ".filling"
	if err := removeSQLite(tmp); err != nil {
		return false, err
	}
	s, err := store.OpenWith(ctx, "sqlite:"+tmp, StoreOptions())
	if err != nil {
		return false, err
	}
	start := time.Now()
	logf("filling %s: %d tenants × %d days (takes minutes)", tmp, f.Tenants, f.Days)
	err = f.Fill(ctx, s)
	if cerr := s.Close(context.Background()); err == nil {
		err = cerr
	}
	if err != nil {
		removeSQLite(tmp)
		return false, err
	}
	logf("filled %d tenants × %d days in %s", f.Tenants, f.Days, time.Since(start).Round(time.Second))
	// Close checkpoints the write-ahead log and removes it; should one be
	// left, it goes along with the file, and the index (-shm) is rebuilt.
	os.Remove(tmp + "-shm")
	if err := os.Rename(tmp+"-wal", path+"-wal"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return false, err
	}
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		return false, err
	}
	return true, nil
}

// removeSQLite removes a SQLite file and its write-ahead log, if present.
func removeSQLite(path string) error {
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}
