package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite" // registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"
)

// migrations holds one directory of goose SQL files per dialect. The two
// schemas differ only in types (schema_test.go checks it).
//
//go:embed migrations
var migrations embed.FS

// versionTable is goose's bookkeeping table, named for forewarn so that a
// Postgres database shared with other goose users does not mix versions.
const versionTable = "forewarn_schema_version"

type dialect string

const (
	dialectSQLite   dialect = "sqlite"
	dialectPostgres dialect = "postgres"
)

type dsnTarget struct {
	dialect dialect
	path    string // sqlite
	dsn     string // postgres
	name    string // for messages: never holds a password
}

// parseDSN picks the database a DSN names. Anything that is not a URL with
// a scheme is a SQLite path.
func parseDSN(dsn string) (dsnTarget, error) {
	dsn = strings.TrimSpace(dsn)
	lower := strings.ToLower(dsn)
	switch {
	case dsn == "":
		return dsnTarget{}, errors.New("store: empty DSN: give a SQLite path (sqlite:forewarn.db) or a postgres:// URL")
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		return dsnTarget{dialect: dialectPostgres, dsn: dsn, name: postgresName(dsn)}, nil
	case strings.HasPrefix(lower, "sqlite:"):
		path := dsn[len("sqlite:"):]
		// sqlite:///abs/path and sqlite://rel/path, as URL-minded users write them.
		if strings.HasPrefix(path, "//") {
			path = path[2:]
		}
		return sqliteTarget(path)
	case strings.Contains(dsn, "://"):
		scheme, _, _ := strings.Cut(dsn, "://")
		return dsnTarget{}, fmt.Errorf("store: unsupported DSN scheme %q: use sqlite:PATH, a file path, or postgres://user:password@host/database", scheme)
	}
	return sqliteTarget(dsn)
}

func sqliteTarget(path string) (dsnTarget, error) {
	if path == "" {
		return dsnTarget{}, errors.New("store: sqlite DSN without a path: write sqlite:path/to/forewarn.db")
	}
	if path == ":memory:" || strings.Contains(path, "mode=memory") {
		return dsnTarget{}, errors.New("store: an in-memory SQLite database is not supported: history must outlive the process; give a file path")
	}
	return dsnTarget{dialect: dialectSQLite, path: path, name: path}, nil
}

// postgresName is host:port/database for messages, without user info.
func postgresName(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres"
	}
	return u.Host + u.Path
}

// sqliteURI builds the modernc.org/sqlite DSN for path. The file: form with
// %-escapes keeps a '?' or '#' in a path from being read as parameters.
func sqliteURI(path string, params string) string {
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	return "file:" + esc + "?" + params
}

// busyTimeoutMS is how long a SQLite write waits for a lock another process
// holds (the CLI reading, a backup) before it fails and is retried later.
const busyTimeoutMS = 5000

// sqliteHint says what to do about an error opening path.
func sqliteHint(err error) string {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff { // the primary result code
		case sqlite3.SQLITE_NOTADB:
			return "it is not a SQLite database: check the path"
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return "another process holds it locked"
		case sqlite3.SQLITE_FULL:
			return "the disk is full"
		}
	}
	return "check the directory exists and is writable"
}

// writePragmas tune the write connection for the batch writer's large
// transactions:
//
//   - cache_size: 32 MiB of page cache (SQLite's default is 2 MiB). A
//     transaction of thousands of results dirties a leaf page of the
//     results index per check and the rollup rows of every check; with
//     the default cache those pages spilled to the WAL mid-transaction and
//     were read back. The cache is filled as pages are used, so a small
//     database uses little of it.
//   - temp_store=MEMORY: the statement journal, SQLite's undo log for one
//     multi-row INSERT inside a transaction, is kept in memory instead of a
//     temporary file it writes every touched page to (a fifth of the
//     writer's time). It holds one statement's pages, a few hundred.
//     The read connections keep the default: their sorts may be large.
//   - wal_autocheckpoint: copy the WAL back into the database every 10,000
//     pages (about 40 MiB) rather than every 1,000. A large transaction
//     alone passes 1,000 pages, so each commit checkpointed; the index
//     pages every transaction touches are now copied once per several.
//     The WAL file grows to that plus one transaction (about 60 MiB under a
//     backlog) and stays so; readers find pages in it through the WAL
//     index, as before.
const writePragmas = "&_pragma=cache_size(-32768)&_pragma=temp_store(MEMORY)&_pragma=wal_autocheckpoint(10000)"

