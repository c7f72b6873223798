package store

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// opened is the first change of case c1: opened, with a Slack and a webhook
// notification.
type change struct {
	c     CaseRecord
	ev    []EventRecord
	items []OutboxItem
}

func (ch change) apply(ctx context.Context, s *Store) error {
	return s.ApplyCaseChange(ctx, ch.c, ch.ev, ch.items)
}

func opened() change {
	c := CaseRecord{ID: "c1", Tenant: "acme", Kind: "outage", Severity: "major", State: "open",
		OpenedAt: t0, UpdatedAt: t0, Seq: 1, Data: json.RawMessage(`{"causes":["health"]}`)}
	ev := []EventRecord{{Seq: 1, Type: "opened", Time: t0, Data: json.RawMessage(`{"check":"health"}`)}}
	items := []OutboxItem{
		{Notifier: "slack", Seq: 1, Payload: json.RawMessage(`{"text":"acme is down"}`)},
		{Notifier: "webhook", Seq: 1, Payload: json.RawMessage(`{"type":"case.opened"}`)},
	}
	return change{c, ev, items}
}

func resolved() change {
	at := t0.Add(10 * time.Minute)
	c := CaseRecord{ID: "c1", Tenant: "acme", Kind: "outage", Severity: "major", State: "resolved",
		OpenedAt: t0, ResolvedAt: at, UpdatedAt: at, Seq: 2}
	ev := []EventRecord{{Seq: 2, Type: "resolved", Time: at}}
	items := []OutboxItem{{Notifier: "slack", Seq: 2}, {Notifier: "webhook", Seq: 2}}
	return change{c, ev, items}
}

func TestApplyCaseChangeIsIdempotent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := openStore(t, b.dsn(t), testOptions())
		for range 2 { // a retry after a crash applies the same change again
			if err := opened().apply(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		c, err := s.Case(ctx, "c1")
		if err != nil {
			t.Fatal(err)
		}
		if c.State != "open" || !c.ResolvedAt.IsZero() || c.Seq != 1 || string(c.Data) != `{"causes":["health"]}` ||
			!c.OpenedAt.Equal(t0) {
			t.Errorf("case = %+v", c)
		}
		evs, err := s.CaseEvents(ctx, "c1")
		if err != nil || len(evs) != 1 || evs[0].Type != "opened" || string(evs[0].Data) != `{"check":"health"}` {
			t.Errorf("events = %+v, %v; want one opened", evs, err)
		}
		items, err := s.CaseNotifications(ctx, "c1")
		if err != nil || len(items) != 2 {
			t.Fatalf("outbox = %+v, %v; want 2 items", items, err)
		}
		if items[0].Key != "c1:1" || items[0].State != Pending || !items[0].CreatedAt.Equal(t0) ||
			!items[0].NextAttempt.Equal(t0) {
			t.Errorf("outbox item = %+v", items[0])
		}
		open, err := s.OpenCases(ctx)
		if err != nil || len(open) != 1 {
			t.Errorf("open cases = %+v, %v", open, err)
		}

		if err := resolved().apply(ctx, s); err != nil {
			t.Fatal(err)
		}
		// The first change again, late: it must not reopen the case nor
		// queue anything.
		if err := opened().apply(ctx, s); err != nil {
			t.Fatal(err)
		}
		c, _ = s.Case(ctx, "c1")
		if c.State != "resolved" || c.Seq != 2 || !c.ResolvedAt.Equal(t0.Add(10*time.Minute)) {
			t.Errorf("after a stale re-apply: case = %+v, want it resolved", c)
		}
		if evs, _ := s.CaseEvents(ctx, "c1"); len(evs) != 2 || evs[1].Seq != 2 {
			t.Errorf("events = %+v, want seq 1 and 2", evs)
		}
		if items, _ := s.CaseNotifications(ctx, "c1"); len(items) != 4 {
			t.Errorf("outbox has %d items, want 4", len(items))
		}
		if open, _ := s.OpenCases(ctx); len(open) != 0 {
			t.Errorf("open cases = %+v, want none", open)
		}
		if recent, err := s.RecentCases(ctx, 10); err != nil || len(recent) != 1 {
			t.Errorf("recent = %+v, %v", recent, err)
		}
		if tc, err := s.TenantCases(ctx, "globex", 10); err != nil || len(tc) != 0 {
			t.Errorf("globex cases = %+v, %v", tc, err)
		}
		if _, err := s.Case(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing case: %v, want ErrNotFound", err)
		}
	})
}

