package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/forewarn/forewarn/probes"
)

const (
	capacityColumns = `tenant, check_name, start_ms, duration_us, success, reason, message, model,
		seats, required, knee_users, break_at, at_max, stop, curve`
	capacityColumnCount = 15
	insertCapacity      = `INSERT INTO capacity_runs (` + capacityColumns + `) VALUES `
	selectCapacity      = `SELECT id, ` + capacityColumns + ` FROM capacity_runs`
	// The latest run of each of a tenant's load checks, or of every
	// tenant's. latest is the newest run of each series; with a tenant, the
	// (tenant, check_name, start_ms) index finds its rows, where an
	// "? = '' OR tenant = ?" test would read every run of every tenant.
	latest = ` c WHERE start_ms = (SELECT MAX(start_ms) FROM capacity_runs l
			WHERE l.tenant = c.tenant AND l.check_name = c.check_name)`
	selectLatestCapacity       = selectCapacity + latest + ` ORDER BY tenant, check_name, id DESC`
	selectLatestTenantCapacity = selectCapacity + latest + ` AND c.tenant = ? ORDER BY check_name, id DESC`
	selectCapacityHistory      = selectCapacity + `
		WHERE tenant = ? AND check_name = ? AND start_ms >= ? AND start_ms < ?
		ORDER BY start_ms, id`
)

// CapacityRun is one stored load run: what it concluded and its curve.
type CapacityRun struct {
	ID       int64
	Tenant   string
	Check    string
	Start    time.Time // UTC
	Duration time.Duration
	Success  bool
	Reason   probes.Reason
	Message  string // the result's message
	Model    probes.LoadModel

	Seats    int
	Required int
	Knee     probes.Knee
	Stop     string // why the ramp ended: "max", "slo", "aborted", …

	// The curve.
	StopMessage string
	SLO         probes.SLO
	Planned     []int
	Steps       []probes.LoadStep
}

// curveJSON is capacity_runs.curve. It is the store's own shape, with
// explicit names and units, so renaming a probes field cannot silently
// change what old rows mean.
type curveJSON struct {
	Planned       []int      `json:"planned,omitempty"`
	SLOP95US      int64      `json:"slo_p95_us,omitempty"`
	SLOErrorRatio float64    `json:"slo_error_ratio,omitempty"`
	StopMessage   string     `json:"stop_message,omitempty"`
	Steps         []stepJSON `json:"steps"`
}

type stepJSON struct {
	Users      int     `json:"users"`
	Confirm    bool    `json:"confirm,omitempty"`
	StartMS    int64   `json:"start_ms"`
	DurationUS int64   `json:"duration_us"`
	Requests   int64   `json:"requests"`
	Errors     int64   `json:"errors"`
	Rate       float64 `json:"rate"`
	ErrorRatio float64 `json:"error_ratio"`
	P50US      int64   `json:"p50_us"`
	P95US      int64   `json:"p95_us"`
	P99US      int64   `json:"p99_us"`
	MaxUS      int64   `json:"max_us"`
	InFlight   int     `json:"in_flight"`
	Passed     bool    `json:"passed"`
}

func capacityArgs(r *probes.Result) []any {
	l := r.Load
	c := curveJSON{
		Planned: l.Planned, SLOP95US: l.SLO.P95.Microseconds(), SLOErrorRatio: finite(l.SLO.ErrorRatio),
		StopMessage: clean(l.Message, maxText), Steps: make([]stepJSON, 0, len(l.Steps)),
	}
	for _, st := range l.Steps {
		c.Steps = append(c.Steps, stepJSON{
			Users: st.Users, Confirm: st.Confirm, StartMS: toMS(st.Start), DurationUS: st.Duration.Microseconds(),
			Requests: st.Requests, Errors: st.Errors, Rate: finite(st.Rate), ErrorRatio: finite(st.ErrorRatio),
			P50US: st.P50.Microseconds(), P95US: st.P95.Microseconds(), P99US: st.P99.Microseconds(),
			MaxUS: st.Max.Microseconds(), InFlight: st.InFlight, Passed: st.Passed,
		})
	}
	curve, err := json.Marshal(c)
	if err != nil { // cannot happen with finite floats; never fail a batch over it
		curve = []byte(`{"steps":[]}`)
	}
	return []any{
		clean(r.Tenant, 200), clean(r.Check, 200), toMS(r.Start), r.Duration.Microseconds(), r.Success,
		clean(string(r.Reason), 50), clean(r.Message, maxText), clean(string(l.Model), 50),
		l.Seats, l.Required, l.Knee.Users, l.Knee.BreakAt, l.Knee.AtMax, clean(l.Stop, 200), string(curve),
	}
}

