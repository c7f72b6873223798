package probes

import (
	"bytes"
	"cmp"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// hostile is a test server whose odd behaviours are picked by query
// parameters, so that each test case is just a URL:
//
//	status=N            respond with status N (default 200)
//	body=S              respond with body S
//	enc=gzip|deflate|rawdeflate|fakegzip
//	                    compress the body and say so in Content-Encoding
//	                    (fakegzip: say gzip, send it plain)
//	sleep=D             wait D before sending the headers
//	trickle=D           send the headers, then one byte every D until gone
//	                    (gzip-compressed with enc=gzip)
//	size=N              stream N bytes with Content-Length N, never held in memory
//	bomb=N              a gzip body that decodes to N zero bytes
//	redirect=N|loop     redirect N more times to itself, or forever
//	location=U          respond 302 with Location U, as given (after any
//	                    redirect=N hops)
//	reset=1             reset the connection (RST) instead of responding
//	close=1             close the connection instead of responding
//	short=1             promise 100 bytes, send 5, close the connection
//	claim=N             like short, promising N bytes
type hostile struct{}

func (hostile) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case q.Has("reset"), q.Has("close"), q.Has("short"), q.Has("claim"):
		claim := q.Get("claim")
		if q.Has("short") {
			claim = "100"
		}
		hangUp(w, q.Has("reset"), claim)
		return
	case q.Has("sleep"):
		d, _ := time.ParseDuration(q.Get("sleep"))
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	case q.Has("redirect"):
		redirect(w, r)
		return
	case q.Has("location"):
		redirectTo(w, q.Get("location"))
		return
	case q.Has("trickle"):
		trickle(w, r)
		return
	case q.Has("bomb"):
		n, _ := strconv.Atoi(q.Get("bomb"))
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(gzipBomb(n))
		return
	}
	status, _ := strconv.Atoi(q.Get("status"))
	if status == 0 {
		status = http.StatusOK
	}
	if q.Has("size") {
		stream(w, status, q.Get("size"))
		return
	}
	body := encode(w, q.Get("enc"), q.Get("body"))
	w.WriteHeader(status)
	w.Write(body)
}

// hangUp closes the connection, after promising claim bytes and sending 5
// when claim is set.
func hangUp(w http.ResponseWriter, reset bool, claim string) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	if claim != "" {
		io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: "+claim+"\r\n\r\nshort")
	}
	if reset {
		conn.(*net.TCPConn).SetLinger(0) // close sends RST, not FIN
	}
	conn.Close()
}

func redirect(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if n, err := strconv.Atoi(q.Get("redirect")); err == nil {
		if n == 0 && q.Has("location") {
			redirectTo(w, q.Get("location"))
			return
		}
		if n == 0 {
			w.Write([]byte("landed"))
			return
		}
		q.Set("redirect", strconv.Itoa(n-1))
	}
	http.Redirect(w, r, r.URL.Path+"?"+q.Encode(), http.StatusFound)
}

// redirectTo sends loc as it is, where http.Redirect would clean it up.
func redirectTo(w http.ResponseWriter, loc string) {
	w.Header().Set("Location", loc)
	w.WriteHeader(http.StatusFound)
}

