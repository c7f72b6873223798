package store

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"
)

// BenchmarkRecord measures results/s through the batch writer: b.N Records
// over 1,000 targets, then Flush, with the default batch size. results/s
// is the sustained write rate, rows, rollups and commits included.
func BenchmarkRecord(b *testing.B) {
	for _, be := range []backend{sqliteBackend, postgresBackend} {
		b.Run(be.name, func(b *testing.B) {
			s := openBench(b, be.dsn(b))
			const targets = 1000
			tenants := make([]string, targets)
			for i := range tenants {
				tenants[i] = fmt.Sprintf("tenant-%04d", i)
			}
			start := time.Now()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				s.Record(httpResult(tenants[i%targets], "health", start.Add(time.Duration(i)*time.Millisecond),
					ms(20+i%200), i%50 != 0))
			}
			if err := s.Flush(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if st := s.Stats(); st.Dropped != 0 || st.Written != uint64(b.N) {
				b.Fatalf("stats %+v", st)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "results/s")
		})
	}
}

// BenchmarkRecordCall is what a probe pays: the enqueue alone, measured
// with the database locked so the writer does not compete for the CPU.
func BenchmarkRecordCall(b *testing.B) {
	dsn := sqliteBackend.dsn(b)
	s := openBench(b, dsn)
	release := sqliteBackend.lockWrites(b, dsn)
	defer release()
	r := httpResult("acme", "health", time.Now(), ms(20), true)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		s.Record(r)
	}
}

func openBench(b *testing.B, dsn string) *Store {
	s, err := OpenWith(context.Background(), dsn, Options{
		RetentionInterval: -1, BufferSize: max(b.N, 1), Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close(context.Background()) })
	return s
}