// A change is one transaction: when a part fails, nothing of it is stored.
func TestApplyCaseChangeIsAtomic(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := openStore(t, b.dsn(t), testOptions())
		// A notification for another case is refused before anything is
		// written.
		ch := opened()
		ch.items = append(ch.items, OutboxItem{Notifier: "slack", CaseID: "c2", Seq: 1})
		if err := ch.apply(ctx, s); err == nil {
			t.Fatal("a notification of another case was accepted")
		}
		// The outbox insert fails after the case and its event went in.
		failOutboxInserts(t, s)
		if err := opened().apply(ctx, s); err == nil || !strings.Contains(err.Error(), "notification slack/c1:1") {
			t.Fatalf("ApplyCaseChange with a failing outbox: %v, want it to fail on the notification", err)
		}
		if evs, _ := s.CaseEvents(ctx, "c1"); len(evs) != 0 {
			t.Errorf("events after failed changes: %+v", evs)
		}
		if _, err := s.Case(ctx, "c1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("case after failed changes: %v, want ErrNotFound", err)
		}
		if items, _ := s.CaseNotifications(ctx, "c1"); len(items) != 0 {
			t.Errorf("outbox after failed changes: %+v", items)
		}
	})
}

func TestOutboxLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := openStore(t, b.dsn(t), testOptions())
		if err := opened().apply(ctx, s); err != nil {
			t.Fatal(err)
		}
		if err := resolved().apply(ctx, s); err != nil {
			t.Fatal(err)
		}
		now := t0.Add(20 * time.Minute)

		// Slack's root (seq 1) is due; its reply (seq 2) waits behind it.
		due, err := s.DueNotifications(ctx, "slack", now, 10)
		if err != nil || len(due) != 1 || due[0].Seq != 1 || string(due[0].Payload) != `{"text":"acme is down"}` {
			t.Fatalf("due = %+v, %v; want slack seq 1", due, err)
		}
		root := due[0]
		// It fails: retried in a minute, not before.
		if err := s.MarkFailed(ctx, root.ID, errors.New("slack: 503"), now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if due, _ := s.DueNotifications(ctx, "slack", now.Add(30*time.Second), 10); len(due) != 0 {
			t.Errorf("due during backoff = %+v, want none (seq 2 waits for seq 1)", due)
		}
		due, _ = s.DueNotifications(ctx, "slack", now.Add(time.Minute), 10)
		if len(due) != 1 || due[0].ID != root.ID || due[0].Attempts != 1 || due[0].LastError != "slack: 503" {
			t.Fatalf("due after backoff = %+v, want the root again with 1 attempt", due)
		}
		if err := s.MarkDelivered(ctx, root.ID, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkDelivered(ctx, root.ID, now.Add(2*time.Minute)); err != nil {
			t.Errorf("second MarkDelivered: %v, want a no-op", err)
		}
		got, err := s.Notification(ctx, root.ID)
		if err != nil || got.State != Delivered || got.Attempts != 2 || got.LastError != "" ||
			!got.DeliveredAt.Equal(now.Add(time.Minute)) {
			t.Errorf("delivered item = %+v, %v", got, err)
		}
		// Now the reply is due.
		due, _ = s.DueNotifications(ctx, "slack", now.Add(time.Minute), 10)
		if len(due) != 1 || due[0].Seq != 2 {
			t.Fatalf("due = %+v, want slack seq 2", due)
		}
		if err := s.MarkDead(ctx, due[0].ID, errors.New("channel_not_found")); err != nil {
			t.Fatal(err)
		}
		if due, _ := s.DueNotifications(ctx, "slack", now.Add(time.Hour), 10); len(due) != 0 {
			t.Errorf("due after all done = %+v", due)
		}
		// A notifier's queue is its own: the webhook's are untouched.
		if due, _ := s.DueNotifications(ctx, "webhook", now, 10); len(due) != 1 || due[0].Key != "c1:1" {
			t.Errorf("webhook due = %+v, want c1:1", due)
		}
		counts, err := s.OutboxCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []OutboxCount{{"slack", Dead, 1}, {"slack", Delivered, 1}, {"webhook", Pending, 2}}
		if len(counts) != len(want) {
			t.Fatalf("counts = %+v, want %+v", counts, want)
		}
		for i := range want {
			if counts[i] != want[i] {
				t.Errorf("counts = %+v, want %+v", counts, want)
				break
			}
		}
		if err := s.MarkFailed(ctx, 999999, nil, now); !errors.Is(err, ErrNotFound) {
			t.Errorf("MarkFailed of an unknown id: %v, want ErrNotFound", err)
		}
	})
}

