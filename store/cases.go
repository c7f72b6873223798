package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
)

const (
	// A change older than the stored one (a lower seq) leaves the case as
	// it is: re-applying history never rolls a case back.
	upsertCase = `INSERT INTO cases (id, tenant, kind, severity, state, opened_ms, resolved_ms, updated_ms, seq, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET tenant = excluded.tenant, kind = excluded.kind,
			severity = excluded.severity, state = excluded.state, opened_ms = excluded.opened_ms,
			resolved_ms = excluded.resolved_ms, updated_ms = excluded.updated_ms, seq = excluded.seq,
			data = excluded.data
		WHERE cases.seq <= excluded.seq`
	insertEvent = `INSERT INTO case_events (case_id, seq, type, time_ms, data) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (case_id, seq) DO NOTHING`
	insertOutbox = `INSERT INTO outbox (notifier, idempotency_key, case_id, seq, payload, state, attempts,
			next_attempt_ms, last_error, created_ms)
		VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, '', ?)
		ON CONFLICT (notifier, idempotency_key) DO NOTHING`

	caseColumns   = `id, tenant, kind, severity, state, opened_ms, resolved_ms, updated_ms, seq, data`
	selectCase    = `SELECT ` + caseColumns + ` FROM cases WHERE id = ?`
	selectOpen    = `SELECT ` + caseColumns + ` FROM cases WHERE resolved_ms IS NULL ORDER BY opened_ms, id`
	selectRecent  = `SELECT ` + caseColumns + ` FROM cases ORDER BY opened_ms DESC, id DESC LIMIT ?`
	selectTenant  = `SELECT ` + caseColumns + ` FROM cases WHERE tenant = ? ORDER BY opened_ms DESC, id DESC LIMIT ?`
	selectEvents  = `SELECT case_id, seq, type, time_ms, data FROM case_events WHERE case_id = ? ORDER BY seq`
	defaultRecent = 100
)

// CaseRecord is a support case as stored. The cases package owns what the
// strings mean; Data holds the rest of its case as JSON.
type CaseRecord struct {
	ID       string // stable, chosen by the cases engine
	Tenant   string
	Kind     string // outage, degraded, capacity, expiring
	Severity string
	State    string
	OpenedAt time.Time
	// ResolvedAt is zero while the case is open.
	ResolvedAt time.Time
	UpdatedAt  time.Time
	// Seq is the sequence of the last event applied to the case.
	Seq  int64
	Data json.RawMessage
}

// EventRecord is one event of a case; (CaseID, Seq) is unique.
type EventRecord struct {
	CaseID string // "" in ApplyCaseChange: the case's
	Seq    int64
	Type   string
	Time   time.Time
	Data   json.RawMessage
}

