package probes

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// expectLogin is expect for acme's signin check.
func expectLogin(t *testing.T, r Result, reason Reason, fragment string) {
	t.Helper()
	expectResult(t, r, KindLogin, "signin", reason, fragment)
}

// summary shows each step as name=ok, name=REASON or name=skipped.
func summary(r Result) string {
	parts := make([]string, len(r.Steps))
	for i, s := range r.Steps {
		state := "skipped"
		switch {
		case s.Ran && s.Success:
			state = "ok"
		case s.Ran:
			state = string(s.Reason)
		}
		parts[i] = s.Name + "=" + state
	}
	return strings.Join(parts, " ")
}

func extracted(s StepResult) map[string]string {
	m := map[string]string{}
	for _, e := range s.Extracted {
		m[e.Var] = e.Value
	}
	return m
}

func TestLoginFormSignIn(t *testing.T) {
	saas := newFakeSaaS()
	srv := newServer(t, saas)
	for run := 1; run <= 2; run++ {
		r := ProbeLogin(context.Background(), loginTarget(srv.URL, formSignIn()...))
		expectLogin(t, r, ReasonNone, "")
		if got := summary(r); got != "login page=ok submit=ok home=ok sign out=ok" {
			t.Fatalf("steps %s", got)
		}
		if r.StepsCompleted != 4 || r.StatusCode != 200 || r.Redirects != 0 || r.TLS {
			t.Errorf("completed %d status %d redirects %d TLS %v", r.StepsCompleted, r.StatusCode, r.Redirects, r.TLS)
		}
		if csrf := extracted(r.Steps[0])["csrf"]; len(csrf) < 20 || csrf == Redacted {
			t.Errorf("csrf shown as %q, want the token", csrf)
		}
		if sid := extracted(r.Steps[1])["session"]; sid != Redacted {
			t.Errorf("secret session shown as %q", sid)
		}
		var sum Phases
		for _, s := range r.Steps {
			sum = sum.add(s.Phases)
			if s.Duration <= 0 || s.StatusCode == 0 {
				t.Errorf("step %q: duration %s status %d", s.Name, s.Duration, s.StatusCode)
			}
		}
		if sum != r.Phases || r.Phases.Connect <= 0 || r.Phases.Processing <= 0 {
			t.Errorf("phases %+v, steps sum to %+v", r.Phases, sum)
		}
		// Keep-alive within a run: later steps reuse the first connection.
		if r.Steps[2].Phases.Connect != 0 {
			t.Errorf("home dialled again (%s): connections not kept alive within the run", r.Steps[2].Phases.Connect)
		}
		if logouts, _ := saas.counts(); logouts != run {
			t.Errorf("%d logouts after %d runs", logouts, run)
		}
	}
	saas.mu.Lock()
	defer saas.mu.Unlock()
	if len(saas.pre) != 2 || len(saas.sessions) != 0 {
		t.Errorf("%d pre-sessions (want one per run: a fresh jar) and %d sessions left open", len(saas.pre), len(saas.sessions))
	}
}

func TestLoginJSONToken(t *testing.T) {
	srv := newServer(t, newFakeSaaS())
	steps := []Step{
		{Name: "token", Request: &StepRequest{
			Method: http.MethodPost, URL: tmpl("{{ .Tenant.URL }}/api/token"),
			Body: StepBody{Kind: BodyJSON, JSON: map[string]any{
				"username": tmpl("{{ .Vars.user }}"), "password": tmpl("{{ .Vars.password }}"),
				"remember": true, "meta": []any{tmpl("{{ .Tenant.ID }}"), 1.5, nil},
			}}},
			Extract: []Extractor{
				{Var: "token", From: ExtractJSON, Path: "data.token", Required: true, Secret: true},
				{Var: "uid", From: ExtractJSON, Path: "data.user.id", Required: true},
				{Var: "user", From: ExtractJSON, Path: "data.user"},
			}},
		{Name: "me", Request: &StepRequest{URL: tmpl("{{ .Tenant.URL }}/api/me"),
			Headers: []NamedTemplate{nt("Authorization", "Bearer {{ .Extracted.token }}")}},
			Expect: HTTPExpect{JSON: []JSONAssertion{{Path: "user", Op: JSONEquals, Value: saasUser}}}},
	}
	r := ProbeLogin(context.Background(), loginTarget(srv.URL, steps...))
	expectLogin(t, r, ReasonNone, "")
	got := extracted(r.Steps[0])
	if got["token"] != Redacted || got["uid"] != "42" || got["user"] != `{"id":42}` {
		t.Errorf("extracted %v", got)
	}
}

