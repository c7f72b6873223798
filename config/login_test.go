package config

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/forewarn/forewarn/probes"
)

func loadLogin(t *testing.T) *Config {
	t.Helper()
	cfg, err := LoadWith("testdata/good/login.yaml", testOptions())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// runData is what the prober would hand a step's templates on a run.
func runData(spec *probes.LoginSpec) probes.TemplateData {
	return probes.TemplateData{Tenant: spec.Tenant, Vars: spec.Vars, Extracted: map[string]string{
		"csrf": "c5rf", "session": "s3ss", "next": "http://x.example/bye", "access_token": "at",
		"user_token": "ut", "token": "tk", "code": "42", "whole": "id=1", "maybe": "",
	}}
}

func execute(t *testing.T, tm *template.Template, data probes.TemplateData) string {
	t.Helper()
	if tm == nil {
		t.Fatal("nil template")
	}
	var b strings.Builder
	if err := tm.Execute(&b, data); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func named(t *testing.T, nts []probes.NamedTemplate, data probes.TemplateData) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, nt := range nts {
		out[nt.Name] = execute(t, nt.Value, data)
	}
	return out
}

func TestLoginTargets(t *testing.T) {
	cfg := loadLogin(t)
	acme, globex := target(t, cfg, "acme/sign-in"), target(t, cfg, "globex/sign-in")
	if acme.Kind != probes.KindLogin || acme.Login == nil || acme.HTTP != nil {
		t.Fatalf("acme: kind %q, login %v, http %v", acme.Kind, acme.Login, acme.HTTP)
	}
	if acme.Interval != time.Minute || acme.Timeout != 15*time.Second || globex.Interval != 5*time.Minute || globex.Timeout != 20*time.Second {
		t.Errorf("timing: acme %s/%s, globex %s/%s", acme.Interval, acme.Timeout, globex.Interval, globex.Timeout)
	}
	spec := acme.Login
	if spec.Tenant.ID != "acme" || spec.Tenant.Plan != "enterprise" || spec.Tenant.Labels["tier"] != "gold" || spec.Vars["password"] != "hunter2-pw" {
		t.Errorf("tenant %+v, vars %q", spec.Tenant, spec.Vars)
	}
	if !slices.Contains(acme.Secrets, "hunter2-pw") || !slices.Contains(acme.Secrets, "acme-tok-777") {
		t.Errorf("secrets = %q", acme.Secrets)
	}
	var names []string
	for _, s := range spec.Steps {
		names = append(names, s.Name)
	}
	if want := []string{"login-page", "submit", "token", "user-token", "api", "report", "sign-out"}; !slices.Equal(names, want) {
		t.Fatalf("steps = %q, want %q", names, want)
	}
	// Templates are parsed once per check: every tenant's target shares them.
	if a, g := spec.Steps[0].Request.URL, globex.Login.Steps[0].Request.URL; a != g {
		t.Errorf("url templates differ between tenants: %p, %p", a, g)
	}
	gd := runData(globex.Login)
	if got := execute(t, globex.Login.Steps[1].Request.Body.Form[0].Value, gd); got != "bot@globex.example" {
		t.Errorf("globex username = %q", got)
	}
}

func TestLoginRequestSteps(t *testing.T) {
	spec := target(t, loadLogin(t), "acme/sign-in").Login
	data := runData(spec)
	page, submit := spec.Steps[0], spec.Steps[1]
	if page.Request.Method != "GET" || page.Timeout != 5*time.Second || page.Request.Body.Kind != probes.BodyNone ||
		!page.FollowRedirects || page.MaxRedirects != 10 || page.BodyLimit != 1<<20 {
		t.Errorf("login-page = %+v", page)
	}
	if got := execute(t, page.Request.URL, data); got != "http://127.0.0.1:8081/t/acme/login" {
		t.Errorf("url = %q", got)
	}
	if got := named(t, page.Request.Query, data); !reflect.DeepEqual(got, map[string]string{"next": "/home", "plan": "enterprise"}) {
		t.Errorf("query = %q", got)
	}
	if got := named(t, page.Request.Headers, data); !reflect.DeepEqual(got, map[string]string{"Accept": "text/html"}) {
		t.Errorf("headers = %q", got)
	}
	if !slices.Equal(page.Expect.Status, []int{200}) || !slices.Equal(page.Expect.BodyContains, []string{"acme"}) {
		t.Errorf("expect = %+v", page.Expect)
	}
	wantForm := map[string]string{"username": "synthetic@acme.example", "password": "hunter2-pw", "csrf_token": "c5rf"}
	if submit.Request.Method != "POST" || submit.Request.Body.Kind != probes.BodyForm || !reflect.DeepEqual(named(t, submit.Request.Body.Form, data), wantForm) {
		t.Errorf("submit = %+v", submit.Request)
	}
	if submit.FollowRedirects || submit.Timeout != 0 {
		t.Errorf("submit redirects %v, timeout %s", submit.FollowRedirects, submit.Timeout)
	}
	var hm []string
	for _, h := range submit.HeaderMatches {
		hm = append(hm, h.Name+"~"+h.Regexp.String())
	}
	if want := []string{"Location~/home$", "Set-Cookie~session=", "Set-Cookie~HttpOnly"}; !slices.Equal(hm, want) {
		t.Errorf("header matches = %q, want %q", hm, want)
	}
}

func TestLoginBodies(t *testing.T) {
	spec := target(t, loadLogin(t), "acme/sign-in").Login
	data := runData(spec)
	api, report, signOut := spec.Steps[4], spec.Steps[5], spec.Steps[6]
	if api.Request.Body.Kind != probes.BodyJSON || api.MaxRedirects != 2 || api.BodyLimit != 64<<10 {
		t.Fatalf("api = %+v", api)
	}
	if got := execute(t, api.Request.URL, data); got != "http://127.0.0.1:8081/t/acme/api/me?session=s3ss" {
		t.Errorf("api url = %q", got)
	}
	body, err := json.Marshal(renderJSON(t, api.Request.Body.JSON, data))
	if want := `{"nothing":null,"ratio":0.5,"remember":true,"retries":3,"roles":["admin","ut"],"user":"synthetic@acme.example"}`; err != nil || string(body) != want {
		t.Errorf("json body = %s (%v), want %s", body, err, want)
	}
	if report.Request.Body.Kind != probes.BodyRaw || report.Request.Body.ContentType != "application/xml" ||
		execute(t, report.Request.Body.Raw, data) != "<user>synthetic@acme.example</user>" {
		t.Errorf("report body = %+v", report.Request.Body)
	}
	if !signOut.AlwaysRun || signOut.Request.Body.ContentType != "text/plain" || execute(t, signOut.Request.URL, data) != "http://x.example/bye" {
		t.Errorf("sign-out = %+v", signOut)
	}
}

// renderJSON does what the prober does with a JSON body: execute each leaf.
func renderJSON(t *testing.T, v any, data probes.TemplateData) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			out[k] = renderJSON(t, e, data)
		}
		return out
	case []any:
		out := []any{}
		for _, e := range v {
			out = append(out, renderJSON(t, e, data))
		}
		return out
	case *template.Template:
		return execute(t, v, data)
	}
	return v
}

