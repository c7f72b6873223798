package probes

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// token runs an OAuth2 step: the grant's token request over the run's
// client, so the run's timeouts, TLS, tracing and cookies apply, with the
// access token kept, as a secret, for later steps.
//
// The client authenticates as g.AuthStyle says, never by the oauth2
// package's auto-detection: that tries HTTP Basic, then the form, and
// remembers which worked only in its Config, which lives for one run here;
// every run would send two requests, and a wrong secret twice. The
// package reads at most 1 MiB of the
// response; the step's body_limit does not apply. Of the step's Expect
// only max_duration and cert_valid_for apply, and its extractors and
// header matches do not: the package keeps the response to itself.
func (run *loginRun) token(ctx context.Context, g *OAuth2Grant, x *exchange, route *stepRoute) stepOutcome {
	o := stepOutcome{rs: &response{}, line: requestLine(http.MethodPost, g.TokenURL)}
	if u, err := url.Parse(g.TokenURL); err != nil || u.Scheme != "http" && u.Scheme != "https" {
		o.f = &failure{ReasonInternal, "token url must be http or https"}
		return o
	}
	tok, err := fetchToken(context.WithValue(x.traced(ctx), oauth2.HTTPClient, run.client), g)
	now := time.Now()
	x.trace.finish(now)
	if route.last != nil {
		o.rs.setHead(route.last)
	}
	o.rs.elapsed = now.Sub(x.start)
	if err != nil {
		o.rs.noteTLSError(err)
		o.f = x.tokenFailure(ctx, o.rs, err)
		return o
	}
	if o.f = checkDuration(x.expect, o.rs); o.f == nil {
		o.f = checkCert(x.expect, o.rs)
	}
	if o.f == nil {
		o.set = []Extracted{run.set(cmp.Or(g.Var, "access_token"), tok.AccessToken, true)}
	}
	return o
}

func fetchToken(ctx context.Context, g *OAuth2Grant) (*oauth2.Token, error) {
	style, err := authStyle(g.AuthStyle)
	if err != nil {
		return nil, err
	}
	switch g.Grant {
	case GrantClientCredentials:
		c := &clientcredentials.Config{ClientID: g.ClientID, ClientSecret: g.ClientSecret, TokenURL: g.TokenURL,
			Scopes: g.Scopes, AuthStyle: style}
		return c.Token(ctx)
	case GrantPassword:
		c := &oauth2.Config{ClientID: g.ClientID, ClientSecret: g.ClientSecret,
			Endpoint: oauth2.Endpoint{TokenURL: g.TokenURL, AuthStyle: style}, Scopes: g.Scopes}
		return c.PasswordCredentialsToken(ctx, g.Username, g.Password)
	}
	return nil, &grantError{fmt.Sprintf("unknown oauth2 grant %q", g.Grant)}
}

func authStyle(s string) (oauth2.AuthStyle, error) {
	switch s {
	case "", AuthStyleHeader:
		return oauth2.AuthStyleInHeader, nil
	case AuthStyleParams:
		return oauth2.AuthStyleInParams, nil
	}
	return 0, &grantError{fmt.Sprintf("unknown oauth2 auth style %q", s)}
}

// grantError is a grant the probe cannot send: config let it through.
type grantError struct{ msg string }

func (e *grantError) Error() string { return e.msg }

// tokenFailure files a failed token request: a refusal by the token
// endpoint (RFC 6749 §5.2) is a status failure naming its error code; a
// transport error is classified as an HTTP check's would be.
func (x *exchange) tokenFailure(ctx context.Context, rs *response, err error) *failure {
	var (
		refused  *oauth2.RetrieveError
		urlErr   *url.Error
		grantErr *grantError
	)
	switch {
	case errors.As(err, &refused):
		return x.refusal(rs, refused)
	case errors.As(err, &grantErr):
		return &failure{ReasonInternal, err.Error()}
	case errors.As(err, &urlErr), ctx.Err() != nil:
		return x.requestFailure(ctx, err)
	case strings.Contains(err.Error(), "missing access_token"):
		return &failure{ReasonExtraction, "token response has no access_token"}
	}
	// The response arrived but is not a token response: content, not
	// connection, is wrong.
	return &failure{ReasonAssertion, x.clip(strings.TrimPrefix(err.Error(), "oauth2: "))}
}

func (x *exchange) refusal(rs *response, e *oauth2.RetrieveError) *failure {
	if e.Response != nil {
		rs.status = e.Response.StatusCode
	}
	rs.body = e.Body
	msg := fmt.Sprintf("status %d, want 2xx", rs.status)
	ok := rs.status >= 200 && rs.status <= 299
	if ok {
		msg = fmt.Sprintf("status %d", rs.status)
	}
	if e.ErrorCode == "" {
		return &failure{ReasonStatus, msg + "; body: " + excerpt(e.Body, 0, x.secrets)}
	}
	msg += fmt.Sprintf("; error %q", x.clip(e.ErrorCode))
	if e.ErrorDescription != "" {
		msg += ": " + x.clip(e.ErrorDescription)
	}
	if ok { // a 200 carrying an error, as some servers send
		return &failure{ReasonAssertion, "token " + msg}
	}
	return &failure{ReasonStatus, msg}
}
