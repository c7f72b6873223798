package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/forewarn/forewarn/probes"
)

// Period is a rollup's bucket length.
type Period string

// The rollup periods. Buckets start at UTC hour and day boundaries.
const (
	Hour Period = "hour"
	Day  Period = "day"
)

// Duration is the period's length.
func (p Period) Duration() time.Duration {
	if p == Day {
		return 24 * time.Hour
	}
	return time.Hour
}

// LatencyBounds are the upper bounds of the rollups' latency histogram
// buckets; a last bucket counts everything slower. A Rollup's Latency[i]
// counts successful runs that took more than LatencyBounds[i-1] and at most
// LatencyBounds[i].
var LatencyBounds = [...]time.Duration{
	5 * time.Millisecond, 10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond, time.Second,
	2500 * time.Millisecond, 5 * time.Second, 10 * time.Second, 30 * time.Second,
}

// latencyColumns name the histogram's columns, in LatencyBounds order and
// then the overflow bucket.
var latencyColumns = [len(LatencyBounds) + 1]string{
	"lat_5ms", "lat_10ms", "lat_25ms", "lat_50ms", "lat_100ms", "lat_250ms", "lat_500ms",
	"lat_1s", "lat_2500ms", "lat_5s", "lat_10s", "lat_30s", "lat_inf",
}

func latencyBucket(d time.Duration) int {
	for i, b := range LatencyBounds {
		if d <= b {
			return i
		}
	}
	return len(LatencyBounds)
}

// Rollup is one tenant's check (or, from AggregateRollups, a component's
// checks together) over one hour or day.
type Rollup struct {
	Tenant string // "" in an aggregate
	Check  string // "" in an aggregate
	Kind   probes.Kind
	Start  time.Time // the bucket's UTC start
	Period Period

	Runs      int64
	Successes int64
	// Durations are of successful runs only: a failure's duration is a
	// timeout or an instant refusal, and either would skew response times.
	// DurationMin and DurationMax are 0 while Successes is 0.
	DurationSum time.Duration
	DurationMin time.Duration
	DurationMax time.Duration
	Latency     [len(LatencyBounds) + 1]int64
}

// Uptime is Successes/Runs, 0 without runs: check Runs to tell "no data"
// from "down".
func (r Rollup) Uptime() float64 {
	if r.Runs == 0 {
		return 0
	}
	return float64(r.Successes) / float64(r.Runs)
}

// MeanDuration is the mean duration of the successful runs.
func (r Rollup) MeanDuration() time.Duration {
	if r.Successes == 0 {
		return 0
	}
	return r.DurationSum / time.Duration(r.Successes)
}

// Quantile estimates the q-quantile (0…1) of successful runs' durations
// from the histogram, interpolating inside a bucket and clamped to the
// observed min and max: good to a bucket's width, enough for a status page.
func (r Rollup) Quantile(q float64) time.Duration {
	var total int64
	for _, c := range r.Latency {
		total += c
	}
	if total == 0 {
		return 0
	}
	rank := q * float64(total)
	var cum int64
	for i, c := range r.Latency {
		if c == 0 || float64(cum+c) < rank {
			cum += c
			continue
		}
		lo, hi := r.DurationMin, r.DurationMax
		if i > 0 {
			lo = max(lo, LatencyBounds[i-1])
		}
		if i < len(LatencyBounds) {
			hi = min(hi, LatencyBounds[i])
		}
		if hi < lo {
			hi = lo
		}
		frac := (rank - float64(cum)) / float64(c)
		return lo + time.Duration(frac*float64(hi-lo))
	}
	return r.DurationMax
}

// rollupKey identifies one rollup row.
type rollupKey struct {
	period Period
	tenant string
	check  string
	bucket int64 // ms
}

// aggregate folds a batch (chunks of results) into rollup rows, one per
// key, so a batch does one upsert per (target, hour) and (target, day)
// whatever its size.
func aggregate(batch [][]probes.Result) map[rollupKey]*Rollup {
	out := make(map[rollupKey]*Rollup)
	for _, chunk := range batch {
		for i := range chunk {
			for _, p := range [...]Period{Hour, Day} {
				addToRollup(out, p, &chunk[i])
			}
		}
	}
	return out
}

