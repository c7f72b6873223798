package demo

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Sign-in, per tenant under /t/{id}, three ways a monitor meets in the wild:
//
//	GET  /login           HTML form with a CSRF hidden input (csrf_token) and a csrf cookie
//	POST /login           form username, password, csrf_token → 303 to /home, session cookie
//	GET  /home            "Welcome, …" with a live session cookie, else 303 to /login
//	POST /logout          ends the cookie's session → 303 to /login
//	POST /api/session     JSON {"user","password"} → {"token","expires_in"}
//	DELETE /api/session   Authorization: Bearer → 204
//	POST /oauth/token     OAuth2 client_credentials or password grant (oauth.go)
//	GET  /api/me          Bearer token or session cookie → {"user","tenant","plan"}
//
// Each tenant has one synthetic user, SyntheticUser(id), and one OAuth2
// client, OAuthClientID(id); both sign in with Options.Password. API keys
// (apikey.go) act as the synthetic user wherever a bearer token does.
//
// Signing in takes a slot of the tenant's capacity (capacity.go): when the
// tenant is full, sign-in waits, then answers 503. Signing out gives the
// slot back and never waits.

// DefaultPassword is the synthetic users' password when Options.Password is
// empty. It is public: anyone can sign in to a demo that uses it.
const DefaultPassword = "forewarn-demo"

// PasswordEnv is the environment variable forewarn demo reads the password
// from, and that the checks WriteChecks writes refer to.
const PasswordEnv = "FOREWARN_DEMO_PASSWORD"

// SyntheticUser is the user name of tenant id's synthetic user.
func SyntheticUser(id string) string { return "synthetic@" + id + ".example" }

// OAuthClientID is the OAuth2 client id of tenant id; its secret is the
// synthetic user's password.
func OAuthClientID(id string) string { return "forewarn-" + id }

const (
	sessionCookie = "session"
	csrfCookie    = "csrf"
	maxSignInBody = 16 << 10
)

// credentials are what a tenant accepts at sign-in. They live in the tenant,
// so tenants may differ.
type credentials struct {
	user, password         string
	clientID, clientSecret string
}

func newCredentials(id, password string) credentials {
	return credentials{user: SyntheticUser(id), password: password,
		clientID: OAuthClientID(id), clientSecret: password}
}

// signInFault is the sign-in part of the tenant's active fault, if any.
func (a *tenantApp) signInFault() signInFault {
	if f := a.fault.Load(); f != nil {
		return f.spec.signIn
	}
	return signInFault{}
}

// validUser checks a user name and password; wrong_credentials makes every
// password wrong, as if it had been changed behind the monitor's back.
func (a *tenantApp) validUser(user, password string) bool {
	ok := equal(user, a.creds.user) & equal(password, a.creds.password)
	return ok == 1 && !a.signInFault().rejectCredentials
}

// validClient checks OAuth2 client credentials, as validUser does.
func (a *tenantApp) validClient(id, secret string) bool {
	ok := equal(id, a.creds.clientID) & equal(secret, a.creds.clientSecret)
	return ok == 1 && !a.signInFault().rejectCredentials
}

// equal compares in constant time: 1 when a == b.
func equal(a, b string) int { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) }

// startSession signs user in and returns the session's token, once the
// session has a slot of the tenant's capacity: it may queue for one. When
// the tenant stays full it answers 503 itself and ok is false.
func (a *tenantApp) startSession(w http.ResponseWriter, r *http.Request, user string) (tok string, ok bool) {
	tok = newToken(32)
	s, ok := a.gate.acquire(r.Context(), tok)
	if !ok {
		a.overCapacity(w)
		return "", false
	}
	a.gate.done(s) // the slot idles from now until the session's next request
	a.sessions.add(tok, user, a.signInFault().expireSessions)
	return tok, true
}

var expiresIn = int(SessionTTL / time.Second)

// signInEndpoint wraps a sign-in POST with the sign-in faults: slow_signin
// waits first, then token_error fails the token endpoints (token true).
func signInEndpoint(token bool, next tenantHandler) tenantHandler {
	return func(a *tenantApp, w http.ResponseWriter, r *http.Request) {
		f := a.fault.Load()
		if f != nil && f.spec.signIn.slow {
			delayResponse(f.Fault, w, r)
		}
		if f != nil && token && f.spec.signIn.tokenError {
			noStore(w)
			writeJSON(w, http.StatusInternalServerError,
				oauthError{Error: "server_error", Description: "injected fault: token_error"})
			return
		}
		next(a, w, r)
	}
}

// signedIn returns the user of the request's session: its bearer token (a
// session token or an API key) when it sends an Authorization header, else
// its session cookie.
func (a *tenantApp) signedIn(r *http.Request) (string, bool) {
	if r.Header.Get("Authorization") != "" {
		tok, ok := bearerToken(r)
		if !ok {
			return "", false
		}
		if strings.HasPrefix(tok, apiKeyPrefix) && a.validAPIKey(tok) {
			return a.creds.user, true
		}
		return a.sessions.lookup(tok)
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return "", false
	}
	return a.sessions.lookup(c.Value)
}

// bearerToken reads "Authorization: Bearer <token>"; the scheme is
// case-insensitive (RFC 6750 §2.1, RFC 9110 §11.1).
func bearerToken(r *http.Request) (string, bool) {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	return tok, strings.EqualFold(scheme, "Bearer") && tok != ""
}

type meBody struct {
	User   string `json:"user"`
	Tenant string `json:"tenant"`
	Plan   string `json:"plan"`
}

func (a *tenantApp) me(w http.ResponseWriter, r *http.Request) {
	user, ok := a.signedIn(r)
	if !ok {
		notSignedIn(w)
		return
	}
	w.Header().Set("Cache-Control", "private, no-store")
	writeJSON(w, http.StatusOK, meBody{User: user, Tenant: a.ID, Plan: a.Plan})
}

func notSignedIn(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="forewarn-demo"`)
	writeJSON(w, http.StatusUnauthorized, errorBody{"not signed in"})
}

type sessionRequest struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

type sessionResponse struct {
	Token     string `json:"token"`
	ExpiresIn int    `json:"expires_in"`
}

// createSession is the JSON sign-in: POST /api/session.
func (a *tenantApp) createSession(w http.ResponseWriter, r *http.Request) {
	var req sessionRequest
	err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSignInBody)).Decode(&req)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf(`invalid JSON (want {"user": "…", "password": "…"}): %w`, err))
		return
	}
	if !a.validUser(req.User, req.Password) {
		writeJSON(w, http.StatusUnauthorized, errorBody{"invalid credentials"})
		return
	}
	tok, ok := a.startSession(w, r, req.User)
	if !ok {
		return
	}
	noStore(w)
	writeJSON(w, http.StatusOK, sessionResponse{Token: tok, ExpiresIn: expiresIn})
}

// deleteSession signs a bearer token out. Like token revocation (RFC 7009
// §2.2) it answers 204 for a token that has already expired or ended, so a
// sign-out step does not fail a check twice. An API key stays valid; its
// slot is freed.
func (a *tenantApp) deleteSession(w http.ResponseWriter, r *http.Request) {
	tok, ok := bearerToken(r)
	if !ok {
		notSignedIn(w)
		return
	}
	a.gate.release(tok)
	a.sessions.revoke(tok)
	w.WriteHeader(http.StatusNoContent)
}

// noStore keeps tokens out of caches (RFC 6749 §5.1).
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}
