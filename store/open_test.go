package store

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseDSN(t *testing.T) {
	for _, c := range []struct {
		dsn     string
		dialect dialect
		path    string
		err     string
	}{
		{dsn: "forewarn.db", dialect: dialectSQLite, path: "forewarn.db"},
		{dsn: "/var/lib/forewarn/forewarn.db", dialect: dialectSQLite, path: "/var/lib/forewarn/forewarn.db"},
		{dsn: "sqlite:data/forewarn.db", dialect: dialectSQLite, path: "data/forewarn.db"},
		{dsn: "sqlite:///var/lib/f.db", dialect: dialectSQLite, path: "/var/lib/f.db"},
		{dsn: "SQLITE://rel.db", dialect: dialectSQLite, path: "rel.db"},
		{dsn: "postgres://u:p@127.0.0.1/forewarn", dialect: dialectPostgres},
		{dsn: "postgresql://127.0.0.1:5433/forewarn?sslmode=disable", dialect: dialectPostgres},
		{dsn: "", err: "store: empty DSN"},
		{dsn: "sqlite:", err: "without a path"},
		{dsn: ":memory:", err: "in-memory"},
		{dsn: "mysql://root@127.0.0.1/forewarn", err: `unsupported DSN scheme "mysql"`},
	} {
		got, err := parseDSN(c.dsn)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("parseDSN(%q) = %+v, %v; want error containing %q", c.dsn, got, err, c.err)
			}
			continue
		}
		if err != nil || got.dialect != c.dialect || got.path != c.path {
			t.Errorf("parseDSN(%q) = %+v, %v; want %s %q", c.dsn, got, err, c.dialect, c.path)
		}
	}
}

// Open fails with a message that says what to fix, and never shows a
// password.
func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	notDB := filepath.Join(dir, "checks.yaml")
	if err := os.WriteFile(notDB, []byte("tenants: []\n"+strings.Repeat("x", 5000)), 0o644); err != nil {
		t.Fatal(err)
	}
	readOnly := filepath.Join(dir, "ro")
	if err := os.Mkdir(readOnly, 0o555); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, dsn string
		want      []string
	}{
		{"missing directory", "sqlite:" + filepath.Join(dir, "nope", "forewarn.db"),
			[]string{"store: open sqlite", "nope", "create it or choose another path"}},
		{"not a database", notDB,
			[]string{"store: open sqlite", "checks.yaml", "not a SQLite database: check the path"}},
		{"bad scheme", "mysql://root:hunter2@127.0.0.1/x", []string{"unsupported DSN scheme", "postgres://"}},
		{"postgres refused", "postgres://forewarn:hunter2@127.0.0.1:1/forewarn?connect_timeout=5",
			[]string{"store: open postgres 127.0.0.1:1/forewarn as forewarn", "check the server is running"}},
		{"postgres bad DSN", "postgres://forewarn:hunter2@127.0.0.1:99999/forewarn",
			[]string{"store: postgres DSN"}},
	}
	if os.Geteuid() != 0 { // root writes anywhere
		cases = append(cases, struct {
			name, dsn string
			want      []string
		}{"read-only directory", filepath.Join(readOnly, "forewarn.db"),
			[]string{"store: open sqlite", "check the directory exists and is writable"}})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s, err := OpenWith(ctx, c.dsn, testOptions())
			if err == nil {
				s.Close(ctx)
				t.Fatalf("Open(%q) succeeded", c.dsn)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows the password: %q", err)
			}
			t.Log(err)
		})
	}
}

// The two dialects' migrations define the same tables, columns and indexes:
// the only differences allowed are types.
func TestSchemaParity(t *testing.T) {
	entries, err := migrations.ReadDir("migrations/sqlite")
	if err != nil {
		t.Fatal(err)
	}
	pgEntries, _ := migrations.ReadDir("migrations/postgres")
	var names, pgNames []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	for _, e := range pgEntries {
		pgNames = append(pgNames, e.Name())
	}
	if !slices.Equal(names, pgNames) {
		t.Fatalf("migration files differ: sqlite %v, postgres %v", names, pgNames)
	}
	for _, name := range names {
		lite, _ := migrations.ReadFile("migrations/sqlite/" + name)
		pg, _ := migrations.ReadFile("migrations/postgres/" + name)
		a, b := schemaShape(string(lite)), schemaShape(string(pg))
		if len(a) < 80 || !slices.Contains(a, "outbox.idempotency_key") {
			t.Fatalf("%s: schemaShape read only %v: the parser no longer matches the files", name, a)
		}
		if !slices.Equal(a, b) {
			t.Errorf("%s: schemas differ\nsqlite:   %v\npostgres: %v", name, a, b)
		}
	}
}

// schemaShape lists "table.column" for each column and the index lines,
// ignoring types, comments and spacing.
func schemaShape(sql string) []string {
	comment := regexp.MustCompile(`--.*`)
	sql = comment.ReplaceAllString(sql, "")
	table := regexp.MustCompile(`(?s)CREATE TABLE (\w+) \((.*?)\n\);`)
	index := regexp.MustCompile(`CREATE INDEX (\w+) ON (\w+) \(([^)]*)\)`)
	var out []string
	for _, m := range table.FindAllStringSubmatch(sql, -1) {
		for _, line := range strings.Split(m[2], "\n") {
			f := strings.Fields(strings.TrimSpace(line))
			if len(f) == 0 {
				continue
			}
			out = append(out, m[1]+"."+f[0])
		}
	}
	for _, m := range index.FindAllStringSubmatch(sql, -1) {
		out = append(out, "index "+m[1]+" "+m[2]+" "+strings.ReplaceAll(m[3], " ", ""))
	}
	return out
}

// The SQLite write connection runs with the settings its durability and
// speed rest on (see writePragmas and openSQLite). SQLite ignores an
// unknown pragma, so a misspelt one would go unnoticed but for this test.
func TestSQLiteWriteSettings(t *testing.T) {
	s := openStore(t, sqliteBackend.dsn(t), testOptions())
	ctx := context.Background()
	for _, c := range []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL: commits, the outbox's above all, survive power loss
		{"cache_size", "-32768"},
		{"temp_store", "2"}, // MEMORY
		{"wal_autocheckpoint", "10000"},
		{"foreign_keys", "1"},
	} {
		var got string
		if err := s.w.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", c.pragma, err)
		}
		if got != c.want {
			t.Errorf("PRAGMA %s = %s, want %s", c.pragma, got, c.want)
		}
	}
}
