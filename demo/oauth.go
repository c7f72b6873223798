package demo

import (
	"net/http"
	"net/url"
)

// The OAuth2 token endpoint (RFC 6749): POST /oauth/token, form-encoded,
// with the client_credentials grant (the client acts as the tenant's
// synthetic user) or the password grant (username, password). The client
// authenticates by HTTP Basic or by client_id and client_secret fields; Go's
// golang.org/x/oauth2 tries the first and falls back to the second.

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

// oauthError is an RFC 6749 §5.2 error response.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func (a *tenantApp) oauthToken(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	r.Body = http.MaxBytesReader(w, r.Body, maxSignInBody)
	if err := r.ParseForm(); err != nil {
		oauthFail(w, http.StatusBadRequest, "invalid_request", "the body must be application/x-www-form-urlencoded")
		return
	}
	id, secret, basic, ok := clientAuth(r)
	if !ok {
		oauthFail(w, http.StatusBadRequest, "invalid_request", "use one client authentication method, not two")
		return
	}
	if !a.validClient(id, secret) && !(basic && a.validClientBasic(r)) {
		// §5.2 asks for 401 and a challenge after Basic; a client that sent
		// its secret in the form gets the same, one answer for one failure.
		w.Header().Set("WWW-Authenticate", `Basic realm="forewarn-demo"`)
		oauthFail(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	user := a.creds.user
	switch r.PostForm.Get("grant_type") {
	case grantClientCredentials:
	case grantPassword:
		user = r.PostForm.Get("username")
		if !a.validUser(user, r.PostForm.Get("password")) {
			oauthFail(w, http.StatusBadRequest, "invalid_grant", "invalid username or password")
			return
		}
	case "":
		oauthFail(w, http.StatusBadRequest, "invalid_request", "grant_type is required")
		return
	default:
		oauthFail(w, http.StatusBadRequest, "unsupported_grant_type", "supported: client_credentials, password")
		return
	}
	tok, ok := a.startSession(w, r, user)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, tokenResponse{AccessToken: tok, TokenType: "Bearer", ExpiresIn: expiresIn})
}

// The grant types the token endpoint supports.
const (
	grantClientCredentials = "client_credentials"
	grantPassword          = "password"
)

// clientAuth returns the client's id and secret from HTTP Basic (basic true)
// or the form. RFC 6749 §2.3.1 encodes both with form encoding inside Basic,
// as x/oauth2 does; ok is false when the client used both methods.
func clientAuth(r *http.Request) (id, secret string, basic, ok bool) {
	if u, p, found := r.BasicAuth(); found {
		if r.PostForm.Has("client_secret") {
			return "", "", true, false
		}
		id, err1 := url.QueryUnescape(u)
		secret, err2 := url.QueryUnescape(p)
		if err1 != nil || err2 != nil {
			return u, p, true, true
		}
		return id, secret, true, true
	}
	return r.PostForm.Get("client_id"), r.PostForm.Get("client_secret"), false, true
}

// validClientBasic accepts Basic credentials sent without the form encoding
// §2.3.1 asks for, as curl -u and many clients send them: a password holding
// "+" or "%" would otherwise never match.
func (a *tenantApp) validClientBasic(r *http.Request) bool {
	u, p, _ := r.BasicAuth()
	return a.validClient(u, p)
}

func oauthFail(w http.ResponseWriter, code int, kind, desc string) {
	writeJSON(w, code, oauthError{Error: kind, Description: desc})
}
