package config

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"text/template"
	"time"
)

// parse loads an in-memory config; files maps paths under "/cfg" to contents.
func parse(src string, env, files map[string]string) (*Config, error) {
	o := Options{
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		ReadFile: func(p string) ([]byte, error) {
			if v, ok := files[p]; ok {
				return []byte(v), nil
			}
			return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
		},
	}
	return Parse("checks.yaml", []byte(src), "/cfg", o)
}

const minimal = `
tenants: [{id: acme, url: "http://acme.example", vars: {v: %s}}]
checks: [{name: c, kind: http, %s request: {url: "{{ .Tenant.URL }}/{{ .Vars.v }}"}}]
`

func TestValues(t *testing.T) {
	env := map[string]string{"TOKEN": "s3cr3t", "EMPTY": ""}
	files := map[string]string{"/cfg/k": "from-file\r\n", "/abs/k": "abs\n", "/cfg/blank": "\n"}
	tests := []struct {
		name, v, check string
		url            string // want, when err is ""
		err            string
	}{
		{"plain", "x", "", "http://acme.example/x", ""},
		{"env embedded", `"a-${TOKEN}-b"`, "", "http://acme.example/a-s3cr3t-b", ""},
		{"not an env ref", `"$TOKEN ${lower-case}"`, "", "http://acme.example/$TOKEN ${lower-case}", ""},
		{"file, CRLF trimmed", "{file: k}", "", "http://acme.example/from-file", ""},
		{"absolute file", "{file: /abs/k}", "", "http://acme.example/abs", ""},
		{"empty env", `"${EMPTY}"`, "", "", "2:60: tenants[0].vars.v: environment variable EMPTY is empty"},
		{"empty file", "{file: blank}", "", "", "2:67: tenants[0].vars.v.file: secret file blank is empty"},
		{"bad secret key", "{path: k}", "", "", `2:61: tenants[0].vars.v: field "path" not found in secret`},
		{"list", "[a]", "", "", "2:60: tenants[0].vars.v: expected a string or {file: path}, got a list"},
		{"size", "x", "body_limit: 10KB,", "http://acme.example/x", ""},
		{"week", "x", "interval: 1w, timeout: 1d,", "http://acme.example/x", ""},
		{"days ok", "x", "expect: {cert_valid_for: 14d},", "http://acme.example/x", ""},
		{"short interval", "x", "interval: 999ms,", "", "3:42: checks[0].interval: interval must be at least 1s, got 999ms"},
		{"zero size", "x", "body_limit: 0,", "", "3:44: checks[0].body_limit: body_limit must be positive, got 0"},
		{"negative size", "x", "body_limit: -1KiB,", "", "3:44: checks[0].body_limit: body_limit must be positive, got -1KiB"},
		{"size over the cap", "x", "body_limit: 1073741825,", "", "3:44: checks[0].body_limit: body_limit 1073741825 is larger than the 1GiB maximum"},
		{"size over int64", "x", "body_limit: 9999999999GiB,", "", "3:44: checks[0].body_limit: body_limit 9999999999GiB is larger than the 1GiB maximum"},
		{"size at the cap", "x", "body_limit: 1GiB,", "http://acme.example/x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parse(fmt.Sprintf(minimal, tt.v, tt.check), env, files)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), "checks.yaml:"+tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				if strings.Contains(err.Error(), "s3cr3t") {
					t.Errorf("secret in %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Targets[0].HTTP.Request.URL; got != tt.url {
				t.Errorf("url = %q, want %q", got, tt.url)
			}
		})
	}
}

