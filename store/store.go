// Package store keeps forewarn's history: raw probe results, hourly and daily
// rollups, capacity runs with their curves, support cases, their events and
// the notification outbox, and small state blobs the engines keep across
// restarts.
//
// SQLite (pure Go, modernc.org/sqlite) is the default, one file at a
// configurable path; PostgreSQL (pgx/v5 through database/sql) sits behind
// the same API, chosen by the DSN. The schema is versioned with goose and
// migrated at Open.
//
// Probe results go through Record, which never blocks: a background writer
// batches them into one transaction a second (or every BatchSize results,
// or, when a backlog builds, up to 16,384 at once), updating the rollups in
// the same transaction, so a slow disk never delays a probe. Case changes are the opposite: ApplyCaseChange writes a case, its
// events and its notifications synchronously in one transaction, because the
// cases engine must know they are durable before it moves on.
//
// Times are stored as UTC unix milliseconds and durations as microseconds:
// plain integers mean the same in both databases.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// ErrNotFound is returned when a case, outbox item or state key does not exist.
var ErrNotFound = errors.New("store: not found")

// Options tune a Store. The zero value of each field means its default.
type Options struct {
	// RawRetention is how long raw results are kept (48 h).
	RawRetention time.Duration
	// HourlyRetention and DailyRetention are how long rollups are kept
	// (400 days each: 90-day bars and yearly SLA reports).
	HourlyRetention time.Duration
	DailyRetention  time.Duration
	// CapacityRetention is how long capacity runs are kept (400 days).
	CapacityRetention time.Duration
	// OutboxRetention is how long delivered and dead notifications are kept
	// (30 days). Pending ones are never deleted. Cases and their events are
	// kept for ever: they are the incident history.
	OutboxRetention time.Duration
	// RetentionInterval is how often retention runs in the background
	// (1 h); negative: never (call RunRetention yourself).
	RetentionInterval time.Duration

	// FlushInterval is the longest a recorded result waits before it is
	// written (1 s). BatchSize results write at once, sooner (500). When
	// more wait (the writer fell behind), one transaction takes them all,
	// up to 16,384, in whole batches.
	FlushInterval time.Duration
	BatchSize     int
	// BufferSize is how many results may wait for the writer (100,000:
	// over a minute and a half at 1,000 results/s). See Record.
	BufferSize int

	// OnWrite, when set, is called after each batch the writer tries, with
	// the rows it held, how long it took and its error: the hook for a
	// store write latency metric. It runs on the writer goroutine.
	OnWrite func(rows int, took time.Duration, err error)

	// Logger receives write errors and retention summaries (slog.Default()).
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	const day = 24 * time.Hour
	def(&o.RawRetention, 48*time.Hour)
	def(&o.HourlyRetention, 400*day)
	def(&o.DailyRetention, 400*day)
	def(&o.CapacityRetention, 400*day)
	def(&o.OutboxRetention, 30*day)
	def(&o.RetentionInterval, time.Hour)
	def(&o.FlushInterval, time.Second)
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	if o.BufferSize <= 0 {
		o.BufferSize = 100_000
	}
	if o.BufferSize < o.BatchSize {
		o.BufferSize = o.BatchSize
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Store is the history database. Its methods are safe for concurrent use.
type Store struct {
	dialect dialect
	q       *queries
	// w takes every write. For SQLite it holds one connection, so writes
	// queue in the process instead of fighting over the file lock; r then
	// is a separate pool of read-only connections, which WAL lets read
	// while a write is under way. For Postgres both are one pool.
	w, r *sql.DB
	name string // what error messages call the database: path or host/db
	opts Options
	log  *slog.Logger

	wr     writer
	urgent urgency // case changes and outbox marks waiting: the writer yields

	stopRetention context.CancelFunc
	retentionDone chan struct{}
	closeOnce     sync.Once
	closeErr      error
}

// Open opens (creating if need be) the database the DSN names, migrates it
// to the current schema and starts the background writer and retention:
//
//	sqlite:/var/lib/forewarn/forewarn.db   SQLite file (sqlite:// and sqlite:/// work too)
//	forewarn.db                            a plain path: SQLite
//	postgres://user:pass@127.0.0.1/forewarn  PostgreSQL (postgresql:// too)
func Open(ctx context.Context, dsn string) (*Store, error) {
	return OpenWith(ctx, dsn, Options{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, dsn string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	target, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	s := &Store{dialect: target.dialect, opts: opts, log: opts.Logger, name: target.name}
	switch target.dialect {
	case dialectSQLite:
		err = s.openSQLite(ctx, target.path)
	case dialectPostgres:
		err = s.openPostgres(ctx, target.dsn)
	}
	if err != nil {
		return nil, err
	}
	s.q = newQueries(s.dialect)
	s.wr.start(s)
	s.startRetention()
	return s, nil
}

// Close writes every result recorded so far, stops the background work and
// closes the database. If ctx ends first, the results still waiting are
// lost and the error says how many. Close is safe to call more than once;
// Record after Close drops the result and counts it in Stats().Dropped.
func (s *Store) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		s.stopRetention()
		<-s.retentionDone
		err := s.wr.close(ctx)
		if cerr := s.closeDBs(); cerr != nil && err == nil {
			err = fmt.Errorf("store: close %s: %w", s.name, cerr)
		}
		s.closeErr = err
	})
	return s.closeErr
}

func (s *Store) closeDBs() error {
	var errs []error
	if s.r != nil && s.r != s.w {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	return errors.Join(errs...)
}

// Dialect is "sqlite" or "postgres".
func (s *Store) Dialect() string { return string(s.dialect) }
