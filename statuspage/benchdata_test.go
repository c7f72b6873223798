package statuspage

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/forewarn/forewarn/internal/benchfleet"
	"github.com/forewarn/forewarn/store"
)

// benchStore opens the benchmark's SQLite store, filling it first (see
// benchfleet.Fleet.Fill) unless FOREWARN_STATUSPAGE_BENCH_DB names a file
// that a previous run filled (the marker file next to it says so): filling
// 10,000 tenants × 90 days through Record takes a few minutes.
func benchStore(tb testing.TB, f benchfleet.Fleet) *store.Store {
	tb.Helper()
	ctx := context.Background()
	path := os.Getenv("FOREWARN_STATUSPAGE_BENCH_DB")
	if path == "" {
		path = filepath.Join(tb.TempDir(), "bench.db")
	}
	if _, err := f.Prepare(ctx, path, tb.Logf); err != nil {
		tb.Fatal(err)
	}
	s, err := store.OpenWith(ctx, "sqlite:"+path, benchfleet.StoreOptions())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close(context.Background()) })
	return s
}
