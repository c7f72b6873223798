package demo

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

const testPassword = "pa ss+w%rd&" // every character form or Basic encoding could mangle

// newSignInServer is a demo of 3 tenants signing in with testPassword.
func newSignInServer(t testing.TB) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(Options{Tenants: 3, Password: testPassword, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts
}

// browser is a client with a cookie jar that shows redirects rather than
// following them.
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

type reply struct {
	code   int
	header http.Header
	body   string
	err    error
}

// send makes one request; hdr holds header name, value pairs.
func send(t *testing.T, c *http.Client, method, u, contentType, body string, hdr ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return reply{code: resp.StatusCode, header: resp.Header, body: string(b), err: err}
}

func postForm(t *testing.T, c *http.Client, u string, v url.Values, hdr ...string) reply {
	t.Helper()
	return send(t, c, http.MethodPost, u, "application/x-www-form-urlencoded", v.Encode(), hdr...)
}

var csrfInput = regexp.MustCompile(`<input type="hidden" name="csrf_token" value="([^"]+)">`)

// loginPage loads the login page and returns its CSRF token.
func loginPage(t *testing.T, c *http.Client, base string) string {
	t.Helper()
	r := send(t, c, http.MethodGet, base+"/login", "", "")
	m := csrfInput.FindStringSubmatch(r.body)
	if r.err != nil || r.code != 200 || m == nil {
		t.Fatalf("GET /login: %d %v\n%s", r.code, r.err, r.body)
	}
	return m[1]
}

// apiSession signs in by JSON and returns the reply and its token.
func apiSession(t *testing.T, c *http.Client, base, user, password string) (reply, string) {
	t.Helper()
	b, _ := json.Marshal(sessionRequest{User: user, Password: password})
	r := send(t, c, http.MethodPost, base+"/api/session", "application/json", string(b))
	var sr sessionResponse
	json.Unmarshal([]byte(r.body), &sr)
	return r, sr.Token
}

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

func TestLoginPage(t *testing.T) {
	_, ts := newSignInServer(t)
	r := send(t, http.DefaultClient, http.MethodGet, ts.URL+"/t/acme/login", "", "")
	for _, want := range []string{`<form method="post" action="/t/acme/login">`, `name="username"`,
		`type="password" name="password"`, `name="csrf_token" value="`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("login page lacks %q:\n%s", want, r.body)
		}
	}
	tok := csrfInput.FindStringSubmatch(r.body)[1]
	c := (&http.Response{Header: r.header}).Cookies()
	if len(c) != 1 || c[0].Name != "csrf" || c[0].Value != tok || c[0].Path != "/t/acme" ||
		!c[0].HttpOnly || c[0].SameSite != http.SameSiteLaxMode || len(tok) != 22 {
		t.Errorf("csrf cookie %+v for token %q", c, tok)
	}
	if again := loginPage(t, http.DefaultClient, ts.URL+"/t/acme"); again == tok {
		t.Error("the CSRF token is the same on two page views")
	}
}

func TestFormSignIn(t *testing.T) {
	_, ts := newSignInServer(t)
	base := ts.URL + "/t/acme"
	tests := []struct {
		name     string
		form     func(csrf string) url.Values
		newJar   bool // POST without the csrf cookie
		want     int
		contains string
	}{
		{"ok", func(csrf string) url.Values { return loginForm(SyntheticUser("acme"), testPassword, csrf) }, false, 303, ""},
		{"wrong password", func(csrf string) url.Values { return loginForm(SyntheticUser("acme"), "nope", csrf) }, false, 401, "invalid username or password"},
		{"other tenant's user", func(csrf string) url.Values { return loginForm(SyntheticUser("globex"), testPassword, csrf) }, false, 401, "invalid username or password"},
		{"wrong csrf", func(csrf string) url.Values { return loginForm(SyntheticUser("acme"), testPassword, csrf+"x") }, false, 403, "invalid CSRF token"},
		{"no csrf field", func(string) url.Values { return loginForm(SyntheticUser("acme"), testPassword, "") }, false, 403, "invalid CSRF token"},
		{"no csrf cookie", func(csrf string) url.Values { return loginForm(SyntheticUser("acme"), testPassword, csrf) }, true, 403, "invalid CSRF token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := browser(t)
			csrf := loginPage(t, c, base)
			if tt.newJar {
				c = browser(t)
			}
			r := postForm(t, c, base+"/login", tt.form(csrf))
			if r.err != nil || r.code != tt.want || !strings.Contains(r.body, tt.contains) {
				t.Fatalf("POST /login: %d %v %q, want %d %q", r.code, r.err, r.body, tt.want, tt.contains)
			}
			home := send(t, c, http.MethodGet, base+"/home", "", "")
			if signedIn := home.code == 200; signedIn != (tt.want == 303) {
				t.Errorf("GET /home after %d: %d %q", r.code, home.code, home.body)
			}
		})
	}
}

