package probes

import (
	"context"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// noDNS resolves from /etc/hosts only: its DNS "server" cannot be dialled,
// so no test ever sends a query off this machine.
var noDNS = &net.Resolver{
	PreferGo: true,
	Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("tests have no DNS server")
	},
}

func TestProbeHTTPSuccess(t *testing.T) {
	srv := newServer(t, hostile{})
	r := ProbeHTTP(context.Background(), target(srv.URL+query("body", `{"status":"ok"}`)))
	expect(t, r, ReasonNone, "")
	if r.StatusCode != 200 || r.BodyBytes != 15 || r.Message != "" || r.TLS || r.Redirects != 0 {
		t.Errorf("result %+v", r)
	}
	p := r.Phases
	if p.Connect <= 0 || p.Processing <= 0 || p.Transfer <= 0 || p.TLS != 0 {
		t.Errorf("phases %+v: want connect, processing, transfer > 0 and no TLS", p)
	}
	if sum := p.Resolve + p.Connect + p.TLS + p.Processing + p.Transfer; sum > r.Duration {
		t.Errorf("phases sum to %s, more than the probe's %s", sum, r.Duration)
	}
}

func TestProbeHTTPResolvePhase(t *testing.T) {
	srv := newServer(t, hostile{})
	url := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) // /etc/hosts: 127.0.0.1 localhost
	r := probeHTTP(context.Background(), target(url), noDNS)
	expect(t, r, ReasonNone, "")
	if r.Phases.Resolve <= 0 {
		t.Errorf("resolve phase %s, want > 0", r.Phases.Resolve)
	}
}

