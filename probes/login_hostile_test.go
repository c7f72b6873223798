package probes

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestLoginExtractors(t *testing.T) {
	const page = `<html><form>
<!-- <input name="csrf" value="commented"> -->
<script>document.write('<input name="csrf" value="scripted">')</script>
<input type=text name=user value="someone">
<INPUT Value='t&amp;k=1' TYPE=hidden NAME='csrf' value="second value attribute">
<input name="csrf" value="a later duplicate">
<input name="empty">
</form></html>`
	const malformed = `<html><body><div <<input name=x value=1><p>unclosed <input name=csrf value=tok"en/><input name="cut" value="half`
	jsonBody := `{"data":{"token":"abc","n":42,"ok":true,"obj":{"k":[1,2]},"nil":null}}`
	u, _ := url.Parse("http://127.0.0.1/app/home")
	re := regexp.MustCompile
	for _, tc := range []struct {
		name, body string
		header     http.Header
		jarCookies []*http.Cookie // set for u before extracting
		ex         Extractor
		want       string // the value set; "" with found false: unset
		found      bool
		fail       string // the extraction failure, when required
	}{
		{name: "json string", body: jsonBody, ex: Extractor{From: ExtractJSON, Path: "data.token"}, want: "abc", found: true},
		{name: "json number", body: jsonBody, ex: Extractor{From: ExtractJSON, Path: "data.n"}, want: "42", found: true},
		{name: "json bool", body: jsonBody, ex: Extractor{From: ExtractJSON, Path: "data.ok"}, want: "true", found: true},
		{name: "json object", body: jsonBody, ex: Extractor{From: ExtractJSON, Path: "data.obj"}, want: `{"k":[1,2]}`, found: true},
		{name: "json null is not found", body: jsonBody, ex: Extractor{From: ExtractJSON, Path: "data.nil", Required: true},
			fail: `extract v: no json path "data.nil" in the body; body: {"data"`},
		{name: "json missing, optional", body: jsonBody, ex: Extractor{From: ExtractJSON, Path: "data.x"}},
		{name: "json on HTML", body: "<html>", ex: Extractor{From: ExtractJSON, Path: "a", Required: true},
			fail: `extract v: no json path "a": body is not JSON; body: <html>`},
		{name: "regex group 1 by default", body: "code=XY12; next", ex: Extractor{From: ExtractRegex, Regexp: re(`code=(\w+)`)}, want: "XY12", found: true},
		{name: "regex group 2", body: "a=1 b=2", ex: Extractor{From: ExtractRegex, Regexp: re(`a=(\d) b=(\d)`), Group: 2}, want: "2", found: true},
		{name: "regex without groups: whole match", body: "id 77", ex: Extractor{From: ExtractRegex, Regexp: re(`\d+`)}, want: "77", found: true},
		{name: "regex group not in the match", body: "a=1", ex: Extractor{From: ExtractRegex, Regexp: re(`a=(\d)|b=(\d)`), Group: 2}},
		{name: "regex no match, required", body: "nothing here", ex: Extractor{From: ExtractRegex, Regexp: re(`code=(\w+)`), Required: true},
			fail: `extract v: /code=(\w+)/ group 1: no match in the body; body: nothing here`},
		{name: "header: first value", header: http.Header{"Location": {"/one", "/two"}}, ex: Extractor{From: ExtractHeader, Name: "location"}, want: "/one", found: true},
		{name: "header missing, required", ex: Extractor{From: ExtractHeader, Name: "Location", Required: true},
			fail: "extract v: no header Location in the response"},
		{name: "cookie from the jar", jarCookies: []*http.Cookie{{Name: "sid", Value: "s1", Path: "/"}},
			ex: Extractor{From: ExtractCookie, Name: "sid"}, want: "s1", found: true},
		{name: "cookie set for another path", header: http.Header{"Set-Cookie": {"other=1", "sid=s2; Path=/admin"}},
			ex: Extractor{From: ExtractCookie, Name: "sid"}, want: "s2", found: true},
		{name: "cookie deleted", header: http.Header{"Set-Cookie": {"sid=; Max-Age=0"}},
			ex: Extractor{From: ExtractCookie, Name: "sid", Required: true}, fail: `extract v: no cookie "sid" for http://127.0.0.1/app/home`},
		{name: "form input among several", body: page, ex: Extractor{From: ExtractFormInput, Name: "csrf"}, want: "t&k=1", found: true},
		{name: "form input other", body: page, ex: Extractor{From: ExtractFormInput, Name: "user"}, want: "someone", found: true},
		{name: "form input without value", body: page, ex: Extractor{From: ExtractFormInput, Name: "empty"}, want: "", found: true},
		{name: "form input only in a comment or script", body: `<!-- <input name="t" value="c"> --><script>'<input name="t" value="s">'</script>`,
			ex: Extractor{From: ExtractFormInput, Name: "t", Required: true}, fail: `extract v: no <input name="t"> in the body`},
		{name: "form input in malformed HTML", body: malformed, ex: Extractor{From: ExtractFormInput, Name: "csrf"}, want: `tok"en/`, found: true},
		{name: "form input cut off", body: malformed, ex: Extractor{From: ExtractFormInput, Name: "cut", Required: true},
			fail: `extract v: no <input name="cut"> in the body`},
		{name: "form input in a body that is not HTML", body: "\x00\xff{]<<>", ex: Extractor{From: ExtractFormInput, Name: "x"}},
		{name: "unknown source", ex: Extractor{From: "xpath", Required: true}, fail: `extract v: unknown source "xpath"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			jar, _ := cookiejar.New(nil)
			jar.SetCookies(u, tc.jarCookies)
			run := &loginRun{client: &http.Client{Jar: jar}}
			rs := &response{body: []byte(tc.body), header: tc.header, url: u}
			tc.ex.Var = "v"
			set, f := run.extract([]Extractor{tc.ex}, rs, &exchange{})
			switch {
			case tc.fail != "" && (f == nil || !strings.HasPrefix(f.msg, tc.fail)):
				t.Fatalf("failure %+v, want %q", f, tc.fail)
			case tc.fail == "" && f != nil:
				t.Fatalf("failure %+v", f)
			}
			v, found := run.extracted["v"]
			if v != tc.want || found != tc.found || len(set) != len(run.extracted) {
				t.Errorf("extracted %q (found %v, shown %v), want %q (found %v)", v, found, set, tc.want, tc.found)
			}
		})
	}
}

func TestLoginExtractSecret(t *testing.T) {
	run := &loginRun{secrets: []string{"configured"}}
	rs := &response{header: http.Header{"X-Token": {"tok-123"}, "X-Id": {"id-9"}}}
	set, f := run.extract([]Extractor{
		{Var: "token", From: ExtractHeader, Name: "X-Token", Secret: true},
		{Var: "id", From: ExtractHeader, Name: "X-Id"},
	}, rs, &exchange{})
	if f != nil || len(set) != 2 || set[0] != (Extracted{"token", Redacted}) || set[1] != (Extracted{"id", "id-9"}) {
		t.Errorf("shown %v, failure %v", set, f)
	}
	if run.extracted["token"] != "tok-123" || strings.Join(run.secrets, ",") != "configured,tok-123" {
		t.Errorf("extracted %v, secrets %v", run.extracted, run.secrets)
	}
}

func TestLoginHostile(t *testing.T) {
	srv := newServer(t, newFakeSaaS())
	get := func(name, path string, opts ...func(*Step)) Step {
		s := Step{Name: name, Request: &StepRequest{URL: tmpl("{{ .Tenant.URL }}" + path)}}
		for _, o := range opts {
			o(&s)
		}
		return s
	}
	extract := func(e Extractor) func(*Step) { return func(s *Step) { s.Extract = append(s.Extract, e) } }
	for _, tc := range []struct {
		name     string
		steps    []Step
		reason   Reason
		fragment string
		status   int
	}{
		{"extractor finds nothing", []Step{get("login page", "/login", extract(Extractor{Var: "csrf", From: ExtractFormInput, Name: "csrf", Required: true}))},
			ReasonExtraction, `step "login page": GET ` + srv.URL + `/login: extract csrf: no <input name="csrf"> in the body`, 200},
		{"optional value unset, then needed", []Step{
			get("login page", "/login", extract(Extractor{Var: "next", From: ExtractHeader, Name: "Location"})),
			get("next", "/?to={{ .Extracted.next }}"),
		}, ReasonExtraction, `step "next": GET {{.Tenant.URL}}/?to={{.Extracted.next}}: url: .Extracted.next is not set`, 0},
		{"unset value in a form", []Step{{Name: "post", Request: &StepRequest{Method: http.MethodPost, URL: tmpl("{{ .Tenant.URL }}/"),
			Body: StepBody{Kind: BodyForm, Form: []NamedTemplate{nt("csrf", "{{ .Extracted.csrf | html }}")}}}}},
			ReasonExtraction, "POST " + srv.URL + "/: form csrf: .Extracted.csrf is not set", 0},
		{"redirect loop", []Step{get("loop", "/?redirect=loop", func(s *Step) { s.FollowRedirects, s.MaxRedirects = true, 5 })},
			ReasonStatus, `step "loop": GET ` + srv.URL + "/?redirect=loop: stopped after 5 redirects (redirect loop?)", 302},
		{"step timeout", []Step{get("fast", "/"), get("slow", "/?sleep=10s", func(s *Step) { s.Timeout = 200 * time.Millisecond })},
			ReasonTimeout, `step "slow": GET ` + srv.URL + "/?sleep=10s: timed out after 200ms waiting for response headers", 0},
		{"template error", []Step{get("bad", "/{{ .Vars.user.Nope }}")}, ReasonInternal, "url: template: t:1:", 0},
		{"url not http", []Step{{Name: "ftp", Request: &StepRequest{URL: tmpl("ftp://127.0.0.1/")}}}, ReasonInternal, `unsupported url scheme "ftp"`, 0},
		{"step without a request", []Step{{Name: "empty"}}, ReasonInternal, `step "empty": step has neither a request nor an oauth2 grant`, 0},
		{"gzip body decoded", []Step{get("gzip", "/?enc=gzip&body=signed+in", func(s *Step) { s.Expect.BodyContains = []string{"signed in"} })},
			ReasonNone, "", 200},
		{"body limit", []Step{get("big", "/?size=2048", func(s *Step) { s.BodyLimit = 1024 })}, ReasonBodyLimit, "body exceeds 1 KiB limit", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			r := ProbeLogin(context.Background(), loginTarget(srv.URL, tc.steps...))
			expectLogin(t, r, tc.reason, tc.fragment)
			if r.StatusCode != tc.status {
				t.Errorf("status %d, want %d", r.StatusCode, tc.status)
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("took %s", took)
			}
		})
	}
}

// TestLoginCheckTimeout: the check's timeout bounds all steps together.
func TestLoginCheckTimeout(t *testing.T) {
	srv := newServer(t, newFakeSaaS())
	slow := func(name string) Step {
		return Step{Name: name, Request: &StepRequest{URL: tmpl("{{ .Tenant.URL }}/?sleep=200ms")}}
	}
	tgt := loginTarget(srv.URL, slow("one"), slow("two"), slow("three"))
	tgt.Timeout = 300 * time.Millisecond
	start := time.Now()
	r := ProbeLogin(context.Background(), tgt)
	expectLogin(t, r, ReasonTimeout, `step "two": GET `+srv.URL+"/?sleep=200ms: timed out after 300ms waiting for response headers")
	if took := time.Since(start); took > 450*time.Millisecond || summary(r) != "one=ok two=timeout three=skipped" || r.StepsCompleted != 1 {
		t.Errorf("took %s, steps %s, completed %d", took, summary(r), r.StepsCompleted)
	}
}

// TestLoginManyCookies: a tenant setting 10,000 cookies is sent them all
// back, within the run's timeout and bounded memory.
func TestLoginManyCookies(t *testing.T) {
	srv := newServer(t, newFakeSaaS())
	steps := []Step{
		{Name: "cookies", Request: &StepRequest{URL: tmpl("{{ .Tenant.URL }}/cookies?n=10000")},
			Extract: []Extractor{{Var: "last", From: ExtractCookie, Name: "c9999", Required: true}}},
		{Name: "home", Request: &StepRequest{URL: tmpl("{{ .Tenant.URL }}/home")}, Expect: HTTPExpect{Status: []int{303}}},
	}
	var r Result
	alloc, took := measure(func() { r = ProbeLogin(context.Background(), loginTarget(srv.URL, steps...)) })
	expectLogin(t, r, ReasonNone, "")
	t.Logf("10,000 cookies: %s, %d KiB allocated", took, alloc>>10)
	if took > 2*time.Second || alloc > 64<<20 {
		t.Errorf("took %s and allocated %d KiB", took, alloc>>10)
	}
}

func TestLoginTLS(t *testing.T) {
	ca := newCA(t)
	now := time.Now()
	soon, later := now.Add(20*24*time.Hour).Truncate(time.Second), now.Add(90*24*time.Hour).Truncate(time.Second)
	servers := map[time.Time]*httptest.Server{}
	for _, expiry := range []time.Time{soon, later} {
		srv := httptest.NewUnstartedServer(newFakeSaaS())
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.leaf(t, expiry)}}
		srv.Config.ErrorLog = quietLog // the untrusted case fails a handshake
		srv.StartTLS()
		t.Cleanup(srv.Close)
		servers[expiry] = srv
	}
	roots, err := CertPool(ca.pem)
	if err != nil {
		t.Fatal(err)
	}
	page := func(name, url string, c TLSConfig) Step {
		return Step{Name: name, TLS: c, Request: &StepRequest{URL: tmpl(url + "/login")}}
	}
	r := ProbeLogin(context.Background(), loginTarget("",
		page("later", servers[later].URL, TLSConfig{Roots: roots}),
		page("soon", servers[soon].URL, TLSConfig{InsecureSkipVerify: true}),
		page("later again", servers[later].URL, TLSConfig{Roots: roots}),
	))
	expectLogin(t, r, ReasonNone, "")
	if !r.TLS || !r.CertExpiry.Equal(soon) {
		t.Errorf("TLS %v expiry %v, want the earliest, %v", r.TLS, r.CertExpiry, soon)
	}
	if r.Steps[2].Phases.TLS != 0 || r.Steps[0].Phases.TLS <= 0 {
		t.Errorf("TLS phases %s, %s: steps with equal TLS settings do not share a transport", r.Steps[0].Phases.TLS, r.Steps[2].Phases.TLS)
	}

	r = ProbeLogin(context.Background(), loginTarget("", page("untrusted", servers[later].URL, TLSConfig{})))
	expectLogin(t, r, ReasonTLS, "certificate signed by unknown authority")
	if !r.CertExpiry.Equal(later) {
		t.Errorf("expiry of the rejected certificate: %v", r.CertExpiry)
	}
	r = ProbeLogin(context.Background(), loginTarget("", page("bad CA", servers[later].URL, TLSConfig{CAPEM: []byte("nope")})))
	expectLogin(t, r, ReasonInternal, `step "bad CA": tls ca: no PEM certificate found`)
	if summary(r) != "bad CA=skipped" {
		t.Errorf("steps %s", summary(r))
	}
}

// BenchmarkLogin is the four-step form sign-in over plain HTTP.
func BenchmarkLogin(b *testing.B) {
	srv := newServer(b, newFakeSaaS())
	tgt := loginTarget(srv.URL, formSignIn()...)
	b.ReportAllocs()
	for b.Loop() {
		if r := ProbeLogin(context.Background(), tgt); !r.Success {
			b.Fatal(r.Message)
		}
	}
}

// TestLoginClosesConnections: each run's keep-alive connections end with
// it, so a monitor running checks for weeks does not pile them up.
func TestLoginClosesConnections(t *testing.T) {
	srv := newServer(t, newFakeSaaS())
	tgt := loginTarget(srv.URL, formSignIn()...)
	ProbeLogin(context.Background(), tgt)
	before := runtime.NumGoroutine()
	for range 50 {
		if r := ProbeLogin(context.Background(), tgt); !r.Success {
			t.Fatal(r.Message)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		t.Errorf("%d goroutines after 50 runs, %d before: connections left open", n, before)
	}
}
