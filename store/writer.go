package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/forewarn/forewarn/probes"
)

// writer is the background batch writer behind Record.
//
// Results wait in pending, a FIFO of chunks of BatchSize results each, so
// that Record never copies what is queued (a growing slice of 272-byte
// Results did, at 1.6 KB per Record) and memory grows with the backlog
// only. The writer writes the head chunks (see take) and removes them
// only after the transaction committed, so a failed write (disk full, Postgres
// restarting) keeps every result and is retried with backoff, for as long
// as it takes. Record only appends past what the writer holds, and a chunk
// never grows past its capacity, so both can run at once.
//
// When BufferSize results wait, the incoming result is dropped and counted
// (Stats().Dropped), rather than the oldest: a full buffer means the
// database has refused writes for minutes, both choices lose as many
// results, and keeping the oldest leaves one contiguous gap where the
// outage was instead of a moving one. The buffer is large so that this
// takes a long outage; the counter is there so metrics can show it.
type writer struct {
	s *Store

	mu       sync.Mutex
	pending  [][]probes.Result // chunks, each of capacity BatchSize
	count    int               // results in pending
	closed   bool
	enqueued uint64        // results ever accepted
	written  uint64        // results committed; pending holds enqueued-written
	progress chan struct{} // closed and replaced after each committed batch
	stats    Stats

	stmts *writeStmts // prepared by the first write; closed when the writer stops

	txChunks int // chunks the next transaction may take: see take

	full   chan struct{} // pending reached BatchSize
	flush  chan struct{} // Flush or Close wants everything now
	stop   chan struct{}
	done   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
}

// Stats are the writer's counters, for metrics.
type Stats struct {
	Pending     int    // results waiting to be written
	Written     uint64 // results written
	Dropped     uint64 // results dropped: buffer full, or recorded after Close
	WriteErrors uint64 // failed batch writes (each retried)
	LastError   string // the last write error, "" once a write succeeds again
	// LastWrite is when the last batch committed and LastWriteDuration how
	// long its transaction took.
	LastWrite         time.Time
	LastWriteDuration time.Duration
}

func (w *writer) start(s *Store) {
	w.s = s
	w.progress = make(chan struct{})
	w.full = make(chan struct{}, 1)
	w.flush = make(chan struct{}, 1)
	w.stop = make(chan struct{})
	w.done = make(chan struct{})
	w.ctx, w.cancel = context.WithCancel(context.Background())
	go w.loop()
}

// Record queues a probe result for writing and returns at once: it never
// waits for the database. The result is written within FlushInterval, in a
// batch that also updates its hourly and daily rollups and, for a load
// check, stores its capacity run. If BufferSize results are already waiting
// (the database has been failing for a long while) it is dropped and
// counted in Stats().Dropped. A result without a Start is stamped with the
// time it is recorded.
func (s *Store) Record(r probes.Result) {
	if r.Start.IsZero() {
		r.Start = time.Now()
	}
	w := &s.wr
	w.mu.Lock()
	if w.closed || w.count >= s.opts.BufferSize {
		w.stats.Dropped++
		w.mu.Unlock()
		return
	}
	last := len(w.pending) - 1
	if last < 0 || len(w.pending[last]) == cap(w.pending[last]) {
		w.pending = append(w.pending, make([]probes.Result, 0, s.opts.BatchSize))
		last++
	}
	w.pending[last] = append(w.pending[last], r)
	w.enqueued++
	w.count++
	full := last > 0 || len(w.pending[last]) == s.opts.BatchSize
	w.mu.Unlock()
	if full {
		signal(w.full)
	}
}

// Flush waits until every result recorded before the call is written, or
// ctx ends.
func (s *Store) Flush(ctx context.Context) error {
	return s.wr.waitWritten(ctx, "flush")
}