func TestProbeHTTPAssertions(t *testing.T) {
	srv := newServer(t, hostile{})
	json := `{"status":"degraded","queue":3,"name":"acme","tags":["a"]}`
	body := func(s string) string { return query("body", s) }
	js := func(a ...JSONAssertion) func(*HTTPSpec) { return func(s *HTTPSpec) { s.Expect.JSON = a } }
	for _, tc := range []struct {
		name     string
		query    string
		spec     func(*HTTPSpec)
		reason   Reason
		fragment string
	}{
		{"default accepts any 2xx", query("status", "204"), nil, ReasonNone, ""},
		{"default rejects 500", query("status", "500", "body", "oops"), nil, ReasonStatus, "status 500, want 2xx; body: oops"},
		{"status list accepts 404", query("status", "404"), func(s *HTTPSpec) { s.Expect.Status = []int{404} }, ReasonNone, ""},
		{"status list rejects 200", "", func(s *HTTPSpec) { s.Expect.Status = []int{201, 202} }, ReasonStatus, "status 200, want one of 201, 202"},
		{"body contains", body("all ok"), func(s *HTTPSpec) { s.Expect.BodyContains = []string{"ok"} }, ReasonNone, ""},
		{"body lacks", body("all bad"), func(s *HTTPSpec) { s.Expect.BodyContains = []string{"ok"} }, ReasonAssertion, `body does not contain "ok"; body: all bad`},
		{"body not contains", body(strings.Repeat("fine ", 20) + "ERROR here"), func(s *HTTPSpec) { s.Expect.BodyNotContains = []string{"ERROR"} }, ReasonAssertion, `body contains "ERROR"; body: …`},
		{"body matches", body("v1.2.3"), func(s *HTTPSpec) { s.Expect.BodyMatches = []*regexp.Regexp{regexp.MustCompile(`v\d+\.\d+`)} }, ReasonNone, ""},
		{"body does not match", body("beta"), func(s *HTTPSpec) { s.Expect.BodyMatches = []*regexp.Regexp{regexp.MustCompile(`^v\d`)} }, ReasonAssertion, `body does not match /^v\d/; body: beta`},
		{"json equals", body(json), js(JSONAssertion{Path: "name", Op: JSONEquals, Value: "acme"}), ReasonNone, ""},
		{"json differs", body(json), js(JSONAssertion{Path: "status", Op: JSONEquals, Value: "ok"}), ReasonAssertion, `json "status": want "ok", got "degraded"`},
		{"json not_equals", body(json), js(JSONAssertion{Path: "status", Op: JSONNotEquals, Value: "degraded"}), ReasonAssertion, `want not "degraded"`},
		{"json exists", body(json), js(JSONAssertion{Path: "tags.0", Op: JSONExists}), ReasonNone, ""},
		{"json missing", body(json), js(JSONAssertion{Path: "version", Op: JSONExists}), ReasonAssertion, `json "version": missing`},
		{"json absent", body(json), js(JSONAssertion{Path: "error", Op: JSONExists, Value: "false"}), ReasonNone, ""},
		{"json present", body(json), js(JSONAssertion{Path: "queue", Op: JSONExists, Value: "false"}), ReasonAssertion, `json "queue": want absent, got 3`},
		{"json gt", body(json), js(JSONAssertion{Path: "queue", Op: JSONGt, Number: 2}), ReasonNone, ""},
		{"json not gt", body(json), js(JSONAssertion{Path: "queue", Op: JSONGt, Number: 5}), ReasonAssertion, `json "queue": want > 5, got 3`},
		{"json lt", body(json), js(JSONAssertion{Path: "queue", Op: JSONLt, Number: 3.5}), ReasonNone, ""},
		{"json not le", body(json), js(JSONAssertion{Path: "queue", Op: JSONLe, Number: 2.5}), ReasonAssertion, "want <= 2.5, got 3"},
		{"json not a number", body(json), js(JSONAssertion{Path: "name", Op: JSONGe, Number: 1}), ReasonAssertion, `json "name": want a number >= 1, got "acme"`},
		{"json on html", body("<html>down</html>"), js(JSONAssertion{Path: "status", Op: JSONExists}), ReasonAssertion, "body is not JSON; body: <html>down</html>"},
		{"json unknown op", body(json), js(JSONAssertion{Path: "status", Op: "like"}), ReasonInternal, `unknown op "like"`},
		{"max duration", query("sleep", "60ms"), func(s *HTTPSpec) { s.Expect.MaxDuration = 10 * time.Millisecond }, ReasonAssertion, "max 10ms"},
		{"cert_valid_for without TLS", "", func(s *HTTPSpec) { s.Expect.CertValidFor = time.Hour }, ReasonAssertion, "did not use TLS"},
		{"gzip decoded", query("enc", "gzip", "body", "gzipped ok"), func(s *HTTPSpec) { s.Expect.BodyContains = []string{"gzipped ok"} }, ReasonNone, ""},
		{"deflate decoded", query("enc", "deflate", "body", "zlib ok"), func(s *HTTPSpec) { s.Expect.BodyContains = []string{"zlib ok"} }, ReasonNone, ""},
		{"raw deflate decoded", query("enc", "rawdeflate", "body", "raw ok"), func(s *HTTPSpec) { s.Expect.BodyContains = []string{"raw ok"} }, ReasonNone, ""},
		{"corrupt gzip", query("enc", "fakegzip", "body", "plain text, not gzip"), nil, ReasonAssertion, "body does not decode: gzip: invalid header"},
		{"truncated gzip", query("enc", "fakegzip", "body", "short"), nil, ReasonAssertion, "body does not decode: compressed body truncated"},
		{"excerpt of gzip is decoded", query("enc", "gzip", "body", "plain words"), func(s *HTTPSpec) { s.Expect.BodyContains = []string{"ok"} }, ReasonAssertion, "body: plain words"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ProbeHTTP(context.Background(), target(srv.URL+"/"+tc.query, tc.spec))
			expect(t, r, tc.reason, tc.fragment)
			if r.StatusCode == 0 {
				t.Errorf("status code not recorded")
			}
		})
	}
}

