package demo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Requests built by hand, as clients build them: Basic with form-encoded id
// and secret (RFC 6749 §2.3.1, x/oauth2), Basic raw (curl -u), or both as
// form fields.
func TestOAuthToken(t *testing.T) {
	_, ts := newSignInServer(t)
	tokenURL := ts.URL + "/t/acme/oauth/token"
	id := OAuthClientID("acme")
	basicEnc := basicAuth(url.QueryEscape(id), url.QueryEscape(testPassword))
	cc := url.Values{"grant_type": {"client_credentials"}}
	tests := []struct {
		name  string
		form  url.Values
		hdr   []string
		want  int
		error string // the RFC 6749 error code, when want is not 200
	}{
		{"basic, form-encoded as RFC 6749 §2.3.1 says", cc, basicEnc, 200, ""},
		{"basic, raw as curl -u sends", cc, basicAuth(id, testPassword), 200, ""},
		{"form fields", with(cc, "client_id", id, "client_secret", testPassword), nil, 200, ""},
		{"password grant", with(url.Values{"grant_type": {"password"}}, "username", SyntheticUser("acme"), "password", testPassword), basicEnc, 200, ""},
		{"scope is ignored", with(cc, "scope", "read write"), basicEnc, 200, ""},
		{"wrong secret by basic", cc, basicAuth(id, "nope"), 401, "invalid_client"},
		{"wrong secret in form", with(cc, "client_id", id, "client_secret", "nope"), nil, 401, "invalid_client"},
		{"other tenant's client", with(cc, "client_id", OAuthClientID("globex"), "client_secret", testPassword), nil, 401, "invalid_client"},
		{"no client auth", cc, nil, 401, "invalid_client"},
		{"two auth methods", with(cc, "client_secret", testPassword), basicEnc, 400, "invalid_request"},
		{"password grant, wrong password", with(url.Values{"grant_type": {"password"}}, "username", SyntheticUser("acme"), "password", "nope"), basicEnc, 400, "invalid_grant"},
		{"no grant_type", url.Values{}, basicEnc, 400, "invalid_request"},
		{"authorization_code", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}, basicEnc, 400, "unsupported_grant_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := postForm(t, http.DefaultClient, tokenURL, tt.form, tt.hdr...)
			if r.err != nil || r.code != tt.want {
				t.Fatalf("got %d %v %q, want %d", r.code, r.err, r.body, tt.want)
			}
			if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Content-Type") != "application/json" {
				t.Errorf("headers %v", r.header)
			}
			if tt.want != 200 {
				var e oauthError
				if json.Unmarshal([]byte(r.body), &e) != nil || e.Error != tt.error {
					t.Errorf("body %q, want error %q", r.body, tt.error)
				}
				return
			}
			var tr tokenResponse
			if err := json.Unmarshal([]byte(r.body), &tr); err != nil || tr.TokenType != "Bearer" || tr.ExpiresIn != 900 {
				t.Fatalf("token response %q: %v", r.body, err)
			}
			me := send(t, http.DefaultClient, http.MethodGet, ts.URL+"/t/acme/api/me", "", "", bearer(tr.AccessToken)...)
			if me.code != 200 || !strings.Contains(me.body, `"user":"synthetic@acme.example"`) {
				t.Errorf("GET /api/me with the access token: %d %q", me.code, me.body)
			}
		})
	}
}

// A Basic 401 carries a challenge (RFC 6749 §5.2).
func TestOAuthChallenge(t *testing.T) {
	_, ts := newSignInServer(t)
	r := postForm(t, http.DefaultClient, ts.URL+"/t/acme/oauth/token", url.Values{"grant_type": {"client_credentials"}},
		basicAuth("forewarn-acme", "nope")...)
	if r.code != 401 || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("%d %v", r.code, r.header)
	}
}

func basicAuth(user, password string) []string {
	return []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))}
}

// with returns a copy of v with the name, value pairs added.
func with(v url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Add(kv[i], kv[i+1])
	}
	return out
}

// Go's own OAuth2 client signs in, whichever way it sends its credentials,
// and its token opens /api/me.
func TestOAuthClientCredentialsLibrary(t *testing.T) {
	_, ts := newSignInServer(t)
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleAutoDetect, oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		t.Run(fmt.Sprint(style), func(t *testing.T) {
			cfg := clientcredentials.Config{ClientID: OAuthClientID("acme"), ClientSecret: testPassword,
				TokenURL: ts.URL + "/t/acme/oauth/token", AuthStyle: style}
			tok, err := cfg.Token(context.Background())
			if err != nil || tok.TokenType != "Bearer" || time.Until(tok.Expiry) < 14*time.Minute {
				t.Fatalf("token %+v: %v", tok, err)
			}
			r := send(t, cfg.Client(context.Background()), http.MethodGet, ts.URL+"/t/acme/api/me", "", "")
			if r.code != 200 || !strings.Contains(r.body, `"tenant":"acme"`) {
				t.Errorf("GET /api/me: %d %q", r.code, r.body)
			}
			cfg.ClientSecret = "nope"
			var re *oauth2.RetrieveError
			if _, err := cfg.Token(context.Background()); !errors.As(err, &re) || re.ErrorCode != "invalid_client" {
				t.Errorf("wrong secret: %v", err)
			}
		})
	}
}
