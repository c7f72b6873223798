package statuspage

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forewarn/forewarn/cases"
	"github.com/forewarn/forewarn/config"
	"github.com/forewarn/forewarn/probes"
	"github.com/forewarn/forewarn/store"
)

// fakeStore keeps rollups, cases, capacity runs and state in memory and
// counts the calls, so tests can tell how often the pages hit the store.
type fakeStore struct {
	mu       sync.Mutex
	rollups  []store.Rollup
	cases    []store.CaseRecord
	capacity []store.CapacityRun
	state    map[string][]byte
	calls    map[string]int
	fail     error
	hang     chan struct{}
}

func newFakeStore() *fakeStore {
	return &fakeStore{state: map[string][]byte{}, calls: map[string]int{}}
}

func (f *fakeStore) call(name string) error {
	f.mu.Lock()
	f.calls[name]++
	hang, err := f.hang, f.fail
	f.mu.Unlock()
	if hang != nil {
		<-hang // a store that does not answer, until the test closes hang
	}
	return err
}

func (f *fakeStore) count(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[name]
}

// reads counts every read of rollups and cases: the page builds.
func (f *fakeStore) reads() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for k, v := range f.calls {
		if k != "SaveState" && k != "LoadState" {
			n += v
		}
	}
	return n
}

func match(vals []string, v string) bool { return len(vals) == 0 || slices.Contains(vals, v) }

func (f *fakeStore) selected(p store.Period, sel store.Selector, from, to time.Time) []store.Rollup {
	f.mu.Lock()
	defer f.mu.Unlock()
	kinds := make([]string, len(sel.Kinds))
	for i, k := range sel.Kinds {
		kinds[i] = string(k)
	}
	lo := from.Add(-p.Duration())
	var out []store.Rollup
	for _, r := range f.rollups {
		if r.Period == p && r.Start.After(lo) && r.Start.Before(to) && match(sel.Tenants, r.Tenant) &&
			match(sel.Checks, r.Check) && match(kinds, string(r.Kind)) {
			out = append(out, r)
		}
	}
	return out
}

func (f *fakeStore) SeriesRollups(ctx context.Context, p store.Period, sel store.Selector, from, to time.Time) ([]store.Rollup, error) {
	if err := f.call("SeriesRollups"); err != nil {
		return nil, err
	}
	out := f.selected(p, sel, from, to)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Tenant != b.Tenant {
			return a.Tenant < b.Tenant
		}
		if a.Check != b.Check {
			return a.Check < b.Check
		}
		return a.Start.Before(b.Start)
	})
	return out, nil
}