func TestProbeHTTPRedirects(t *testing.T) {
	srv := newServer(t, hostile{})
	follow := func(max int) func(*HTTPSpec) {
		return func(s *HTTPSpec) { s.FollowRedirects, s.MaxRedirects = true, max }
	}
	for _, tc := range []struct {
		name      string
		query     string
		spec      func(*HTTPSpec)
		reason    Reason
		fragment  string
		status    int
		redirects int
	}{
		{"followed", query("redirect", "3"), follow(10), ReasonNone, "", 200, 3},
		{"up to the limit", query("redirect", "2"), follow(2), ReasonNone, "", 200, 2},
		{"over the limit", query("redirect", "3"), follow(2), ReasonStatus, "stopped after 2 redirects (redirect loop?)", 302, 2},
		{"loop", query("redirect", "loop"), follow(10), ReasonStatus, "GET " + srv.URL + "/?redirect=loop: stopped after 10 redirects (redirect loop?)", 302, 10},
		{"not followed", query("redirect", "1"), nil, ReasonStatus, "status 302 (Location: /?redirect=0), want 2xx", 302, 0},
		{"3xx expected", query("redirect", "1"), func(s *HTTPSpec) { s.Expect.Status = []int{302} }, ReasonNone, "", 302, 0},
		{"max_redirects 0 judges the 3xx", query("redirect", "1"), follow(0), ReasonStatus, "status 302 (Location: /?redirect=0), want 2xx", 302, 0},
		{"max_redirects 0 accepts an expected 3xx", query("redirect", "1"), func(s *HTTPSpec) {
			follow(0)(s)
			s.Expect.Status = []int{302}
		}, ReasonNone, "", 302, 0},
		{"redirect to ftp is a status failure", query("location", "ftp://127.0.0.1/file"), follow(10), ReasonStatus,
			`status 302: redirect to unsupported scheme "ftp" (Location: ftp://127.0.0.1/file)`, 302, 0},
		{"redirect to javascript: is a status failure", query("location", "javascript:alert(1)"), follow(10), ReasonStatus,
			`redirect to unsupported scheme "javascript"`, 302, 0},
		{"unsupported scheme after a followed redirect", query("redirect", "1", "location", "ftp://127.0.0.1/"), follow(10), ReasonStatus,
			`unsupported scheme "ftp"`, 302, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ProbeHTTP(context.Background(), target(srv.URL+"/"+tc.query, tc.spec))
			expect(t, r, tc.reason, tc.fragment)
			if r.StatusCode != tc.status || r.Redirects != tc.redirects {
				t.Errorf("status %d after %d redirects, want %d after %d", r.StatusCode, r.Redirects, tc.status, tc.redirects)
			}
			if tc.redirects > 0 && r.Phases.Connect <= 0 {
				t.Errorf("phases not summed over redirects: %+v", r.Phases)
			}
		})
	}
}

func TestProbeHTTPSendsRequest(t *testing.T) {
	type sent struct {
		req  *http.Request
		body string
	}
	seen := make(chan sent, 1)
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen <- sent{r, string(b)}
	}))

	r := ProbeHTTP(context.Background(), target(srv.URL+"/api", func(s *HTTPSpec) {
		s.Request.Method, s.Request.Body = http.MethodPost, `{"user":"synthetic"}`
		s.Request.Headers = map[string]string{"Content-Type": "application/json", "Host": "acme.saas.example"}
	}))
	expect(t, r, ReasonNone, "")
	got := <-seen
	if got.req.Method != http.MethodPost || got.body != `{"user":"synthetic"}` || got.req.Host != "acme.saas.example" {
		t.Errorf("server got %s host %q body %q", got.req.Method, got.req.Host, got.body)
	}
	for header, want := range map[string]string{
		"Content-Type":         "application/json",
		"User-Agent":           "forewarn/dev (synthetic monitoring)",
		"X-Forewarn-Synthetic": "1",
		"Accept-Encoding":      "gzip, deflate",
	} {
		if v := got.req.Header.Get(header); v != want {
			t.Errorf("%s: %q, want %q", header, v, want)
		}
	}

	r = ProbeHTTP(context.Background(), target(srv.URL, func(s *HTTPSpec) {
		s.Request.Headers = map[string]string{"user-agent": "tenant-allowlisted/1"}
	}))
	expect(t, r, ReasonNone, "")
	got = <-seen
	if ua := got.req.Header.Get("User-Agent"); ua != "tenant-allowlisted/1" || got.req.Method != http.MethodGet {
		t.Errorf("%s with User-Agent %q, want GET with the check's own", got.req.Method, ua)
	}
}

func TestProbeHTTPBodyLimit(t *testing.T) {
	srv := newServer(t, hostile{})
	limit := func(n int64) func(*HTTPSpec) { return func(s *HTTPSpec) { s.BodyLimit = n } }
	r := ProbeHTTP(context.Background(), target(srv.URL+query("size", "1024"), limit(1024)))
	expect(t, r, ReasonNone, "")
	if r.BodyBytes != 1024 {
		t.Errorf("body bytes %d, want 1024", r.BodyBytes)
	}
	r = ProbeHTTP(context.Background(), target(srv.URL+query("size", "1025"), limit(1024)))
	expect(t, r, ReasonBodyLimit, "body exceeds 1 KiB limit")
	r = ProbeHTTP(context.Background(), target(srv.URL+query("size", "1025", "status", "503"), limit(1024)))
	expect(t, r, ReasonStatus, "status 503") // the status is the news, not the size
}

