package cli

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forewarn/forewarn/cases"
	"github.com/forewarn/forewarn/store"
)

func TestCasesListsOpenCasesWithTheirNotifications(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "checks.yaml")
	os.WriteFile(path, []byte(`
tenants: [{id: acme, url: "http://127.0.0.1:1/t/acme"}]
checks: [{name: health, kind: http, request: {url: "{{ .Tenant.URL }}/health"}}]
`), 0o644)
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "forewarn.db"))
	if err != nil {
		t.Fatal(err)
	}
	opened := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	c := cases.Case{ID: "acme-20261123T100000Z", Seq: 1, Tenant: cases.Tenant{ID: "acme"}, Status: cases.StatusOpen,
		Kind: cases.KindOutage, Severity: cases.SeverityCritical, OpenedAt: opened,
		Causes: []cases.Cause{{Check: "health", Kind: cases.KindOutage, Reason: "connect", Active: true}}}
	data, _ := json.Marshal(c)
	err = st.ApplyCaseChange(ctx, store.CaseRecord{ID: c.ID, Tenant: "acme", Kind: "outage", Severity: "critical",
		State: "open", OpenedAt: opened, Seq: 1, Data: data},
		[]store.EventRecord{{Seq: 1, Type: "opened", Time: opened, Data: []byte(`{}`)}},
		[]store.OutboxItem{{Notifier: "slack"}, {Notifier: "webhook:tickets"}})
	if err != nil {
		t.Fatal(err)
	}
	items, _ := st.CaseNotifications(ctx, c.ID)
	st.MarkDelivered(ctx, items[0].ID, opened.Add(time.Second))
	st.MarkFailed(ctx, items[1].ID, errors.New("server_error: status 503"), opened.Add(time.Minute))
	st.Close(ctx)

	code, out, errOut := runDemoCLI(t, "cases", "-c", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"acme-20261123T100000Z", "open", "outage", "critical", "health outage (connect)",
		"slack 1/1", "webhook:tickets 0/1 (retrying: server_error: status 503)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	_, out, _ = runDemoCLI(t, "cases", "-c", path, "--tenant", "globex")
	if strings.TrimSpace(out) != "no cases" {
		t.Errorf("another tenant's cases: %q", out)
	}
}
