package probes

import (
	"context"
	"encoding/pem"
	"net"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"
)

// Servers that misbehave the way real ones do. Each case checks the reason a
// user will see in probe_failures_total and what the message tells them.

func TestProbeHTTPTimeouts(t *testing.T) {
	srv := newServer(t, hostile{})
	const timeout = 300 * time.Millisecond
	for _, tc := range []struct {
		name, query, fragment string
	}{
		{"slow headers", query("sleep", "10s"), "timed out after 300ms waiting for response headers"},
		{"slow body", query("trickle", "50ms"), "timed out after 300ms while reading body"},
		{"slow body, gzip", query("trickle", "50ms", "enc", "gzip"), "timed out after 300ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tgt := target(srv.URL + "/" + tc.query)
			tgt.Timeout = timeout
			start := time.Now()
			r := ProbeHTTP(context.Background(), tgt)
			took := time.Since(start)
			expect(t, r, ReasonTimeout, tc.fragment)
			if took < timeout || took > timeout+150*time.Millisecond {
				t.Errorf("probe took %s with a %s timeout", took, timeout)
			}
			if r.Phases.Processing <= 0 {
				t.Errorf("phases not reported on timeout: %+v", r.Phases)
			}
		})
	}
}

// measure runs f and returns the bytes it (and anything running meanwhile)
// allocated, and how long it took.
func measure(f func()) (alloc uint64, took time.Duration) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	took = time.Since(start)
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, took
}

func TestProbeHTTPHugeBodies(t *testing.T) {
	srv := newServer(t, hostile{})
	gzipBomb(32 << 20) // compress once, outside the measurement
	for _, tc := range []struct{ name, query string }{
		{"1 GB plain body", query("size", "1073741824")},
		{"gzip bomb: 32 KiB decoding to 32 MiB", query("bomb", "33554432")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r Result
			alloc, took := measure(func() { r = ProbeHTTP(context.Background(), target(srv.URL+"/"+tc.query)) })
			expect(t, r, ReasonBodyLimit, "body exceeds 1 MiB limit")
			if r.BodyBytes != 1<<20+1 || r.StatusCode != 200 {
				t.Errorf("body bytes %d status %d, want 1 MiB + 1 and 200", r.BodyBytes, r.StatusCode)
			}
			if alloc > 8<<20 || took > time.Second {
				t.Errorf("allocated %d KiB in %s: the body was not bounded", alloc>>10, took)
			}
		})
	}
}

