// Command store benchmarks forewarn's history store on SQLite on this
// machine, through its public API (store.Record, Flush, Options.OnWrite):
//
//   - throughput: results/s the batch writer sustains, raw rows and their
//     hourly and daily rollups in the same transactions, with a fleet's
//     results (http checks with phases and TLS, five-step login checks,
//     1 % failures) for a fixed time, and the write latency of each batch
//     (goal: over 20,000 results/s);
//   - disk: bytes on disk per raw result (http and login), measured on
//     200,000 of each, and per rollup row, measured on a year of hourly
//     and daily rollups of 200 checks (one result an hour each, then the
//     rows' counters set to a full hour's and day's at each interval), read
//     from SQLite's dbstat table by table and index; from them the disk
//     used per tenant-check-year at 10 s, 30 s and 60 s.
//
// Everything is written under a temporary directory, removed at the end.
//
//	go run ./bench/store -duration 60s
package main

import (
	"context"
	"flag"
	"fmt"
	"github.com/forewarn/forewarn/bench/internal/benchenv"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"sync"
	"syscall"
	"time"

	"github.com/forewarn/forewarn/store"
)

type options struct {
	dir       string
	duration  time.Duration
	tenants   int
	batch     int
	maxQueue  int
	rawRows   int
	checks    int
	days      int
	intervals []time.Duration
	profile   string
	disk      bool
}

func main() {
	var o options
	flag.StringVar(&o.dir, "dir", "", "where to put the databases (a temporary directory under it); default: the system's temporary directory")
	flag.DurationVar(&o.duration, "duration", time.Minute, "throughput: how long to record")
	flag.IntVar(&o.tenants, "tenants", 1000, "throughput: tenants of the fleet (each an http health check, every second an api check, every fifth a login check)")
	flag.IntVar(&o.batch, "batch", 0, "store BatchSize; 0: the store's default")
	flag.IntVar(&o.maxQueue, "max-queue", 20_000, "throughput: results waiting for the writer before Record pauses (keeps the writer busy, memory bounded)")
	flag.IntVar(&o.rawRows, "raw-rows", 200_000, "disk: raw results measured, of each kind")
	flag.IntVar(&o.checks, "checks", 200, "disk: tenant-checks of the raw and rollup measurements")
	flag.IntVar(&o.days, "days", 365, "disk: days of rollups")
	flag.BoolVar(&o.disk, "disk", true, "run the disk phase (-disk=false: throughput only)")
	flag.StringVar(&o.profile, "cpuprofile", "", "write a CPU profile of the throughput phase to this file")
	flag.Parse()
	o.intervals = []time.Duration{10 * time.Second, 30 * time.Second, time.Minute}
	if o.duration < 10*time.Second || o.rawRows < 1000 || o.checks < 1 || o.days < 1 {
		fmt.Fprintln(os.Stderr, "store: want duration ≥ 10s, raw-rows ≥ 1000, checks and days ≥ 1")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "store:", err)
		os.Exit(1)
	}
}

type report struct {
	began      time.Time
	dir, fs    string
	load       []string // load average at the start and after each phase
	throughput throughput
	disk       disk
}

func run(ctx context.Context, o options) error {
	dir, err := os.MkdirTemp(o.dir, "forewarn-store-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	r := &report{began: time.Now(), dir: dir, fs: fsType(dir), load: []string{benchenv.LoadAverage()}}
	fmt.Fprintf(os.Stderr, "throughput: recording for %s…\n", o.duration)
	if r.throughput, err = measureThroughput(ctx, o, filepath.Join(dir, "throughput.db")); err != nil {
		return err
	}
	r.load = append(r.load, benchenv.LoadAverage())
	if o.disk {
		if r.disk, err = measureDisk(ctx, o, dir); err != nil {
			return err
		}
		r.load = append(r.load, benchenv.LoadAverage())
	}
	r.print(o)
	return nil
}

// openStore opens a SQLite store at path with the store's defaults but
// retention off (nothing here is old enough, and its timing would be noise)
// and the hook.
func openStore(ctx context.Context, o options, path string, onWrite func(int, time.Duration, error)) (*store.Store, error) {
	return store.OpenWith(ctx, "sqlite:"+path, store.Options{
		RetentionInterval: -1, BatchSize: o.batch, OnWrite: onWrite,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
}

// batchWrite is one batch the writer committed, as OnWrite saw it.
type batchWrite struct {
	end  time.Time
	rows int
	took time.Duration
	err  error
}

type batchLog struct {
	mu      sync.Mutex
	batches []batchWrite
}

func (l *batchLog) onWrite(rows int, took time.Duration, err error) {
	l.mu.Lock()
	l.batches = append(l.batches, batchWrite{end: time.Now(), rows: rows, took: took, err: err})
	l.mu.Unlock()
}

func (l *batchLog) all() []batchWrite {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]batchWrite(nil), l.batches...)
}

// throughput is what the throughput phase found.
type throughput struct {
	targets   int
	written   uint64
	dropped   uint64
	recording time.Duration // Record calls
	paused    time.Duration // of which Record waited for the writer
	wall      time.Duration // the first Record to the end of Flush
	cpu       time.Duration // this process, user + system, over wall
	batches   []batchWrite
	simulated time.Duration // the span of the results' Start times
	dbBytes   int64
}

// measureThroughput records the fleet's results as fast as the writer
// takes them for o.duration, pausing Record while maxQueue results wait,
// then flushes. Results/s is written ÷ wall, the flush included.
func measureThroughput(ctx context.Context, o options, path string) (throughput, error) {
	var log batchLog
	s, err := openStore(ctx, o, path, log.onWrite)
	if err != nil {
		return throughput{}, err
	}
	f := newFleet(o.tenants, time.Now().Add(-24*time.Hour).Truncate(time.Hour), time.Minute)
	t := throughput{targets: len(f.targets)}
	if o.profile != "" {
		stop, err := startProfile(o.profile)
		if err != nil {
			return throughput{}, err
		}
		defer stop()
	}
	cpu0, began := cpuTime(), time.Now()
	for deadline := began.Add(o.duration); time.Now().Before(deadline) && ctx.Err() == nil; {
		for range 256 {
			s.Record(f.next())
		}
		if s.Stats().Pending > o.maxQueue {
			t0 := time.Now()
			for s.Stats().Pending > o.maxQueue && ctx.Err() == nil {
				time.Sleep(time.Millisecond)
			}
			t.paused += time.Since(t0)
		}
	}
	t.recording = time.Since(began)
	if err := s.Flush(ctx); err != nil {
		return t, err
	}
	t.wall, t.cpu = time.Since(began), cpuTime()-cpu0
	st := s.Stats()
	t.written, t.dropped, t.batches = st.Written, st.Dropped, log.all()
	t.simulated = time.Duration(f.n/len(f.targets)) * f.interval
	if err := s.Close(ctx); err != nil {
		return t, err
	}
	t.dbBytes = fileSize(path)
	return t, nil
}

// startProfile writes a CPU profile to path until the returned stop.
func startProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