func TestState(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := openStore(t, b.dsn(t), testOptions())
		if _, err := s.LoadState(ctx, "cases"); !errors.Is(err, ErrNotFound) {
			t.Errorf("LoadState of nothing: %v, want ErrNotFound", err)
		}
		blob := []byte{0, 1, 2, 0xff, 'x'}
		for _, v := range [][]byte{[]byte("first"), blob} {
			if err := s.SaveState(ctx, "cases", v); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := s.LoadState(ctx, "cases"); err != nil || string(got) != string(blob) {
			t.Errorf("LoadState = %v, %v; want %v", got, err, blob)
		}
		if err := s.SaveState(ctx, "empty", nil); err != nil {
			t.Fatal(err)
		}
		if got, err := s.LoadState(ctx, "empty"); err != nil || got == nil || len(got) != 0 {
			t.Errorf("empty state = %v, %v", got, err)
		}
		if err := s.DeleteState(ctx, "cases"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.LoadState(ctx, "cases"); !errors.Is(err, ErrNotFound) {
			t.Errorf("after delete: %v, want ErrNotFound", err)
		}
	})
}

// failOutboxInserts makes every insert into the outbox fail.
func failOutboxInserts(t *testing.T, s *Store) { failInserts(t, s, "outbox") }

// failInserts makes every insert into table fail, with a trigger, until
// the function it returns drops the trigger.
func failInserts(t *testing.T, s *Store, table string) (restore func()) {
	t.Helper()
	create := []string{`CREATE TRIGGER fail_` + table + ` BEFORE INSERT ON ` + table + `
		BEGIN SELECT RAISE(ABORT, '` + table + ` refuses'); END`}
	drop := []string{`DROP TRIGGER fail_` + table}
	if s.dialect == dialectPostgres {
		create = []string{
			`CREATE FUNCTION fail_` + table + `() RETURNS trigger LANGUAGE plpgsql AS
				$$ BEGIN RAISE EXCEPTION '` + table + ` refuses'; END $$`,
			`CREATE TRIGGER fail_` + table + ` BEFORE INSERT ON ` + table + ` FOR EACH ROW EXECUTE FUNCTION fail_` + table + `()`,
		}
		drop = []string{`DROP TRIGGER fail_` + table + ` ON ` + table, `DROP FUNCTION fail_` + table + `()`}
	}
	exec := func(stmts []string) {
		for _, q := range stmts {
			if _, err := s.w.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
	}
	exec(create)
	return func() { exec(drop) }
}

// TestApplyCaseChangeWritesStateWithIt: the engine's snapshot is written
// in the change's transaction.
func TestApplyCaseChangeWritesStateWithIt(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := openStore(t, b.dsn(t), testOptions())
		ch := opened()
		if err := s.ApplyCaseChange(ctx, ch.c, ch.ev, ch.items, StateWrite{Key: "cases/engine", Value: []byte(`{"v":1}`)}); err != nil {
			t.Fatal(err)
		}
		got, err := s.LoadState(ctx, "cases/engine")
		if err != nil || string(got) != `{"v":1}` {
			t.Errorf("state %q, %v", got, err)
		}
	})
}
