package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/forewarn/forewarn/demo"
)

// The browser tests open the status pages that forewarn run serves in
// headless Chromium (Debian's chromium package, `make chromium`) and write
// a screenshot of each state to the artifact folder:
// FOREWARN_TEST_ARTIFACTS, or bin/test-artifacts/ in the repository.

// chromiumMissing is the skip (or, in CI, failure) message without a browser.
const chromiumMissing = "chromium not installed: run `make chromium` (installs Debian's chromium package)"

// newBrowser starts a headless Chromium for the test and returns a tab's
// context; the browser ends with the test.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(chromiumMissing + ", and CI must run every test")
		}
		t.Skip(chromiumMissing)
	}
	// The defaults (headless, no background networking, no component
	// updates, no sync, no first-run) keep the browser off the network; as
	// root it needs no-sandbox.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tab, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(tab, 3*time.Minute)
	t.Cleanup(func() {
		// Close the browser as a user would, then make sure it is gone:
		// its profile folder is removed after.
		if err := chromedp.Cancel(tab); err != nil {
			t.Logf("closing the browser: %v", err)
		}
		cancelTime()
		cancelTab()
		cancelAlloc()
	})
	// Start the browser now, so that a broken install fails here, clearly.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return ctx
}

// artifactDir is where the browser tests write their screenshots.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("FOREWARN_TEST_ARTIFACTS")
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(filepath.Dir(wd), "bin", "test-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// page is one status page open in the browser.
type page struct {
	t   *testing.T
	ctx context.Context
	url string
}

func (p page) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, steps...); err != nil {
		p.t.Fatalf("%s: %v", p.url, err)
	}
}