// ApplyCaseChange writes a case, its new events and the notifications they
// cause in one transaction: either all of it is durable or none is.
//
// It is idempotent: an event whose (case, seq) is already stored is skipped
// together with its notifications, and a notification whose (notifier,
// key) exists is not queued again, so applying a change twice (a retry
// after a crash) changes nothing. The case row is only overwritten by a
// change whose Seq is at least the stored one.
//
// Each item's CaseID defaults to c.ID, its Seq to c.Seq (the change's
// last event), its Key to "<case id>:<seq>"
// (IdempotencyKey), its CreatedAt to its event's time (else now), its
// NextAttempt to its CreatedAt: due at once.
//
// states are written in the same transaction: the cases engine's snapshot
// goes with the events it produced, so a restart never finds one without
// the other.
func (s *Store) ApplyCaseChange(ctx context.Context, c CaseRecord, events []EventRecord, items []OutboxItem, states ...StateWrite) error {
	if c.ID == "" {
		return errors.New("store: apply case change: case without an id")
	}
	defer s.urgent.begin()()
	// Defaults are filled in copies: the caller's slices stay as given.
	events, items = slices.Clone(events), slices.Clone(items)
	eventTime := make(map[int64]time.Time, len(events))
	for i := range events {
		e := &events[i]
		if e.CaseID == "" {
			e.CaseID = c.ID
		}
		if e.CaseID != c.ID {
			return fmt.Errorf("store: apply case change %s: event %d belongs to case %q", c.ID, e.Seq, e.CaseID)
		}
		eventTime[e.Seq] = e.Time
	}
	for i := range items {
		it := &items[i]
		if it.CaseID == "" {
			it.CaseID = c.ID
		}
		if it.Seq == 0 {
			it.Seq = c.Seq
		}
		if it.CaseID != c.ID {
			return fmt.Errorf("store: apply case change %s: notification %d belongs to case %q", c.ID, it.Seq, it.CaseID)
		}
		if it.Notifier == "" {
			return fmt.Errorf("store: apply case change %s: notification %d without a notifier", c.ID, it.Seq)
		}
		if it.Key == "" {
			it.Key = IdempotencyKey(it.CaseID, it.Seq)
		}
	}

	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: apply case change %s: %w", c.ID, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, s.q.bind(upsertCase), clean(c.ID, 200), clean(c.Tenant, 200),
		clean(c.Kind, 50), clean(c.Severity, 50), clean(c.State, 50), toMS(c.OpenedAt), nullMS(c.ResolvedAt),
		toMS(orNow(c.UpdatedAt)), c.Seq, jsonText(c.Data)); err != nil {
		return fmt.Errorf("store: apply case change %s: case: %w", c.ID, err)
	}
	skip := make(map[int64]bool)
	for _, e := range events {
		res, err := tx.ExecContext(ctx, s.q.bind(insertEvent), e.CaseID, e.Seq, clean(e.Type, 100),
			toMS(e.Time), jsonText(e.Data))
		if err != nil {
			return fmt.Errorf("store: apply case change %s: event %d: %w", c.ID, e.Seq, err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			skip[e.Seq] = true // stored before: so were its notifications
		}
	}
	for _, it := range items {
		if skip[it.Seq] {
			continue
		}
		created := it.CreatedAt
		if created.IsZero() {
			created = orNow(eventTime[it.Seq])
		}
		next := it.NextAttempt
		if next.IsZero() {
			next = created
		}
		if _, err := tx.ExecContext(ctx, s.q.bind(insertOutbox), clean(it.Notifier, 100), clean(it.Key, 300),
			it.CaseID, it.Seq, jsonText(it.Payload), toMS(next), toMS(created)); err != nil {
			return fmt.Errorf("store: apply case change %s: notification %s/%s: %w", c.ID, it.Notifier, it.Key, err)
		}
	}
	for _, st := range states {
		v := st.Value
		if v == nil {
			v = []byte{}
		}
		if _, err := tx.ExecContext(ctx, s.q.bind(upsertState), st.Key, v, toMS(time.Now())); err != nil {
			return fmt.Errorf("store: apply case change %s: state %q: %w", c.ID, st.Key, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: apply case change %s: commit: %w", c.ID, err)
	}
	return nil
}

// IdempotencyKey is the default key of a case event's notification:
// "<case id>:<seq>".
func IdempotencyKey(caseID string, seq int64) string {
	return caseID + ":" + strconv.FormatInt(seq, 10)
}

func orNow(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}

// jsonText is raw JSON as stored: NULL when empty.
func jsonText(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return clean(string(b), 1<<20)
}

func rawJSON(v sql.NullString) json.RawMessage {
	if !v.Valid || v.String == "" {
		return nil
	}
	return json.RawMessage(v.String)
}

// Case returns one case, or ErrNotFound.
func (s *Store) Case(ctx context.Context, id string) (CaseRecord, error) {
	cs, err := s.queryCases(ctx, selectCase, id)
	if err != nil {
		return CaseRecord{}, err
	}
	if len(cs) == 0 {
		return CaseRecord{}, ErrNotFound
	}
	return cs[0], nil
}

// OpenCases returns the cases not resolved, oldest first.
func (s *Store) OpenCases(ctx context.Context) ([]CaseRecord, error) {
	return s.queryCases(ctx, selectOpen)
}

// RecentCases returns the latest opened cases of every tenant, newest
// first, at most limit (≤ 0: 100).
func (s *Store) RecentCases(ctx context.Context, limit int) ([]CaseRecord, error) {
	if limit <= 0 {
		limit = defaultRecent
	}
	return s.queryCases(ctx, selectRecent, limit)
}

// TenantCases returns a tenant's latest opened cases, newest first, at
// most limit (≤ 0: 100).
func (s *Store) TenantCases(ctx context.Context, tenant string, limit int) ([]CaseRecord, error) {
	if limit <= 0 {
		limit = defaultRecent
	}
	return s.queryCases(ctx, selectTenant, tenant, limit)
}

func (s *Store) queryCases(ctx context.Context, query string, args ...any) ([]CaseRecord, error) {
	rows, err := s.r.QueryContext(ctx, s.q.bind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: cases: %w", err)
	}
	defer rows.Close()
	var out []CaseRecord
	for rows.Next() {
		var (
			c               CaseRecord
			opened, updated int64
			resolved        sql.NullInt64
			data            sql.NullString
		)
		if err := rows.Scan(&c.ID, &c.Tenant, &c.Kind, &c.Severity, &c.State, &opened, &resolved, &updated,
			&c.Seq, &data); err != nil {
			return nil, fmt.Errorf("store: cases: %w", err)
		}
		c.OpenedAt, c.ResolvedAt, c.UpdatedAt, c.Data = fromMS(opened), fromNullMS(resolved), fromMS(updated), rawJSON(data)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: cases: %w", err)
	}
	return out, nil
}

// CaseEvents returns a case's events in sequence order.
func (s *Store) CaseEvents(ctx context.Context, caseID string) ([]EventRecord, error) {
	rows, err := s.r.QueryContext(ctx, s.q.bind(selectEvents), caseID)
	if err != nil {
		return nil, fmt.Errorf("store: case events: %w", err)
	}
	defer rows.Close()
	var out []EventRecord
	for rows.Next() {
		var (
			e    EventRecord
			t    int64
			data sql.NullString
		)
		if err := rows.Scan(&e.CaseID, &e.Seq, &e.Type, &t, &data); err != nil {
			return nil, fmt.Errorf("store: case events: %w", err)
		}
		e.Time, e.Data = fromMS(t), rawJSON(data)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: case events: %w", err)
	}
	return out, nil
}