// TestProbeHTTPBodyLimitMaxInt64 pins that any positive limit is safe:
// limit+1 once wrapped negative and the preallocation panicked.
func TestProbeHTTPBodyLimitMaxInt64(t *testing.T) {
	srv := newServer(t, hostile{})
	r := ProbeHTTP(context.Background(), target(srv.URL+query("body", "small"), func(s *HTTPSpec) {
		s.BodyLimit = math.MaxInt64
		s.Expect.BodyContains = []string{"small"}
	}))
	expect(t, r, ReasonNone, "")
	if r.BodyBytes != 5 {
		t.Errorf("body bytes %d, want 5", r.BodyBytes)
	}
}

func TestHTTPRequestMethodOrGet(t *testing.T) {
	for method, want := range map[string]string{"": "GET", "POST": "POST", "HEAD": "HEAD"} {
		if got := (HTTPRequest{Method: method}).MethodOrGet(); got != want {
			t.Errorf("MethodOrGet() with Method %q = %q, want %q", method, got, want)
		}
	}
}

// TestProbeHTTPSecretAstrideExcerptCut places a secret across each cut of a
// body excerpt. Cutting before redacting once let the part of the secret
// inside the excerpt through: "…Token0123456789abcdef".
func TestProbeHTTPSecretAstrideExcerptCut(t *testing.T) {
	const secret = "Tok3n<0123456789abcdef>"
	jsonForm := `Tok3n\u003c0123456789abcdef\u003e`
	bodies := map[string]string{
		// body_not_contains shows from 40 bytes before the match: the
		// secret starts 45 bytes before it, so the cut falls inside it.
		"/start":      strings.Repeat("x", 100) + secret + strings.Repeat("y", 22) + "ERROR",
		"/start-json": strings.Repeat("x", 100) + `{"t":"` + jsonForm + `"}` + strings.Repeat("y", 20) + "ERROR",
		// A status failure shows 120 runes from the start: the secret
		// crosses rune 120, or the raw window behind it, or both.
		"/end-runes":  strings.Repeat("a", 110) + secret + strings.Repeat("b", 50),
		"/end-window": strings.Repeat(" ", 470) + `{"t":"` + jsonForm + `"}`,
	}
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/end") {
			w.WriteHeader(http.StatusInternalServerError)
		}
		io.WriteString(w, bodies[r.URL.Path])
	}))
	notContains := func(s *HTTPSpec) { s.Expect.BodyNotContains = []string{"ERROR"} }
	for _, tc := range []struct {
		path     string
		spec     func(*HTTPSpec)
		reason   Reason
		fragment string
	}{
		{"/start", notContains, ReasonAssertion, `body contains "ERROR"; body: …<secret>yyy`},
		{"/start-json", notContains, ReasonAssertion, `body contains "ERROR"; body: …<secret>"}yyy`},
		{"/end-runes", nil, ReasonStatus, "status 500, want 2xx; body: aaa"},
		{"/end-window", nil, ReasonStatus, `status 500, want 2xx; body: {"t":"<secret>…`},
	} {
		t.Run(tc.path, func(t *testing.T) {
			tgt := target(srv.URL+tc.path, tc.spec)
			tgt.Secrets = []string{secret}
			r := ProbeHTTP(context.Background(), tgt)
			expect(t, r, tc.reason, tc.fragment)
			for _, form := range []string{secret, jsonForm} {
				if frag := leakedPart(r.Message, form); frag != "" {
					t.Errorf("%q of the secret leaked in %q", frag, r.Message)
				}
			}
		})
	}
}

// leakedPart returns a run of 5 or more bytes of secret found in msg.
func leakedPart(msg, secret string) string {
	for i := 0; i+5 <= len(secret); i++ {
		if strings.Contains(msg, secret[i:i+5]) {
			return secret[i : i+5]
		}
	}
	return ""
}

