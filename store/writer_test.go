package store

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forewarn/forewarn/probes"
)

var t0 = time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)

func httpResult(tenant, check string, start time.Time, d time.Duration, ok bool) probes.Result {
	r := probes.Result{
		Tenant: tenant, Check: check, Kind: probes.KindHTTP, Start: start, Duration: d, Success: ok,
		StatusCode: 200,
		Phases:     probes.Phases{Resolve: time.Millisecond, Connect: 2 * time.Millisecond, Processing: d / 2},
	}
	if !ok {
		r.StatusCode, r.Reason, r.Message = 503, probes.ReasonStatus, "status 503, want 200"
	}
	return r
}

func TestRecordBatches(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		opts := testOptions()
		opts.BatchSize = 100
		s := openStore(t, b.dsn(t), opts)
		const n = 2345
		targets := []string{"health", "sign-in", "api"}
		for i := range n {
			s.Record(httpResult("acme", targets[i%3], t0.Add(time.Duration(i)*time.Second), 40*time.Millisecond, i%10 != 0))
		}
		flush(t, s)
		st := s.Stats()
		if st.Written != n || st.Pending != 0 || st.Dropped != 0 || st.WriteErrors != 0 {
			t.Fatalf("stats = %+v, want %d written and nothing pending, dropped or failed", st, n)
		}
		total := 0
		for _, c := range targets {
			got, err := s.Results(context.Background(), "acme", c, t0, t0.Add(time.Hour), 10_000)
			if err != nil {
				t.Fatal(err)
			}
			total += len(got)
			if len(got) > 1 && !got[0].Start.After(got[1].Start) {
				t.Errorf("%s: results not newest first: %v, %v", c, got[0].Start, got[1].Start)
			}
		}
		if total != n {
			t.Errorf("stored %d results, want %d", total, n)
		}
		// Hour rollups agree with what went in.
		var runs, ok int64
		for _, c := range targets {
			h, err := s.HourlyRollups(context.Background(), "acme", c, t0, t0.Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range h {
				runs, ok = runs+r.Runs, ok+r.Successes
			}
		}
		if runs != n || ok != n-(n+9)/10 {
			t.Errorf("rollups: %d runs, %d successes; want %d, %d", runs, ok, n, n-(n+9)/10)
		}
	})
}

// A result comes back as it went in, less what history does not keep; text
// neither database can hold (NUL, invalid UTF-8) is cleaned, not a reason
// to fail the batch and with it every result around it.
func TestResultRoundTrip(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := openStore(t, b.dsn(t), testOptions())
		expiry := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
		in := probes.Result{
			Tenant: "acme", Check: "sign-in", Kind: probes.KindLogin,
			Start: t0.Add(1500 * time.Microsecond), Duration: 1234567 * time.Microsecond,
			Success: false, Reason: probes.ReasonAssertion, Message: "body lacks \"ok\"\x00 \xff\xfe tail",
			StatusCode: 401, Redirects: 2, BodyBytes: 512, TLS: true, CertExpiry: expiry,
			Phases: probes.Phases{Resolve: 1 * time.Millisecond, Connect: 2 * time.Millisecond, TLS: 3 * time.Millisecond,
				Processing: 4 * time.Millisecond, Transfer: 5 * time.Millisecond},
			Steps: []probes.StepResult{
				{Name: "session", Ran: true, Success: true, StatusCode: 200, Duration: 300 * time.Millisecond,
					Extracted: []probes.Extracted{{Var: "token", Value: "<secret>"}}},
				{Name: "me", Ran: true, Reason: probes.ReasonStatus, Message: "status 401", StatusCode: 401},
				{Name: "logout"},
			},
			StepsCompleted: 1,
		}
		s.Record(in)
		s.Record(httpResult("acme", "sign-in", t0.Add(time.Minute), time.Second, true))
		flush(t, s)
		got, err := s.Results(context.Background(), "acme", "sign-in", t0, t0.Add(time.Hour), 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("got %d results, want 2", len(got))
		}
		want := ResultRecord{
			Tenant: "acme", Check: "sign-in", Kind: probes.KindLogin,
			Start: t0.Add(time.Millisecond), Duration: 1234567 * time.Microsecond,
			Reason: probes.ReasonAssertion, Message: "body lacks \"ok\" \uFFFD tail",
			StatusCode: 401, TLS: true, CertExpiry: expiry, Phases: in.Phases, Redirects: 2, BodyBytes: 512,
			Steps: []StepRecord{
				{Name: "session", Ran: true, Success: true, StatusCode: 200, Duration: 300 * time.Millisecond},
				{Name: "me", Ran: true, Reason: probes.ReasonStatus, Message: "status 401", StatusCode: 401},
				{Name: "logout"},
			},
			StepsCompleted: 1,
		}
		if !reflect.DeepEqual(got[1], want) {
			t.Errorf("stored result\n got %+v\nwant %+v", got[1], want)
		}
		if got[0].TLS || !got[0].CertExpiry.IsZero() || got[0].Steps != nil {
			t.Errorf("plain HTTP result came back with TLS or steps: %+v", got[0])
		}
	})
}