func TestLoginOAuth2(t *testing.T) {
	saas := newFakeSaaS()
	srv := newServer(t, saas)
	grant := func(kind, query string, opts ...func(*OAuth2Grant)) *OAuth2Grant {
		g := &OAuth2Grant{Grant: kind, TokenURL: srv.URL + "/oauth/token" + query, ClientID: clientID,
			ClientSecret: clientSecret, Scopes: []string{"read", "write"}}
		if kind == GrantPassword {
			g.Username, g.Password = saasUser, saasPassword
		}
		for _, o := range opts {
			o(g)
		}
		return g
	}
	me := func(v string) Step {
		return Step{Name: "me", Request: &StepRequest{URL: tmpl("{{ .Tenant.URL }}/api/me"),
			Headers: []NamedTemplate{nt("Authorization", "Bearer {{ .Extracted."+v+" }}")}}}
	}
	for _, tc := range []struct {
		name     string
		grant    *OAuth2Grant
		v        string
		reason   Reason
		fragment string
		status   int
		attempts int // token requests: exactly one, in either auth style
	}{
		{"client_credentials, Basic auth", grant(GrantClientCredentials, ""), "access_token", ReasonNone, "", 200, 1},
		{"client_credentials, form auth", grant(GrantClientCredentials, "?auth=form", func(g *OAuth2Grant) { g.AuthStyle = AuthStyleParams }),
			"access_token", ReasonNone, "", 200, 1},
		{"form-only server, header auth", grant(GrantClientCredentials, "?auth=form"), "access_token",
			ReasonStatus, `status 401, want 2xx; error "invalid_client"`, 401, 1},
		{"password grant into a named var", grant(GrantPassword, "", func(g *OAuth2Grant) { g.Var = "tok" }), "tok", ReasonNone, "", 200, 1},
		{"wrong client secret", grant(GrantClientCredentials, "", func(g *OAuth2Grant) { g.ClientSecret = "wrong-s3cret" }), "access_token",
			ReasonStatus, `step "token": POST ` + srv.URL + `/oauth/token: status 401, want 2xx; error "invalid_client": client authentication failed`, 401, 1},
		{"wrong password", grant(GrantPassword, "", func(g *OAuth2Grant) { g.Password = "nope-nope" }), "access_token",
			ReasonStatus, `status 400, want 2xx; error "invalid_grant"`, 400, 1},
		{"token endpoint 500", grant(GrantClientCredentials, "?status=500"), "access_token",
			ReasonStatus, "status 500, want 2xx; body: token service unavailable", 500, 1},
		{"unknown grant", grant("implicit", ""), "access_token", ReasonInternal, `unknown oauth2 grant "implicit"`, 0, 0},
		{"unknown auth style", grant(GrantClientCredentials, "", func(g *OAuth2Grant) { g.AuthStyle = "cookie" }), "access_token",
			ReasonInternal, `unknown oauth2 auth style "cookie"`, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, before := saas.counts()
			r := ProbeLogin(context.Background(), loginTarget(srv.URL, Step{Name: "token", OAuth2: tc.grant}, me(tc.v)))
			expectLogin(t, r, tc.reason, tc.fragment)
			if r.StatusCode != tc.status {
				t.Errorf("status %d, want %d", r.StatusCode, tc.status)
			}
			if _, after := saas.counts(); after-before != tc.attempts {
				t.Errorf("%d token requests, want %d", after-before, tc.attempts)
			}
			if strings.Contains(r.Message, tc.grant.ClientSecret) {
				t.Errorf("client secret in %q", r.Message)
			}
			if tc.reason == ReasonNone {
				if v := extracted(r.Steps[0])[tc.v]; v != Redacted {
					t.Errorf("token shown as %q", v)
				}
				if r.Steps[0].StatusCode != 200 || r.Steps[0].Phases.Connect <= 0 {
					t.Errorf("token step status %d phases %+v", r.Steps[0].StatusCode, r.Steps[0].Phases)
				}
			}
		})
	}
}