func TestLoginExtractAndOAuth2(t *testing.T) {
	spec := target(t, loadLogin(t), "acme/sign-in").Login
	type ex struct {
		Var              string
		From             probes.ExtractFrom
		Path, Name, Re   string
		Group            int
		Required, Secret bool
	}
	var got []ex
	for _, s := range spec.Steps {
		for _, e := range s.Extract {
			re := ""
			if e.Regexp != nil {
				re = e.Regexp.String()
			}
			got = append(got, ex{e.Var, e.From, e.Path, e.Name, re, e.Group, e.Required, e.Secret})
		}
	}
	want := []ex{
		{"csrf", probes.ExtractFormInput, "", "csrf_token", "", 0, true, false},
		{"session", probes.ExtractCookie, "", "session", "", 0, true, true},
		{"next", probes.ExtractHeader, "", "Location", "", 0, true, false},
		{"token", probes.ExtractJSON, "data.token", "", "", 0, true, false},
		{"code", probes.ExtractRegex, "", "", `code=(\w+)`, 1, true, false},
		{"whole", probes.ExtractRegex, "", "", `id=\d+`, 0, true, false},
		{"maybe", probes.ExtractJSON, "x", "", "", 0, false, false},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("extractors:\ngot  %+v\nwant %+v", got, want)
	}
	token, user := spec.Steps[2], spec.Steps[3]
	wantCC := probes.OAuth2Grant{
		Grant: probes.GrantClientCredentials, TokenURL: "http://127.0.0.1:8081/t/acme/oauth/token",
		ClientID: "forewarn-acme", ClientSecret: "acme-tok-777", Scopes: []string{"read", "tenant:acme"}, Var: "access_token",
		AuthStyle: "header",
	}
	if token.Request != nil || token.OAuth2 == nil || !reflect.DeepEqual(*token.OAuth2, wantCC) || !token.TLS.InsecureSkipVerify {
		t.Errorf("token step = %+v, oauth2 %+v", token, token.OAuth2)
	}
	if o := user.OAuth2; o == nil || o.Grant != probes.GrantPassword || o.Username != "synthetic@acme.example" ||
		o.Password != "hunter2-pw" || o.Var != "user_token" || user.Timeout != 3*time.Second {
		t.Errorf("user-token step = %+v, oauth2 %+v", user, o)
	}
}

// TestLoginRefs covers what the walk of the parse tree must find even
// where executing a template at load does not go, and what it must accept.
func TestLoginRefs(t *testing.T) {
	const src = `
tenants: [{id: acme, url: "http://acme.example"}]
checks:
  - name: c
    kind: login
    steps:
      - name: a
        request: {url: "http://acme.example/%s"}
        extract: {x: {json: x}}
      - name: b
        request: {url: "http://acme.example/%s"}
`
	tests := []struct{ a, b, err string }{
		{"{{ if false }}{{ .Extracted.y }}{{ end }}", "", `8:24: checks[0].steps[0].request.url: .Extracted.y is not extracted by an earlier step (no earlier step extracts anything)`},
		{"", "{{ if false }}{{ .Extracted.y }}{{ end }}", `11:24: checks[0].steps[1].request.url: .Extracted.y is not extracted by an earlier step (earlier steps extract: x)`},
		{"", "{{ with .Vars }}{{ $.Extracted.z }}{{ end }}", `.Extracted.z is not extracted`},
		{"", `{{ index .Extracted \"z\" }}`, `.Extracted.z is not extracted`},
		{"", "{{ range .Extracted }}{{ . }}{{ end }}", `.Extracted must be read as .Extracted.NAME`},
		{"{{ .Extracted.x }}", "", `.Extracted.x is not extracted by an earlier step (no earlier step extracts anything); this step extracts it from its own response, after the request is sent`},
		{"", "{{ with .Vars }}{{ .Extracted }}{{ else }}{{ .Extracted.x }}{{ end }}", ""},
		{"", `{{ index .Extracted \"x\" | urlquery }}`, ""},
	}
	for _, tt := range tests {
		_, err := parse(fmt.Sprintf(src, tt.a, tt.b), nil, nil)
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s | %s: err = %v, want %q", tt.a, tt.b, err, tt.err)
		}
	}
}