func TestSizes(t *testing.T) {
	for in, want := range map[string]int64{
		"4096": 4096, "512KiB": 512 << 10, "1MiB": 1 << 20, "1 GiB": 1 << 30, "10KB": 10e3, "3MB": 3e6, "7B": 7,
	} {
		cfg, err := parse(fmt.Sprintf(minimal, "x", "body_limit: "+in+","), nil, nil)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if got := cfg.Targets[0].HTTP.BodyLimit; got != want {
			t.Errorf("size %q = %d, want %d", in, got, want)
		}
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{File: "c.yaml", Line: 12, Column: 14, Field: "checks[0].timeout", Msg: "bad"}, "c.yaml:12:14: checks[0].timeout: bad"},
		{Error{File: "c.yaml", Line: 7, Msg: "yaml: oops"}, "c.yaml:7: yaml: oops"},
		{Error{File: "c.yaml", Field: "tenants", Msg: "none"}, "c.yaml: tenants: none"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	errs := Errors{&tests[0].e, &tests[1].e}
	if got, want := errs.Error(), tests[0].want+"\n"+tests[1].want; got != want {
		t.Errorf("Errors = %q, want %q", got, want)
	}
	var target Errors
	if !errors.As(error(errs), &target) {
		t.Error("Errors does not unwrap with errors.As")
	}
}

func TestTimingRules(t *testing.T) {
	tests := []struct {
		name, defaults, check string
		interval, timeout     time.Duration
		err                   string
	}{
		{"inherited timeout capped", "{interval: 5s, timeout: 10s}", "", 5 * time.Second, 5 * time.Second, ""},
		{"explicit timeout too long", "{}", "interval: 5s, timeout: 6s,", 0, 0, "timeout 6s is longer than interval 5s"},
		{"explicit equal is fine", "{}", "interval: 5s, timeout: 5s,", 5 * time.Second, 5 * time.Second, ""},
		{"schedule keeps default timeout", "{timeout: 2m}", `schedule: "@hourly",`, 0, 2 * time.Minute, ""},
		{"schedule, long timeout", "{}", `schedule: "*/5 * * * *", timeout: 10m,`, 0, 10 * time.Minute, ""},
		{"six fields", "{}", `schedule: "0 0 3 * * *",`, 0, 0, "expected exactly 5 fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "defaults: " + tt.defaults + fmt.Sprintf(minimal, "x", tt.check)
			cfg, err := parse(src, nil, nil)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tg := cfg.Targets[0]; tg.Interval != tt.interval || tg.Timeout != tt.timeout {
				t.Errorf("interval %s timeout %s, want %s %s", tg.Interval, tg.Timeout, tt.interval, tt.timeout)
			}
		})
	}
}

// TestMaxRedirects pins that the value as written reaches the target: the
// prober takes 0 with follow_redirects as "follow none", not "default".
func TestMaxRedirects(t *testing.T) {
	tests := []struct {
		name, defaults, check string
		want                  int
	}{
		{"unset", "{}", "", 10},
		{"explicit 0 stays 0", "{}", "max_redirects: 0,", 0},
		{"from the check", "{}", "max_redirects: 3,", 3},
		{"defaults override the built-in", "{max_redirects: 2}", "", 2},
		{"defaults 0 stays 0", "{max_redirects: 0}", "", 0},
		{"check overrides defaults", "{max_redirects: 2}", "max_redirects: 0,", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "defaults: " + tt.defaults + fmt.Sprintf(minimal, "x", tt.check)
			cfg, err := parse(src, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Targets[0].HTTP.MaxRedirects; got != tt.want {
				t.Errorf("MaxRedirects = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestVarNames checks isVarName against text/template itself: a name passes
// exactly when {{ .Vars.name }} parses and reads it.
func TestVarNames(t *testing.T) {
	for _, name := range []string{"user", "api_key", "_x", "x2", "ключ", "api-key", "2fa", "a.b", "a b", "$x", ""} {
		var b strings.Builder
		tm, err := template.New("").Parse("{{ .Vars." + name + " }}")
		if err == nil {
			err = tm.Execute(&b, tmplData{Vars: map[string]string{name: "v"}})
		}
		if readable := err == nil && b.String() == "v"; isVarName(name) != readable {
			t.Errorf("isVarName(%q) = %v, but template reads it: %v (%v)", name, isVarName(name), readable, err)
		}
	}
}