func TestLoginStepFailures(t *testing.T) {
	srv := newServer(t, newFakeSaaS())
	for _, tc := range []struct {
		name      string
		change    func(t *Target)
		summary   string
		reason    Reason
		fragment  string
		completed int
		status    int
	}{
		{"wrong password: skips home, still signs out", func(t *Target) { t.Login.Vars["password"] = "hunter2-wrong" },
			"login page=ok submit=status home=skipped sign out=ok", ReasonStatus,
			`step "submit": POST ` + srv.URL + "/login: status 401, want 303; body: invalid password <secret> for " + saasUser, 1, 401},
		{"failure mid-way skips every later step", func(t *Target) {
			t.Login.Steps[1].Expect.Status = []int{200}
			t.Login.Steps[3].AlwaysRun = false
		}, "login page=ok submit=status home=skipped sign out=skipped", ReasonStatus, "status 303 (Location: /home), want 200", 1, 303},
		{"header match", func(t *Target) { t.Login.Steps[1].HeaderMatches[0].Regexp = regexp.MustCompile(`/dashboard$`) },
			"login page=ok submit=assertion home=skipped sign out=ok", ReasonAssertion, `header Location "/home" does not match //dashboard$/`, 1, 303},
		{"missing header", func(t *Target) { t.Login.Steps[1].HeaderMatches[0].Name = "X-Session" },
			"login page=ok submit=assertion home=skipped sign out=ok", ReasonAssertion, "no header X-Session, want //home$/", 1, 303},
		{"third step fails", func(t *Target) { t.Login.Steps[2].Expect.BodyContains = []string{"Goodbye"} },
			"login page=ok submit=ok home=assertion sign out=ok", ReasonAssertion, `step "home": GET ` + srv.URL + `/home: body does not contain "Goodbye"`, 2, 200},
		{"only the always_run step fails", func(t *Target) { t.Login.Steps[3].Request.URL = tmpl("{{ .Tenant.URL }}/logout?status=500") },
			"login page=ok submit=ok home=ok sign out=status", ReasonStatus, `step "sign out": POST ` + srv.URL + "/logout?status=500: status 500, want 2xx", 3, 500},
		{"always_run fails after a failure: the first failure is the news", func(t *Target) {
			t.Login.Vars["password"] = "hunter2-wrong"
			t.Login.Steps[3].Request.URL = tmpl("{{ .Tenant.URL }}/logout?status=500")
		}, "login page=ok submit=status home=skipped sign out=status", ReasonStatus, `step "submit"`, 1, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tgt := loginTarget(srv.URL, formSignIn()...)
			tgt.Secrets = append(tgt.Secrets, "hunter2-wrong")
			tc.change(&tgt)
			r := ProbeLogin(context.Background(), tgt)
			expectLogin(t, r, tc.reason, tc.fragment)
			if got := summary(r); got != tc.summary {
				t.Errorf("steps %s, want %s", got, tc.summary)
			}
			if r.StepsCompleted != tc.completed || r.StatusCode != tc.status {
				t.Errorf("completed %d status %d, want %d and %d", r.StepsCompleted, r.StatusCode, tc.completed, tc.status)
			}
			for _, s := range r.Steps {
				if !s.Ran && (s.Duration != 0 || s.StatusCode != 0 || s.Reason != ReasonNone || s.Message != "") {
					t.Errorf("skipped step %q reports %+v", s.Name, s)
				}
			}
		})
	}
}

