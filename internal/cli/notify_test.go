package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestNotifyTestSaysWhichNotifierWorked(t *testing.T) {
	var mu sync.Mutex
	var got []map[string]any
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev map[string]any
		json.NewDecoder(r.Body).Decode(&ev)
		if r.Header.Get("webhook-signature") == "" || r.Header.Get("webhook-id") == "" {
			http.Error(w, "unsigned", http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer ok.Close()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "checks.yaml")
	os.WriteFile(path, []byte(`
notify:
  webhooks:
    - {name: tickets, url: "`+ok.URL+`/hook", secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]}
    - {name: pager, url: "`+down.URL+`/hook", secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]}
tenants: [{id: acme, name: Acme Corp, url: "http://127.0.0.1:1/t/acme", seats: 500}]
checks: [{name: health, kind: http, request: {url: "{{ .Tenant.URL }}/health"}}]
`), 0o644)
	code, out, errOut := runDemoCLI(t, "notify", "test", "-c", path)
	if code != ExitFailed {
		t.Errorf("exit %d, want 1 (one notifier failed)\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "webhook:tickets") || !strings.Contains(out, "OK") ||
		!strings.Contains(out, "webhook:pager") || !strings.Contains(out, "FAIL  server_error") {
		t.Errorf("output:\n%s", out)
	}
	if len(got) != 1 || got[0]["type"] != "case.test" || got[0]["test"] != true {
		t.Errorf("received %v", got)
	}
	code, out, _ = runDemoCLI(t, "notify", "new-secret")
	if code != 0 || !strings.HasPrefix(out, "whsec_") {
		t.Errorf("new-secret: %d %q", code, out)
	}
}
