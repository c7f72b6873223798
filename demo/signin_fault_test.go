package demo

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// signInFlows sign in each way and report what a client sees: the sign-in
// answer, then /api/me (or /home for the form) with what it got.
var signInFlows = map[string]func(t *testing.T, base string) (signIn, after reply){
	"form": func(t *testing.T, base string) (reply, reply) {
		c := browser(t)
		csrf := loginPage(t, c, base)
		in := postForm(t, c, base+"/login", loginForm(SyntheticUser("acme"), testPassword, csrf))
		return in, send(t, c, http.MethodGet, base+"/home", "", "")
	},
	"json": func(t *testing.T, base string) (reply, reply) {
		in, tok := apiSession(t, http.DefaultClient, base, SyntheticUser("acme"), testPassword)
		return in, send(t, http.DefaultClient, http.MethodGet, base+"/api/me", "", "", bearer(tok)...)
	},
	"oauth": func(t *testing.T, base string) (reply, reply) {
		in := postForm(t, http.DefaultClient, base+"/oauth/token", url.Values{"grant_type": {"client_credentials"}},
			basicAuth(OAuthClientID("acme"), testPassword)...)
		tok := jsonField(in.body, "access_token")
		return in, send(t, http.DefaultClient, http.MethodGet, base+"/api/me", "", "", bearer(tok)...)
	},
}

// jsonField cuts a string field out of a small JSON object.
func jsonField(body, name string) string {
	_, rest, ok := strings.Cut(body, `"`+name+`":"`)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, `"`)
	return v
}

func TestSignInFaults(t *testing.T) {
	type want struct {
		signIn   int    // status of the sign-in request
		contains string // in its body
		after    int    // status of /home (form) or /api/me (json, oauth)
	}
	tests := []struct {
		fault Fault
		want  map[string]want
	}{
		{Fault{}, map[string]want{ // no fault: the baseline
			"form": {303, "", 200}, "json": {200, "token", 200}, "oauth": {200, "access_token", 200}}},
		{Fault{Mode: ModeWrongCredentials}, map[string]want{
			"form":  {401, "invalid username or password", 303},
			"json":  {401, `{"error":"invalid credentials"}`, 401},
			"oauth": {401, `"error":"invalid_client"`, 401}}},
		{Fault{Mode: ModeTokenError}, map[string]want{
			"form":  {303, "", 200}, // the HTML sign-in has no token endpoint
			"json":  {500, `"error":"server_error"`, 401},
			"oauth": {500, `"error":"server_error"`, 401}}},
		{Fault{Mode: ModeSessionExpiry}, map[string]want{
			"form": {303, "", 303}, "json": {200, `"expires_in":900`, 401}, "oauth": {200, "access_token", 401}}},
		{Fault{Mode: ModeError, Status: 502}, map[string]want{
			"form": {502, "injected fault", 502}, "json": {502, "", 502}, "oauth": {502, "", 502}}},
	}
	for _, tt := range tests {
		for flow, w := range tt.want {
			t.Run(string(tt.fault.Mode)+"/"+flow, func(t *testing.T) {
				s, ts := newSignInServer(t)
				if tt.fault.Mode != "" {
					if _, err := s.SetFault("acme", tt.fault); err != nil {
						t.Fatal(err)
					}
				}
				if flow == "form" && tt.fault.Mode == ModeError {
					// The login page itself fails: nothing to submit.
					r := send(t, http.DefaultClient, http.MethodGet, ts.URL+"/t/acme/login", "", "")
					if r.code != w.signIn {
						t.Errorf("GET /login: %d", r.code)
					}
					return
				}
				in, after := signInFlows[flow](t, ts.URL+"/t/acme")
				if in.err != nil || in.code != w.signIn || !strings.Contains(in.body, w.contains) {
					t.Errorf("sign-in: %d %v %q, want %d containing %q", in.code, in.err, in.body, w.signIn, w.contains)
				}
				if after.code != w.after {
					t.Errorf("after sign-in: %d %q, want %d", after.code, after.body, w.after)
				}
			})
		}
	}
}

