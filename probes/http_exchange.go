package probes

import (
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

// exchange is one request sent and its response judged: the whole of an
// HTTP check, and one step of a login check. It holds what the judging
// needs; the request and the client it goes over are the caller's.
type exchange struct {
	expect       HTTPExpect
	headers      []HeaderMatch
	follow       bool // follow up to maxRedirects redirects, as written
	maxRedirects int
	bodyLimit    int64    // ≤ 0: defaultBodyLimit
	secrets      []string // masked in every excerpt
	start        time.Time
	budget       time.Duration // time allowed from start, for timeout messages
	trace        *phaseTracer
	redirects    int // followed so far; set by checkRedirect on Do's goroutine
}

// response is what the probe saw of the final response.
type response struct {
	status     int
	location   string // Location header of a 3xx, for the status message
	header     http.Header
	url        *url.URL // of the final request, redirects followed
	tls        bool
	certExpiry time.Time
	body       []byte // decoded, at most the body limit
	bodyBytes  int64  // decoded bytes read, limit+1 when over the limit
	overLimit  bool
	readErr    error         // from reading or decoding the body
	elapsed    time.Duration // exchange start → body read
}

// budgetOf is the time ctx allows from start: its timeout, or a caller's
// nearer deadline.
func budgetOf(ctx context.Context, start time.Time) time.Duration {
	if deadline, ok := ctx.Deadline(); ok {
		return deadline.Sub(start).Round(time.Millisecond)
	}
	return 0
}

// limit is the body limit, or the default for a hand-built spec that
// leaves it unset; a limit of zero or less would read nothing at all.
func (x *exchange) limit() int64 {
	if x.bodyLimit > 0 {
		return x.bodyLimit
	}
	return defaultBodyLimit
}

// traced is ctx with x's phase tracer attached.
func (x *exchange) traced(ctx context.Context) context.Context {
	return httptrace.WithClientTrace(ctx, x.trace.clientTrace())
}

// do sends req with client, reads the final body and judges the response.
// req's context bounds it all; client's CheckRedirect must defer to
// x.checkRedirect.
func (x *exchange) do(client *http.Client, req *http.Request) (*response, *failure) {
	ctx := req.Context()
	rs, f := x.send(client, req.WithContext(x.traced(ctx)))
	if f == nil {
		f = x.judge(ctx, rs)
	}
	return rs, f
}

func (x *exchange) send(client *http.Client, req *http.Request) (*response, *failure) {
	rs := &response{}
	resp, err := client.Do(req)
	if resp != nil {
		// On a redirect-limit error Do returns the last 3xx too, body closed.
		rs.setHead(resp)
	}
	if err != nil {
		x.trace.finish(time.Now())
		rs.noteTLSError(err)
		return rs, x.requestFailure(req.Context(), err)
	}
	defer resp.Body.Close()
	x.trace.setStage(stageBody)
	rs.body, rs.overLimit, rs.readErr = readBody(resp, x.limit())
	rs.bodyBytes = int64(len(rs.body))
	if rs.overLimit {
		rs.bodyBytes++
	}
	now := time.Now()
	x.trace.finish(now)
	rs.elapsed = now.Sub(x.start)
	return rs, nil
}

func (rs *response) setHead(resp *http.Response) {
	rs.status = resp.StatusCode
	rs.header = resp.Header
	if resp.Request != nil {
		rs.url = resp.Request.URL
	}
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

// newProbeRequest is a request to rawURL marked as forewarn's: http and
// https only, with the User-Agent and synthetic-traffic headers.
func newProbeRequest(ctx context.Context, method, rawURL string, body io.Reader) (*http.Request, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("bad url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("unsupported url scheme %q", u.Scheme)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, body) // sets GetBody, so 307/308 resend it
	if err != nil {
		return nil, err
	}
	markSynthetic(req.Header)
	// The transport's own compression is off so that the body limit counts
	// decoded bytes (see readBody); we ask for and decode these two ourselves.
	req.Header.Set("Accept-Encoding", "gzip, deflate")
	return req, nil
}

func markSynthetic(h http.Header) {
	h.Set("User-Agent", UserAgent)
	h.Set(SyntheticHeader, "1")
}

// setHeader sets a configured header; Host sets the request's Host.
func setHeader(req *http.Request, name, value string) {
	if strings.EqualFold(name, "Host") {
		req.Host = value
		return
	}
	req.Header.Set(name, value)
}

// maxHeaderBytes bounds a response's headers (net/http's default is 10 MB):
// a tenant setting thousands of cookies is stopped well before that.
const maxHeaderBytes = 1 << 20

// newTransport is a transport of the probe's own. Without keep-alive, every
// request pays DNS, connect and TLS; a login run keeps its connections
// alive across its steps, as a browser would, and closes them at its end.
func newTransport(tlsConfig *tls.Config, resolver *net.Resolver, keepAlive bool) *http.Transport {
	dialer := &net.Dialer{Resolver: resolver}
	return &http.Transport{
		DialContext:            dialer.DialContext,
		TLSClientConfig:        tlsConfig,
		ForceAttemptHTTP2:      true, // a custom dialer and TLS config turn it off otherwise
		DisableKeepAlives:      !keepAlive,
		DisableCompression:     true,
		MaxResponseHeaderBytes: maxHeaderBytes,
	}
}

func newTLSConfig(c TLSConfig) (*tls.Config, error) {
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

// checkRedirect follows at most maxRedirects redirects, as written: with 0
// the first 3xx is judged as if redirects were off. Only http and https are
// followed; the transport would refuse any other scheme after the 3xx was
// already dropped.
func (x *exchange) checkRedirect(req *http.Request, via []*http.Request) error {
	limit := x.maxRedirects
	if !x.follow || limit <= 0 {
		return http.ErrUseLastResponse
	}
	if len(via) > limit {
		return &redirectError{fmt.Sprintf("stopped after %d redirects (redirect loop?)", limit)}
	}
	if s := req.URL.Scheme; s != "http" && s != "https" {
		return &redirectError{fmt.Sprintf("status %d: redirect to unsupported scheme %q (Location: %s)",
			req.Response.StatusCode, s, x.clip(req.Response.Header.Get("Location")))}
	}
	x.redirects = len(via)
	return nil
}