func TestProbeHTTPConnectionFailures(t *testing.T) {
	srv := newServer(t, hostile{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/health"
	l.Close()
	for _, tc := range []struct {
		name, url string
		reason    Reason
		fragment  string
		status    int
	}{
		{"nothing listening", closed, ReasonConnect, "GET " + closed + ": connection refused", 0},
		{"reset", srv.URL + "/?reset=1", ReasonConnect, "connection ", 0},
		{"closed before response", srv.URL + "/?close=1", ReasonConnect, "connection closed by server waiting for response headers", 0},
		{"closed mid-body", srv.URL + "/?short=1", ReasonConnect, "connection closed by server while reading body", 200},
		// The claim once sized the buffer as Content-Length+1, which wrapped
		// negative and panicked.
		{"claims a MaxInt64 body", srv.URL + "/?claim=9223372036854775807", ReasonConnect, "connection closed by server while reading body", 200},
		{"claims a terabyte body", srv.URL + "/?claim=1099511627776", ReasonConnect, "connection closed by server while reading body", 200},
		{"dns failure", "http://tenant.forewarn.invalid/health", ReasonDNS, "dns lookup tenant.forewarn.invalid", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := probeHTTP(context.Background(), target(tc.url), noDNS)
			expect(t, r, tc.reason, tc.fragment)
			if r.StatusCode != tc.status {
				t.Errorf("status %d, want %d", r.StatusCode, tc.status)
			}
		})
	}
}

func TestProbeHTTPTLS(t *testing.T) {
	ca := newCA(t)
	now := time.Now()
	good := newTLSServer(t, ca.leaf(t, now.Add(90*24*time.Hour)))
	expired := newTLSServer(t, ca.leaf(t, now.Add(-48*time.Hour)))
	expiring := newTLSServer(t, ca.leaf(t, now.Add(3*24*time.Hour)))
	named := newTLSServer(t, ca.leaf(t, now.Add(90*24*time.Hour), "tenant.forewarn.test"))
	selfSigned := httptest.NewUnstartedServer(hostile{})
	selfSigned.Config.ErrorLog = quietLog
	selfSigned.StartTLS()
	t.Cleanup(selfSigned.Close)
	trustCA := func(s *HTTPSpec) { s.TLS.CAPEM = ca.pem }
	roots, err := CertPool(ca.pem)
	if err != nil {
		t.Fatal(err)
	}
	otherRoots, err := CertPool(newCA(t).pem)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		url      string
		spec     func(*HTTPSpec)
		reason   Reason
		fragment string
		expiry   bool
	}{
		{"trusted via CAPEM", good.URL, trustCA, ReasonNone, "", true},
		{"trusted via Roots", good.URL, func(s *HTTPSpec) { s.TLS.Roots = roots }, ReasonNone, "", true},
		{"Roots used over CAPEM", good.URL, func(s *HTTPSpec) {
			s.TLS.Roots, s.TLS.CAPEM = otherRoots, ca.pem
		}, ReasonTLS, "certificate signed by unknown authority", true},
		{"self-signed", selfSigned.URL, nil, ReasonTLS, "certificate signed by unknown authority", true},
		{"unknown CA", good.URL, nil, ReasonTLS, "certificate signed by unknown authority", true},
		{"expired", expired.URL, trustCA, ReasonTLS, "certificate has expired", true},
		{"expires within cert_valid_for", expiring.URL, func(s *HTTPSpec) {
			trustCA(s)
			s.Expect.CertValidFor = 14 * 24 * time.Hour
		}, ReasonAssertion, "certificate expires in 2d23h (" + now.Add(3*24*time.Hour).UTC().Format(time.DateOnly) + "), need 14d", true},
		{"ServerName", named.URL, func(s *HTTPSpec) {
			trustCA(s)
			s.TLS.ServerName = "tenant.forewarn.test"
		}, ReasonNone, "", true},
		{"wrong name", named.URL, func(s *HTTPSpec) {
			trustCA(s)
			s.TLS.ServerName = "other.forewarn.test"
		}, ReasonTLS, "certificate is valid for tenant.forewarn.test, not other.forewarn.test", true},
		{"InsecureSkipVerify", expired.URL, func(s *HTTPSpec) { s.TLS.InsecureSkipVerify = true }, ReasonNone, "", true},
		{"plain HTTP port", "https://" + newServer(t, hostile{}).Listener.Addr().String(), nil, ReasonTLS, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ProbeHTTP(context.Background(), target(tc.url, tc.spec))
			expect(t, r, tc.reason, tc.fragment)
			if tc.expiry != !r.CertExpiry.IsZero() || tc.expiry != r.TLS {
				t.Errorf("TLS %v cert expiry %v, want reported: %v", r.TLS, r.CertExpiry, tc.expiry)
			}
			if r.Phases.TLS <= 0 {
				t.Errorf("TLS phase %s", r.Phases.TLS)
			}
		})
	}
}

func TestCertPool(t *testing.T) {
	if _, err := CertPool(newCA(t).pem); err != nil {
		t.Errorf("CertPool of a CA: %v", err)
	}
	_, err := CertPool([]byte("nope"))
	if err == nil || err.Error() != "tls ca: no PEM certificate found" {
		t.Errorf("CertPool of garbage: %v", err)
	}
}

func TestProbeHTTP2(t *testing.T) {
	srv := httptest.NewUnstartedServer(hostile{})
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	r := ProbeHTTP(context.Background(), target(srv.URL+query("enc", "gzip", "body", "h2 ok"), func(s *HTTPSpec) {
		s.TLS.CAPEM = caPEM
		s.Expect.BodyContains = []string{"h2 ok"}
	}))
	expect(t, r, ReasonNone, "")
	if !r.TLS || !r.CertExpiry.Equal(srv.Certificate().NotAfter) || r.Phases.TLS <= 0 {
		t.Errorf("TLS %v expiry %v phases %+v", r.TLS, r.CertExpiry, r.Phases)
	}
}
