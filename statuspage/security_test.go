package statuspage

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/forewarn/forewarn/cases"
	"github.com/forewarn/forewarn/config"
	"github.com/forewarn/forewarn/probes"
	"github.com/forewarn/forewarn/store"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// privacyFixture: 50 tenants, 2 public; private tenants have open and
// resolved cases whose error text names them, published and not, and
// maintenance windows whose reasons name them.
func privacyFixture() *fixture {
	f := newFixture(tenantsN(50, 7, 31))
	for i, t := range f.tenants {
		opened := t0.AddDate(0, 0, -(i % 80)).Add(-time.Duration(i) * time.Hour)
		resolved := opened.Add(30 * time.Minute)
		if i%5 == 0 {
			resolved = time.Time{}
		}
		kind := []cases.Kind{cases.KindOutage, cases.KindDegraded, cases.KindCapacity, cases.KindExpiring}[i%4]
		f.addCase("case-"+t.ID, t.ID, kind, "sign-in", probes.KindLogin, opened, resolved,
			"login for "+t.Name+" ("+t.ID+") failed: db shard of "+t.ID+" refused")
	}
	f.maint = []config.Maintenance{
		{Tenant: "t-003", Start: t0.Add(time.Hour), End: t0.Add(2 * time.Hour), Reason: "Customer 003 Ltd migration"},
		{Tenant: "pub-007", Start: t0.Add(time.Hour), End: t0.Add(2 * time.Hour), Reason: "Open Corp upgrade"},
		{Start: t0.Add(48 * time.Hour), End: t0.Add(50 * time.Hour), Reason: "Platform upgrade"},
	}
	return f
}

// publicPaths are every public response.
func publicPaths(f *fixture) []string {
	ps := []string{"/", "/api/v1/status", "/feed.atom", "/api/v1/schema/status.schema.json", "/static/style.css"}
	for _, b := range badgeFiles {
		ps = append(ps, "/badge/"+b)
		for _, t := range f.tenants {
			ps = append(ps, "/badge/"+t.ID+"/"+b)
		}
	}
	return ps
}

func TestPrivacyPublicResponsesNameOnlyPublicTenants(t *testing.T) {
	f := privacyFixture()
	s := f.server(t, nil)
	h := s.Handler()
	// A support lead published one private tenant's case: its title and
	// body are public, its tenant still is not.
	do(t, h, http.MethodPut, "/admin/incidents/case-t-010", `{"title":"Sign-in failures in eu-west","published":true}`,
		"127.0.0.1:5000", "Authorization", "Bearer admin-secret-token")
	s.Close()

	var secrets []string
	for _, t := range f.tenants {
		if !t.Public {
			secrets = append(secrets, t.ID, t.Name, "case-"+t.ID)
		}
	}
	secrets = append(secrets, "db shard", "refused", "Customer 003 Ltd migration", "health", "internal knee text")
	var published bool
	for _, p := range publicPaths(f) {
		for _, enc := range []string{"", "gzip"} {
			r := get(t, h, p, "Accept-Encoding", enc)
			body := r.body
			if r.header.Get("Content-Encoding") == "gzip" {
				body = gunzip(t, body)
			}
			for _, sec := range secrets {
				if strings.Contains(body, sec) {
					t.Errorf("%s (%s) shows %q", p, enc, sec)
				}
			}
			published = published || strings.Contains(body, "Sign-in failures in eu-west")
		}
	}
	if !published {
		t.Error("the published title is on no public response")
	}
	home := mustGet(t, h, "/")
	for _, want := range []string{"Open Corp 007", "Open Corp 031", "Open Corp upgrade", "Platform upgrade"} {
		if !strings.Contains(home, want) {
			t.Errorf("public page lacks %q", want)
		}
	}
	// A private tenant's badge path is the plain 404.
	if r := get(t, h, "/badge/t-003/status.svg"); r.code != http.StatusNotFound || r.body != get(t, h, "/nope").body {
		t.Errorf("private tenant badge: %d", r.code)
	}
}