func (s *Store) openSQLite(ctx context.Context, path string) error {
	hint := "check the directory exists and is writable"
	if dir := filepath.Dir(path); dir != "" {
		if fi, err := os.Stat(dir); err != nil {
			return fmt.Errorf("store: open sqlite %s: directory %s: %w — create it or choose another path", path, dir, err)
		} else if !fi.IsDir() {
			return fmt.Errorf("store: open sqlite %s: %s is not a directory — %s", path, dir, hint)
		}
	}
	// synchronous=FULL: a commit survives power loss, not only a crash of
	// the process. The outbox promise ("a crash loses nothing") rests on
	// it. It stays FULL for the results too: the writer's transactions grow
	// with its backlog (see writer.take), so a busy store commits a few
	// times a second and the fsync is a few per cent of its time, not worth
	// a weaker promise (bench/store).
	// _txlock=immediate takes the write lock at BEGIN, so a transaction
	// never fails half-way when another process writes.
	common := "_busy_timeout=" + strconv.Itoa(busyTimeoutMS) + "&_foreign_keys=1&_error_rc=1"
	w, err := sql.Open("sqlite", sqliteURI(path, common+"&_journal_mode=WAL&_synchronous=FULL&_txlock=immediate"+writePragmas))
	if err != nil {
		return fmt.Errorf("store: open sqlite %s: %w — %s", path, err, hint)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return fmt.Errorf("store: open sqlite %s: %w — %s", path, err, sqliteHint(err))
	}
	if err := migrate(ctx, dialectSQLite, w); err != nil {
		w.Close()
		return fmt.Errorf("store: migrate sqlite %s: %w — %s", path, err, sqliteHint(err))
	}
	r, err := sql.Open("sqlite", sqliteURI(path, common+"&_query_only=1"))
	if err == nil {
		err = r.PingContext(ctx)
	}
	if err != nil {
		w.Close()
		return fmt.Errorf("store: open sqlite %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	s.w, s.r = w, r
	return nil
}

func (s *Store) openPostgres(ctx context.Context, dsn string) error {
	cfg, err := pgx.ParseConfig(dsn) // its errors redact the password
	if err != nil {
		return fmt.Errorf("store: postgres DSN: %w", err)
	}
	name := net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))) + "/" + cfg.Database
	s.name = name
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(4)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return fmt.Errorf("store: open postgres %s as %s: %w — check the server is running and the DSN's host, port, user, password and database",
			name, cfg.User, err)
	}
	if err := migrate(ctx, dialectPostgres, db); err != nil {
		db.Close()
		return fmt.Errorf("store: migrate postgres %s: %w", name, err)
	}
	s.w, s.r = db, db
	return nil
}

// migrate brings the schema up to date. Goose records each applied version,
// so a reopen applies only what is new. On Postgres a session advisory lock
// keeps instances starting together from migrating at once.
func migrate(ctx context.Context, d dialect, db *sql.DB) error {
	dir, err := fs.Sub(migrations, "migrations/"+string(d))
	if err != nil {
		return err
	}
	opts := []goose.ProviderOption{goose.WithTableName(versionTable), goose.WithDisableGlobalRegistry(true)}
	gd := goose.DialectSQLite3
	if d == dialectPostgres {
		gd = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(gd, db, dir, opts...)
	if err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}

// SchemaVersion is the schema version the database is at.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.r.QueryRowContext(ctx, "SELECT MAX(version_id) FROM "+versionTable).Scan(&v)
	return v, err
}