// addToRollup counts r in its period-p rollup in out.
func addToRollup(out map[rollupKey]*Rollup, p Period, r *probes.Result) {
	ms := toMS(r.Start)
	span := p.Duration().Milliseconds()
	k := rollupKey{p, clean(r.Tenant, 200), clean(r.Check, 200), ms - mod(ms, span)}
	ru := out[k]
	if ru == nil {
		ru = &Rollup{Kind: probes.Kind(clean(string(r.Kind), 50))}
		out[k] = ru
	}
	ru.Runs++
	if !r.Success {
		return
	}
	// Stored in µs: round here so the sum, min and max agree.
	d := r.Duration.Truncate(time.Microsecond)
	if ru.Successes == 0 || d < ru.DurationMin {
		ru.DurationMin = d
	}
	if d > ru.DurationMax {
		ru.DurationMax = d
	}
	ru.Successes++
	ru.DurationSum += d
	ru.Latency[latencyBucket(d)]++
}

// mod is the non-negative remainder, so times before 1970 bucket right too.
func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

const rollupFixedColumns = `period, tenant, check_name, bucket_ms, kind, runs, successes, ok_sum_us, ok_min_us, ok_max_us`

// rollupUpsert adds a batch's rollups to the stored ones. min and max are
// CASEs because SQLite has no LEAST/GREATEST; a NULL (no success yet) on
// either side yields the other.
var rollupUpsert = func() string {
	var set []string
	for _, c := range latencyColumns {
		set = append(set, c+" = rollups."+c+" + excluded."+c)
	}
	return `INSERT INTO rollups (` + rollupFixedColumns + `, ` + strings.Join(latencyColumns[:], ", ") + `) VALUES %s
		ON CONFLICT (period, tenant, check_name, bucket_ms) DO UPDATE SET
		kind = excluded.kind,
		runs = rollups.runs + excluded.runs,
		successes = rollups.successes + excluded.successes,
		ok_sum_us = rollups.ok_sum_us + excluded.ok_sum_us,
		ok_min_us = CASE WHEN rollups.ok_min_us IS NULL OR excluded.ok_min_us < rollups.ok_min_us
			THEN excluded.ok_min_us ELSE rollups.ok_min_us END,
		ok_max_us = CASE WHEN rollups.ok_max_us IS NULL OR excluded.ok_max_us > rollups.ok_max_us
			THEN excluded.ok_max_us ELSE rollups.ok_max_us END,
		` + strings.Join(set, ",\n\t\t")
}()

const rollupColumnCount = 10 + len(LatencyBounds) + 1

// upsertRollups adds a batch's rollups to the stored ones through rows,
// in key order: two processes writing the same series on one Postgres
// then lock its rows in the same order and cannot deadlock, and SQLite
// walks its index in order.
func upsertRollups(rows *rowWriter, rollups map[rollupKey]*Rollup) error {
	keys := make([]rollupKey, 0, len(rollups))
	for k := range rollups {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b rollupKey) int {
		return cmp.Or(cmp.Compare(a.period, b.period), cmp.Compare(a.tenant, b.tenant),
			cmp.Compare(a.check, b.check), cmp.Compare(a.bucket, b.bucket))
	})
	row := make([]any, 0, rollupColumnCount)
	for _, k := range keys {
		r := rollups[k]
		var minUS, maxUS any
		if r.Successes > 0 {
			minUS, maxUS = r.DurationMin.Microseconds(), r.DurationMax.Microseconds()
		}
		row = append(row[:0], string(k.period), k.tenant, k.check, k.bucket, string(r.Kind),
			r.Runs, r.Successes, r.DurationSum.Microseconds(), minUS, maxUS)
		for _, c := range r.Latency {
			row = append(row, c)
		}
		if err := rows.add(row...); err != nil {
			return err
		}
	}
	return rows.flush()
}

// Selector picks rollup series; an empty list matches everything. Name the
// checks with the tenants where you can: the (period, tenant, check,
// bucket) key then serves the query, where with tenants alone SQLite reads
// every tenant's rows of the period by time.
type Selector struct {
	Tenants []string
	Checks  []string
	Kinds   []probes.Kind
}

// DailyUptime returns one tenant's check per UTC day, for the days that
// overlap [from, to) and have data (a missing day has none), oldest first.
func (s *Store) DailyUptime(ctx context.Context, tenant, check string, from, to time.Time) ([]Rollup, error) {
	return s.SeriesRollups(ctx, Day, Selector{Tenants: []string{tenant}, Checks: []string{check}}, from, to)
}

// HourlyRollups returns one tenant's check per UTC hour, for the hours
// that overlap [from, to) and have data, oldest first.
func (s *Store) HourlyRollups(ctx context.Context, tenant, check string, from, to time.Time) ([]Rollup, error) {
	return s.SeriesRollups(ctx, Hour, Selector{Tenants: []string{tenant}, Checks: []string{check}}, from, to)
}

const selectRollupSeries = `SELECT tenant, check_name, kind, bucket_ms, runs, successes, ok_sum_us, ok_min_us, ok_max_us, %s
	FROM rollups WHERE period = ? AND bucket_ms > ? AND bucket_ms < ?%s
	ORDER BY tenant, check_name, bucket_ms`