func TestTokenIsolation(t *testing.T) {
	f := privacyFixture()
	s := f.server(t, nil)
	h := s.Handler()
	for i, me := range f.tenants {
		tok := s.TenantToken(me.ID)
		var bodies []string
		for _, p := range []string{"/t/" + tok, "/t/" + tok + "/feed.atom", "/api/v1/tenants/" + tok + "/status",
			"/t/" + tok + "/badge/uptime-30d.svg", "/t/" + tok + "/badge/status.svg"} {
			bodies = append(bodies, mustGet(t, h, p))
		}
		if !strings.Contains(bodies[0], me.Name) || !strings.Contains(bodies[2], `"id":"`+me.ID+`"`) {
			t.Fatalf("%s's page does not name it", me.ID)
		}
		for j, other := range f.tenants {
			if i == j {
				continue
			}
			for k, b := range bodies {
				for _, sec := range []string{other.ID, other.Name, s.TenantToken(other.ID)} {
					if strings.Contains(b, sec) {
						t.Fatalf("%s's response %d shows %s's %q", me.ID, k, other.ID, sec)
					}
				}
			}
		}
		for _, b := range bodies {
			if strings.Contains(b, "db shard") || strings.Contains(b, "case-"+me.ID) {
				t.Fatalf("%s's page shows internal case text", me.ID)
			}
		}
	}
}

func TestWrongTokenIsTheSame404AsAnUnknownPath(t *testing.T) {
	f := privacyFixture()
	s := f.server(t, func(o *Options) { o.AdminToken = "" })
	h := s.Handler()
	ref := get(t, h, "/no/such/page")
	if ref.code != http.StatusNotFound {
		t.Fatalf("unknown path: %d", ref.code)
	}
	good := s.TenantToken("t-001")
	gone := s.TenantToken("t-999")
	wrong := []string{
		"/t/" + good[:len(good)-1] + "x", "/t/" + good[:10], "/t/" + strings.Repeat("A", 300), "/t/", "/t/" + gone,
		"/t/" + good + "x/feed.atom", "/api/v1/tenants/" + good[1:] + "/status", "/t/" + gone + "/badge/status.svg",
		"/t/" + good + "/badge/nope.svg", "/badge/t-001/status.svg", "/badge/nope.svg", "/static/nope.css",
		"/admin/incidents", "/t/" + good + "/",
	}
	for _, p := range wrong {
		r := get(t, h, p)
		if r.code != ref.code || r.body != ref.body || !sameHeaders(r.header, ref.header) {
			t.Errorf("%s: %d, headers %v; the 404 is %d, %v", p, r.code, r.header, ref.code, ref.header)
		}
	}
	// A POST anywhere is that 404 too, not a 405 that would tell routes apart.
	if r := do(t, h, http.MethodPost, "/t/"+good, "", "192.0.2.1:1"); r.code != http.StatusNotFound || r.body != ref.body {
		t.Errorf("POST to a private page: %d", r.code)
	}
	// A tenant removed from the config loses its page at the next snapshot.
	mustGet(t, h, "/t/"+good)
	f.tenants = f.tenants[2:]
	f.clock.Add(10 * time.Second)
	if r := get(t, h, "/t/"+good); r.code != http.StatusNotFound || r.body != ref.body {
		t.Errorf("removed tenant: %d", r.code)
	}
}

func sameHeaders(a, b http.Header) bool {
	for _, h := range []http.Header{a, b} {
		h.Del("Date")
	}
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if a.Get(k) != b.Get(k) {
			return false
		}
	}
	return true
}

const hostile = `<script>alert(1)</script>`