func loginForm(user, password, csrf string) url.Values {
	return url.Values{"username": {user}, "password": {password}, "csrf_token": {csrf}}
}

// The whole browser flow: sign in, home, /api/me by cookie, sign out.
func TestFormSignInFlow(t *testing.T) {
	_, ts := newSignInServer(t)
	base := ts.URL + "/t/acme"
	c := browser(t)
	r := postForm(t, c, base+"/login", loginForm(SyntheticUser("acme"), testPassword, loginPage(t, c, base)))
	if r.code != 303 || r.header.Get("Location") != "/t/acme/home" {
		t.Fatalf("POST /login: %d Location %q", r.code, r.header.Get("Location"))
	}
	var session *http.Cookie
	for _, ck := range (&http.Response{Header: r.header}).Cookies() {
		if ck.Name == "session" {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.Path != "/t/acme" || len(session.Value) != 43 {
		t.Fatalf("session cookie %+v", session)
	}
	if r := send(t, c, http.MethodGet, base+"/home", "", ""); r.code != 200 || !strings.Contains(r.body, "Welcome, synthetic@acme.example") {
		t.Errorf("GET /home: %d %q", r.code, r.body)
	}
	me := send(t, c, http.MethodGet, base+"/api/me", "", "")
	if me.code != 200 || me.body != `{"user":"synthetic@acme.example","tenant":"acme","plan":"enterprise"}`+"\n" {
		t.Errorf("GET /api/me: %d %q", me.code, me.body)
	}
	if r := send(t, c, http.MethodPost, base+"/logout", "", ""); r.code != 303 || r.header.Get("Location") != "/t/acme/login" {
		t.Errorf("POST /logout: %d %v", r.code, r.header)
	}
	if r := send(t, c, http.MethodGet, base+"/home", "", ""); r.code != 303 || r.header.Get("Location") != "/t/acme/login" {
		t.Errorf("GET /home after logout: %d %v", r.code, r.header)
	}
	// The session ended on the server, not only in the jar.
	if r := send(t, http.DefaultClient, http.MethodGet, base+"/api/me", "", "", "Cookie", "session="+session.Value); r.code != 401 {
		t.Errorf("old session cookie after logout: %d %q", r.code, r.body)
	}
}

func TestAPISession(t *testing.T) {
	_, ts := newSignInServer(t)
	base := ts.URL + "/t/globex"
	tests := []struct {
		name, body string
		want       int
		contains   string
	}{
		{"ok", `{"user":"synthetic@globex.example","password":` + jsonString(testPassword) + `}`, 200, `"expires_in":900`},
		{"wrong password", `{"user":"synthetic@globex.example","password":"nope"}`, 401, `{"error":"invalid credentials"}`},
		{"wrong user", `{"user":"synthetic@acme.example","password":` + jsonString(testPassword) + `}`, 401, "invalid credentials"},
		{"empty object", `{}`, 401, "invalid credentials"},
		{"not JSON", `user=x`, 400, "invalid JSON"},
		{"empty body", ``, 400, "invalid JSON"},
		{"wrong types", `{"user":1}`, 400, "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(t, http.DefaultClient, http.MethodPost, base+"/api/session", "application/json", tt.body)
			if r.code != tt.want || !strings.Contains(r.body, tt.contains) {
				t.Errorf("got %d %q, want %d containing %q", r.code, r.body, tt.want, tt.contains)
			}
		})
	}

	c := http.DefaultClient
	r, tok := apiSession(t, c, base, SyntheticUser("globex"), testPassword)
	if r.code != 200 || len(tok) != 43 || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("sign-in: %d %q %v", r.code, r.body, r.header)
	}
	if me := send(t, c, http.MethodGet, base+"/api/me", "", "", bearer(tok)...); me.code != 200 || !strings.Contains(me.body, `"tenant":"globex"`) {
		t.Errorf("GET /api/me: %d %q", me.code, me.body)
	}
	if r := send(t, c, http.MethodDelete, base+"/api/session", "", "", bearer(tok)...); r.code != 204 {
		t.Errorf("DELETE /api/session: %d %q", r.code, r.body)
	}
	if me := send(t, c, http.MethodGet, base+"/api/me", "", "", bearer(tok)...); me.code != 401 {
		t.Errorf("GET /api/me after sign-out: %d", me.code)
	}
	if r := send(t, c, http.MethodDelete, base+"/api/session", "", "", bearer(tok)...); r.code != 204 {
		t.Errorf("second DELETE: %d, want 204 (idempotent)", r.code)
	}
	if r := send(t, c, http.MethodDelete, base+"/api/session", "", ""); r.code != 401 {
		t.Errorf("DELETE without a token: %d", r.code)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestMe(t *testing.T) {
	s, ts := newSignInServer(t)
	_, acme := apiSession(t, http.DefaultClient, ts.URL+"/t/acme", SyntheticUser("acme"), testPassword)
	_, cookie := apiSession(t, http.DefaultClient, ts.URL+"/t/acme", SyntheticUser("acme"), testPassword)
	expired := s.tenants["acme"].sessions.issue(SyntheticUser("acme"), true)
	tests := []struct {
		name, tenant string
		hdr          []string
		want         int
	}{
		{"bearer", "acme", bearer(acme), 200},
		{"lower-case scheme", "acme", []string{"Authorization", "bearer " + acme}, 200},
		{"cookie", "acme", []string{"Cookie", "session=" + cookie}, 200},
		{"bearer wins over cookie", "acme", []string{"Authorization", "Bearer nope", "Cookie", "session=" + cookie}, 401},
		{"other tenant", "globex", bearer(acme), 401},
		{"unknown token", "acme", bearer("nope"), 401},
		{"expired", "acme", bearer(expired), 401},
		{"basic scheme", "acme", []string{"Authorization", "Basic " + acme}, 401},
		{"empty bearer", "acme", []string{"Authorization", "Bearer "}, 401},
		{"nothing", "acme", nil, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(t, http.DefaultClient, http.MethodGet, ts.URL+"/t/"+tt.tenant+"/api/me", "", "", tt.hdr...)
			if r.code != tt.want {
				t.Errorf("got %d %q, want %d", r.code, r.body, tt.want)
			}
			if r.code == 401 && (r.body != `{"error":"not signed in"}`+"\n" || r.header.Get("WWW-Authenticate") == "") {
				t.Errorf("401 answer: %q %v", r.body, r.header)
			}
		})
	}
}

// A tenant with a password of its own accepts it, and only it; the others
// keep the shared one.
func TestPerTenantPasswords(t *testing.T) {
	env := []string{"FOREWARN_DEMO_PASSWORD=shared", "FOREWARN_DEMO_PASSWORD_ACME=acme-own", "FOREWARN_DEMO_PASSWORD_DUNDER_MIFFLIN=dm", "PATH=/bin"}
	got := PasswordsFromEnv(env, 20)
	if len(got) != 2 || got["acme"] != "acme-own" || got["dunder-mifflin"] != "dm" {
		t.Fatalf("PasswordsFromEnv = %v", got)
	}
	srv, err := New(Options{Tenants: 3, Password: "shared", Passwords: got})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	for _, c := range []struct {
		tenant, password string
		want             int
	}{
		{"acme", "acme-own", 200}, {"acme", "shared", 401}, {"globex", "shared", 200}, {"globex", "acme-own", 401},
	} {
		body := fmt.Sprintf(`{"user":%q,"password":%q}`, SyntheticUser(c.tenant), c.password)
		resp, err := http.Post(ts.URL+"/t/"+c.tenant+"/api/session", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s signing in with %q: %d, want %d", c.tenant, c.password, resp.StatusCode, c.want)
		}
	}
}
