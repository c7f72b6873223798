package demo

import (
	"html/template"
	"net/http"
)

// The HTML sign-in: a login form protected by a double-submit CSRF token.
// Each page view draws a new token, puts it in the form's hidden csrf_token
// input and in the csrf cookie; a POST whose two copies differ is refused.
// Nothing is kept on the server until sign-in succeeds.

var loginTemplate = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in · {{ .Name }}</title></head>
<body>
<h1>Sign in to {{ .Name }}</h1>
{{ with .Error }}<p role="alert">{{ . }}</p>
{{ end -}}
<form method="post" action="{{ .Action }}">
<input type="hidden" name="csrf_token" value="{{ .CSRF }}">
<label>Username <input type="text" name="username" autocomplete="username"></label>
<label>Password <input type="password" name="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form>
</body>
</html>
`))

var homeTemplate = template.Must(template.New("home").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ .Name }}</title></head>
<body>
<h1>Welcome, {{ .User }}</h1>
<form method="post" action="{{ .Action }}"><button type="submit">Sign out</button></form>
</body>
</html>
`))

type loginPageData struct {
	Name, Action, CSRF, Error string
}

func (a *tenantApp) loginPage(w http.ResponseWriter, r *http.Request) {
	a.renderLogin(w, r, http.StatusOK, "")
}

// renderLogin writes the login page with a fresh CSRF token, and msg as the
// error when it is set.
func (a *tenantApp) renderLogin(w http.ResponseWriter, r *http.Request, code int, msg string) {
	csrf := newToken(16) // 128 bits
	http.SetCookie(w, a.cookie(r, csrfCookie, csrf, 0))
	renderHTML(w, code, loginTemplate, loginPageData{Name: a.Name, Action: a.base + "/login", CSRF: csrf, Error: msg})
}

// submitLogin is POST /login: CSRF first, then the credentials.
func (a *tenantApp) submitLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxSignInBody)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "invalid form", http.StatusBadRequest)
		return
	}
	if !validCSRF(r) {
		http.Error(w, "invalid CSRF token", http.StatusForbidden)
		return
	}
	user := r.PostForm.Get("username")
	if !a.validUser(user, r.PostForm.Get("password")) {
		a.renderLogin(w, r, http.StatusUnauthorized, "invalid username or password")
		return
	}
	tok, ok := a.startSession(w, r, user)
	if !ok {
		return
	}
	http.SetCookie(w, a.cookie(r, sessionCookie, tok, expiresIn))
	http.SetCookie(w, a.cookie(r, csrfCookie, "", -1)) // spent
	http.Redirect(w, r, a.base+"/home", http.StatusSeeOther)
}

// validCSRF reports whether the form's csrf_token matches the csrf cookie.
func validCSRF(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	return err == nil && c.Value != "" && equal(c.Value, r.PostForm.Get("csrf_token")) == 1
}

type homeData struct {
	Name, User, Action string
}

// home greets the signed-in user: a browser by its cookie, a load test's
// user by its bearer token or API key.
func (a *tenantApp) home(w http.ResponseWriter, r *http.Request) {
	user, ok := a.signedIn(r)
	if !ok {
		http.Redirect(w, r, a.base+"/login", http.StatusSeeOther)
		return
	}
	renderHTML(w, http.StatusOK, homeTemplate, homeData{Name: a.Name, User: user, Action: a.base + "/logout"})
}

// logout is POST /logout. It needs no CSRF token: the session cookie is
// SameSite=Lax, so another site cannot send it with a POST.
func (a *tenantApp) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		a.gate.release(c.Value)
		a.sessions.revoke(c.Value)
	}
	http.SetCookie(w, a.cookie(r, sessionCookie, "", -1))
	http.Redirect(w, r, a.base+"/login", http.StatusSeeOther)
}

// cookie is a tenant cookie: scoped to the tenant's path, out of reach of
// scripts, not sent on cross-site POSTs, and Secure on TLS. maxAge is in
// seconds: 0 lasts the browser session, < 0 deletes the cookie.
func (a *tenantApp) cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: a.base, MaxAge: maxAge,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode}
}

func renderHTML(w http.ResponseWriter, code int, t *template.Template, data any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(code)
	t.Execute(w, data)
}