func TestHostileTextStaysInert(t *testing.T) {
	ts := tenantsN(3, 0)
	ts[0].Name = hostile
	ts[0].Region = `"><img src=x onerror=alert(2)>`
	ts[1].Name = `</title><script>alert(3)</script>`
	f := newFixture(ts)
	evil := `"><svg onload=alert(4)>`
	f.checks = append(f.checks, config.Check{Name: evil, Kind: probes.KindHTTP, Tenants: []string{ts[0].ID, ts[1].ID}})
	for i, t := range ts[:2] {
		f.addHistory(t.ID, evil, probes.KindHTTP, i)
	}
	f.addCase("evil-case", ts[0].ID, cases.KindOutage, evil, probes.KindHTTP, t0.Add(-time.Hour), time.Time{}, hostile)
	f.addCase("evil-case-2", ts[1].ID, cases.KindOutage, evil, probes.KindHTTP, t0.Add(-time.Hour), time.Time{}, hostile)
	f.maint = []config.Maintenance{{Start: t0.Add(time.Hour), End: t0.Add(2 * time.Hour), Reason: `<script>alert(5)</script>`}}
	s := f.server(t, func(o *Options) {
		o.Title = `<script>alert(6)</script>`
		o.Components.Checks = map[string]string{evil: `<script>alert(7)</script>`}
	})
	h := s.Handler()
	admin := func(method, path, body string) {
		if r := do(t, h, method, path, body, "127.0.0.1:1", "Authorization", "Bearer admin-secret-token"); r.code/100 != 2 {
			t.Fatalf("%s %s: %d %s", method, path, r.code, r.body)
		}
	}
	admin(http.MethodPut, "/admin/incidents/evil-case", `{"title":"<script>alert(8)</script>","body":"<img src=x onerror=alert(9)>","published":true}`)
	admin(http.MethodPost, "/admin/incidents/evil-case/updates", `{"text":"</article><script>alert(10)</script>"}`)
	s.Close()

	pages := map[string]string{}
	for _, p := range append(publicPaths(f), "/t/"+s.TenantToken(ts[0].ID), "/t/"+s.TenantToken(ts[1].ID),
		"/t/"+s.TenantToken(ts[0].ID)+"/feed.atom", "/api/v1/tenants/"+s.TenantToken(ts[0].ID)+"/status",
		"/t/"+s.TenantToken(ts[0].ID)+"/badge/status.svg") {
		if r := get(t, h, p); r.code == http.StatusOK {
			pages[p] = r.body
		}
	}
	for p, body := range pages {
		for _, bad := range []string{"<script>alert", "<img src=x", "<svg onload", "onerror=alert(2)>"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s contains live %q", p, bad)
			}
		}
		switch {
		case strings.HasSuffix(p, ".atom"), strings.HasSuffix(p, ".svg"):
			if err := xmlUnmarshal(body, new(struct{})); err != nil {
				t.Errorf("%s is not well-formed XML: %v", p, err)
			}
		case strings.Contains(p, "/api/"):
			if !json.Valid([]byte(body)) {
				t.Errorf("%s is not JSON", p)
			}
		}
	}
	home := pages["/"]
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;script&gt;alert(8)&lt;/script&gt;",
		"&lt;/article&gt;&lt;script&gt;alert(10)&lt;/script&gt;", "&lt;script&gt;alert(5)&lt;/script&gt;",
		"<title>&lt;script&gt;alert(6)&lt;/script&gt;</title>"} {
		if !strings.Contains(home, want) {
			t.Errorf("the public page lacks escaped %q", want)
		}
	}
	if js := pages["/api/v1/status"]; !strings.Contains(js, `\u003cscript\u003ealert(1)\u003c/script\u003e`) {
		t.Error("the JSON does not escape < and >")
	}
	var feed atomFeed
	if err := xmlUnmarshal(pages["/feed.atom"], &feed); err != nil || !strings.Contains(pages["/feed.atom"], "&lt;script&gt;alert(8)") {
		t.Errorf("feed: %v", err)
	}
	titles := ""
	for _, e := range feed.Entries {
		titles += e.Title + "\n"
	}
	if !strings.Contains(titles, "<script>alert(8)</script>") {
		t.Errorf("the feed's titles do not read back as text: %q", titles)
	}
	tp := pages["/t/"+s.TenantToken(ts[1].ID)]
	if !strings.Contains(tp, "&lt;/title&gt;&lt;script&gt;alert(3)") || !strings.Contains(tp, `data-check="&#34;&gt;&lt;svg onload=alert(4)&gt;"`) {
		t.Errorf("hostile tenant and check names are not escaped on the tenant page:\n%s", section(tp, "checks"))
	}
}