// Record returns at once while another connection holds the write lock;
// everything is written once it is released.
func TestRecordDoesNotWaitForALockedDatabase(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		dsn := b.dsn(t)
		s := openStore(t, dsn, testOptions())
		release := b.lockWrites(t, dsn)

		const n = 5000
		var slowest time.Duration
		start := time.Now()
		for i := range n {
			t1 := time.Now()
			s.Record(httpResult("acme", "health", t0.Add(time.Duration(i)*time.Second), time.Millisecond, true))
			slowest = max(slowest, time.Since(t1))
		}
		took := time.Since(start)
		time.Sleep(200 * time.Millisecond) // the writer tries, and waits on the lock
		st := s.Stats()
		if st.Written != 0 {
			t.Fatalf("%d results written while the database was locked: the lock did not hold", st.Written)
		}
		if took > time.Second || slowest > 100*time.Millisecond {
			t.Errorf("%d Records took %v (slowest %v) with the database locked: Record waited", n, took, slowest)
		}
		t.Logf("%d Records with the database locked: %v, slowest %v", n, took, slowest)

		release()
		flush(t, s)
		got, err := s.Results(context.Background(), "acme", "health", t0, t0.Add(2*time.Hour), n+1)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n {
			t.Errorf("after the lock: %d results stored, want %d", len(got), n)
		}
	})
}

// With the buffer full, new results are dropped and counted, and what was
// buffered is still written.
func TestFullBufferDropsAndCounts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		dsn := b.dsn(t)
		opts := testOptions()
		opts.BatchSize, opts.BufferSize = 10, 10
		s := openStore(t, dsn, opts)
		release := b.lockWrites(t, dsn)
		for i := range 25 {
			s.Record(httpResult("acme", "health", t0.Add(time.Duration(i)*time.Second), time.Millisecond, true))
		}
		if st := s.Stats(); st.Dropped != 15 || st.Pending != 10 {
			t.Errorf("stats = %+v, want 15 dropped, 10 pending", st)
		}
		release()
		flush(t, s)
		if st := s.Stats(); st.Written != 10 {
			t.Errorf("stats = %+v, want 10 written", st)
		}
	})
}

// Close writes what is pending; a reopened store has it all and migrating
// again changes nothing.
func TestReopen(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		dsn := b.dsn(t)
		s, err := OpenWith(ctx, dsn, testOptions())
		if err != nil {
			t.Fatal(err)
		}
		for i := range 50 {
			s.Record(httpResult("acme", "health", t0.Add(time.Duration(i)*time.Second), time.Millisecond, true))
		}
		if err := s.ApplyCaseChange(ctx, CaseRecord{ID: "c1", Tenant: "acme", Kind: "outage", State: "open",
			OpenedAt: t0, Seq: 1}, []EventRecord{{Seq: 1, Type: "opened", Time: t0}},
			[]OutboxItem{{Notifier: "slack"}}); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveState(ctx, "engine", []byte("state-1")); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(ctx); err != nil { // no Flush: Close drains
			t.Fatal(err)
		}
		if err := s.Close(ctx); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		s.Record(httpResult("acme", "health", t0, time.Millisecond, true))
		if st := s.Stats(); st.Dropped != 1 {
			t.Errorf("Record after Close: stats %+v, want it dropped and counted", st)
		}

		s = openStore(t, dsn, testOptions())
		v, err := s.SchemaVersion(ctx)
		if err != nil || v != 1 {
			t.Errorf("schema version = %d, %v; want 1", v, err)
		}
		got, err := s.Results(ctx, "acme", "health", t0, t0.Add(time.Hour), 0)
		if err != nil || len(got) != 50 {
			t.Errorf("after reopen: %d results, %v; want 50", len(got), err)
		}
		if c, err := s.Case(ctx, "c1"); err != nil || c.State != "open" {
			t.Errorf("after reopen: case %+v, %v", c, err)
		}
		if due, err := s.DueNotifications(ctx, "slack", t0.Add(time.Minute), 0); err != nil || len(due) != 1 {
			t.Errorf("after reopen: %d due notifications, %v; want 1", len(due), err)
		}
		if st, err := s.LoadState(ctx, "engine"); err != nil || string(st) != "state-1" {
			t.Errorf("after reopen: state %q, %v", st, err)
		}
	})
}

