package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/forewarn/forewarn/demo"
)

// TestStatusPagesServedByRun: forewarn run serves the public page, which
// names only public tenants, and each tenant's private page at the link
// forewarn status-page links prints, with its own checks only.
func TestStatusPagesServedByRun(t *testing.T) {
	t.Parallel()
	_, demoURL, _ := startDemo(t, 3)
	var b strings.Builder
	b.WriteString(`status_page: {title: "Demo status", secret: "e2e-status-page-secret-0123456789", cache_ttl: 1s}
tenants:
`)
	for _, tn := range demo.Tenants(3) {
		public := "false"
		if tn.ID == "acme" {
			public = "true"
		}
		b.WriteString("  - {id: " + tn.ID + ", name: \"" + tn.Name + "\", url: \"" + tn.BaseURL(demoURL) + "\", public: " + public + "}\n")
	}
	b.WriteString(`checks:
  - {name: health, kind: http, interval: 1s, timeout: 1s, request: {url: "{{ .Tenant.URL }}/health"}}
`)
	cfg := writeConfig(t, b.String())
	p := startProc(t, "run", "--config", cfg, "--listen", "127.0.0.1:0")
	mon := p.waitLog(t, "forewarn running", 10*time.Second)["listen"].(string)

	links := statusLinks(t, cfg)
	if len(links) != 3 {
		t.Fatalf("links: %v", links)
	}
	// The first results reach the store within a second or two; the page
	// shows the public tenant's component once they do.
	eventually(t, 20*time.Second, "the public page shows acme up", func() (bool, string) {
		code, body := get(t, mon+"/")
		return code == 200 && strings.Contains(body, "Acme Corp") && strings.Contains(body, `data-tenant="acme" data-state="operational"`), body
	})
	for _, path := range []string{"/", "/api/v1/status", "/feed.atom", "/badge/status.svg"} {
		_, body := get(t, mon+path)
		for _, private := range []string{"Globex", "globex", "Initech", "initech"} {
			if strings.Contains(body, private) {
				t.Errorf("public %s names the private tenant %q", path, private)
			}
		}
	}
	code, body := get(t, mon+links["globex"])
	if code != 200 || !strings.Contains(body, "Globex Corporation") || strings.Contains(body, "Initech") {
		t.Errorf("globex's private page: %d", code)
	}
	wrong := links["globex"][:len(links["globex"])-2] + "xx"
	if code, _ := get(t, mon+wrong); code != 404 {
		t.Errorf("a wrong token: %d, want 404", code)
	}
}
