package demo

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/template"
	"time"
)

// The checks WriteChecks can write, in the order it writes them.
const (
	CheckHealth   = "health"    // GET /health: 200, "ok", within 2s
	CheckAPI      = "api"       // GET /api/status: JSON status == ok
	CheckTLS      = "tls"       // the HTTPS health page: certificate valid for 14 more days
	CheckSignIn   = "sign-in"   // login: the HTML form with its CSRF token, /home, /api/me, sign-out
	CheckAPIToken = "api-token" // login: JSON sign-in for a bearer token, /api/me, sign-out
	CheckOAuth    = "oauth"     // login: an OAuth2 client_credentials token, /api/me
)

// checkBlocks are the checks' YAML. A check with its own interval has a %s
// for the interval line first; the tls check then a %s for its ca_file.
var checkBlocks = map[string]string{
	CheckHealth: `  - name: health
    kind: http
    request: {method: GET, url: "{{ .Tenant.URL }}/health"}
    expect: {status: [200], body_contains: ok, max_duration: 2s}
`,
	CheckAPI: `  - name: api
    kind: http
    request: {method: GET, url: "{{ .Tenant.URL }}/api/status"}
    expect:
      status: [200]
      json: [{path: status, equals: ok}]
`,
	CheckTLS: `  - name: tls
    kind: http
%s    request: {method: GET, url: "{{ .Vars.tls_base }}/t/{{ .Tenant.ID }}/health"}
    tls: {server_name: "{{ .Tenant.ID }}.demo.forewarn.test", ca_file: %s}
    expect: {status: [200], cert_valid_for: 14d}
`,
	CheckSignIn: `  - name: sign-in
    kind: login
%s    steps:
      - name: login-page
        request: {url: "{{ .Tenant.URL }}/login"}
        expect: {status: [200]}
        extract: {csrf: {form_input: csrf_token}}
      - name: submit
        request:
          method: POST
          url: "{{ .Tenant.URL }}/login"
          form: {username: "{{ .Vars.username }}", password: "{{ .Vars.password }}", csrf_token: "{{ .Extracted.csrf }}"}
        follow_redirects: false
        expect: {status: [303], headers: {Location: "/home$"}}
        extract: {session: {cookie: session, secret: true}}
      - name: home
        request: {url: "{{ .Tenant.URL }}/home"}
        expect: {status: [200], body_contains: Welcome}
      - name: me
        request: {url: "{{ .Tenant.URL }}/api/me"}
        expect: {json: [{path: user, equals: "{{ .Vars.username }}"}]}
      - name: sign-out
        always_run: true
        request: {method: POST, url: "{{ .Tenant.URL }}/logout"}
        follow_redirects: false
        expect: {status: [303]}
`,
	CheckAPIToken: `  - name: api-token
    kind: login
%s    steps:
      - name: session
        request: {method: POST, url: "{{ .Tenant.URL }}/api/session", json: {user: "{{ .Vars.username }}", password: "{{ .Vars.password }}"}}
        expect: {status: [200]}
        extract: {token: {json: token, secret: true}}
      - name: me
        request: {url: "{{ .Tenant.URL }}/api/me", headers: {Authorization: "Bearer {{ .Extracted.token }}"}}
        expect: {json: [{path: tenant, equals: "{{ .Tenant.ID }}"}]}
      - name: sign-out
        always_run: true
        request: {method: DELETE, url: "{{ .Tenant.URL }}/api/session", headers: {Authorization: "Bearer {{ .Extracted.token }}"}}
        expect: {status: [204]}
`,
	CheckOAuth: `  - name: oauth
    kind: login
%s    steps:
      - name: token
        oauth2: {grant: client_credentials, token_url: "{{ .Tenant.URL }}/oauth/token", client_id: "forewarn-{{ .Tenant.ID }}", client_secret: "{{ .Vars.password }}"}
      - name: me
        request: {url: "{{ .Tenant.URL }}/api/me", headers: {Authorization: "Bearer {{ .Extracted.access_token }}"}}
        expect: {status: [200]}
`,
}

// allChecks are the checks ChecksOnly accepts, in the order they are written.
var allChecks = []string{CheckHealth, CheckAPI, CheckTLS, CheckSignIn, CheckAPIToken, CheckOAuth}

// defaultChecks are written without ChecksOnly. The login checks join them
// once forewarn's config loads kind: login: until then a default file would
// not load, and with them it needs PasswordEnv set wherever it is loaded.
var defaultChecks = []string{CheckHealth, CheckAPI, CheckTLS}

// loginChecks sign in as the tenant's synthetic user: the file then carries
// its user name per tenant and the password as ${PasswordEnv}.
var loginChecks = []string{CheckSignIn, CheckAPIToken, CheckOAuth}

// ownIntervals are the checks that run every minute, or at the default
// interval when it is longer: certificates change slowly, and a sign-in a
// minute per tenant is plenty.
var ownIntervals = map[string]time.Duration{
	CheckTLS: time.Minute, CheckSignIn: time.Minute, CheckAPIToken: time.Minute, CheckOAuth: time.Minute,
}

type checksConfig struct {
	interval time.Duration
	checks   []string
	caFile   string
}

// ChecksOption tunes WriteChecks.
type ChecksOption func(*checksConfig) error

