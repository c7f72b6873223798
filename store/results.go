package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/forewarn/forewarn/probes"
)

const (
	resultColumns = `tenant, check_name, kind, start_ms, duration_us, success, reason, message,
		status_code, cert_expiry_ms, detail`
	resultColumnCount = 11
	insertResults     = `INSERT INTO results (` + resultColumns + `) VALUES `
	selectResults     = `SELECT ` + resultColumns + ` FROM results
		WHERE tenant = ? AND check_name = ? AND start_ms >= ? AND start_ms < ?
		ORDER BY start_ms DESC, id DESC LIMIT ?`
)

// ResultRecord is a stored probe result: a Result less what history does
// not need (extracted values, the load curve, which is in CapacityRun).
type ResultRecord struct {
	Tenant string
	Check  string
	Kind   probes.Kind

	Start      time.Time // UTC
	Duration   time.Duration
	Success    bool
	Reason     probes.Reason
	Message    string
	StatusCode int

	TLS        bool
	CertExpiry time.Time // zero without TLS
	Phases     probes.Phases
	Redirects  int
	BodyBytes  int64

	Steps          []StepRecord
	StepsCompleted int
}

// StepRecord is one stored login step.
type StepRecord struct {
	Name       string
	Ran        bool
	Success    bool
	Reason     probes.Reason
	Message    string
	StatusCode int
	Duration   time.Duration
}

// resultDetail is the JSON in results.detail: what only a reader of one
// result wants. Kept small: at 1,000 results/s, 48 h is 170 M rows.
type resultDetail struct {
	Phases         []int64      `json:"phases_us,omitempty"` // resolve, connect, tls, processing, transfer
	Redirects      int          `json:"redirects,omitempty"`
	BodyBytes      int64        `json:"body_bytes,omitempty"`
	TLS            bool         `json:"tls,omitempty"`
	Steps          []stepDetail `json:"steps,omitempty"`
	StepsCompleted int          `json:"steps_completed,omitempty"`
}

type stepDetail struct {
	Name       string `json:"name"`
	Ran        bool   `json:"ran,omitempty"`
	Success    bool   `json:"ok,omitempty"`
	Reason     string `json:"reason,omitempty"`
	Message    string `json:"message,omitempty"`
	StatusCode int    `json:"status,omitempty"`
	DurationUS int64  `json:"duration_us,omitempty"`
}

// maxText bounds a stored message: probes already bound theirs, this keeps
// a surprise from bloating 48 h of rows.
const maxText = 4096

// clean makes s storable in both databases: valid UTF-8, no NUL (Postgres
// rejects both in TEXT, and one bad row would fail its whole batch), at
// most n bytes.
func clean(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	if len(s) > n {
		s = strings.ToValidUTF8(s[:n], "")
	}
	return s
}

// finite keeps NaN and ±Inf (which encoding/json refuses) out of stored JSON.
func finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

func toMS(t time.Time) int64 { return t.UnixMilli() }