func TestProbeHTTPSecretsRedacted(t *testing.T) {
	srv := newServer(t, hostile{})
	const secret = "s3cr3t-t0ken"
	tgt := target(srv.URL + "/?token=" + secret + "&status=401&body=token+" + secret + "+rejected")
	tgt.Secrets = []string{secret}
	r := ProbeHTTP(context.Background(), tgt)
	expect(t, r, ReasonStatus, "GET "+srv.URL+"/?token=<secret>&status=401")
	if !strings.Contains(r.Message, "body: token <secret> rejected") || strings.Contains(r.Message, "s3cr3t") {
		t.Errorf("secret not redacted in %q", r.Message)
	}

	tgt = target("http://user:hunter2@" + strings.TrimPrefix(srv.URL, "http://") + "/?status=500")
	r = ProbeHTTP(context.Background(), tgt)
	if strings.Contains(r.Message, "hunter2") {
		t.Errorf("URL password shown in %q", r.Message)
	}
}

func TestExcerptWidensToWholeSecrets(t *testing.T) {
	secret := "Token0123456789abcdef"
	body := []byte(strings.Repeat("x", 100) + secret + strings.Repeat("y", 300))
	for from := 95; from <= 125; from++ { // every cut across the secret
		got := excerpt(body, from, []string{secret})
		if frag := leakedPart(got, secret); frag != "" {
			t.Fatalf("from %d: %q leaked in %q", from, frag, got)
		}
	}
	if got := excerpt(body, 110, []string{secret}); !strings.HasPrefix(got, "…<secret>yyy") {
		t.Errorf("excerpt from inside the secret: %q, want it to start at the mask", got)
	}
	tail := []byte(strings.Repeat("z", 470) + secret)
	for _, secrets := range [][]string{{secret}, {secret, "Token0123", "456789abcdef"}} {
		if got := excerpt(tail, 0, secrets); leakedPart(got, secret) != "" {
			t.Errorf("secret across the end window leaked: %q", got)
		}
	}
}

func TestExcerpt(t *testing.T) {
	secret := "tok-" + strings.Repeat("z", 30)
	body := []byte(strings.Repeat("a", 110) + secret + strings.Repeat("b", 50))
	got := excerpt(body, 0, []string{secret})
	if strings.Contains(got, "zzz") || !strings.HasSuffix(got, "…") {
		t.Errorf("secret astride the cut leaked or cut not marked: %q", got)
	}
	if got := excerpt([]byte("line one\n\tline\r\ntwo\x00"), 0, nil); got != "line one line two" {
		t.Errorf("excerpt not one clean line: %q", got)
	}
	if got := excerpt([]byte("héllo wörld"), 2, nil); got != "…llo wörld" {
		t.Errorf("excerpt from mid-rune: %q", got)
	}
}

func TestProbeHTTPInternal(t *testing.T) {
	for _, tc := range []struct {
		name     string
		target   Target
		fragment string
	}{
		{"bad scheme", target("ftp://127.0.0.1/file"), `GET ftp://127.0.0.1/file: unsupported url scheme "ftp"`},
		{"bad method", target("http://127.0.0.1/", func(s *HTTPSpec) { s.Request.Method = "GE T" }), "invalid method"},
		{"no spec", Target{Tenant: "acme", Check: "health", Kind: KindHTTP}, "without an http spec"},
		{"bad CA", target("https://127.0.0.1/", func(s *HTTPSpec) { s.TLS.CAPEM = []byte("nope") }), "no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, ProbeHTTP(context.Background(), tc.target), ReasonInternal, tc.fragment)
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	expect(t, ProbeHTTP(ctx, target("http://127.0.0.1:1/")), ReasonInternal, "probe canceled")
}

func BenchmarkProbeHTTP(b *testing.B) {
	srv := newServer(b, hostile{})
	tgt := target(srv.URL+query("body", `{"status":"ok","queue":1}`), func(s *HTTPSpec) {
		s.Expect.Status = []int{200}
		s.Expect.BodyContains = []string{"ok"}
		s.Expect.JSON = []JSONAssertion{{Path: "status", Op: JSONEquals, Value: "ok"}, {Path: "queue", Op: JSONLt, Number: 10}}
	})
	b.ReportAllocs()
	for b.Loop() {
		if r := ProbeHTTP(context.Background(), tgt); !r.Success {
			b.Fatal(r.Message)
		}
	}
}