func trickle(w http.ResponseWriter, r *http.Request) {
	d, _ := time.ParseDuration(r.URL.Query().Get("trickle"))
	rc := http.NewResponseController(w)
	var out io.Writer = w
	flush := rc.Flush
	if r.URL.Query().Get("enc") == "gzip" {
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		out, flush = zw, func() error { zw.Flush(); return rc.Flush() }
	}
	for {
		if _, err := out.Write([]byte("x")); err != nil || flush() != nil {
			return
		}
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
}

// chunk is streamed over and over, so a huge body costs the server nothing.
var chunk = bytes.Repeat([]byte("x"), 32<<10)

func stream(w http.ResponseWriter, status int, size string) {
	n, _ := strconv.ParseInt(size, 10, 64)
	w.Header().Set("Content-Length", size)
	w.WriteHeader(status)
	for n > 0 {
		m, err := w.Write(chunk[:min(n, int64(len(chunk)))])
		if err != nil {
			return
		}
		n -= int64(m)
	}
}

var bombs sync.Map // size → gzip bytes

func gzipBomb(n int) []byte {
	if b, ok := bombs.Load(n); ok {
		return b.([]byte)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zeros := make([]byte, 1<<20)
	for left := n; left > 0; left -= len(zeros) {
		zw.Write(zeros[:min(left, len(zeros))])
	}
	zw.Close()
	bombs.Store(n, buf.Bytes())
	return buf.Bytes()
}

func encode(w http.ResponseWriter, enc, body string) []byte {
	var buf bytes.Buffer
	var zw io.WriteCloser
	switch enc {
	case "":
		return []byte(body)
	case "gzip":
		zw = gzip.NewWriter(&buf)
	case "deflate":
		zw = zlib.NewWriter(&buf)
	case "fakegzip":
		w.Header().Set("Content-Encoding", "gzip")
		return []byte(body)
	case "rawdeflate":
		zw, _ = flate.NewWriter(&buf, flate.DefaultCompression)
		enc = "deflate"
	}
	io.WriteString(zw, body)
	zw.Close()
	w.Header().Set("Content-Encoding", enc)
	return buf.Bytes()
}

// query builds "?k=v&…" from pairs.
func query(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return "?" + v.Encode()
}

func newServer(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// testCA issues certificates for TLS test servers.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t testing.TB) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "forewarn test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// leaf issues a server certificate for 127.0.0.1 and the given DNS names,
// valid until notAfter.
func (ca *testCA) leaf(t testing.TB, notAfter time.Time, names ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "tenant"},
		NotBefore: notAfter.Add(-365 * 24 * time.Hour), NotAfter: notAfter,
		DNSNames: names, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	if len(names) == 0 {
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

var quietLog = log.New(io.Discard, "", 0)

func newTLSServer(t testing.TB, cert tls.Certificate) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(hostile{})
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = quietLog // handshake failures are the point here
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// target is an HTTP check of url with a 2 s timeout, changed by opts.
// target is acme's health check of url, with opts applied (nil ones
// skipped, so table cases without an option pass theirs as is).
func target(url string, opts ...func(*HTTPSpec)) Target {
	spec := &HTTPSpec{Request: HTTPRequest{URL: url}}
	for _, o := range opts {
		if o != nil {
			o(spec)
		}
	}
	return Target{Tenant: "acme", Check: "health", Kind: KindHTTP, Timeout: 2 * time.Second, HTTP: spec}
}

// expect fails t unless r failed for reason with msg containing fragment,
// or succeeded when reason is ReasonNone; r must be acme's health check.
func expect(t *testing.T, r Result, reason Reason, fragment string) {
	t.Helper()
	expectResult(t, r, KindHTTP, "health", reason, fragment)
}

// expectResult fails t unless r is the run of check (kind) for tenant acme
// and failed for reason with a one-line message containing fragment, or
// succeeded when reason is ReasonNone.
func expectResult(t *testing.T, r Result, kind Kind, check string, reason Reason, fragment string) {
	t.Helper()
	t.Logf("%s: %s [%s]", cmp.Or(r.Reason, "ok"), r.Message, summary(r))
	if r.Reason != reason || r.Success != (reason == ReasonNone) {
		t.Fatalf("got success=%v reason %q (%s), want reason %q", r.Success, r.Reason, r.Message, reason)
	}
	if !strings.Contains(r.Message, fragment) {
		t.Fatalf("message %q lacks %q", r.Message, fragment)
	}
	if r.Tenant != "acme" || r.Check != check || r.Kind != kind || r.Start.IsZero() || r.Duration <= 0 {
		t.Fatalf("identity or timing not set: %+v", r)
	}
	if strings.ContainsAny(r.Message, "\n\r") {
		t.Fatalf("message is not one line: %q", r.Message)
	}
}