func TestAdminAPI(t *testing.T) {
	f := standardFixture()
	s := f.server(t, nil)
	h := s.Handler()
	const local, remote = "127.0.0.1:5555", "203.0.113.9:5555"
	auth := []string{"Authorization", "Bearer admin-secret-token"}
	for _, c := range []struct {
		name, remote string
		header       []string
		want         int
	}{
		{"no token", local, nil, http.StatusUnauthorized},
		{"wrong token", local, []string{"Authorization", "Bearer admin-secret-tokeN"}, http.StatusUnauthorized},
		{"basic auth", local, []string{"Authorization", "Basic YWRtaW4="}, http.StatusUnauthorized},
		{"remote", remote, auth, http.StatusForbidden},
		{"ok", local, auth, http.StatusOK},
		{"ipv6 loopback", "[::1]:5555", auth, http.StatusOK},
	} {
		r := do(t, h, http.MethodGet, "/admin/incidents", "", c.remote, c.header...)
		if r.code != c.want {
			t.Errorf("%s: %d, want %d: %s", c.name, r.code, c.want, r.body)
		}
		if r.code == http.StatusUnauthorized && r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", c.name)
		}
	}
	r := do(t, h, http.MethodPut, "/admin/incidents/t-001-open", `{"title":"x"}`, local)
	if r.code != http.StatusUnauthorized || f.st.count("SaveState") != 0 {
		t.Errorf("unauthenticated PUT: %d, %d saves", r.code, f.st.count("SaveState"))
	}
	// Remote clients are allowed when configured.
	s2 := f.server(t, func(o *Options) { o.AdminAllowRemote = true })
	if r := do(t, s2.Handler(), http.MethodGet, "/admin/incidents", "", remote, auth...); r.code != http.StatusOK {
		t.Errorf("AdminAllowRemote: %d", r.code)
	}
	// Bad input is refused with a reason.
	for _, body := range []string{`{"title": 3}`, `{"titel":"x"}`, `{"title":"` + strings.Repeat("x", 201) + `"}`, `{"title":"a\u0007b"}`} {
		if r := do(t, h, http.MethodPut, "/admin/incidents/t-001-open", body, local, auth...); r.code != http.StatusBadRequest {
			t.Errorf("PUT %s: %d", body, r.code)
		}
	}
	if r := do(t, h, http.MethodPut, "/admin/incidents/nope", `{}`, local, auth...); r.code != http.StatusNotFound {
		t.Errorf("unknown case: %d", r.code)
	}
	// The list shows internal text, for the support lead only.
	list := do(t, h, http.MethodGet, "/admin/incidents", "", local, auth...).body
	if !strings.Contains(list, "connection refused") || !strings.Contains(list, `"public_title": "Degraded performance for some customers"`) {
		t.Errorf("admin list:\n%s", list)
	}
}

func TestPublishedIncident(t *testing.T) {
	f := standardFixture()
	s := f.server(t, nil)
	h := s.Handler()
	tok := s.TenantToken("t-001")
	admin := func(method, path, body string) string {
		t.Helper()
		r := do(t, h, method, path, body, "127.0.0.1:1", "Authorization", "Bearer admin-secret-token")
		if r.code/100 != 2 {
			t.Fatalf("%s %s: %d %s", method, path, r.code, r.body)
		}
		return r.body
	}
	before := mustGet(t, h, "/")
	if !strings.Contains(before, "Degraded performance for some customers") || strings.Contains(before, "Sign-in is failing") {
		t.Fatal("unpublished incident not generic")
	}
	admin(http.MethodPut, "/admin/incidents/t-001-open", `{"title":"Sign-in is failing for some EU customers","body":"We are looking into it.\n\nMore soon.","published":true}`)
	admin(http.MethodPost, "/admin/incidents/t-001-open/updates", `{"text":"The cause is found; a fix is rolling out."}`)
	f.clock.Add(time.Minute)
	admin(http.MethodPost, "/admin/incidents/t-001-open/updates", `{"text":"Fixed; watching."}`)
	s.Close()
	for _, p := range []string{"/", "/api/v1/status", "/feed.atom", "/t/" + tok, "/t/" + tok + "/feed.atom"} {
		body := mustGet(t, h, p)
		for _, want := range []string{"Sign-in is failing for some EU customers", "We are looking into it.", "a fix is rolling out", "Fixed; watching."} {
			if !strings.Contains(body, want) {
				t.Errorf("%s lacks %q", p, want)
			}
		}
	}
	home := mustGet(t, h, "/")
	if !strings.Contains(home, "data-published") || strings.Contains(home, "Customer 001") {
		t.Error("the published incident is not marked, or names its tenant")
	}
	// Edit an update, delete one, then hide the incident: it leaves every page.
	admin(http.MethodPut, "/admin/incidents/t-001-open/updates/2", `{"text":"Fixed."}`)
	admin(http.MethodDelete, "/admin/incidents/t-001-open/updates/1", "")
	got := admin(http.MethodGet, "/admin/incidents/t-001-open", "")
	if !strings.Contains(got, `"text": "Fixed."`) || strings.Contains(got, "rolling out") {
		t.Errorf("updates after edit and delete:\n%s", got)
	}
	admin(http.MethodPut, "/admin/incidents/t-001-open", `{"hidden":true}`)
	s.Close()
	for _, p := range []string{"/", "/api/v1/status", "/feed.atom", "/t/" + tok} {
		if body := mustGet(t, h, p); strings.Contains(body, "Sign-in is failing") {
			t.Errorf("%s still shows the hidden incident", p)
		}
	}
	if body := mustGet(t, h, "/"); strings.Contains(body, `data-component="us-east/sign-in" data-state="partial_outage"`) {
		t.Error("a hidden case still sets a component's state")
	}
	// The publication is in the store under its documented key.
	if _, ok := f.st.state["statuspage/incident/t-001-open"]; !ok {
		t.Error("no publication in the store")
	}
}

