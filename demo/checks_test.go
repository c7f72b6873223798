package demo

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// checksFile is the part of forewarn's checks.yaml schema WriteChecks fills.
type checksFile struct {
	Listen   string            `yaml:"listen"`
	Defaults map[string]string `yaml:"defaults"`
	Vars     map[string]string `yaml:"vars"`
	Tenants  []struct {
		ID     string            `yaml:"id"`
		Name   string            `yaml:"name"`
		URL    string            `yaml:"url"`
		Seats  int               `yaml:"seats"`
		Plan   string            `yaml:"plan"`
		Region string            `yaml:"region"`
		Public bool              `yaml:"public"`
		Vars   map[string]string `yaml:"vars"`
	} `yaml:"tenants"`
	Checks []struct {
		Name     string         `yaml:"name"`
		Kind     string         `yaml:"kind"`
		Interval string         `yaml:"interval"`
		Request  map[string]any `yaml:"request"`
		TLS      map[string]any `yaml:"tls"`
		Expect   map[string]any `yaml:"expect"`
		Steps    []loginStep    `yaml:"steps"`
	} `yaml:"checks"`
}

// loginStep is a step of a login check, in the schema agreed for kind: login.
type loginStep struct {
	Name            string                    `yaml:"name"`
	AlwaysRun       bool                      `yaml:"always_run"`
	Request         map[string]any            `yaml:"request"`
	OAuth2          map[string]string         `yaml:"oauth2"`
	FollowRedirects *bool                     `yaml:"follow_redirects"`
	Expect          map[string]any            `yaml:"expect"`
	Extract         map[string]map[string]any `yaml:"extract"`
}

func writeAndParse(t *testing.T, tenants []Tenant, opts ...ChecksOption) (checksFile, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteChecks(&buf, tenants, "http://127.0.0.1:8081", "https://127.0.0.1:8443", opts...); err != nil {
		t.Fatal(err)
	}
	var f checksFile
	dec := yaml.NewDecoder(&buf)
	dec.KnownFields(true)
	out := buf.String()
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("output is not valid YAML: %v\n%s", err, out)
	}
	return f, out
}

func TestWriteChecks(t *testing.T) {
	tenants := Tenants(25)
	f, out := writeAndParse(t, tenants)
	if !strings.HasPrefix(out, "# Generated") {
		t.Error("no generated-file comment at the top")
	}
	if f.Listen != "127.0.0.1:8080" || f.Defaults["interval"] != "30s" || f.Defaults["timeout"] != "10s" ||
		f.Vars["tls_base"] != "https://127.0.0.1:8443" {
		t.Errorf("header: %+v %+v %+v", f.Listen, f.Defaults, f.Vars)
	}
	if len(f.Tenants) != len(tenants) {
		t.Fatalf("%d tenants written, want %d", len(f.Tenants), len(tenants))
	}
	for i, got := range f.Tenants {
		want := tenants[i]
		if got.ID != want.ID || got.Name != want.Name || got.Seats != want.Seats || got.Plan != want.Plan ||
			got.Region != want.Region || got.Public != want.Public || got.URL != want.BaseURL("http://127.0.0.1:8081") {
			t.Errorf("tenant %d: %+v, want %+v", i, got, want)
		}
	}
	var names []string
	for _, c := range f.Checks {
		names = append(names, c.Name)
	}
	if strings.Join(names, ",") != "health,api,tls" {
		t.Fatalf("checks %v", names)
	}
	tlsCheck := f.Checks[2]
	if tlsCheck.Interval != "1m" || tlsCheck.TLS["ca_file"] != "demo/ca.pem" ||
		tlsCheck.TLS["server_name"] != "{{ .Tenant.ID }}.demo.forewarn.test" || tlsCheck.Expect["cert_valid_for"] != "14d" {
		t.Errorf("tls check: %+v", tlsCheck)
	}
}

