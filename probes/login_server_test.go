package probes

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"
)

// fakeSaaS is a tenant's application as a login check meets it:
//
//	GET  /login         sign-in form with a CSRF token tied to a "pre" cookie
//	POST /login         user, password, csrf_token → 303 to /home with a "sid"
//	                    cookie; a wrong password → 401 echoing it, as careless
//	                    apps do
//	GET  /home          200 "Welcome, USER" with a valid sid, else 303 to /login
//	POST /logout        ends the session; 200, or the status in ?status=
//	POST /api/token     JSON {"username","password"} → {"data":{"token":…}}
//	GET  /api/me        needs "Authorization: Bearer TOKEN"
//	POST /oauth/token   RFC 6749 token endpoint: client_credentials and
//	                    password grants, client authenticated by HTTP Basic or,
//	                    with ?auth=form only, by client_id/client_secret form
//	                    fields; ?status=N answers N with a plain body
//	GET  /cookies?n=N   sets N cookies
//	anything else       hostile{}: redirect loops, slow responses, …
//
// It answers 418 to any request not marked as synthetic.
type fakeSaaS struct {
	mu       sync.Mutex
	pre      map[string]string // pre-session cookie → CSRF token
	sessions map[string]string // sid → user
	tokens   map[string]string // bearer token → user
	logouts  int
	attempts int // token requests
}

const (
	saasUser     = "synthetic@acme.example"
	saasPassword = "pa55&w0rd=\"x\""
	clientID     = "forewarn"
	clientSecret = "cl1ent-s3cret"
)

func newFakeSaaS() *fakeSaaS {
	return &fakeSaaS{pre: map[string]string{}, sessions: map[string]string{}, tokens: map[string]string{}}
}

func (s *fakeSaaS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Every request of a run, the oauth2 package's included, says what it is.
	if r.Header.Get(SyntheticHeader) != "1" || r.Header.Get("User-Agent") != UserAgent {
		http.Error(w, "not marked as synthetic", http.StatusTeapot)
		return
	}
	switch r.Method + " " + r.URL.Path {
	case "GET /login":
		s.loginPage(w)
	case "POST /login":
		s.signIn(w, r)
	case "GET /home":
		if user := s.session(r); user != "" {
			fmt.Fprintf(w, "<h1>Welcome, %s</h1>", html.EscapeString(user))
			return
		}
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	case "POST /logout":
		s.logout(w, r)
	case "POST /api/token":
		s.apiToken(w, r)
	case "GET /api/me":
		s.apiMe(w, r)
	case "POST /oauth/token":
		s.oauthToken(w, r)
	case "GET /cookies":
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		for i := range n {
			http.SetCookie(w, &http.Cookie{Name: "c" + strconv.Itoa(i), Value: "v", Path: "/"})
		}
	default:
		hostile{}.ServeHTTP(w, r)
	}
}

func randomToken() string { return rand.Text() }

func (s *fakeSaaS) loginPage(w http.ResponseWriter) {
	pre, csrf := randomToken(), randomToken()
	s.mu.Lock()
	s.pre[pre] = csrf
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "pre", Value: pre, Path: "/", HttpOnly: true})
	// Decoys a regex would trip on: a commented-out input, one in a
	// script, attributes in odd order and quoting.
	fmt.Fprintf(w, `<!DOCTYPE html><html><body>
<!-- <input name="csrf_token" value="stale"> -->
<script>var t = '<input name="csrf_token" value="script">';</script>
<form method=post action=/login>
<input type=email name=user>
<input type="hidden" name="remember" value="1">
<input value='%s' type='hidden' NAME='csrf_token'>
<input name="password" type="password">
</form></body></html>`, csrf)
}

func (s *fakeSaaS) signIn(w http.ResponseWriter, r *http.Request) {
	pre, _ := r.Cookie("pre")
	r.ParseForm()
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case pre == nil || s.pre[pre.Value] == "" || s.pre[pre.Value] != r.PostForm.Get("csrf_token"):
		http.Error(w, "CSRF token missing or wrong", http.StatusForbidden)
	case r.PostForm.Get("user") != saasUser || r.PostForm.Get("password") != saasPassword:
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, "invalid password %s for %s", r.PostForm.Get("password"), r.PostForm.Get("user"))
	default:
		sid := randomToken()
		s.sessions[sid] = saasUser
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: sid, Path: "/", HttpOnly: true})
		http.Redirect(w, r, "/home", http.StatusSeeOther)
	}
}

