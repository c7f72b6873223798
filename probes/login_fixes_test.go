package probes

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// TestLoginSecretsBeforeJudging: a step failing before its extractors run
// still masks the secret values they would have set, wherever the failure
// quotes them.
func TestLoginSecretsBeforeJudging(t *testing.T) {
	srv := newServer(t, newFakeSaaS())
	submit := formSignIn()[:2]
	submit[1].HeaderMatches = []HeaderMatch{{Name: "Set-Cookie", Regexp: regexp.MustCompile(`^sid=nomatch`)}}
	token := Step{Name: "token", Request: &StepRequest{
		Method: http.MethodPost, URL: tmpl("{{ .Tenant.URL }}/api/token"),
		Body: StepBody{Kind: BodyJSON, JSON: map[string]any{
			"username": tmpl("{{ .Vars.user }}"), "password": tmpl("{{ .Vars.password }}"), "remember": true}}},
		Expect:  HTTPExpect{BodyContains: []string{"nope"}},
		Extract: []Extractor{{Var: "token", From: ExtractJSON, Path: "data.token", Required: true, Secret: true}}}
	location := Step{Name: "redirect", Request: &StepRequest{URL: tmpl("{{ .Tenant.URL }}/?location=/cb%3Fcode%3Dc0de-7777")},
		Extract: []Extractor{{Var: "next", From: ExtractHeader, Name: "Location", Required: true, Secret: true}}}
	for _, tc := range []struct {
		name     string
		steps    []Step
		reason   Reason
		fragment string
		leak     string // a regexp for the secret unmasked
	}{
		{"header match quoting Set-Cookie", submit, ReasonAssertion, `header Set-Cookie "sid=<secret>; Path=/; HttpOnly" does not match`, `sid=[A-Z0-9]{20}`},
		{"body excerpt", []Step{token}, ReasonAssertion, `body does not contain "nope"; body: {"data":{"token":"<secret>"`, `"token":"[^<]`},
		{"status message quoting Location", []Step{location}, ReasonStatus, "status 302 (Location: <secret>), want 2xx", `Location: [^<]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ProbeLogin(context.Background(), loginTarget(srv.URL, tc.steps...))
			expectLogin(t, r, tc.reason, tc.fragment)
			if regexp.MustCompile(tc.leak).MatchString(r.Message) {
				t.Errorf("secret leaked in %q", r.Message)
			}
		})
	}
}

// TestLoginExtractSecretThenFail: an extractor failing after another set a
// secret shows its excerpt with that secret masked.
func TestLoginExtractSecretThenFail(t *testing.T) {
	run := &loginRun{}
	rs := &response{header: http.Header{"X-Token": {"tok-8c1f7e"}}, body: []byte(`{"session":"tok-8c1f7e"}`)}
	_, f := run.extract([]Extractor{
		{Var: "token", From: ExtractHeader, Name: "X-Token", Secret: true},
		{Var: "id", From: ExtractJSON, Path: "user.id", Required: true},
	}, rs, &exchange{})
	if f == nil || f.reason != ReasonExtraction || !strings.HasSuffix(f.msg, `body: {"session":"<secret>"}`) {
		t.Errorf("failure %+v, want the excerpt with the token masked", f)
	}
}

// TestLoginSignOutAfterTimeout: the sign-out still goes out after the run
// timed out, within its own timeout, but not once the caller gave up.
func TestLoginSignOutAfterTimeout(t *testing.T) {
	saas := newFakeSaaS()
	srv := newServer(t, saas)
	tgt := loginTarget(srv.URL,
		Step{Name: "slow", Request: &StepRequest{URL: tmpl("{{ .Tenant.URL }}/?sleep=10s")}},
		formSignIn()[3])
	tgt.Timeout = 300 * time.Millisecond
	start := time.Now()
	r := ProbeLogin(context.Background(), tgt)
	expectLogin(t, r, ReasonTimeout, `step "slow": GET `+srv.URL+"/?sleep=10s: timed out after 300ms")
	if took := time.Since(start); summary(r) != "slow=timeout sign out=ok" || took > 2*time.Second {
		t.Errorf("steps %s, took %s", summary(r), took)
	}
	if logouts, _ := saas.counts(); logouts != 1 {
		t.Errorf("%d sign-outs reached the server, want 1", logouts)
	}

	// The scheduler shutting down stops the sign-out too.
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	tgt.Timeout = 5 * time.Second
	start = time.Now()
	r = ProbeLogin(ctx, tgt)
	expectLogin(t, r, ReasonInternal, "probe canceled")
	if took := time.Since(start); summary(r) != "slow=internal sign out=internal" || took > 2*time.Second {
		t.Errorf("steps %s, took %s", summary(r), took)
	}
	if logouts, _ := saas.counts(); logouts != 1 {
		t.Errorf("%d sign-outs reached the server after shutdown, want none", logouts-1)
	}

	// ... and stops a slow sign-out already under way.
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	tgt = loginTarget(srv.URL,
		Step{Name: "fail", Request: &StepRequest{URL: tmpl("{{ .Tenant.URL }}/?status=500")}},
		Step{Name: "slow sign out", AlwaysRun: true, Request: &StepRequest{URL: tmpl("{{ .Tenant.URL }}/?sleep=10s")}})
	start = time.Now()
	r = ProbeLogin(ctx, tgt)
	expectLogin(t, r, ReasonStatus, `step "fail"`)
	if took, s := time.Since(start), r.Steps[1]; took > 2*time.Second || s.Reason != ReasonInternal || !strings.Contains(s.Message, "probe canceled") {
		t.Errorf("took %s, sign out %s %q", took, s.Reason, s.Message)
	}
}

// TestLoginSignOutWithoutToken: a sign-out needing a token the failed
// sign-in never extracted is skipped, not failed; without an earlier
// failure a missing value is still the step's failure.
func TestLoginSignOutWithoutToken(t *testing.T) {
	srv := newServer(t, newFakeSaaS())
	token := Step{Name: "token", Request: &StepRequest{
		Method: http.MethodPost, URL: tmpl("{{ .Tenant.URL }}/api/token"),
		Body: StepBody{Kind: BodyJSON, JSON: map[string]any{"username": tmpl("{{ .Vars.user }}"), "password": "wrong"}}},
		Extract: []Extractor{{Var: "token", From: ExtractJSON, Path: "data.token", Required: true, Secret: true}}}
	optional := Step{Name: "optional", Request: &StepRequest{URL: tmpl("{{ .Tenant.URL }}/")},
		Extract: []Extractor{{Var: "token", From: ExtractHeader, Name: "X-Token"}}}
	signOut := Step{Name: "sign out", AlwaysRun: true, Request: &StepRequest{Method: http.MethodPost, URL: tmpl("{{ .Tenant.URL }}/logout"),
		Headers: []NamedTemplate{nt("Authorization", "Bearer {{ .Extracted.token }}")}}}

	r := ProbeLogin(context.Background(), loginTarget(srv.URL, token, signOut))
	expectLogin(t, r, ReasonStatus, `step "token"`)
	s := r.Steps[1]
	if summary(r) != "token=status sign out=skipped" || s.Success || s.Reason != ReasonNone ||
		s.Message != "skipped: needs .Extracted.token, which no earlier step set" {
		t.Errorf("steps %s, sign out %+v", summary(r), s)
	}

	r = ProbeLogin(context.Background(), loginTarget(srv.URL, optional, signOut))
	expectLogin(t, r, ReasonExtraction, `step "sign out": POST `+srv.URL+"/logout: header Authorization: .Extracted.token is not set")
	if summary(r) != "optional=ok sign out=extraction" {
		t.Errorf("steps %s", summary(r))
	}
}

// TestLoginURLExtracted: an extracted value starting the URL is used as a
// reference (a Location), one in the path is path-escaped, one in the
// query query-escaped; the server checks what arrived.
func TestLoginURLExtracted(t *testing.T) {
	const value = "a b&c=d/e"
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/dir/start":
			w.Header().Set("Location", r.URL.Query().Get("to"))
			w.WriteHeader(http.StatusFound)
		case "/value":
			json.NewEncoder(w).Encode(map[string]string{"v": value})
		case "/dir/next", "/abs":
			if r.URL.RawQuery != "x=1" {
				http.Error(w, "query "+r.URL.RawQuery, http.StatusBadRequest)
			}
		default:
			want := "/p/" + url.PathEscape(value) + "/end"
			if r.URL.EscapedPath() != want || r.URL.Query().Get("q") != value || r.URL.Query().Get("k") != "1" {
				http.Error(w, "path "+r.URL.EscapedPath()+" query "+r.URL.RawQuery, http.StatusBadRequest)
			}
		}
	}))
	follow := func(to string) []Step {
		return []Step{
			{Name: "start", Request: &StepRequest{URL: tmpl("{{ .Tenant.URL }}/dir/start?to=" + url.QueryEscape(to))},
				Expect:  HTTPExpect{Status: []int{http.StatusFound}},
				Extract: []Extractor{{Var: "next", From: ExtractHeader, Name: "Location", Required: true}}},
			{Name: "next", Request: &StepRequest{URL: tmpl("{{ .Extracted.next }}")}},
		}
	}
	for _, tc := range []struct {
		name  string
		steps []Step
	}{
		{"relative Location", follow("next?x=1")},
		{"absolute-path Location", follow("/abs?x=1")},
		{"absolute Location", follow(srv.URL + "/abs?x=1")},
		{"value in path and query", []Step{
			{Name: "value", Request: &StepRequest{URL: tmpl("{{ .Tenant.URL }}/value")},
				Extract: []Extractor{{Var: "v", From: ExtractJSON, Path: "v", Required: true}}},
			{Name: "use", Request: &StepRequest{URL: tmpl("{{ .Tenant.URL }}/p/{{ .Extracted.v }}/end?q={{ .Extracted.v }}&k=1")}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expectLogin(t, ProbeLogin(context.Background(), loginTarget(srv.URL, tc.steps...)), ReasonNone, "")
		})
	}
}

// TestLoginOAuth2OneRequestPerRun: each run sends one token request in
// either auth style, as the server wants it.
func TestLoginOAuth2OneRequestPerRun(t *testing.T) {
	saas := newFakeSaaS()
	srv := newServer(t, saas)
	for _, tc := range []struct{ style, query string }{
		{"", ""}, {AuthStyleHeader, ""}, {AuthStyleParams, "?auth=form"},
	} {
		t.Run("style "+tc.style, func(t *testing.T) {
			step := Step{Name: "token", OAuth2: &OAuth2Grant{Grant: GrantClientCredentials, TokenURL: srv.URL + "/oauth/token" + tc.query,
				ClientID: clientID, ClientSecret: clientSecret, Scopes: []string{"read", "write"}, AuthStyle: tc.style}}
			for run := 1; run <= 3; run++ {
				_, before := saas.counts()
				expectLogin(t, ProbeLogin(context.Background(), loginTarget(srv.URL, step)), ReasonNone, "")
				if _, after := saas.counts(); after-before != 1 {
					t.Errorf("run %d: %d token requests, want 1", run, after-before)
				}
			}
		})
	}
}

// TestLoginHeaderLineBreak: an extracted value with a line break is not
// sent as a header, and the tenant's response is blamed.
func TestLoginHeaderLineBreak(t *testing.T) {
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"token":"abc\r\nX-Injected: 1"}`))
	}))
	steps := []Step{
		{Name: "token", Request: &StepRequest{URL: tmpl("{{ .Tenant.URL }}/")},
			Extract: []Extractor{{Var: "token", From: ExtractJSON, Path: "token", Required: true}}},
		{Name: "me", Request: &StepRequest{URL: tmpl("{{ .Tenant.URL }}/me"),
			Headers: []NamedTemplate{nt("Authorization", "Bearer {{ .Extracted.token }}")}}},
	}
	r := ProbeLogin(context.Background(), loginTarget(srv.URL, steps...))
	expectLogin(t, r, ReasonExtraction, `step "me": GET `+srv.URL+"/me: extract token: value has a line break; not sent as a header")
}

// TestJSONTextSameForAssertAndExtract: a JSON value an extractor takes
// passes an equals assertion against that same text.
func TestJSONTextSameForAssertAndExtract(t *testing.T) {
	body := []byte(`{"n":1.50,"e":1e3,"neg":-0,"s":"x y","b":true,"o":{"k": [1, 2]}}`)
	x := &exchange{}
	for _, path := range []string{"n", "e", "neg", "s", "b", "o"} {
		v, ok := jsonValue(body, path)
		if !ok {
			t.Fatalf("%s not extracted", path)
		}
		if f := x.checkJSONValue(JSONAssertion{Path: path, Op: JSONEquals, Value: v}, gjson.GetBytes(body, path)); f != nil {
			t.Errorf("extracted %s as %q, but equals %q fails: %s", path, v, v, f.msg)
		}
	}
	if f := x.checkJSONValue(JSONAssertion{Path: "nil", Op: JSONEquals, Value: "null"}, gjson.Get(`{"nil":null}`, "nil")); f != nil {
		t.Errorf("null: %s", f.msg)
	}
}