// Stats returns the writer's counters.
func (s *Store) Stats() Stats {
	w := &s.wr
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.stats
	st.Pending = w.count
	st.Written = w.written
	return st
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func (w *writer) waitWritten(ctx context.Context, op string) error {
	w.mu.Lock()
	target := w.enqueued
	w.mu.Unlock()
	for {
		w.mu.Lock()
		written, progress, lastErr := w.written, w.progress, w.stats.LastError
		w.mu.Unlock()
		if written >= target {
			return nil
		}
		signal(w.flush)
		select {
		case <-progress:
		case <-w.done:
			return fmt.Errorf("store: %s: writer stopped with %d results unwritten", op, target-written)
		case <-ctx.Done():
			err := fmt.Errorf("store: %s: %d results not written yet: %w", op, target-written, ctx.Err())
			if lastErr != "" {
				err = fmt.Errorf("%w (last write error: %s)", err, lastErr)
			}
			return err
		}
	}
}

// close stops accepting results, writes what is pending (until ctx ends)
// and stops the writer.
func (w *writer) close(ctx context.Context) error {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	err := w.waitWritten(ctx, "close")
	close(w.stop)
	w.cancel() // aborts a write still blocked on a lock; it is rolled back
	<-w.done
	return err
}

// maxBackoff caps the wait between retries of a failing write.
const maxBackoff = 30 * time.Second

func (w *writer) loop() {
	defer close(w.done)
	defer w.closeStmts()
	failures := 0
	timer := time.NewTimer(w.s.opts.FlushInterval)
	defer timer.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-timer.C:
		case <-w.flush:
		case <-w.full:
			if failures > 0 {
				// A backlog is no reason to hammer a failing database;
				// the backoff timer keeps running.
				continue
			}
		}
		if w.drain() {
			failures = 0
		} else {
			failures++
		}
		wait := w.s.opts.FlushInterval
		if failures > 0 {
			wait = min(w.s.opts.FlushInterval<<min(failures, 8), maxBackoff)
		}
		timer.Reset(wait) // Go ≥ 1.23: no stale tick survives a Reset
	}
}

// drain writes batches until nothing is pending; false if one failed.
func (w *writer) drain() bool {
	for {
		batch, n := w.take()
		if n == 0 {
			return true
		}
		start := time.Now()
		began := start
		err := w.write(batch, &began)
		took := time.Since(start)
		if w.s.opts.OnWrite != nil {
			w.s.opts.OnWrite(n, took, err)
		}
		if err != nil {
			w.failed(err)
			// Should its size be the cause (a statement timeout, say),
			// the retry is smaller.
			w.txChunks = max(1, min(w.txChunks, len(batch))/2)
			return false
		}
		w.committed(batch, n, took)
		w.resize(len(batch), time.Since(began))
	}
}

// txTarget is how long a transaction of results should take: the single
// SQLite write connection is held that long, and a case change waits for
// it; a transaction cut off by Close's deadline rolls back about that much.
const txTarget = 250 * time.Millisecond

// resize sets how many chunks the next transaction may take from how long
// a full one took, from its BEGIN (waiting for the connection is not its
// cost): twice as many while quick, half as many when slow. On a fast disk
// it grows to maxTxResults under a backlog; on a slow one it stays small.
// A transaction smaller than allowed (nothing more waited, or a case
// change did) says nothing about the size.
func (w *writer) resize(chunks int, took time.Duration) {
	if chunks < w.txChunks {
		return
	}
	switch {
	case took > txTarget:
		w.txChunks = max(1, w.txChunks/2)
	case took < txTarget/2:
		w.txChunks = min(2*max(1, w.txChunks), w.maxTxChunks())
	}
}

// write writes batch in one transaction, preparing the writer's statements
// first if need be: outside any transaction, because SQLite's write pool
// has one connection, which the transaction would hold.
func (w *writer) write(batch [][]probes.Result, began *time.Time) error {
	if w.stmts == nil {
		st, err := w.s.prepareWrites(w.ctx)
		if err != nil {
			return err
		}
		w.stmts = st
	}
	return w.s.writeBatch(w.ctx, w.stmts, batch, began)
}

func (w *writer) closeStmts() {
	if w.stmts != nil {
		w.stmts.close()
		w.stmts = nil
	}
}