// open loads the page and waits for its overall state.
func (p page) open() page {
	p.t.Helper()
	p.do(chromedp.Navigate(p.url), chromedp.WaitVisible(chromedp.CSS("#overall")),
		chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`)) // the same URL again keeps its scroll
	return p
}

// eval runs a JavaScript expression on the page.
func eval[T any](p page, js string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		p.t.Fatalf("%s: %s: %v", p.url, js, err)
	}
	return v
}

// attr is an attribute of the first element matching a selector, "" when
// none matches.
func (p page) attr(sel, name string) string {
	p.t.Helper()
	return eval[string](p, fmt.Sprintf(`(document.querySelector(%q) || {getAttribute: () => ""}).getAttribute(%q) || ""`, sel, name))
}

// text is the visible text of the elements matching a selector.
func (p page) text(sel string) string {
	p.t.Helper()
	return eval[string](p, fmt.Sprintf(`Array.from(document.querySelectorAll(%q)).map(e => e.innerText).join("\n")`, sel))
}

// screenshot writes the viewport, or the whole page, as name.png.
func (p page) screenshot(name string, full bool) {
	p.t.Helper()
	a := chromedp.CaptureScreenshot()
	if full {
		a = chromedp.FullScreenshot(100)
	}
	buf, err := chromedp.Run(p.ctx, a)
	if err != nil {
		p.t.Fatalf("screenshot of %s: %v", p.url, err)
	}
	path := filepath.Join(artifactDir(p.t), name+".png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("screenshot: %s", path)
}

// hover moves the mouse to the middle of the first element matching sel.
func (p page) hover(sel string) {
	p.t.Helper()
	p.do(chromedp.ScrollIntoView(chromedp.CSS(sel)))
	xy := eval[[]float64](p, fmt.Sprintf(`(r => [r.x + r.width/2, r.y + r.height/2])(document.querySelector(%q).getBoundingClientRect())`, sel))
	p.do(chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, xy[0], xy[1]))
}

// TestStatusPagesInBrowser opens the public page and private pages in
// headless Chromium while forewarn run monitors four demo tenants: acme
// and globex public, initech under maintenance, umbrella private. It checks
// what a reader sees before and after acme goes down: the states, the open
// incident, the maintenance, a day's tooltip, the reader's local time,
// dark mode, a phone's width, and the page without JavaScript.
func TestStatusPagesInBrowser(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	_, demoURL, tlsURL := startDemo(t, 4)
	now := time.Now().UTC().Truncate(time.Second)
	ts := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
	cfg := caseChecks(t, 4, demoURL, tlsURL,
		fmt.Sprintf(`cases:
  failure_threshold: 2
  success_threshold: 2
  min_duration: 0s
  maintenance:
    - {tenant: initech, start: %q, end: %q, reason: "Database upgrade for Initech"}
    - {start: %q, end: %q, reason: "Network upgrade in every region"}
status_page: {title: "Demo status", secret: "e2e-browser-status-page-secret-0123", cache_ttl: 1s}
`, ts(-time.Hour), ts(2*time.Hour), ts(24*time.Hour), ts(26*time.Hour)))
	fault(t, demoURL, "initech", demo.Fault{Mode: demo.ModeDown})

	p := startProc(t, "run", "--config", cfg, "--listen", "127.0.0.1:0")
	mon := p.waitLog(t, "forewarn running", 10*time.Second)["listen"].(string)
	links := statusLinks(t, cfg)
	eventually(t, 30*time.Second, "the public page shows acme up", func() (bool, string) {
		code, body := get(t, mon+"/")
		return code == 200 && strings.Contains(body, `data-tenant="acme" data-state="operational"`), body
	})

	// Before the outage.
	pub := page{t, ctx, mon + "/"}.open()
	if s := pub.attr("#overall", "data-state"); s != "operational" {
		t.Errorf("public page: overall %q, want operational", s)
	}
	for _, id := range []string{"acme", "globex"} {
		if s := pub.attr(`#tenants [data-tenant="`+id+`"]`, "data-state"); s != "operational" {
			t.Errorf("public page: %s is %q, want operational", id, s)
		}
	}
	body := pub.text("main")
	for _, private := range []string{"Initech", "Umbrella", "Database upgrade"} {
		if strings.Contains(body, private) {
			t.Errorf("the public page shows %q, which belongs to a private tenant", private)
		}
	}
	if s := pub.text(`#maintenance [data-state="in_progress"] h3`); !strings.Contains(s, "Scheduled maintenance for some customers") {
		t.Errorf("public page: initech's window in progress shows as %q", s)
	}
	if s := pub.text(`#maintenance [data-state="scheduled"]`); !strings.Contains(s, "Network upgrade in every region") {
		t.Errorf("public page: the coming window shows as %q", s)
	}
	// initech is down, but in its window: us-east's bars stay green.
	for _, comp := range []string{"us-east/web", "us-east/api"} {
		if s := pub.attr(`[data-component="`+comp+`"] .bars li:last-child`, "data-state"); s != "operational" {
			t.Errorf("public page: today's bar of %s is %q during initech's maintenance, want operational", comp, s)
		}
	}

	// A day's tooltip: nothing until the mouse is over the bar, then the
	// date, the uptime and the incidents.
	today := `#tenants [data-tenant="acme"] .bars li:last-child`
	tip := pub.attr(today, "data-tip")
	if d := time.Now().UTC(); !strings.HasPrefix(tip, d.Format("2006-01-02")+": ") && !strings.HasPrefix(tip, now.Format("2006-01-02")+": ") ||
		!strings.Contains(tip, "uptime") {
		t.Errorf("today's bar: tooltip text %q", tip)
	}
	after := fmt.Sprintf(`getComputedStyle(document.querySelector(%q), "::after").content`, today)
	if c := eval[string](pub, after); c != "none" {
		t.Errorf("the tooltip shows before the mouse is over the bar: %s", c)
	}
	pub.hover(today)
	if c := eval[string](pub, after); c != fmt.Sprintf("%q", tip) {
		t.Errorf("over today's bar the tooltip shows %s, want %q", c, tip)
	}
	if v := eval[string](pub, fmt.Sprintf(`getComputedStyle(document.querySelector(%q), "::after").visibility`, today)); v != "visible" {
		t.Errorf("tooltip visibility %q", v)
	}
	pub.screenshot("public-tooltip", false)
	pub.screenshot("public-operational", true)

	initech := page{t, ctx, mon + links["initech"]}.open()
	for _, check := range []string{"health", "api"} {
		if s := initech.attr(`[data-check="`+check+`"]`, "data-state"); s != "maintenance" {
			t.Errorf("initech's page: %s is %q, want maintenance (down in its window)", check, s)
		}
	}
	if s := initech.text(`#maintenance [data-state="in_progress"]`); !strings.Contains(s, "Database upgrade for Initech") {
		t.Errorf("initech's page: its window shows as %q", s)
	}
	if s := initech.attr(`[data-check="health"] .bars li:last-child`, "data-tip"); !strings.HasSuffix(s, "no data") {
		t.Errorf("initech's page: today's bar reads %q during its maintenance, want no data", s)
	}
	if n := eval[int](initech, `document.querySelectorAll("#open-incidents .incident").length`); n != 0 {
		t.Errorf("initech's page: %d open incidents during its maintenance, want none", n)
	}
	initech.screenshot("private-maintenance", true)

	// acme goes down: a case opens, and both pages show it.
	fault(t, demoURL, "acme", demo.Fault{Mode: demo.ModeDown})
	eventually(t, 30*time.Second, "the public page shows acme down", func() (bool, string) {
		_, body := get(t, mon+"/")
		return strings.Contains(body, `data-tenant="acme" data-state="major_outage"`) && strings.Contains(body, `id="open-incidents"`), body
	})
	pub.open()
	if s := pub.attr("#overall", "data-state"); s == "operational" || s == "" {
		t.Errorf("public page during acme's outage: overall %q", s)
	}
	if s := pub.text("#overall .summary"); strings.Contains(s, "All systems operational") {
		t.Errorf("public page during acme's outage says %q", s)
	}
	if s := pub.text(`#open-incidents .incident[data-state="open"] .incident-affects`); !strings.Contains(s, "Acme Corp") {
		t.Errorf("public page: the open incident affects %q, want Acme Corp", s)
	}
	if s := pub.attr(`#tenants [data-tenant="globex"]`, "data-state"); s != "operational" {
		t.Errorf("public page: globex is %q during acme's outage", s)
	}
	pub.screenshot("public-outage", true)

	acme := page{t, ctx, mon + links["acme"]}.open()
	if s := acme.attr("#overall", "data-state"); s != "major_outage" {
		t.Errorf("acme's page: overall %q, want major_outage", s)
	}
	for _, check := range []string{"health", "api"} {
		if s := acme.attr(`[data-check="`+check+`"]`, "data-state"); s != "major_outage" {
			t.Errorf("acme's page: %s is %q, want major_outage", check, s)
		}
	}
	if n := eval[int](acme, `document.querySelectorAll('#open-incidents .incident[data-state="open"]').length`); n != 1 {
		t.Errorf("acme's page: %d open incidents, want 1", n)
	}
	if s := acme.text("main"); strings.Contains(s, "Globex") || strings.Contains(s, "Initech") {
		t.Error("acme's page names another tenant")
	}
	acme.screenshot("private-outage", true)

	acmeCases := 0
	for _, c := range listCases(t, cfg) {
		switch c.Tenant.ID {
		case "initech":
			t.Errorf("a case opened for initech during its maintenance: %+v", c)
		case "acme":
			acmeCases++
		}
	}
	if acmeCases != 1 {
		t.Errorf("%d cases for acme, want 1", acmeCases)
	}

	// The reader's local time beside UTC (America/New_York is never UTC).
	if _, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "America/New_York"}); err != nil {
		t.Fatal(err)
	}
	pub.open()
	if s := pub.text("#last-checked"); !strings.Contains(s, "UTC") || !strings.Contains(s, "your time") {
		t.Errorf("last checked: %q, want UTC and the reader's time", s)
	}

	// Dark mode follows the browser's setting.
	bg := `getComputedStyle(document.body).backgroundColor`
	light := eval[string](pub, bg)
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}}); err != nil {
		t.Fatal(err)
	}
	if dark := eval[string](pub, bg); dark == light || dark != "rgb(13, 17, 23)" {
		t.Errorf("dark mode: background %s (light: %s)", dark, light)
	}
	pub.screenshot("public-outage-dark", false)

	// A phone: no sideways scrolling, the last 30 days of each bar.
	pub.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
	pub.open()
	if w := eval[[]int](pub, `[document.documentElement.scrollWidth, window.innerWidth]`); w[0] > w[1] {
		t.Errorf("on a phone the page is %d px wide in a %d px screen", w[0], w[1])
	}
	if n := eval[int](pub, `Array.from(document.querySelectorAll('#tenants [data-tenant="acme"] .bars li')).filter(li => li.offsetWidth > 0).length`); n != 30 {
		t.Errorf("on a phone a bar shows %d days, want 30", n)
	}
	// A tap on a day shows its tooltip.
	pub.do(chromedp.Tap(chromedp.CSS(today)))
	if c := eval[string](pub, after); !strings.Contains(c, "uptime") {
		t.Errorf("a tap on today's bar shows %s", c)
	}
	pub.screenshot("public-outage-phone", false)

	// Without JavaScript the page reads the same.
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	pub.do(chromedp.EmulateReset())
	pub.open()
	if s := pub.text("#overall .summary"); s == "" || strings.Contains(s, "All systems operational") {
		t.Errorf("without JavaScript the summary reads %q", s)
	}
	if s := pub.text("#open-incidents"); !strings.Contains(s, "Acme Corp") {
		t.Errorf("without JavaScript the open incident reads %q", s)
	}
}

// statusLinks is forewarn status-page links: each tenant's private page path.
func statusLinks(t *testing.T, cfg string) map[string]string {
	t.Helper()
	out, code := runCLI(t, "status-page", "links", "-c", cfg)
	if code != 0 {
		t.Fatalf("status-page links: exit %d\n%s", code, out)
	}
	links := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.Fields(line); len(f) == 2 && strings.Contains(f[1], "/t/") {
			links[f[0]] = f[1][strings.Index(f[1], "/t/"):]
		}
	}
	return links
}
