package store

import (
	"context"
	"fmt"
	"time"
)

const (
	// Raw results go in chunks, so that deleting an hour of a large fleet
	// (3.6 M rows at 1,000 results/s) never holds the write lock for long:
	// the batch writer gets in between chunks.
	pruneResults  = `DELETE FROM results WHERE id IN (SELECT id FROM results WHERE start_ms < ? LIMIT ?)`
	pruneRollups  = `DELETE FROM rollups WHERE period = ? AND bucket_ms < ?`
	pruneCapacity = `DELETE FROM capacity_runs WHERE start_ms < ?`
	pruneOutbox   = `DELETE FROM outbox WHERE state <> 'pending' AND created_ms < ?`
	pruneChunk    = 10_000
)

// Pruned counts what a retention run deleted.
type Pruned struct {
	Results, HourlyRollups, DailyRollups, CapacityRuns, Notifications int64
}

func (p Pruned) total() int64 {
	return p.Results + p.HourlyRollups + p.DailyRollups + p.CapacityRuns + p.Notifications
}

// RunRetention deletes what is older than its retention at now: raw results
// (RawRetention), hourly and daily rollups, capacity runs, and delivered or
// dead notifications. Cases and their events are kept. The background
// loop calls it every RetentionInterval; tests call it with their own now.
func (s *Store) RunRetention(ctx context.Context, now time.Time) (Pruned, error) {
	var p Pruned
	cut := func(d time.Duration) int64 { return toMS(now.Add(-d)) }
	for {
		n, err := s.exec(ctx, pruneResults, cut(s.opts.RawRetention), pruneChunk)
		p.Results += n
		if err != nil {
			return p, fmt.Errorf("store: retention: results: %w", err)
		}
		if n < pruneChunk {
			break
		}
	}
	steps := []struct {
		what  string
		n     *int64
		query string
		args  []any
	}{
		{"hourly rollups", &p.HourlyRollups, pruneRollups, []any{string(Hour), cut(s.opts.HourlyRetention)}},
		{"daily rollups", &p.DailyRollups, pruneRollups, []any{string(Day), cut(s.opts.DailyRetention)}},
		{"capacity runs", &p.CapacityRuns, pruneCapacity, []any{cut(s.opts.CapacityRetention)}},
		{"notifications", &p.Notifications, pruneOutbox, []any{cut(s.opts.OutboxRetention)}},
	}
	for _, st := range steps {
		n, err := s.exec(ctx, st.query, st.args...)
		*st.n = n
		if err != nil {
			return p, fmt.Errorf("store: retention: %s: %w", st.what, err)
		}
	}
	return p, nil
}

func (s *Store) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := s.w.ExecContext(ctx, s.q.bind(query), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// startRetention runs RunRetention every RetentionInterval, the first time
// a minute after Open (or one interval, when shorter), so a short-lived
// command pays nothing and a long-lived monitor starts clean.
func (s *Store) startRetention() {
	ctx, cancel := context.WithCancel(context.Background())
	s.stopRetention = cancel
	s.retentionDone = make(chan struct{})
	if s.opts.RetentionInterval < 0 {
		close(s.retentionDone)
		return
	}
	go func() {
		defer close(s.retentionDone)
		t := time.NewTimer(min(time.Minute, s.opts.RetentionInterval))
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			start := time.Now()
			p, err := s.RunRetention(ctx, start)
			switch {
			case err != nil && ctx.Err() == nil:
				s.log.Error("store: retention failed", "db", s.name, "err", err)
			case p.total() > 0:
				s.log.Info("store: retention", "db", s.name, "results", p.Results,
					"hourly_rollups", p.HourlyRollups, "daily_rollups", p.DailyRollups,
					"capacity_runs", p.CapacityRuns, "notifications", p.Notifications,
					"took", time.Since(start).Round(time.Millisecond))
			}
			t.Reset(s.opts.RetentionInterval)
		}
	}()
}
