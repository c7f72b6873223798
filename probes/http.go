package probes

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
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
	p := &httpProbe{t: t, spec: t.HTTP, resolver: resolver, start: time.Now(), trace: &phaseTracer{}}
	if p.spec == nil {
		return p.result(&response{}, &failure{ReasonInternal, "http check without an http spec"})
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout())
	defer cancel()
	if deadline, ok := ctx.Deadline(); ok { // the caller's may be the nearer one
		p.budget = deadline.Sub(p.start).Round(time.Millisecond)
	}
	rs, f := p.exchange(ctx)
	if f == nil {
		f = p.judge(ctx, rs)
	}
	return p.result(rs, f)
}

// httpProbe is one run of an HTTP check.
type httpProbe struct {
	t         Target
	spec      *HTTPSpec
	resolver  *net.Resolver
	start     time.Time
	trace     *phaseTracer
	budget    time.Duration // time allowed from start: timeout or the caller's deadline
	redirects int           // followed so far; set by checkRedirect on Do's goroutine
}

// response is what the probe saw of the final response.
type response struct {
	status     int
	location   string // Location header of a 3xx, for the status message
	tls        bool
	certExpiry time.Time
	body       []byte // decoded, at most the body limit
	bodyBytes  int64  // decoded bytes read, limit+1 when over the limit
	overLimit  bool
	readErr    error         // from reading or decoding the body
	elapsed    time.Duration // probe start → body read
}

func (p *httpProbe) timeout() time.Duration { return cmp.Or(p.t.Timeout, defaultTimeout) }

// bodyLimit is the spec's limit, or the default for a hand-built spec that
// leaves it unset; a limit of zero or less would read nothing at all.
func (p *httpProbe) bodyLimit() int64 {
	if p.spec.BodyLimit > 0 {
		return p.spec.BodyLimit
	}
	return defaultBodyLimit
}

// exchange sends the request, follows redirects and reads the final body.
func (p *httpProbe) exchange(ctx context.Context) (*response, *failure) {
	rs := &response{}
	req, err := p.newRequest(ctx)
	if err != nil {
		return rs, &failure{ReasonInternal, err.Error()}
	}
	client, err := p.newClient()
	if err != nil {
		return rs, &failure{ReasonInternal, err.Error()}
	}
	defer client.CloseIdleConnections()

	resp, err := client.Do(req)
	if resp != nil {
		// On a redirect-limit error Do returns the last 3xx too, body closed.
		rs.setHead(resp)
	}
	if err != nil {
		p.trace.finish(time.Now())
		rs.noteTLSError(err)
		return rs, p.requestFailure(ctx, err)
	}
	defer resp.Body.Close()
	p.trace.setStage(stageBody)
	rs.body, rs.overLimit, rs.readErr = readBody(resp, p.bodyLimit())
	rs.bodyBytes = int64(len(rs.body))
	if rs.overLimit {
		rs.bodyBytes++
	}
	now := time.Now()
	p.trace.finish(now)
	rs.elapsed = now.Sub(p.start)
	return rs, nil
}

func (rs *response) setHead(resp *http.Response) {
	rs.status = resp.StatusCode
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		rs.location = resp.Header.Get("Location")
	}
	if resp.TLS != nil {
		rs.tls = true
		rs.certExpiry = earliestExpiry(resp.TLS.PeerCertificates)
	}
}

// noteTLSError keeps the expiry of a certificate that failed verification:
// an expired certificate is exactly when the expiry date matters most.
func (rs *response) noteTLSError(err error) {
	var cve *tls.CertificateVerificationError
	if errors.As(err, &cve) && len(cve.UnverifiedCertificates) > 0 {
		rs.tls = true
		rs.certExpiry = earliestExpiry(cve.UnverifiedCertificates)
	}
}

func earliestExpiry(certs []*x509.Certificate) time.Time {
	var earliest time.Time
	for _, c := range certs {
		if earliest.IsZero() || c.NotAfter.Before(earliest) {
			earliest = c.NotAfter
		}
	}
	return earliest
}