// Flush and Close give up when their context ends while the database
// refuses writes, and say how much is unwritten.
func TestFlushGivesUpWithContext(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		dsn := b.dsn(t)
		s := openStore(t, dsn, testOptions())
		release := b.lockWrites(t, dsn)
		s.Record(httpResult("acme", "health", t0, time.Millisecond, true))
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		err := s.Flush(ctx)
		if err == nil || !strings.Contains(err.Error(), "1 results not written yet") {
			t.Errorf("Flush with the database locked: %v, want it to give up with a count", err)
		}
		release()
		flush(t, s)
	})
}

// A failing write keeps its results and is retried with backoff, also while
// new results keep arriving, until it succeeds: nothing is lost.
func TestFailedWritesAreRetried(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		opts := testOptions()
		opts.BatchSize = 5
		var failed atomic.Int64
		opts.OnWrite = func(rows int, took time.Duration, err error) {
			if err != nil {
				failed.Add(1)
			}
		}
		s := openStore(t, b.dsn(t), opts)
		restore := failInserts(t, s, "results")
		n := 0
		record := func() {
			s.Record(httpResult("acme", "health", t0.Add(time.Duration(n)*time.Second), time.Millisecond, true))
			n++
		}
		// Keep recording (more than a batch waits, so every Record signals
		// the writer) until the writer has failed and retried twice.
		deadline := time.Now().Add(10 * time.Second)
		for s.Stats().WriteErrors < 3 {
			if time.Now().After(deadline) {
				t.Fatalf("writer did not retry: stats %+v", s.Stats())
			}
			record()
			time.Sleep(5 * time.Millisecond)
		}
		st := s.Stats()
		if st.Written != 0 || st.Pending != n || !strings.Contains(st.LastError, "results refuses") {
			t.Errorf("while failing: stats %+v, want all %d pending and the error", st, n)
		}
		if failed.Load() < 3 {
			t.Errorf("OnWrite saw %d failures, want ≥ 3", failed.Load())
		}
		restore()
		flush(t, s)
		if st := s.Stats(); st.Written != uint64(n) || st.LastError != "" || st.Dropped != 0 {
			t.Errorf("after recovery: stats %+v, want %d written", st, n)
		}
		got, err := s.Results(context.Background(), "acme", "health", t0, t0.Add(time.Hour), 0)
		if err != nil || len(got) != n {
			t.Errorf("stored %d results, %v; want %d", len(got), err, n)
		}
	})
}

// Under a backlog one transaction writes many batches at once; row counts
// that are no power of two, past the statements' largest size, come out
// whole, results and rollups alike.
func TestBacklogWritesLargeTransactions(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		dsn := b.dsn(t)
		opts := testOptions()
		opts.BatchSize = 7
		var largest atomic.Int64
		opts.OnWrite = func(rows int, took time.Duration, err error) {
			if err == nil && int64(rows) > largest.Load() {
				largest.Store(int64(rows))
			}
		}
		s := openStore(t, dsn, opts)
		release := b.lockWrites(t, dsn)
		const targets, rounds = 300, 3 // 900 results; 600 hourly and 300 daily rollups
		for round := range rounds {
			for i := range targets {
				start := t0.Add(time.Duration(round) * 40 * time.Minute).Add(time.Duration(i) * time.Millisecond)
				s.Record(httpResult(fmt.Sprintf("tenant-%03d", i), "health", start, ms(10+i), i%4 != 0))
			}
		}
		release()
		flush(t, s)
		if st := s.Stats(); st.Written != targets*rounds || st.WriteErrors != 0 {
			t.Fatalf("stats = %+v, want %d written", st, targets*rounds)
		}
		if got := largest.Load(); got < targets*rounds/2 {
			t.Errorf("largest transaction: %d results, want most of the %d waiting", got, targets*rounds)
		}
		got, err := s.Results(ctx, "tenant-299", "health", t0, t0.Add(3*time.Hour), 0)
		if err != nil || len(got) != rounds {
			t.Errorf("tenant-299: %d results, %v; want %d", len(got), err, rounds)
		}
		for _, c := range []struct {
			p          Period
			rows, runs int64
		}{{Hour, 2 * targets, targets * rounds}, {Day, targets, targets * rounds}} {
			series, err := s.SeriesRollups(ctx, c.p, Selector{}, t0, t0.Add(3*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			var runs, ok int64
			for _, r := range series {
				runs, ok = runs+r.Runs, ok+r.Successes
			}
			if int64(len(series)) != c.rows || runs != c.runs || ok != c.runs*3/4 {
				t.Errorf("%s rollups: %d rows, %d runs, %d successes; want %d, %d, %d",
					c.p, len(series), runs, ok, c.rows, c.runs, c.runs*3/4)
			}
		}
	})
}

