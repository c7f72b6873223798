package e2e

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/forewarn/forewarn/demo"
)

// writeConfig writes yaml as the test's checks.yaml and returns its path.
func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "checks.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// demoTenants is the vars and tenants sections of a checks.yaml for the
// demo tenants ids, in the demo's order. Each signs in as its synthetic
// user with the demo password, or with its own where startDemo's demo
// gives it one (acme), and has seats seats, or the demo's own when 0.
func demoTenants(demoURL string, seats int, ids ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "vars: {password: \"${%s}\"}\ntenants:\n", demo.PasswordEnv)
	for _, tn := range demo.Tenants(demo.DefaultTenants) {
		if !slices.Contains(ids, tn.ID) {
			continue
		}
		pw := ""
		if tn.ID == "acme" {
			pw = fmt.Sprintf(", password: \"${%s}\"", demo.TenantPasswordEnv(tn.ID))
		}
		fmt.Fprintf(&b, "  - {id: %s, url: %q, seats: %d, vars: {username: %q%s}}\n",
			tn.ID, tn.BaseURL(demoURL), cmp.Or(seats, tn.Seats), demo.SyntheticUser(tn.ID), pw)
	}
	return b.String()
}

// formSignIn is the login check sign-in through the demo's web form: the
// login page with its CSRF token, then the form post. It ends inside the
// post's step, so what follows may add to that step before adding steps.
const formSignIn = `  - name: sign-in
    kind: login
    steps:
      - name: login-page
        request: {url: "{{ .Tenant.URL }}/login"}
        extract: {csrf: {form_input: csrf_token}}
      - name: submit
        request:
          method: POST
          url: "{{ .Tenant.URL }}/login"
          form: {username: "{{ .Vars.username }}", password: "{{ .Vars.password }}", csrf_token: "{{ .Extracted.csrf }}"}
        follow_redirects: false
        expect: {status: [303]}
`

// signOutStep ends the session whatever happened before it, so that
// repeated sign-ins do not fill the tenant's session slots.
const signOutStep = `      - name: sign-out
        always_run: true
        request: {method: POST, url: "{{ .Tenant.URL }}/logout"}
        follow_redirects: false
        expect: {status: [303]}
`

// capacityLoad is the load check capacity: users sign in with sign-in,
// then list items and read their profile. What follows adds its interval,
// pacing, ramp, SLO and limits.
const capacityLoad = `  - name: capacity
    kind: load
    timeout: 3s
    scenario: {login: sign-in}
    actions:
      - {name: items, request: {url: "{{ .Tenant.URL }}/api/items"}, expect: {status: [200]}}
      - {name: me, request: {url: "{{ .Tenant.URL }}/api/me"}, expect: {status: [200]}}
`
