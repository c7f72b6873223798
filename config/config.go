// Package config loads checks.yaml into a plan: one probes.Target per
// (tenant × check), with templates expanded and secrets resolved.
//
// Every value is validated at load and every error in a file is reported at
// once with file:line:col and the path of the field. Secrets never appear in
// an error: each message is redacted before it is returned.
package config

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/forewarn/forewarn/probes"
	"gopkg.in/yaml.v3"
)

// Config is a loaded checks.yaml.
type Config struct {
	Listen     string // default "127.0.0.1:8080"
	Defaults   Defaults
	Load       LoadLimits        // process-wide caps on load runs
	Store      Store             // history, cases and the notification outbox
	Cases      Cases             // when failures become support cases
	Notify     Notify            // where cases go: Slack, webhooks; secrets inside, Redact before showing
	StatusPage StatusPage        // the public and private status pages; secrets inside
	Vars       map[string]string // global template vars, secrets resolved: Redact before showing
	Tenants    []Tenant
	Checks     []Check // as written, for display
	// Targets is the plan: one per (tenant × selected, enabled check), in
	// check order, then tenant order.
	Targets []probes.Target
	File    string // path loaded
	// Warnings are problems that do not stop the config from loading, such
	// as a check that selects no tenant. Formatted like Error.
	Warnings []string

	secrets []string
}

// Defaults apply to every check that does not set the value itself.
type Defaults struct {
	Interval     time.Duration // default 30s
	Timeout      time.Duration // default 10s; an inherited timeout is capped at the interval
	BodyLimit    int64         // bytes, default 1 MiB
	MaxRedirects int           // default 10
}

// Tenant is one customer tenant of the SaaS. Its vars are not exported: they
// may hold secrets.
type Tenant struct {
	ID           string // slug; the `tenant` label
	Name         string // default: ID
	URL          string // absolute http(s) URL, without a trailing slash
	Seats        int    // contracted concurrent users
	Plan         string
	Region       string
	Public       bool // named on the public status page only when true
	Labels       map[string]string
	SlackChannel string
}

// Check is a check as written, with the check-level timing resolved. Tenant
// overrides may change the timing per target.
type Check struct {
	Name     string
	Kind     probes.Kind
	Interval time.Duration // 0 when Schedule is set
	Schedule string        // cron, 5 fields
	Timeout  time.Duration
	Select   map[string][]string // label → any of these values; empty selects all tenants
	Tenants  []string            // ids of the tenants it runs for
}

// Options replace the process environment and file system, for tests.
type Options struct {
	LookupEnv func(string) (string, bool)  // default os.LookupEnv
	ReadFile  func(string) ([]byte, error) // default os.ReadFile
}

func (o Options) withDefaults() Options {
	if o.LookupEnv == nil {
		o.LookupEnv = os.LookupEnv
	}
	if o.ReadFile == nil {
		o.ReadFile = os.ReadFile
	}
	return o
}

// Load reads and validates the config file at path.
func Load(path string) (*Config, error) { return LoadWith(path, Options{}) }

// LoadWith is Load with a custom environment and file system.
func LoadWith(path string, o Options) (*Config, error) {
	o = o.withDefaults()
	data, err := o.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data, filepath.Dir(path), o)
}

// Parse validates a config held in memory. name is used in error positions;
// baseDir resolves relative paths (ca_file, file: secrets). The error, when
// not nil, is Errors, or a plain error for unreadable YAML.
func Parse(name string, data []byte, baseDir string, o Options) (*Config, error) {
	o = o.withDefaults()
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, syntaxError(name, err)
	}
	d := &decoder{report: report{file: name}}
	if len(root.Content) == 0 {
		d.add(loc{}, "config is empty: define tenants and checks")
		return nil, d.result(nil)
	}
	f := d.decodeFile(root.Content[0], baseDir, o)
	cfg := f.plan(d, baseDir, o)
	if err := d.result(cfg.secrets); err != nil {
		return nil, err
	}
	cfg.File = name
	return cfg, nil
}

// yamlLine is how yaml.v3 places a syntax error.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// syntaxError turns "yaml: line 7: ..." into "checks.yaml:7: yaml: ...".
func syntaxError(name string, err error) error {
	msg := err.Error()
	e := &Error{File: name, Msg: msg}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = "yaml: " + strings.TrimPrefix(msg, m[0])
	}
	return Errors{e}
}

// Redact masks every secret of the config in s: for log lines and CLI
// output that may quote a request.
func (c *Config) Redact(s string) string { return probes.Redact(s, c.secrets) }