// take returns the chunks the next transaction writes and how many results
// they hold: every chunk waiting, up to txChunks (one while case changes
// are being written). Under a backlog a
// transaction thus carries many chunks, and what it costs per transaction
// rather than per result (the commit's fsync, the rewrite of each index
// page it touches, one rollup upsert per series and period) is shared by
// more results: that is what keeps the writer ahead of a busy fleet. At
// a steady trickle it is one chunk a FlushInterval, as before.
//
// Each chunk is cut at its current length (capacity too), so Record's
// appends meanwhile go past what the transaction holds.
func (w *writer) take() ([][]probes.Result, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.count == 0 {
		return nil, 0
	}
	if w.txChunks == 0 {
		w.txChunks = w.maxTxChunks() // until a transaction proves slow
	}
	k := min(len(w.pending), w.txChunks)
	if w.s.dialect == dialectSQLite && w.s.urgent.active() {
		k = 1 // a case change is waiting for the one connection: be quick
	}
	batch := make([][]probes.Result, k)
	n := 0
	for i, c := range w.pending[:k] {
		batch[i] = c[:len(c):len(c)]
		n += len(c)
	}
	return batch, n
}

// maxTxResults bounds the results of one transaction. On bench/store
// (1,700 checks, 2 cores) transactions of 500 results wrote 28,000 a
// second and transactions of about 10,000 (the bench's backlog) 65,000:
// a transaction rewrites a results-index page and two rollup rows for
// each check it holds results of, however many it holds of each. The
// bound keeps the single SQLite write connection from being held for
// long: a case change waits for it, a few tenths of a second behind a
// transaction of this size, and a failed write retries no more than this
// at once.
const maxTxResults = 16_384

func (w *writer) maxTxChunks() int {
	return max(1, maxTxResults/w.s.opts.BatchSize)
}

// failed records a failed write; its results stay pending.
func (w *writer) failed(err error) {
	w.mu.Lock()
	first := w.stats.LastError == ""
	w.stats.WriteErrors++
	w.stats.LastError = err.Error()
	pending, errs := w.count, w.stats.WriteErrors
	w.mu.Unlock()
	if first || errs%60 == 0 {
		w.s.log.Error("store: writing results failed; keeping them and retrying",
			"db", w.s.name, "pending", pending, "err", err)
	}
}

// committed removes a written batch (from take) from pending.
func (w *writer) committed(batch [][]probes.Result, n int, took time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stats.LastError != "" {
		w.s.log.Info("store: writing results works again", "db", w.s.name)
	}
	for i, c := range batch {
		clear(c) // let the GC have the results' slices
		// Record may have appended to the last chunk meanwhile: keep that.
		w.pending[i] = w.pending[i][len(c):]
	}
	// Drop the emptied chunks; the last one stays while it has room.
	k := 0
	for k < len(w.pending) && len(w.pending[k]) == 0 && (k < len(w.pending)-1 || cap(w.pending[k]) == 0) {
		w.pending[k] = nil
		k++
	}
	w.pending = w.pending[k:]
	w.count -= n
	w.written += uint64(n)
	w.stats.LastError = ""
	w.stats.LastWrite = time.Now()
	w.stats.LastWriteDuration = took
	close(w.progress)
	w.progress = make(chan struct{})
}

// urgency counts the writes that must not wait behind a large transaction
// of results (case changes, outbox marks), and keeps the writer's
// transactions small for a second after the last one: the cases loop
// writes its changes one after another, and each would otherwise wait for
// a full transaction taken in the gap between two.
type urgency struct {
	n    atomic.Int64
	last atomic.Int64 // unix nanoseconds when the last one ended
}

// urgentLinger is how long after an urgent write transactions stay small.
const urgentLinger = time.Second

func (u *urgency) begin() func() {
	u.n.Add(1)
	return func() {
		u.last.Store(time.Now().UnixNano())
		u.n.Add(-1)
	}
}

func (u *urgency) active() bool {
	return u.n.Load() > 0 || time.Now().UnixNano()-u.last.Load() < int64(urgentLinger)
}