// ChecksInterval sets defaults.interval (default 30s). The tls and login
// checks run every minute, or at this interval when it is longer.
func ChecksInterval(d time.Duration) ChecksOption {
	return func(c *checksConfig) error {
		if d <= 0 {
			return fmt.Errorf("interval %s: want > 0", d)
		}
		c.interval = d
		return nil
	}
}

// ChecksOnly writes only the named checks (CheckHealth, CheckAPI, CheckTLS,
// CheckSignIn, CheckAPIToken, CheckOAuth); the default is the first three.
func ChecksOnly(names ...string) ChecksOption {
	return func(c *checksConfig) error {
		if len(names) == 0 {
			return fmt.Errorf("no checks chosen (want some of %s)", strings.Join(allChecks, ", "))
		}
		for _, n := range names {
			if !slices.Contains(allChecks, n) {
				return fmt.Errorf("unknown check %q (want %s)", n, strings.Join(allChecks, ", "))
			}
		}
		c.checks = names
		return nil
	}
}

// ChecksCAFile sets the tls check's ca_file (default demo/ca.pem, right for a
// checks.yaml at the repository root); point it at CAPEM written elsewhere.
func ChecksCAFile(path string) ChecksOption {
	return func(c *checksConfig) error { c.caFile = path; return nil }
}

// WriteChecks writes a complete forewarn checks.yaml that probes tenants on
// a demo whose HTTP base is httpBase (e.g. "http://127.0.0.1:8081") and HTTPS
// base tlsBase (e.g. "https://127.0.0.1:8443").
func WriteChecks(w io.Writer, tenants []Tenant, httpBase, tlsBase string, opts ...ChecksOption) error {
	c := checksConfig{interval: 30 * time.Second, checks: defaultChecks, caFile: "demo/ca.pem"}
	for _, o := range opts {
		if err := o(&c); err != nil {
			return fmt.Errorf("demo checks: %w", err)
		}
	}
	bw := bufio.NewWriter(w)
	data := checksData{
		Count: len(tenants), HTTPBase: httpBase, TLSBase: tlsBase,
		Interval: formatDuration(c.interval), Tenants: tenants, Checks: c.blocks(),
		PasswordEnv: PasswordEnv, DefaultPassword: DefaultPassword, PasswordRef: "${" + PasswordEnv + "}",
	}
	for _, name := range loginChecks {
		data.Login = data.Login || slices.Contains(c.checks, name)
	}
	if err := checksTemplate.Execute(bw, data); err != nil {
		return fmt.Errorf("demo checks: %w", err)
	}
	return bw.Flush()
}

// blocks renders the chosen checks in their fixed order. They hold forewarn's
// own {{ }} templates, so they are inserted as data, not parsed here.
func (c checksConfig) blocks() []string {
	var out []string
	for _, name := range allChecks {
		if !slices.Contains(c.checks, name) {
			continue
		}
		var args []any
		if own, ok := ownIntervals[name]; ok {
			line := ""
			if c.interval < own {
				line = "    interval: " + formatDuration(own) + "\n"
			}
			args = append(args, line)
		}
		if name == CheckTLS {
			args = append(args, yamlString(c.caFile))
		}
		out = append(out, fmt.Sprintf(checkBlocks[name], args...))
	}
	return out
}

type checksData struct {
	Count                        int
	HTTPBase, TLSBase            string
	Interval                     string
	Tenants                      []Tenant
	Checks                       []string
	Login                        bool // a login check is written
	PasswordEnv, DefaultPassword string
	PasswordRef                  string // ${PasswordEnv}, expanded by forewarn
}

var checksTemplate = template.Must(template.New("checks").Funcs(template.FuncMap{
	"q":    yamlString,
	"url":  func(t Tenant, base string) string { return yamlString(t.BaseURL(base)) },
	"user": func(t Tenant) string { return yamlString(SyntheticUser(t.ID)) },
}).Parse(`# Generated by forewarn's demo package (forewarn demo) — do not edit by hand;
# regenerate it instead. It probes {{ .Count }} simulated tenants served by the demo
# at {{ .HTTPBase }} (HTTP) and {{ .TLSBase }} (HTTPS, demo CA in ca_file).
{{- if .Login }}
# The login checks sign in as each tenant's synthetic user with the demo's
# password: export {{ .PasswordEnv }} here as for the demo (its default, {{ .DefaultPassword }}).
{{- end }}
listen: "127.0.0.1:8080"
defaults: {interval: {{ .Interval }}, timeout: 10s}
vars:
{{- if .Login }}
  password: {{ q .PasswordRef }}
{{- end }}
  tls_base: {{ q .TLSBase }}
tenants:
{{- range .Tenants }}
  - {id: {{ q .ID }}, name: {{ q .Name }}, url: {{ url . $.HTTPBase }}, seats: {{ .Seats }}, plan: {{ .Plan }}, region: {{ .Region }}, public: {{ .Public }}
{{- if $.Login }}, vars: {username: {{ user . }}}{{ end }}}
{{- end }}
checks:
{{ range .Checks }}{{ . }}{{ end -}}
`))

// yamlString quotes s as a YAML double-quoted scalar; JSON's escapes are a
// subset of YAML's.
func yamlString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// formatDuration writes 60s as "1m" rather than Go's "1m0s".
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