func TestLoginSecretsRedacted(t *testing.T) {
	srv := newServer(t, newFakeSaaS())

	// The app echoes the password it was sent; config knows it as a secret.
	tgt := loginTarget(srv.URL, formSignIn()...)
	const wrong = `s3cret&"pass"=x`
	tgt.Login.Vars["password"], tgt.Secrets = wrong, []string{wrong}
	r := ProbeLogin(context.Background(), tgt)
	expectLogin(t, r, ReasonStatus, "body: invalid password <secret> for")
	for _, s := range append(r.Steps, StepResult{Message: r.Message}) {
		if frag := leakedPart(s.Message, wrong); frag != "" {
			t.Errorf("%q of the password leaked in %q", frag, s.Message)
		}
	}

	// A session token extracted as a secret, echoed by a later step in
	// its URL and body, is masked though config never knew it.
	steps := formSignIn()[:2]
	steps = append(steps, Step{Name: "echo", Request: &StepRequest{
		URL: tmpl("{{ .Tenant.URL }}/?status=500&body={{ .Extracted.session }}+rejected")}})
	r = ProbeLogin(context.Background(), loginTarget(srv.URL, steps...))
	expectLogin(t, r, ReasonStatus, `step "echo": GET `+srv.URL+"/?status=500&body=<secret>+rejected: status 500, want 2xx; body: <secret> rejected")
}

func TestLoginEscaping(t *testing.T) {
	const value = `a&b=c/d "e" +ü#?%`
	type received struct{ query, query2, form, json, raw, header string }
	got := make(chan received, 4)
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/value" {
			json.NewEncoder(w).Encode(map[string]string{"v": value})
			return
		}
		body, _ := io.ReadAll(r.Body)
		rc := received{query: r.URL.Query().Get("q"), query2: r.URL.Query().Get("q2"), header: r.Header.Get("X-Value")}
		switch r.Header.Get("Content-Type") {
		case "application/x-www-form-urlencoded":
			form, _ := url.ParseQuery(string(body))
			rc.form = form.Get("v")
		case "application/json":
			var v struct{ V []string }
			if err := json.Unmarshal(body, &v); err == nil && len(v.V) == 1 {
				rc.json = v.V[0]
			}
		case "text/csv":
			rc.raw = string(body)
		}
		got <- rc
	}))
	send := func(name string, body StepBody) Step {
		return Step{Name: name, Request: &StepRequest{Method: http.MethodPost,
			URL:     tmpl("{{ .Tenant.URL }}/echo?q={{ .Extracted.v }}#frag"),
			Query:   []NamedTemplate{nt("q2", "{{ .Extracted.v }}")},
			Headers: []NamedTemplate{nt("X-Value", "{{ .Extracted.v }}")},
			Body:    body}}
	}
	steps := []Step{
		{Name: "value", Request: &StepRequest{URL: tmpl("{{ .Tenant.URL }}/value")},
			Extract: []Extractor{{Var: "v", From: ExtractJSON, Path: "v", Required: true}}},
		send("form", StepBody{Kind: BodyForm, Form: []NamedTemplate{nt("v", "{{ .Extracted.v }}")}}),
		send("json", StepBody{Kind: BodyJSON, JSON: map[string]any{"v": []any{tmpl("{{ .Extracted.v }}")}}}),
		send("raw", StepBody{Kind: BodyRaw, Raw: tmpl("{{ .Extracted.v }}"), ContentType: "text/csv"}),
	}
	r := ProbeLogin(context.Background(), loginTarget(srv.URL, steps...))
	expectLogin(t, r, ReasonNone, "")
	for _, want := range []received{
		{query: value, query2: value, header: value, form: value},
		{query: value, query2: value, header: value, json: value},
		{query: value, query2: value, header: value, raw: value},
	} {
		if rc := <-got; rc != want {
			t.Errorf("server received %+v\nwant %+v", rc, want)
		}
	}
}

func TestRunLogin(t *testing.T) {
	srv := newServer(t, newFakeSaaS())
	expectLogin(t, Run(context.Background(), loginTarget(srv.URL, formSignIn()...)), ReasonNone, "")
	tgt := loginTarget(srv.URL)
	expectLogin(t, Run(context.Background(), tgt), ReasonInternal, "login check without steps")
	tgt.Login = nil
	r := Run(context.Background(), tgt)
	if r.Reason != ReasonInternal || !strings.Contains(r.Message, `no prober for kind "login"`) {
		t.Errorf("login target without a spec: %s %s", r.Reason, r.Message)
	}
}