// SeriesRollups returns every selected (tenant, check) series' buckets
// that overlap [from, to), ordered by tenant, check and time: a
// component's per-tenant bars.
func (s *Store) SeriesRollups(ctx context.Context, p Period, sel Selector, from, to time.Time) ([]Rollup, error) {
	where, selArgs, err := sel.where()
	if err != nil {
		return nil, err
	}
	q := fmt.Sprintf(selectRollupSeries, strings.Join(latencyColumns[:], ", "), where)
	args := append(rollupRange(p, from, to), selArgs...)
	rows, err := s.r.QueryContext(ctx, s.q.bindOnce(q), args...)
	if err != nil {
		return nil, fmt.Errorf("store: rollups: %w", err)
	}
	defer rows.Close()
	var out []Rollup
	for rows.Next() {
		r := Rollup{Period: p}
		if err := scanRollup(rows, &r, &r.Tenant, &r.Check, &r.Kind); err != nil {
			return nil, fmt.Errorf("store: rollups: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: rollups: %w", err)
	}
	return out, nil
}

const selectRollupAggregate = `SELECT bucket_ms, CAST(SUM(runs) AS BIGINT), CAST(SUM(successes) AS BIGINT),
	CAST(SUM(ok_sum_us) AS BIGINT), MIN(ok_min_us), MAX(ok_max_us), %s
	FROM rollups WHERE period = ? AND bucket_ms > ? AND bucket_ms < ?%s
	GROUP BY bucket_ms ORDER BY bucket_ms`

// AggregateRollups sums the selected series per bucket (uptime =
// successes/runs over all of them), for the buckets that overlap [from, to)
// and have data, oldest first: a component's bar.
func (s *Store) AggregateRollups(ctx context.Context, p Period, sel Selector, from, to time.Time) ([]Rollup, error) {
	where, selArgs, err := sel.where()
	if err != nil {
		return nil, err
	}
	sums := make([]string, len(latencyColumns))
	for i, c := range latencyColumns {
		sums[i] = "CAST(SUM(" + c + ") AS BIGINT)"
	}
	q := fmt.Sprintf(selectRollupAggregate, strings.Join(sums, ", "), where)
	args := append(rollupRange(p, from, to), selArgs...)
	rows, err := s.r.QueryContext(ctx, s.q.bindOnce(q), args...)
	if err != nil {
		return nil, fmt.Errorf("store: aggregate rollups: %w", err)
	}
	defer rows.Close()
	var out []Rollup
	for rows.Next() {
		r := Rollup{Period: p}
		if err := scanRollup(rows, &r); err != nil {
			return nil, fmt.Errorf("store: aggregate rollups: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: aggregate rollups: %w", err)
	}
	return out, nil
}

// rollupRange is the bucket_ms bounds of buckets overlapping [from, to).
func rollupRange(p Period, from, to time.Time) []any {
	return []any{string(p), toMS(from) - p.Duration().Milliseconds(), toMS(to)}
}

// scanRollup scans lead (tenant, check, kind or nothing) then the bucket
// and its numbers.
func scanRollup(rows *sql.Rows, r *Rollup, lead ...any) error {
	var bucket, sum int64
	var minUS, maxUS sql.NullInt64
	dest := append(lead, &bucket, &r.Runs, &r.Successes, &sum, &minUS, &maxUS)
	for i := range r.Latency {
		dest = append(dest, &r.Latency[i])
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	r.Start = fromMS(bucket)
	r.DurationSum, r.DurationMin, r.DurationMax = us(sum), us(minUS.Int64), us(maxUS.Int64)
	return nil
}

// maxSelected bounds a Selector's lists: they become IN (?, …) parameters.
const maxSelected = 5000

func (sel Selector) where() (string, []any, error) {
	var b strings.Builder
	var args []any
	add := func(col string, vals []string) error {
		if len(vals) == 0 {
			return nil
		}
		if len(vals) > maxSelected {
			return fmt.Errorf("store: rollups: %d %s selected, at most %d", len(vals), col, maxSelected)
		}
		fmt.Fprintf(&b, " AND %s IN (%s)", col, inList(len(vals)))
		for _, v := range vals {
			args = append(args, v)
		}
		return nil
	}
	kinds := make([]string, len(sel.Kinds))
	for i, k := range sel.Kinds {
		kinds[i] = string(k)
	}
	for _, f := range []struct {
		col  string
		vals []string
	}{{"tenant", sel.Tenants}, {"check_name", sel.Checks}, {"kind", kinds}} {
		if err := add(f.col, f.vals); err != nil {
			return "", nil, err
		}
	}
	return b.String(), args, nil
}