func TestMaintenanceWindows(t *testing.T) {
	f := newFixture(tenantsN(4, 0))
	f.maint = []config.Maintenance{
		{Check: "sign-in", Start: t0.Add(-time.Hour), End: t0.Add(time.Hour), Reason: "Identity provider upgrade"},
		{Start: t0.Add(-48 * time.Hour), End: t0.Add(-47 * time.Hour), Reason: "Long over"},
		{Tenant: "pub-000", Start: t0.Add(3 * time.Hour), End: t0.Add(4 * time.Hour), Reason: "Open Corp cut-over"},
	}
	s := f.server(t, nil)
	h := s.Handler()
	body := mustGet(t, h, "/")
	for _, want := range []string{"Identity provider upgrade", `data-state="in_progress"`, `data-state="scheduled"`, "Open Corp cut-over",
		`data-component="eu-west/sign-in" data-state="maintenance"`} {
		if !strings.Contains(body, want) {
			t.Errorf("public page lacks %q", want)
		}
	}
	if strings.Contains(body, "Long over") {
		t.Error("a past window is shown")
	}
	if strings.Contains(body, `data-component="eu-west/web" data-state="maintenance"`) {
		t.Error("a sign-in window put web under maintenance")
	}
	tb := mustGet(t, h, "/t/"+s.TenantToken("t-001"))
	if !strings.Contains(tb, `data-check="sign-in" data-state="maintenance"`) || !strings.Contains(tb, "Identity provider upgrade") {
		t.Error("the tenant page does not show the window on its sign-in check")
	}
}

func TestTokens(t *testing.T) {
	f := standardFixture()
	s := f.server(t, nil)
	a, b := s.TenantToken("t-001"), s.TenantToken("t-002")
	if len(a) != tokenChars || a == b || !tokenShape(a) || a != s.TenantToken("t-001") {
		t.Fatalf("tokens %q %q", a, b)
	}
	// Rotation: a new generation for one tenant, or a new secret for all.
	s2 := f.server(t, func(o *Options) { o.Generations = map[string]int{"t-001": 1} })
	if s2.TenantToken("t-001") == a || s2.TenantToken("t-002") != b {
		t.Error("a generation did not rotate exactly one token")
	}
	h2 := s2.Handler()
	if get(t, h2, "/t/"+a).code != http.StatusNotFound || get(t, h2, "/t/"+s2.TenantToken("t-001")).code != http.StatusOK {
		t.Error("the old token still opens the page, or the new one does not")
	}
	s3 := f.server(t, func(o *Options) { o.Secret = []byte("another secret of 32 bytes......") })
	if s3.TenantToken("t-002") == b {
		t.Error("a new secret kept a token")
	}
	// Configured tokens win, and must be long enough.
	s4 := f.server(t, func(o *Options) { o.Tokens = map[string]string{"t-001": "configured_token-0123456789"} })
	if s4.TenantToken("t-001") != "configured_token-0123456789" || get(t, s4.Handler(), "/t/configured_token-0123456789").code != 200 {
		t.Error("configured token not used")
	}
	for _, bad := range []map[string]string{{"t-001": "short"}, {"t-001": "has a space in it, quite long"}, {"a": "same-token-0123456789abcdef", "b": "same-token-0123456789abcdef"}} {
		if _, err := New(Options{Store: f.st, Tenants: func() []config.Tenant { return nil }, Secret: []byte("0123456789abcdef"), Tokens: bad}); err == nil {
			t.Errorf("tokens %v accepted", bad)
		}
	}
	if _, err := New(Options{Store: f.st, Tenants: func() []config.Tenant { return nil }, Secret: []byte("short")}); err == nil {
		t.Error("a 5-byte secret accepted")
	}
	// Without a secret, one is made once and kept in the store.
	k1 := f.server(t, func(o *Options) { o.Secret = nil }).TenantToken("t-001")
	k2 := f.server(t, func(o *Options) { o.Secret = nil }).TenantToken("t-001")
	if k1 != k2 || len(f.st.state[secretKey]) != 32 {
		t.Error("the kept secret is not reused")
	}
}

