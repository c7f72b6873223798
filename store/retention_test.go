package store

import (
	"context"
	"testing"
	"time"

	"github.com/forewarn/forewarn/probes"
)

// Retention deletes raw results past 48 h but keeps their rollups; rollups
// go after 400 days, finished notifications after 30, pending ones never.
func TestRetention(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := openStore(t, b.dsn(t), testOptions())
		now := time.Date(2026, 11, 23, 12, 30, 0, 0, time.UTC)
		for _, age := range []time.Duration{401 * 24 * time.Hour, 72 * time.Hour, 49 * time.Hour, 47 * time.Hour, time.Hour} {
			s.Record(httpResult("acme", "health", now.Add(-age), ms(10), true))
		}
		old := httpResult("acme", "capacity", now.Add(-401*24*time.Hour), time.Minute, true)
		old.Kind, old.Load = probes.KindLoad, &probes.LoadResult{Stop: "max"}
		s.Record(old)
		flush(t, s)
		// A delivered notification from 31 days ago, a pending one as old.
		for i, state := range []string{"delivered", "pending"} {
			c := CaseRecord{ID: "old" + string(rune('a'+i)), Tenant: "acme", Kind: "outage", State: "resolved",
				OpenedAt: now.Add(-31 * 24 * time.Hour), Seq: 1}
			ev := []EventRecord{{Seq: 1, Type: "opened", Time: c.OpenedAt}}
			if err := s.ApplyCaseChange(ctx, c, ev, []OutboxItem{{Notifier: "slack"}}); err != nil {
				t.Fatal(err)
			}
			if state == "delivered" {
				items, _ := s.CaseNotifications(ctx, c.ID)
				if err := s.MarkDelivered(ctx, items[0].ID, c.OpenedAt); err != nil {
					t.Fatal(err)
				}
			}
		}

		p, err := s.RunRetention(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		want := Pruned{Results: 4, HourlyRollups: 2, DailyRollups: 2, CapacityRuns: 1, Notifications: 1}
		if p != want {
			t.Errorf("pruned %+v, want %+v", p, want)
		}
		res, err := s.Results(ctx, "acme", "health", now.Add(-500*24*time.Hour), now, 0)
		if err != nil || len(res) != 2 || !res[1].Start.Equal(now.Add(-47*time.Hour)) {
			t.Errorf("results kept = %d (%v), want the 47 h and 1 h ones", len(res), err)
		}
		days, err := s.DailyUptime(ctx, "acme", "health", now.Add(-500*24*time.Hour), now.Add(time.Hour))
		if err != nil || len(days) != 3 || days[0].Runs != 1 || !days[0].Start.Equal(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("daily rollups kept = %+v, %v; want 3 days from Nov 20", days, err)
		}
		if hist, _ := s.CapacityHistory(ctx, "acme", "capacity", now.Add(-500*24*time.Hour), now); len(hist) != 0 {
			t.Errorf("capacity runs kept = %+v, want none", hist)
		}
		if items, _ := s.CaseNotifications(ctx, "olda"); len(items) != 0 {
			t.Errorf("old delivered notification kept: %+v", items)
		}
		if items, _ := s.CaseNotifications(ctx, "oldb"); len(items) != 1 {
			t.Errorf("old pending notification deleted: %+v", items)
		}
		if c, err := s.Case(ctx, "olda"); err != nil || c.ID != "olda" {
			t.Errorf("old case deleted: %v", err)
		}
		// Nothing more to do a second time.
		if p, err := s.RunRetention(ctx, now); err != nil || p != (Pruned{}) {
			t.Errorf("second run pruned %+v, %v", p, err)
		}
	})
}

// Raw results go in chunks: more than one chunk is all deleted.
func TestRetentionChunks(t *testing.T) {
	s := openStore(t, sqliteBackend.dsn(t), Options{RetentionInterval: -1, BatchSize: 5000, BufferSize: 30_000})
	now := time.Now()
	n := pruneChunk*2 + 7
	for i := range n {
		s.Record(httpResult("acme", "health", now.Add(-72*time.Hour).Add(time.Duration(i)*time.Millisecond), ms(1), true))
	}
	flush(t, s)
	p, err := s.RunRetention(context.Background(), now)
	if err != nil || p.Results != int64(n) {
		t.Errorf("pruned %+v, %v; want %d results", p, err, n)
	}
}

// The background loop runs retention by itself.
func TestRetentionRunsByItself(t *testing.T) {
	opts := testOptions()
	opts.RetentionInterval = 20 * time.Millisecond
	s := openStore(t, sqliteBackend.dsn(t), opts)
	now := time.Now()
	s.Record(httpResult("acme", "health", now.Add(-72*time.Hour), ms(1), true))
	flush(t, s)
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := s.Results(context.Background(), "acme", "health", now.Add(-100*time.Hour), now, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the 72 h old result is still there after 10 s of retention every 20 ms")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
