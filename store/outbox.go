package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

const (
	outboxColumns = `id, notifier, idempotency_key, case_id, seq, payload, state, attempts,
		next_attempt_ms, last_error, created_ms, delivered_ms`
	// An item is due when its time has come and no earlier event of its
	// case waits for the same notifier: a Slack reply never overtakes the
	// root message it threads under, a webhook receiver sees a case's
	// events in order. Dead items do not block.
	selectDue = `SELECT ` + outboxColumns + ` FROM outbox o
		WHERE o.notifier = ? AND o.state = 'pending' AND o.next_attempt_ms <= ?
		AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.notifier = o.notifier AND e.case_id = o.case_id
			AND e.state = 'pending' AND e.seq < o.seq)
		ORDER BY o.id LIMIT ?`
	selectCaseOutbox = `SELECT ` + outboxColumns + ` FROM outbox WHERE case_id = ? ORDER BY seq, id`
	selectOutboxItem = `SELECT ` + outboxColumns + ` FROM outbox WHERE id = ?`
	markDelivered    = `UPDATE outbox SET state = 'delivered', attempts = attempts + 1, last_error = '',
		delivered_ms = ? WHERE id = ? AND state = 'pending'`
	markFailed = `UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_ms = ?
		WHERE id = ? AND state = 'pending'`
	markDead = `UPDATE outbox SET state = 'dead', attempts = attempts + 1, last_error = ?
		WHERE id = ? AND state = 'pending'`
	outboxExists = `SELECT COUNT(*) FROM outbox WHERE id = ?`
	outboxCounts = `SELECT notifier, state, COUNT(*) FROM outbox GROUP BY notifier, state ORDER BY notifier, state`
)

// OutboxState is where a notification is in its delivery.
type OutboxState string

// The outbox states.
const (
	Pending   OutboxState = "pending"
	Delivered OutboxState = "delivered"
	Dead      OutboxState = "dead" // given up on: a dead letter
)

// OutboxItem is one notification for one notifier.
type OutboxItem struct {
	ID       int64 // set by the store
	Notifier string
	// Key is the idempotency key, unique per notifier: a receiver that
	// sees one twice (at-least-once delivery) can drop the repeat.
	Key     string
	CaseID  string
	Seq     int64 // the case event it tells of
	Payload json.RawMessage

	State       OutboxState
	Attempts    int
	NextAttempt time.Time
	LastError   string
	CreatedAt   time.Time
	DeliveredAt time.Time // zero until delivered
}

// DueNotifications returns notifier's pending items due at now, oldest
// first, at most limit (≤ 0: 100). An item waits while an earlier event of
// its case is pending for the same notifier. One dispatcher per notifier
// is assumed: two would both get the same items.
func (s *Store) DueNotifications(ctx context.Context, notifier string, now time.Time, limit int) ([]OutboxItem, error) {
	if limit <= 0 {
		limit = 100
	}
	return s.queryOutbox(ctx, selectDue, notifier, toMS(now), limit)
}

// CaseNotifications returns every notification of a case, in event order.
func (s *Store) CaseNotifications(ctx context.Context, caseID string) ([]OutboxItem, error) {
	return s.queryOutbox(ctx, selectCaseOutbox, caseID)
}

// Notification returns one outbox item, or ErrNotFound.
func (s *Store) Notification(ctx context.Context, id int64) (OutboxItem, error) {
	items, err := s.queryOutbox(ctx, selectOutboxItem, id)
	if err != nil {
		return OutboxItem{}, err
	}
	if len(items) == 0 {
		return OutboxItem{}, ErrNotFound
	}
	return items[0], nil
}

// MarkDelivered records the successful delivery of item id at at.
//
// Each Mark method counts the attempt and acts only on a pending item:
// marking one already delivered or dead again is a no-op, so a dispatcher
// that retries a mark after an error does no harm. An unknown id is
// ErrNotFound.
func (s *Store) MarkDelivered(ctx context.Context, id int64, at time.Time) error {
	return s.mark(ctx, "delivered", id, markDelivered, toMS(at), id)
}

// MarkFailed records a failed attempt and when to try again.
func (s *Store) MarkFailed(ctx context.Context, id int64, cause error, next time.Time) error {
	return s.mark(ctx, "failed", id, markFailed, errText(cause), toMS(next), id)
}

// MarkDead records a last failed attempt and gives up on the item (a
// permanent error, or too many attempts).
func (s *Store) MarkDead(ctx context.Context, id int64, cause error) error {
	return s.mark(ctx, "dead", id, markDead, errText(cause), id)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return clean(err.Error(), 2048)
}

func (s *Store) mark(ctx context.Context, what string, id int64, query string, args ...any) error {
	defer s.urgent.begin()()
	res, err := s.w.ExecContext(ctx, s.q.bind(query), args...)
	if err != nil {
		return fmt.Errorf("store: mark notification %d %s: %w", id, what, err)
	}
	if n, err := res.RowsAffected(); err == nil && n > 0 {
		return nil
	}
	var count int64
	if err := s.w.QueryRowContext(ctx, s.q.bind(outboxExists), id).Scan(&count); err != nil {
		return fmt.Errorf("store: mark notification %d %s: %w", id, what, err)
	}
	if count == 0 {
		return fmt.Errorf("store: mark notification %d %s: %w", id, what, ErrNotFound)
	}
	return nil
}

// OutboxCount is how many of a notifier's items are in a state.
type OutboxCount struct {
	Notifier string
	State    OutboxState
	Count    int64
}

// OutboxCounts counts the outbox by notifier and state: the queue depth and
// the dead letters, for metrics.
func (s *Store) OutboxCounts(ctx context.Context) ([]OutboxCount, error) {
	rows, err := s.r.QueryContext(ctx, outboxCounts)
	if err != nil {
		return nil, fmt.Errorf("store: outbox counts: %w", err)
	}
	defer rows.Close()
	var out []OutboxCount
	for rows.Next() {
		var c OutboxCount
		if err := rows.Scan(&c.Notifier, &c.State, &c.Count); err != nil {
			return nil, fmt.Errorf("store: outbox counts: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: outbox counts: %w", err)
	}
	return out, nil
}

func (s *Store) queryOutbox(ctx context.Context, query string, args ...any) ([]OutboxItem, error) {
	rows, err := s.r.QueryContext(ctx, s.q.bind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: outbox: %w", err)
	}
	defer rows.Close()
	var out []OutboxItem
	for rows.Next() {
		var (
			it            OutboxItem
			next, created int64
			delivered     sql.NullInt64
			payload       sql.NullString
		)
		if err := rows.Scan(&it.ID, &it.Notifier, &it.Key, &it.CaseID, &it.Seq, &payload, &it.State,
			&it.Attempts, &next, &it.LastError, &created, &delivered); err != nil {
			return nil, fmt.Errorf("store: outbox: %w", err)
		}
		it.Payload, it.NextAttempt, it.CreatedAt, it.DeliveredAt = rawJSON(payload), fromMS(next), fromMS(created), fromNullMS(delivered)
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: outbox: %w", err)
	}
	return out, nil
}
