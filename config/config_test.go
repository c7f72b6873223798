package config

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.err golden files")

// testEnv is the environment of every test load; the values are the secrets
// that must never appear in an error.
var testEnv = map[string]string{
	"GLOBAL_TOKEN":  "glob-tok-999",
	"ACME_PASSWORD": "hunter2-pw",
	"ACME_TOKEN":    "acme-tok-777",
	"EMPTY":         "",
}

const fileSecret = "key-from-file-123" // testdata/good/secrets/acme.key

func testOptions() Options {
	return Options{LookupEnv: func(k string) (string, bool) {
		v, ok := testEnv[k]
		return v, ok
	}}
}

// TestErrors loads each broken file in testdata and compares the errors with
// testdata/<name>.err. Run `go test ./config -update` to rewrite them.
func TestErrors(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			cfg, err := LoadWith(file, testOptions())
			if err == nil {
				t.Fatalf("loaded %d targets, want errors", len(cfg.Targets))
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error is %T, want Errors: %v", err, err)
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(file, ".yaml") + ".err"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("errors differ from %s\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
			assertNoSecret(t, got)
			for _, e := range errs {
				assertNoSecret(t, fmt.Sprint(e), fmt.Sprintf("%+v", *e))
			}
		})
	}
}

func assertNoSecret(t *testing.T, texts ...string) {
	t.Helper()
	for _, s := range texts {
		for name, v := range testEnv {
			if v != "" && strings.Contains(s, v) {
				t.Errorf("secret $%s shown in %q", name, s)
			}
		}
		if strings.Contains(s, fileSecret) {
			t.Errorf("file secret shown in %q", s)
		}
	}
}

// TestErrorCounts pins how many errors some files give, so that a change
// that hides errors behind the first one is caught even after -update.
func TestErrorCounts(t *testing.T) {
	for name, want := range map[string]int{
		"five-errors":          5,
		"syntax":               1,
		"secret-leak":          6,
		"missing-var":          1,
		"bad-ca":               2,
		"wrong-type":           5,
		"missing-required":     5,
		"bad-sizes":            6,
		"bad-var-name":         3,
		"unknown-select-label": 1,
		"login-secret-leak":    5,
		"login-unknown-key":    6,
		"login-regex-group":    7,
		"login-missing-var":    1,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := LoadWith("testdata/"+name+".yaml", testOptions())
			var errs Errors
			if !errors.As(err, &errs) || len(errs) != want {
				t.Errorf("got %d errors, want %d:\n%v", len(errs), want, err)
			}
		})
	}
}
