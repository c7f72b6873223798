package demo

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"net/http"
	"os"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite demo/ca.pem from CAPEM()")

func caPool(t testing.TB) *x509.CertPool {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(CAPEM()) {
		t.Fatal("CAPEM holds no certificate")
	}
	return pool
}

// tlsClient trusts only the demo CA and asks for tenant id's server name.
func tlsClient(t testing.TB, id string) *http.Client {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: caPool(t), ServerName: ServerName(id)}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 5 * time.Second}
}

func TestCAPEMDeterministic(t *testing.T) {
	if !bytes.Equal(CAPEM(), CAPEM()) {
		t.Fatal("CAPEM differs between calls")
	}
	// A fresh build from the same constants gives the same bytes, not just
	// the cached value; the committed file checks across processes.
	if !bytes.Equal(newCA().pem, CAPEM()) {
		t.Fatal("a rebuilt CA certificate differs")
	}
	if *update {
		if err := os.WriteFile("ca.pem", CAPEM(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	committed, err := os.ReadFile("ca.pem")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(committed, CAPEM()) {
		t.Error("demo/ca.pem differs from CAPEM(); run go test ./demo/ -run CAPEM -update and review the diff")
	}
	cert := theCA().cert
	if !cert.IsCA || cert.NotAfter.Year() != 2045 {
		t.Errorf("CA: IsCA %v, NotAfter %s", cert.IsCA, cert.NotAfter)
	}
}

func TestTLSBySNI(t *testing.T) {
	s := startServer(t, 25)
	for _, id := range []string{"acme", "tenant-00025"} {
		t.Run(id, func(t *testing.T) {
			code, body := get(t, tlsClient(t, id), s.TLSURL()+"/t/"+id+"/health")
			if code != 200 || body != "ok\n" {
				t.Errorf("got %d %q", code, body)
			}
		})
	}
	t.Run("no SNI", func(t *testing.T) {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: caPool(t)}}}
		if code, _ := get(t, c, s.TLSURL()+"/t/acme/health"); code != 200 {
			t.Errorf("got %d", code)
		}
	})
	t.Run("unknown tenant", func(t *testing.T) {
		if _, err := tlsClient(t, "nobody").Get(s.TLSURL() + "/t/acme/health"); err == nil {
			t.Error("handshake for an unknown tenant succeeded")
		}
	})
}

func TestLeafCached(t *testing.T) {
	c := leafCache{name: ServerName("acme")}
	now := time.Now()
	a, err := c.get(now)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := c.get(now)
	if a != b {
		t.Error("second get issued a new certificate")
	}
	if got := a.Leaf.NotAfter.Sub(now); got < 89*day || got > 91*day {
		t.Errorf("leaf valid for %s, want 90 days", got)
	}
	// Near expiry it is reissued.
	if renewed, _ := c.get(now.Add(70 * day)); renewed == a {
		t.Error("certificate not reissued 20 days before expiry")
	}
}

func TestTLSFaults(t *testing.T) {
	s := startServer(t, 3)
	url := s.TLSURL() + "/t/acme/health"

	if _, err := s.SetFault("acme", Fault{Mode: ModeExpiredTLS}); err != nil {
		t.Fatal(err)
	}
	_, err := tlsClient(t, "acme").Get(url)
	var invalid x509.CertificateInvalidError
	if !errors.As(err, &invalid) || invalid.Reason != x509.Expired {
		t.Errorf("expired_tls: got %v, want an x509 expired error", err)
	}
	// Other tenants keep their valid certificate.
	if code, _ := get(t, tlsClient(t, "globex"), s.TLSURL()+"/t/globex/health"); code != 200 {
		t.Errorf("globex: %d", code)
	}

	if _, err := s.SetFault("acme", Fault{Mode: ModeExpiringTLS}); err != nil {
		t.Fatal(err)
	}
	conn, err := tls.Dial("tcp", s.TLSURL()[len("https://"):], &tls.Config{RootCAs: caPool(t), ServerName: ServerName("acme")})
	if err != nil {
		t.Fatalf("expiring_tls must still verify: %v", err)
	}
	left := time.Until(conn.ConnectionState().PeerCertificates[0].NotAfter)
	conn.Close()
	if left <= 0 || left > 3*day {
		t.Errorf("expiring_tls: certificate valid for %s more, want (0, 72h]", left)
	}

	// down works over TLS too: the handshake succeeds, the request is dropped.
	if _, err := s.SetFault("acme", Fault{Mode: ModeDown}); err != nil {
		t.Fatal(err)
	}
	if _, err := tlsClient(t, "acme").Get(url); err == nil {
		t.Error("down over TLS: got a response")
	}

	if err := s.ClearFault("acme"); err != nil {
		t.Fatal(err)
	}
	if code, _ := get(t, tlsClient(t, "acme"), url); code != 200 {
		t.Errorf("after clear: %d", code)
	}
}
