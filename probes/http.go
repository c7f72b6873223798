package probes

import (
	"cmp"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// UserAgent is sent with every probe request unless the check sets its own
// User-Agent header. main sets it once at start-up with UserAgentFor(version).
var UserAgent = UserAgentFor("dev")

// UserAgentFor is the User-Agent forewarn sends as the given version.
func UserAgentFor(version string) string {
	return "forewarn/" + version + " (synthetic monitoring)"
}

// SyntheticHeader marks every probe request as synthetic traffic, so that
// tenants can filter it out of their analytics. Its value is "1".
const SyntheticHeader = "X-Forewarn-Synthetic"

const (
	defaultTimeout   = 10 * time.Second
	defaultBodyLimit = 1 << 20
)

// ProbeHTTP sends t.HTTP.Request once and judges the response against
// t.HTTP.Expect. Every run dials afresh, so connect and TLS are measured each
// time, as blackbox_exporter does.
func ProbeHTTP(ctx context.Context, t Target) Result {
	return probeHTTP(ctx, t, nil)
}

// probeHTTP is ProbeHTTP with the resolver the dialer uses (nil: the
// system's). Tests pass one whose Dial fails, so no test queries real DNS.
func probeHTTP(ctx context.Context, t Target, resolver *net.Resolver) Result {
	p := &httpProbe{t: t, spec: t.HTTP, x: &exchange{start: time.Now(), trace: &phaseTracer{}, secrets: t.Secrets}}
	if p.spec == nil {
		return p.result(&response{}, &failure{ReasonInternal, "http check without an http spec"})
	}
	s := p.spec
	p.x.expect, p.x.follow, p.x.maxRedirects, p.x.bodyLimit = s.Expect, s.FollowRedirects, s.MaxRedirects, s.BodyLimit
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(t.Timeout, defaultTimeout))
	defer cancel()
	p.x.budget = budgetOf(ctx, p.x.start) // the caller's deadline may be the nearer one
	req, err := p.newRequest(ctx)
	if err != nil {
		return p.result(&response{}, &failure{ReasonInternal, err.Error()})
	}
	tlsConfig, err := newTLSConfig(s.TLS)
	if err != nil {
		return p.result(&response{}, &failure{ReasonInternal, err.Error()})
	}
	// A transport of its own and no keep-alive: no pooled connection
	// survives the probe, so each run pays DNS, connect and TLS.
	transport := newTransport(tlsConfig, resolver, false)
	defer transport.CloseIdleConnections()
	rs, f := p.x.do(&http.Client{Transport: transport, CheckRedirect: p.x.checkRedirect}, req)
	return p.result(rs, f)
}

// httpProbe is one run of an HTTP check.
type httpProbe struct {
	t    Target
	spec *HTTPSpec
	x    *exchange
}

func (p *httpProbe) newRequest(ctx context.Context) (*http.Request, error) {
	r := p.spec.Request
	var body io.Reader
	if r.Body != "" {
		body = strings.NewReader(r.Body)
	}
	req, err := newProbeRequest(ctx, r.MethodOrGet(), r.URL, body)
	if err != nil {
		return nil, err
	}
	for k, v := range r.Headers {
		setHeader(req, k, v)
	}
	return req, nil
}

// result turns what the probe saw into the Result handed on.
func (p *httpProbe) result(rs *response, f *failure) Result {
	r := Result{
		Tenant: p.t.Tenant, Check: p.t.Check, Kind: p.t.Kind,
		Start: p.x.start, Duration: time.Since(p.x.start),
		StatusCode: rs.status, Phases: p.x.trace.phases(), Redirects: p.x.redirects,
		BodyBytes: rs.bodyBytes, TLS: rs.tls, CertExpiry: rs.certExpiry,
	}
	if f == nil {
		r.Success = true
		return r
	}
	r.Reason = f.reason
	r.Message = Redact(p.requestLine()+": "+f.msg, p.t.Secrets)
	return r
}

// requestLine names what failed: "GET https://acme.example/health". A
// password in the URL is masked even when it is not a declared secret.
func (p *httpProbe) requestLine() string {
	if p.spec == nil {
		return string(p.t.Kind) + " " + p.t.Key()
	}
	return requestLine(p.spec.Request.MethodOrGet(), p.spec.Request.URL)
}

func requestLine(method, rawURL string) string {
	if !strings.Contains(rawURL, "@") {
		return method + " " + rawURL // no user info: nothing to redact
	}
	if u, err := url.Parse(rawURL); err == nil {
		rawURL = u.Redacted()
	}
	return method + " " + rawURL
}