func fromMS(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func us(v int64) time.Duration { return time.Duration(v) * time.Microsecond }

// nullMS is t in ms, or NULL for the zero time.
func nullMS(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

func fromNullMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMS(v.Int64)
}

func resultArgs(r *probes.Result) []any {
	d := resultDetail{
		Redirects: r.Redirects, BodyBytes: r.BodyBytes, TLS: r.TLS,
		StepsCompleted: r.StepsCompleted,
	}
	if r.Phases != (probes.Phases{}) {
		r.Phases.Each(func(_ string, p time.Duration) { d.Phases = append(d.Phases, p.Microseconds()) })
	}
	for _, st := range r.Steps {
		d.Steps = append(d.Steps, stepDetail{
			Name: clean(st.Name, 200), Ran: st.Ran, Success: st.Success, Reason: clean(string(st.Reason), 50),
			Message: clean(st.Message, maxText), StatusCode: st.StatusCode, DurationUS: st.Duration.Microseconds(),
		})
	}
	var detail any
	if b, err := json.Marshal(d); err == nil && string(b) != "{}" {
		detail = string(b)
	}
	var certExpiry any
	if r.TLS {
		certExpiry = nullMS(r.CertExpiry)
	}
	return []any{
		clean(r.Tenant, 200), clean(r.Check, 200), clean(string(r.Kind), 50),
		toMS(r.Start), r.Duration.Microseconds(), r.Success,
		clean(string(r.Reason), 50), clean(r.Message, maxText), r.StatusCode, certExpiry, detail,
	}
}

// Rows per statement of the writer's multi-row statements (see rowStmts):
// enough to spread each call's fixed cost (database/sql, the VM's start)
// thin, and 256 rollup rows (5,888 placeholders) stay under maxParams.
const (
	resultRowsPerStmt = 256
	rollupRowsPerStmt = 256
)

// writeStmts are the batch writer's prepared statements.
type writeStmts struct {
	results, rollups rowStmts
}

func (s *Store) prepareWrites(ctx context.Context) (*writeStmts, error) {
	results, err := prepareRows(ctx, s.w, s.q, "insert results", resultColumnCount, resultRowsPerStmt,
		func(rows int) string { return insertResults + valueRows(rows, resultColumnCount) })
	if err != nil {
		return nil, err
	}
	rollups, err := prepareRows(ctx, s.w, s.q, "upsert rollups", rollupColumnCount, rollupRowsPerStmt,
		func(rows int) string { return fmt.Sprintf(rollupUpsert, valueRows(rows, rollupColumnCount)) })
	if err != nil {
		results.close()
		return nil, err
	}
	return &writeStmts{results: results, rollups: rollups}, nil
}

func (ws *writeStmts) close() error {
	return errors.Join(ws.results.close(), ws.rollups.close())
}

// writeBatch writes results (chunks of them), their capacity runs and
// their rollups in one transaction. began, if not nil, is set when the
// transaction has begun: what came before was waiting for the connection.
func (s *Store) writeBatch(ctx context.Context, ws *writeStmts, batch [][]probes.Result, began *time.Time) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if began != nil {
		*began = time.Now()
	}

	rows := ws.results.writer(ctx, tx)
	for _, chunk := range batch {
		for i := range chunk {
			if err := rows.add(resultArgs(&chunk[i])...); err != nil {
				return err
			}
		}
	}
	if err := rows.flush(); err != nil {
		return err
	}
	for _, chunk := range batch {
		if err := s.insertCapacityRuns(ctx, tx, chunk); err != nil {
			return err
		}
	}
	if err := upsertRollups(ws.rollups.writer(ctx, tx), aggregate(batch)); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Results returns the raw results of one tenant's check that started in
// [from, to), newest first, at most limit (≤ 0: 1,000). Raw results are
// kept RawRetention; older history is in the rollups.
func (s *Store) Results(ctx context.Context, tenant, check string, from, to time.Time, limit int) ([]ResultRecord, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.r.QueryContext(ctx, s.q.bind(selectResults), tenant, check, toMS(from), toMS(to), limit)
	if err != nil {
		return nil, fmt.Errorf("store: results: %w", err)
	}
	defer rows.Close()
	var out []ResultRecord
	for rows.Next() {
		var (
			r          ResultRecord
			startMS    int64
			durUS      int64
			certExpiry sql.NullInt64
			detail     sql.NullString
		)
		if err := rows.Scan(&r.Tenant, &r.Check, &r.Kind, &startMS, &durUS, &r.Success, &r.Reason,
			&r.Message, &r.StatusCode, &certExpiry, &detail); err != nil {
			return nil, fmt.Errorf("store: results: %w", err)
		}
		r.Start, r.Duration, r.CertExpiry = fromMS(startMS), us(durUS), fromNullMS(certExpiry)
		if detail.Valid {
			readDetail(&r, detail.String)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: results: %w", err)
	}
	return out, nil
}

// readDetail fills r from its detail JSON; a row it cannot read keeps its
// columns (history is shown, not trusted for decisions).
func readDetail(r *ResultRecord, s string) {
	var d resultDetail
	if json.Unmarshal([]byte(s), &d) != nil {
		return
	}
	r.Redirects, r.BodyBytes, r.TLS, r.StepsCompleted = d.Redirects, d.BodyBytes, d.TLS, d.StepsCompleted
	phase := func(i int) time.Duration {
		if i < len(d.Phases) {
			return us(d.Phases[i])
		}
		return 0
	}
	r.Phases = probes.Phases{Resolve: phase(0), Connect: phase(1), TLS: phase(2), Processing: phase(3), Transfer: phase(4)}
	for _, st := range d.Steps {
		r.Steps = append(r.Steps, StepRecord{
			Name: st.Name, Ran: st.Ran, Success: st.Success, Reason: probes.Reason(st.Reason),
			Message: st.Message, StatusCode: st.StatusCode, Duration: us(st.DurationUS),
		})
	}
}