func TestWriteChecksOptions(t *testing.T) {
	f, _ := writeAndParse(t, Tenants(3), ChecksInterval(time.Minute), ChecksOnly(CheckTLS, CheckHealth), ChecksCAFile("/tmp/ca.pem"))
	if f.Defaults["interval"] != "1m" || len(f.Checks) != 2 || f.Checks[0].Name != "health" ||
		f.Checks[1].Interval != "" || f.Checks[1].TLS["ca_file"] != "/tmp/ca.pem" {
		t.Errorf("got %+v %+v", f.Defaults, f.Checks)
	}
	bad := []ChecksOption{ChecksOnly(), ChecksOnly("ping"), ChecksOnly("login"), ChecksInterval(0)}
	for _, o := range bad {
		if err := WriteChecks(&bytes.Buffer{}, Tenants(1), "h", "t", o); err == nil {
			t.Error("bad option accepted")
		}
	}
}

func TestWriteChecksManyTenants(t *testing.T) {
	start := time.Now()
	f, _ := writeAndParse(t, Tenants(MaxTenants), ChecksInterval(time.Minute), ChecksOnly(CheckHealth))
	if len(f.Tenants) != MaxTenants || len(f.Checks) != 1 {
		t.Errorf("%d tenants, %d checks", len(f.Tenants), len(f.Checks))
	}
	t.Logf("10,000 tenants written and parsed in %s", time.Since(start))
}

func TestWriteChecksLogin(t *testing.T) {
	f, out := writeAndParse(t, Tenants(3), ChecksOnly(CheckOAuth, CheckSignIn, CheckAPIToken, CheckHealth))
	if f.Vars["password"] != "${FOREWARN_DEMO_PASSWORD}" || f.Vars["tls_base"] == "" {
		t.Errorf("vars %v", f.Vars)
	}
	for _, tn := range f.Tenants {
		if tn.Vars["username"] != "synthetic@"+tn.ID+".example" {
			t.Errorf("tenant %s vars %v", tn.ID, tn.Vars)
		}
	}
	wantSteps := map[string]string{
		"sign-in":   "login-page,submit,home,me,sign-out",
		"api-token": "session,me,sign-out",
		"oauth":     "token,me",
	}
	var names []string
	for _, c := range f.Checks {
		names = append(names, c.Name)
		if c.Name == "health" {
			continue
		}
		var steps []string
		for _, st := range c.Steps {
			steps = append(steps, st.Name)
		}
		if c.Kind != "login" || c.Interval != "1m" || strings.Join(steps, ",") != wantSteps[c.Name] {
			t.Errorf("check %s: kind %s, interval %q, steps %v", c.Name, c.Kind, c.Interval, steps)
		}
	}
	if strings.Join(names, ",") != "health,sign-in,api-token,oauth" {
		t.Errorf("checks %v, want the fixed order", names)
	}
	signIn := f.Checks[1].Steps
	if signIn[0].Extract["csrf"]["form_input"] != "csrf_token" || *signIn[1].FollowRedirects ||
		signIn[1].Extract["session"]["secret"] != true || !signIn[4].AlwaysRun {
		t.Errorf("sign-in steps: %+v", signIn)
	}
	if o := f.Checks[3].Steps[0].OAuth2; o["grant"] != "client_credentials" || o["client_id"] != "forewarn-{{ .Tenant.ID }}" {
		t.Errorf("oauth step: %v", o)
	}
	if !strings.Contains(out, "export FOREWARN_DEMO_PASSWORD") {
		t.Error("no comment says which variable to export")
	}
}

// Without a login check the file needs no password, so it loads without
// FOREWARN_DEMO_PASSWORD set.
func TestWriteChecksDefaultHasNoLogin(t *testing.T) {
	f, out := writeAndParse(t, Tenants(2))
	if _, ok := f.Vars["password"]; ok || strings.Contains(out, "username") || strings.Contains(out, "kind: login") {
		t.Errorf("default checks sign in:\n%s", out)
	}
	f, _ = writeAndParse(t, Tenants(1), ChecksInterval(5*time.Minute), ChecksOnly(CheckAPIToken))
	if f.Checks[0].Interval != "" {
		t.Errorf("a 5m default still gets interval %q", f.Checks[0].Interval)
	}
}
