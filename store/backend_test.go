package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver for the test's own connections
)

// The store's tests are one suite run against every backend: SQLite in a
// temp dir always, Postgres when FOREWARN_TEST_POSTGRES names a server
// (`make postgres` starts one). Each test gets a fresh database: a new
// file, or a new Postgres schema dropped afterwards.

const postgresEnv = "FOREWARN_TEST_POSTGRES"

const postgresMissing = "postgres not available: run `make postgres` (installs and starts Debian's postgresql) or set " + postgresEnv

// backend makes fresh databases of one kind.
type backend struct {
	name string
	// dsn returns the DSN of a new, empty database.
	dsn func(t testing.TB) string
	// lockWrites takes the database's write lock from another connection
	// and holds it until release is called.
	lockWrites func(t testing.TB, dsn string) (release func())
}

// forEachBackend runs f as a subtest per backend.
func forEachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	t.Helper()
	for _, b := range []backend{sqliteBackend, postgresBackend} {
		t.Run(b.name, func(t *testing.T) { f(t, b) })
	}
}

var sqliteBackend = backend{
	name: "sqlite",
	dsn: func(t testing.TB) string {
		return "sqlite:" + filepath.Join(t.TempDir(), "forewarn.db")
	},
	lockWrites: func(t testing.TB, dsn string) func() {
		t.Helper()
		path := dsn[len("sqlite:"):]
		db, err := sql.Open("sqlite", sqliteURI(path, "_busy_timeout=5000"))
		if err != nil {
			t.Fatal(err)
		}
		return holdLock(t, db, "BEGIN IMMEDIATE")
	},
}

var postgresBackend = backend{
	name: "postgres",
	dsn:  postgresDSN,
	lockWrites: func(t testing.TB, dsn string) func() {
		t.Helper()
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		return holdLock(t, db, "BEGIN", "LOCK TABLE results IN ACCESS EXCLUSIVE MODE")
	},
}

// holdLock runs stmts on one connection of db and returns what commits and
// closes it.
func holdLock(t testing.TB, db *sql.DB, stmts ...string) func() {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	released := false
	release := func() {
		if released {
			return
		}
		released = true
		if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
			t.Errorf("COMMIT: %v", err)
		}
		conn.Close()
		db.Close()
	}
	t.Cleanup(release)
	return release
}

// postgresDSN returns a DSN for a fresh schema on the FOREWARN_TEST_POSTGRES
// server. Without one the test is skipped, or fails under CI=true, where
// `make ci` is expected to have started it.
func postgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(postgresEnv)
	if base == "" {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatal(postgresMissing + " (CI=true: the Postgres half of the suite must run)")
		}
		t.Skip(postgresMissing)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("%s: %v", postgresEnv, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		// Set but unreachable is a mistake worth failing on, not skipping.
		t.Fatalf("%s is set but the server does not answer: %v (run `make postgres`)", postgresEnv, err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "forewarn_test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s must be a postgres:// URL: %v", postgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// testOptions write fast and leave retention to the test.
func testOptions() Options {
	return Options{FlushInterval: 20 * time.Millisecond, RetentionInterval: -1, Logger: slog.New(slog.DiscardHandler)}
}

// openStore opens dsn and closes it when the test ends.
func openStore(t testing.TB, dsn string, opts Options) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := OpenWith(ctx, dsn, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func flush(t testing.TB, s *Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}