func (f *fakeStore) AggregateRollups(ctx context.Context, p store.Period, sel store.Selector, from, to time.Time) ([]store.Rollup, error) {
	if err := f.call("AggregateRollups"); err != nil {
		return nil, err
	}
	by := map[time.Time]*store.Rollup{}
	for _, r := range f.selected(p, sel, from, to) {
		a := by[r.Start]
		if a == nil {
			a = &store.Rollup{Start: r.Start, Period: p}
			by[r.Start] = a
		}
		a.Runs += r.Runs
		a.Successes += r.Successes
		a.DurationSum += r.DurationSum
	}
	var out []store.Rollup
	for _, a := range by {
		out = append(out, *a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
}

func (f *fakeStore) sortedCases(keep func(store.CaseRecord) bool, newest bool) []store.CaseRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.CaseRecord
	for _, c := range f.cases {
		if keep(c) {
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if newest {
			return out[i].OpenedAt.After(out[j].OpenedAt)
		}
		return out[i].OpenedAt.Before(out[j].OpenedAt)
	})
	return out
}

func (f *fakeStore) OpenCases(ctx context.Context) ([]store.CaseRecord, error) {
	if err := f.call("OpenCases"); err != nil {
		return nil, err
	}
	return f.sortedCases(func(c store.CaseRecord) bool { return c.ResolvedAt.IsZero() }, false), nil
}

func (f *fakeStore) RecentCases(ctx context.Context, limit int) ([]store.CaseRecord, error) {
	if err := f.call("RecentCases"); err != nil {
		return nil, err
	}
	out := f.sortedCases(func(store.CaseRecord) bool { return true }, true)
	return out[:min(limit, len(out))], nil
}

func (f *fakeStore) TenantCases(ctx context.Context, tenant string, limit int) ([]store.CaseRecord, error) {
	if err := f.call("TenantCases"); err != nil {
		return nil, err
	}
	out := f.sortedCases(func(c store.CaseRecord) bool { return c.Tenant == tenant }, true)
	return out[:min(limit, len(out))], nil
}

func (f *fakeStore) Case(ctx context.Context, id string) (store.CaseRecord, error) {
	if err := f.call("Case"); err != nil {
		return store.CaseRecord{}, err
	}
	cs := f.sortedCases(func(c store.CaseRecord) bool { return c.ID == id }, true)
	if len(cs) == 0 {
		return store.CaseRecord{}, store.ErrNotFound
	}
	return cs[0], nil
}

func (f *fakeStore) CapacityHistory(ctx context.Context, tenant, check string, from, to time.Time) ([]store.CapacityRun, error) {
	if err := f.call("CapacityHistory"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.CapacityRun
	for _, r := range f.capacity {
		if r.Tenant == tenant && r.Check == check && !r.Start.Before(from) && r.Start.Before(to) {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
}

func (f *fakeStore) LoadState(ctx context.Context, key string) ([]byte, error) {
	if err := f.call("LoadState"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.state[key]
	if !ok {
		return nil, store.ErrNotFound
	}
	return slices.Clone(v), nil
}

func (f *fakeStore) SaveState(ctx context.Context, key string, value []byte) error {
	if err := f.call("SaveState"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state[key] = slices.Clone(value)
	return nil
}

// fixture is a fleet in a fake store: tenants with three checks each and
// 90 days of daily rollups, 7 days of hourly ones, cases and load runs.
type fixture struct {
	now     time.Time
	clock   *fakeClock
	st      *fakeStore
	tenants []config.Tenant
	checks  []config.Check
	maint   []config.Maintenance
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var t0 = time.Date(2026, 11, 23, 14, 30, 0, 0, time.UTC)

func newFixture(tenants []config.Tenant) *fixture {
	f := &fixture{now: t0, clock: &fakeClock{t: t0}, st: newFakeStore(), tenants: tenants}
	var ids []string
	for _, t := range tenants {
		ids = append(ids, t.ID)
	}
	f.checks = []config.Check{
		{Name: "health", Kind: probes.KindHTTP, Tenants: ids},
		{Name: "sign-in", Kind: probes.KindLogin, Tenants: ids},
		{Name: "api", Kind: probes.KindHTTP, Tenants: ids},
		{Name: "capacity", Kind: probes.KindLoad, Tenants: ids},
	}
	for i, t := range tenants {
		for _, c := range f.checks[:3] {
			f.addHistory(t.ID, c.Name, c.Kind, i)
		}
		f.st.capacity = append(f.st.capacity,
			store.CapacityRun{Tenant: t.ID, Check: "capacity", Start: t0.AddDate(0, 0, -30), Success: true, Seats: t.Seats,
				Required: t.Seats, Knee: probes.Knee{Users: t.Seats + 10, AtMax: true}},
			store.CapacityRun{Tenant: t.ID, Check: "capacity", Start: t0.Add(-11 * time.Hour), Success: false, Seats: t.Seats,
				Required: t.Seats, Knee: probes.Knee{Users: t.Seats * 3 / 10, BreakAt: t.Seats * 4 / 10}, Message: "internal knee text " + t.ID})
	}
	return f
}

// addHistory writes a check's rollups: ~99.9 % uptime, a bad day now and
// then, 40 ms responses.
func (f *fixture) addHistory(tenant, check string, kind probes.Kind, i int) {
	today := f.now.Truncate(24 * time.Hour)
	mk := func(p store.Period, start time.Time, runs, ok int64) store.Rollup {
		r := store.Rollup{Tenant: tenant, Check: check, Kind: kind, Start: start, Period: p, Runs: runs, Successes: ok}
		if ok > 0 {
			r.DurationSum, r.DurationMin, r.DurationMax = time.Duration(ok)*40*time.Millisecond, 30*time.Millisecond, 50*time.Millisecond
			r.Latency[3] = ok
		}
		return r
	}
	for d := 0; d < days; d++ {
		ok := int64(2880)
		if (d+i)%29 == 0 {
			ok = 2700
		}
		f.st.rollups = append(f.st.rollups, mk(store.Day, today.AddDate(0, 0, -d), 2880, ok))
	}
	for h := 0; h < hoursShown; h++ {
		f.st.rollups = append(f.st.rollups, mk(store.Hour, f.now.Truncate(time.Hour).Add(-time.Duration(h)*time.Hour), 120, 120))
	}
}

// addCase stores a case of a tenant with one cause, open when resolved is zero.
func (f *fixture) addCase(id, tenant string, kind cases.Kind, check string, probe probes.Kind, opened, resolved time.Time, message string) {
	c := cases.Case{ID: id, Tenant: cases.Tenant{ID: tenant}, Kind: kind, Severity: cases.SeverityMajor,
		Status: cases.StatusOpen, OpenedAt: opened, ResolvedAt: resolved,
		Causes: []cases.Cause{{Check: check, Probe: probe, Kind: kind, Reason: "status", FirstMessage: message,
			Message: message, Since: opened, Active: resolved.IsZero()}}}
	if !resolved.IsZero() {
		c.Status = cases.StatusResolved
	}
	data, _ := json.Marshal(c)
	f.st.mu.Lock()
	defer f.st.mu.Unlock()
	f.st.cases = append(f.st.cases, store.CaseRecord{ID: id, Tenant: tenant, Kind: string(kind), Severity: string(c.Severity),
		State: string(c.Status), OpenedAt: opened, ResolvedAt: resolved, UpdatedAt: later(opened, resolved), Seq: 1, Data: data})
}

func (f *fixture) server(t testing.TB, edit func(*Options)) *Server {
	t.Helper()
	o := Options{Store: f.st, Tenants: func() []config.Tenant { return f.tenants },
		Checks: func() []config.Check { return f.checks }, Maintenance: func() []config.Maintenance { return f.maint },
		Secret: []byte("0123456789abcdef0123456789abcdef"), Title: "Example SaaS status", Clock: f.clock.Now,
		AdminToken: "admin-secret-token", Logger: slog.New(slog.DiscardHandler)}
	if edit != nil {
		edit(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

type result struct {
	code   int
	header http.Header
	body   string
}

// get requests path from h as a client on another host would.
func get(t testing.TB, h http.Handler, path string, header ...string) result {
	t.Helper()
	return do(t, h, http.MethodGet, path, "", "192.0.2.10:4321", header...)
}

func do(t testing.TB, h http.Handler, method, path, body, remote string, header ...string) result {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	req.RemoteAddr = remote
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return result{rec.Code, rec.Result().Header, rec.Body.String()}
}

func mustGet(t testing.TB, h http.Handler, path string) string {
	t.Helper()
	r := get(t, h, path)
	if r.code != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", path, r.code, r.body)
	}
	return r.body
}

func tenantsN(n int, public ...int) []config.Tenant {
	regions := []string{"eu-west", "us-east"}
	out := make([]config.Tenant, n)
	for i := range out {
		out[i] = config.Tenant{ID: fmt.Sprintf("t-%03d", i), Name: fmt.Sprintf("Customer %03d Ltd", i),
			Region: regions[i%len(regions)], Seats: 100 + 10*i, Plan: "enterprise"}
	}
	for _, i := range public {
		out[i].Public = true
		out[i].ID = fmt.Sprintf("pub-%03d", i)
		out[i].Name = fmt.Sprintf("Open Corp %03d", i)
	}
	return out
}