// wrong_credentials is the password changing: clearing it restores sign-in.
func TestWrongCredentialsCleared(t *testing.T) {
	s, ts := newSignInServer(t)
	base := ts.URL + "/t/acme"
	s.SetFault("acme", Fault{Mode: ModeWrongCredentials})
	if r, _ := apiSession(t, http.DefaultClient, base, SyntheticUser("acme"), testPassword); r.code != 401 {
		t.Errorf("with the fault: %d", r.code)
	}
	if r, _ := apiSession(t, http.DefaultClient, ts.URL+"/t/globex", SyntheticUser("globex"), testPassword); r.code != 200 {
		t.Errorf("another tenant: %d", r.code)
	}
	s.ClearFault("acme")
	if r, _ := apiSession(t, http.DefaultClient, base, SyntheticUser("acme"), testPassword); r.code != 200 {
		t.Errorf("after clearing: %d", r.code)
	}
}

// slow_signin delays the sign-in POSTs only; slow delays everything.
func TestSlowSignIn(t *testing.T) {
	const delay = 150 * time.Millisecond
	s, ts := newSignInServer(t)
	base := ts.URL + "/t/acme"
	_, tok := apiSession(t, http.DefaultClient, base, SyntheticUser("acme"), testPassword)
	if f, err := s.SetFault("acme", Fault{Mode: ModeSlowSignIn}); err != nil || f.Delay != DefaultSlowDelay {
		t.Fatalf("default delay: %+v %v", f, err)
	}
	s.SetFault("acme", Fault{Mode: ModeSlowSignIn, Delay: delay})
	tests := []struct {
		name string
		req  func() reply
		slow bool
	}{
		{"POST /api/session", func() reply {
			r, _ := apiSession(t, http.DefaultClient, base, SyntheticUser("acme"), testPassword)
			return r
		}, true},
		{"POST /oauth/token", func() reply {
			return postForm(t, http.DefaultClient, base+"/oauth/token", url.Values{"grant_type": {"client_credentials"}},
				basicAuth(OAuthClientID("acme"), testPassword)...)
		}, true},
		{"POST /login", func() reply { return postForm(t, browser(t), base+"/login", url.Values{}) }, true},
		{"GET /login", func() reply { return send(t, http.DefaultClient, http.MethodGet, base+"/login", "", "") }, false},
		{"GET /api/me", func() reply {
			return send(t, http.DefaultClient, http.MethodGet, base+"/api/me", "", "", bearer(tok)...)
		}, false},
		{"GET /health", func() reply { return send(t, http.DefaultClient, http.MethodGet, base+"/health", "", "") }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			r := tt.req()
			took := time.Since(start)
			if r.err != nil || r.code >= 500 || (took >= delay) != tt.slow {
				t.Errorf("%d %v in %s, slow %v", r.code, r.err, took, tt.slow)
			}
		})
	}
}

// The older modes reach the sign-in paths too.
func TestHTTPFaultsOnSignIn(t *testing.T) {
	s, ts := newSignInServer(t)
	base := ts.URL + "/t/acme"
	s.SetFault("acme", Fault{Mode: ModeDown})
	if r, _ := apiSession(t, http.DefaultClient, base, SyntheticUser("acme"), testPassword); r.err == nil {
		t.Errorf("down: POST /api/session answered %d", r.code)
	}
	s.SetFault("acme", Fault{Mode: ModeSlow, Delay: 100 * time.Millisecond})
	start := time.Now()
	if r := send(t, http.DefaultClient, http.MethodGet, base+"/api/me", "", ""); r.code != 401 || time.Since(start) < 100*time.Millisecond {
		t.Errorf("slow: GET /api/me %d in %s", r.code, time.Since(start))
	}
}

func TestSignInFaultValidation(t *testing.T) {
	s, _ := newSignInServer(t)
	for _, f := range []Fault{{Mode: ModeTokenError, Delay: time.Second}, {Mode: ModeWrongCredentials, Status: 500}} {
		if _, err := s.SetFault("acme", f); err == nil {
			t.Errorf("SetFault(%+v) accepted", f)
		}
	}
	if _, err := s.SetFault("acme", Fault{Mode: "nope"}); err == nil || !strings.Contains(err.Error(), "slow_signin") {
		t.Errorf("unknown mode error %v does not list the sign-in modes", err)
	}
}