func xmlUnmarshal(s string, v any) error {
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	return d.Decode(v)
}

func gunzip(t testing.TB, s string) string {
	t.Helper()
	var b bytes.Buffer
	zr, err := gzipReader(s)
	if err != nil {
		t.Fatal(err)
	}
	b.ReadFrom(zr)
	return b.String()
}

func compileSchemas(t testing.TB) map[string]*jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, name := range []string{"status", "tenant-status"} {
		raw, err := schemaFS.ReadFile("schema/" + name + ".schema.json")
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddResource("https://forewarn.dev/schema/statuspage/"+name+".schema.json", doc); err != nil {
			t.Fatal(err)
		}
	}
	out := map[string]*jsonschema.Schema{}
	for _, name := range []string{"status", "tenant-status"} {
		sch, err := c.Compile("https://forewarn.dev/schema/statuspage/" + name + ".schema.json")
		if err != nil {
			t.Fatal(err)
		}
		out[name] = sch
	}
	return out
}

func validate(t testing.TB, sch *jsonschema.Schema, body string) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("does not match the schema: %v", fmt.Sprint(err))
	}
}

func gzipReader(s string) (*gzip.Reader, error) { return gzip.NewReader(strings.NewReader(s)) }

// TestMaintenanceHoursNotDowntime: a check down through its maintenance
// window keeps its uptime; the whole hours of the window are taken out,
// a window shorter than an hour takes nothing out.
func TestMaintenanceHoursNotDowntime(t *testing.T) {
	f := newFixture(tenantsN(2))
	today := t0.Truncate(24 * time.Hour)
	for i, r := range f.st.rollups {
		if r.Tenant != "t-001" || r.Check != "health" {
			continue
		}
		switch {
		case r.Period == store.Day && r.Start.Equal(today):
			f.st.rollups[i].Runs, f.st.rollups[i].Successes = 2880, 2640
		case r.Period == store.Hour && (r.Start.Hour() == 12 || r.Start.Hour() == 13):
			f.st.rollups[i].Successes = 0
		}
	}
	tip := func(f *fixture) string {
		s := f.server(t, nil)
		body := mustGet(t, s.Handler(), "/t/"+s.TenantToken("t-001"))
		check := body[strings.Index(body, `data-check="health"`):]
		return check[strings.Index(check, `data-tip="`+today.Format("2006-01-02")):][:40]
	}
	if got := tip(f); !strings.Contains(got, "91.66% uptime") {
		t.Fatalf("without a window today reads %q, want 91.66%%", got)
	}
	f.maint = []config.Maintenance{{Tenant: "t-001", Check: "health", Start: today.Add(11*time.Hour + 40*time.Minute), End: today.Add(14*time.Hour + 5*time.Minute)}}
	if got := tip(f); !strings.Contains(got, "100% uptime") {
		t.Errorf("with the window 11:40–14:05 today reads %q, want 100%%", got)
	}
	f.maint = []config.Maintenance{{Tenant: "t-001", Start: today.Add(12*time.Hour + 10*time.Minute), End: today.Add(12*time.Hour + 50*time.Minute)}}
	if got := tip(f); !strings.Contains(got, "91.66% uptime") {
		t.Errorf("a window within one hour took hours out: today reads %q", got)
	}
	f.maint = []config.Maintenance{{Tenant: "t-002", Start: today.Add(11 * time.Hour), End: today.Add(15 * time.Hour)}}
	if got := tip(f); !strings.Contains(got, "91.66% uptime") {
		t.Errorf("another tenant's window took t-001's hours out: today reads %q", got)
	}
}