func (s *fakeSaaS) session(r *http.Request) string {
	c, err := r.Cookie("sid")
	if err != nil {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[c.Value]
}

func (s *fakeSaaS) logout(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.logouts++
	if c, err := r.Cookie("sid"); err == nil {
		delete(s.sessions, c.Value)
	}
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "sid", Path: "/", MaxAge: -1})
	if status, _ := strconv.Atoi(r.URL.Query().Get("status")); status != 0 {
		w.WriteHeader(status)
	}
}

func (s *fakeSaaS) apiToken(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username, Password string
		Remember           bool
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, `{"error":"bad json"}`, http.StatusBadRequest)
		return
	}
	if in.Username != saasUser || in.Password != saasPassword || !in.Remember {
		http.Error(w, `{"error":"invalid credentials"}`, http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"data":{"token":%q,"expires_in":3600,"user":{"id":42}}}`, s.issue(saasUser))
}

func (s *fakeSaaS) issue(user string) string {
	tok := randomToken()
	s.mu.Lock()
	s.tokens[tok] = user
	s.mu.Unlock()
	return tok
}

func (s *fakeSaaS) apiMe(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	user := s.tokens[tok]
	s.mu.Unlock()
	if !ok || user == "" {
		http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"user":%q,"plan":"pro"}`, user)
}

func (s *fakeSaaS) oauthToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.attempts++
	s.mu.Unlock()
	q := r.URL.Query()
	if status, _ := strconv.Atoi(q.Get("status")); status != 0 {
		http.Error(w, "token service unavailable", status)
		return
	}
	r.ParseForm()
	id, secret, basic := r.BasicAuth()
	if !basic || q.Get("auth") == "form" {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	w.Header().Set("Content-Type", "application/json")
	grant := r.PostForm.Get("grant_type")
	switch {
	case id != clientID || secret != clientSecret:
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"invalid_client","error_description":"client authentication failed"}`)
	case grant == "password" && (r.PostForm.Get("username") != saasUser || r.PostForm.Get("password") != saasPassword):
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_grant"}`)
	case grant != "password" && grant != "client_credentials" || r.PostForm.Get("scope") != "read write":
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":"invalid_request","error_description":"grant %q scope %q"}`, grant, r.PostForm.Get("scope"))
	default:
		fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":3600}`, s.issue(saasUser))
	}
}

func (s *fakeSaaS) counts() (logouts, attempts int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logouts, s.attempts
}

// tmpl parses a request template as config does: an unset value stops it.
func tmpl(text string) *template.Template {
	return template.Must(template.New("t").Option("missingkey=error").Parse(text))
}

func nt(name, value string) NamedTemplate { return NamedTemplate{Name: name, Value: tmpl(value)} }

// loginTarget is a login check of the tenant at url with a 5 s timeout.
func loginTarget(url string, steps ...Step) Target {
	return Target{
		Tenant: "acme", Check: "signin", Kind: KindLogin, Timeout: 5 * time.Second,
		Secrets: []string{saasPassword},
		Login: &LoginSpec{
			Steps:  steps,
			Tenant: TemplateTenant{ID: "acme", URL: url},
			Vars:   map[string]string{"user": saasUser, "password": saasPassword},
		},
	}
}

// formSignIn is the four steps of a browser-style sign-in.
func formSignIn() []Step {
	return []Step{
		{Name: "login page", Request: &StepRequest{URL: tmpl("{{ .Tenant.URL }}/login")},
			Extract: []Extractor{{Var: "csrf", From: ExtractFormInput, Name: "csrf_token", Required: true}}},
		{Name: "submit", Request: &StepRequest{
			Method: http.MethodPost, URL: tmpl("{{ .Tenant.URL }}/login"),
			Body: StepBody{Kind: BodyForm, Form: []NamedTemplate{
				nt("user", "{{ .Vars.user }}"), nt("password", "{{ .Vars.password }}"), nt("csrf_token", "{{ .Extracted.csrf }}"),
			}}},
			Expect:        HTTPExpect{Status: []int{http.StatusSeeOther}},
			HeaderMatches: []HeaderMatch{{Name: "Location", Regexp: regexp.MustCompile(`/home$`)}},
			Extract:       []Extractor{{Var: "session", From: ExtractCookie, Name: "sid", Required: true, Secret: true}}},
		{Name: "home", Request: &StepRequest{URL: tmpl("{{ .Tenant.URL }}/home")},
			Expect: HTTPExpect{BodyContains: []string{"Welcome"}}},
		{Name: "sign out", AlwaysRun: true, Request: &StepRequest{Method: http.MethodPost, URL: tmpl("{{ .Tenant.URL }}/logout")}},
	}
}