func (s *Store) insertCapacityRuns(ctx context.Context, tx *sql.Tx, batch []probes.Result) error {
	var args []any
	n := 0
	for i := range batch {
		if batch[i].Load != nil {
			args = append(args, capacityArgs(&batch[i])...)
			n++
		}
	}
	if n == 0 {
		return nil
	}
	// Load runs are a few a day per tenant: one statement is plenty, but
	// stay under the parameter limit whatever a batch holds.
	perStmt := maxParams / capacityColumnCount
	for start := 0; start < n; start += perStmt {
		end := min(start+perStmt, n)
		q := s.q.bindOnce(insertCapacity + valueRows(end-start, capacityColumnCount))
		if _, err := tx.ExecContext(ctx, q, args[start*capacityColumnCount:end*capacityColumnCount]...); err != nil {
			return fmt.Errorf("insert capacity runs: %w", err)
		}
	}
	return nil
}

// LatestCapacity returns the latest run of each of tenant's load checks
// ("" tenant: of every tenant), ordered by tenant and check.
func (s *Store) LatestCapacity(ctx context.Context, tenant string) ([]CapacityRun, error) {
	query, args := selectLatestCapacity, []any{}
	if tenant != "" {
		query, args = selectLatestTenantCapacity, []any{tenant}
	}
	runs, err := s.queryCapacity(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	// Two runs of one check starting in the same millisecond: keep the
	// later-inserted (rows come id DESC within a check).
	out := runs[:0]
	for i, r := range runs {
		if i > 0 && r.Tenant == runs[i-1].Tenant && r.Check == runs[i-1].Check {
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// CapacityHistory returns a tenant's load check's runs that started in
// [from, to), oldest first, with their curves.
func (s *Store) CapacityHistory(ctx context.Context, tenant, check string, from, to time.Time) ([]CapacityRun, error) {
	return s.queryCapacity(ctx, selectCapacityHistory, tenant, check, toMS(from), toMS(to))
}

func (s *Store) queryCapacity(ctx context.Context, query string, args ...any) ([]CapacityRun, error) {
	rows, err := s.r.QueryContext(ctx, s.q.bind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: capacity runs: %w", err)
	}
	defer rows.Close()
	var out []CapacityRun
	for rows.Next() {
		var (
			r              CapacityRun
			startMS, durUS int64
			curve          string
		)
		if err := rows.Scan(&r.ID, &r.Tenant, &r.Check, &startMS, &durUS, &r.Success, &r.Reason, &r.Message,
			&r.Model, &r.Seats, &r.Required, &r.Knee.Users, &r.Knee.BreakAt, &r.Knee.AtMax, &r.Stop, &curve); err != nil {
			return nil, fmt.Errorf("store: capacity runs: %w", err)
		}
		r.Start, r.Duration = fromMS(startMS), us(durUS)
		var c curveJSON
		if json.Unmarshal([]byte(curve), &c) == nil {
			r.Planned, r.StopMessage = c.Planned, c.StopMessage
			r.SLO = probes.SLO{P95: us(c.SLOP95US), ErrorRatio: c.SLOErrorRatio}
			for _, st := range c.Steps {
				r.Steps = append(r.Steps, probes.LoadStep{
					Users: st.Users, Confirm: st.Confirm, Start: fromMS(st.StartMS), Duration: us(st.DurationUS),
					Requests: st.Requests, Errors: st.Errors, Rate: st.Rate, ErrorRatio: st.ErrorRatio,
					P50: us(st.P50US), P95: us(st.P95US), P99: us(st.P99US), Max: us(st.MaxUS),
					InFlight: st.InFlight, Passed: st.Passed,
				})
			}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: capacity runs: %w", err)
	}
	return out, nil
}