func (p *httpProbe) newRequest(ctx context.Context) (*http.Request, error) {
	r := p.spec.Request
	u, err := url.Parse(r.URL)
	if err != nil {
		return nil, fmt.Errorf("bad url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("unsupported url scheme %q", u.Scheme)
	}
	var body io.Reader
	if r.Body != "" {
		body = strings.NewReader(r.Body) // NewRequest sets GetBody, so 307/308 resend it
	}
	ctx = httptrace.WithClientTrace(ctx, p.trace.clientTrace())
	req, err := http.NewRequestWithContext(ctx, r.MethodOrGet(), r.URL, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set(SyntheticHeader, "1")
	// The transport's own compression is off so that the body limit counts
	// decoded bytes (see readBody); we ask for and decode these two ourselves.
	req.Header.Set("Accept-Encoding", "gzip, deflate")
	for k, v := range r.Headers {
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	return req, nil
}

// newClient builds a client with a transport of its own: no pooled
// connection survives the probe, so each run pays DNS, connect and TLS.
func (p *httpProbe) newClient() (*http.Client, error) {
	tlsConfig, err := p.tlsConfig()
	if err != nil {
		return nil, err
	}
	dialer := &net.Dialer{Resolver: p.resolver}
	transport := &http.Transport{
		DialContext:        dialer.DialContext,
		TLSClientConfig:    tlsConfig,
		ForceAttemptHTTP2:  true, // a custom dialer and TLS config turn it off otherwise
		DisableKeepAlives:  true,
		DisableCompression: true,
	}
	return &http.Client{Transport: transport, CheckRedirect: p.checkRedirect}, nil
}

func (p *httpProbe) tlsConfig() (*tls.Config, error) {
	c := p.spec.TLS
	cfg := &tls.Config{ServerName: c.ServerName, InsecureSkipVerify: c.InsecureSkipVerify}
	switch {
	case c.Roots != nil:
		cfg.RootCAs = c.Roots
	case len(c.CAPEM) > 0:
		pool, err := caPool(c.CAPEM)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// CertPool parses a PEM bundle into the pool TLSConfig.Roots holds. Config
// load calls it once per bundle, so no probe run parses or hashes PEM.
func CertPool(pem []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("tls ca: no PEM certificate found")
	}
	return pool, nil
}

// caPools caches parsed CA bundles by content, for targets built by hand
// with CAPEM but no Roots: parsing a system-sized bundle every run would
// cost more than the probe.
var caPools sync.Map // string(PEM) → *x509.CertPool

func caPool(pem []byte) (*x509.CertPool, error) {
	if pool, ok := caPools.Load(string(pem)); ok {
		return pool.(*x509.CertPool), nil
	}
	pool, err := CertPool(pem)
	if err != nil {
		return nil, err
	}
	caPools.Store(string(pem), pool)
	return pool, nil
}

// redirectError stops a redirect the probe will not follow. Client.Do then
// returns the 3xx that asked for it, so the failure is filed as status with
// that code, not as the dial error a refused redirect would otherwise look
// like.
type redirectError struct{ msg string }

func (e *redirectError) Error() string { return e.msg }

// checkRedirect follows at most MaxRedirects redirects, as written: with 0
// the first 3xx is judged as if redirects were off. Only http and https are
// followed; the transport would refuse any other scheme after the 3xx was
// already dropped.
func (p *httpProbe) checkRedirect(req *http.Request, via []*http.Request) error {
	limit := p.spec.MaxRedirects
	if !p.spec.FollowRedirects || limit <= 0 {
		return http.ErrUseLastResponse
	}
	if len(via) > limit {
		return &redirectError{fmt.Sprintf("stopped after %d redirects (redirect loop?)", limit)}
	}
	if s := req.URL.Scheme; s != "http" && s != "https" {
		return &redirectError{fmt.Sprintf("status %d: redirect to unsupported scheme %q (Location: %s)",
			req.Response.StatusCode, s, p.clip(req.Response.Header.Get("Location")))}
	}
	p.redirects = len(via)
	return nil
}

// result turns what the probe saw into the Result handed on.
func (p *httpProbe) result(rs *response, f *failure) Result {
	r := Result{
		Tenant: p.t.Tenant, Check: p.t.Check, Kind: p.t.Kind,
		Start: p.start, Duration: time.Since(p.start),
		StatusCode: rs.status, Phases: p.trace.phases(), Redirects: p.redirects,
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
	raw := p.spec.Request.URL
	if u, err := url.Parse(raw); err == nil {
		raw = u.Redacted()
	}
	return p.spec.Request.MethodOrGet() + " " + raw
}