// Records racing the writer, which takes chunks that Record may still be
// appending to, lose nothing and write nothing twice.
func TestRecordWhileWriting(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		opts := testOptions()
		opts.BatchSize, opts.FlushInterval = 3, time.Millisecond
		s := openStore(t, b.dsn(t), opts)
		const writers, each = 4, 1500
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					s.Record(httpResult(fmt.Sprintf("tenant-%d", w), "health", t0.Add(time.Duration(i)*time.Second), ms(5), true))
				}
			})
		}
		wg.Wait()
		flush(t, s)
		if st := s.Stats(); st.Written != writers*each || st.Pending != 0 || st.Dropped != 0 {
			t.Fatalf("stats = %+v, want %d written", st, writers*each)
		}
		for w := range writers {
			got, err := s.Results(context.Background(), fmt.Sprintf("tenant-%d", w), "health", t0, t0.Add(time.Hour), 2*each)
			if err != nil || len(got) != each {
				t.Errorf("tenant-%d: %d results, %v; want %d", w, len(got), err, each)
			}
		}
	})
}

// TestTransactionSize: a transaction slower than txTarget halves the next
// one's chunks, a full and quick one doubles them (up to maxTxResults),
// and while a case change is written, or was a moment ago, one chunk is
// all a transaction takes.
func TestTransactionSize(t *testing.T) {
	s := &Store{dialect: dialectSQLite, opts: Options{BatchSize: 500}}
	w := &writer{s: s}
	most := w.maxTxChunks()
	w.txChunks = most
	w.resize(most, 2*txTarget)
	if w.txChunks != most/2 {
		t.Errorf("after a slow transaction of %d chunks: %d, want %d", most, w.txChunks, most/2)
	}
	w.resize(1, time.Millisecond) // a quick trickle says nothing about big ones
	if w.txChunks != most/2 {
		t.Errorf("after a quick transaction of one chunk: %d, want %d", w.txChunks, most/2)
	}
	w.resize(most/2, txTarget/4)
	if w.txChunks != most {
		t.Errorf("after a quick full transaction: %d, want %d", w.txChunks, most)
	}
	w.resize(most, txTarget/4)
	if w.txChunks != most {
		t.Errorf("grew past maxTxResults: %d chunks of %d", w.txChunks, s.opts.BatchSize)
	}
	w.resize(1, 10*txTarget) // a one-chunk transaction slow behind a case change
	if w.txChunks != most {
		t.Errorf("a slow transaction smaller than allowed shrank the size to %d chunks", w.txChunks)
	}
	for range 20 {
		w.resize(w.txChunks, 10*txTarget)
	}
	if w.txChunks != 1 {
		t.Errorf("after slow transactions: %d chunks, want 1", w.txChunks)
	}

	w.txChunks = most
	for range 5 {
		w.pending = append(w.pending, make([]probes.Result, 500))
		w.count += 500
	}
	if batch, n := w.take(); len(batch) != 5 || n != 2500 {
		t.Errorf("take: %d chunks, %d results; want all 5 waiting", len(batch), n)
	}
	end := s.urgent.begin()
	if batch, _ := w.take(); len(batch) != 1 {
		t.Errorf("take during a case change: %d chunks, want 1", len(batch))
	}
	end()
	if batch, _ := w.take(); len(batch) != 1 {
		t.Errorf("take just after a case change: %d chunks, want 1", len(batch))
	}
	s.urgent.last.Store(time.Now().Add(-2 * urgentLinger).UnixNano())
	if batch, _ := w.take(); len(batch) != 5 {
		t.Errorf("take long after a case change: %d chunks, want 5", len(batch))
	}
}
