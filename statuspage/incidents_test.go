package statuspage

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/forewarn/forewarn/cases"
	"github.com/forewarn/forewarn/probes"
)

// TestAdminTitleOfFoldedCase: a private tenant's case folded into its
// region's incident has the title the page shows, the worst kind's.
func TestAdminTitleOfFoldedCase(t *testing.T) {
	f := newFixture(tenantsN(6, 0))
	f.addCase("t-001-slow", "t-001", cases.KindDegraded, "health", probes.KindHTTP, t0.Add(-30*time.Minute), time.Time{}, "slow")
	f.addCase("t-003-down", "t-003", cases.KindOutage, "health", probes.KindHTTP, t0.Add(-20*time.Minute), time.Time{}, "refused")
	s := f.server(t, nil)
	h := s.Handler()
	if page := mustGet(t, h, "/"); !strings.Contains(page, "Service disruption for some customers") || strings.Contains(page, "Degraded performance for some customers") {
		t.Fatal("the public page does not fold both cases under the outage's title")
	}
	r := do(t, h, http.MethodGet, "/admin/incidents/t-001-slow", "", "127.0.0.1:1", "Authorization", "Bearer admin-secret-token")
	if !strings.Contains(r.body, `"public_title": "Service disruption for some customers"`) {
		t.Errorf("admin view of the degraded case folded with an outage:\n%s", r.body)
	}
}

// TestFirstReaderAfterQuietGetsFreshPage: within a few seconds of the last
// build a reader gets that page while a new one is built; after a quiet
// while the first reader waits for the new one and sees what changed.
func TestFirstReaderAfterQuietGetsFreshPage(t *testing.T) {
	f := newFixture(tenantsN(4, 0, 1))
	s := f.server(t, nil)
	h := s.Handler()
	if page := mustGet(t, h, "/"); strings.Contains(page, `id="open-incidents"`) {
		t.Fatal("an incident before any case")
	}
	f.addCase("pub-000-down", "pub-000", cases.KindOutage, "api", probes.KindHTTP, t0, time.Time{}, "refused")
	f.clock.Add(6 * time.Second)
	if page := mustGet(t, h, "/"); !strings.Contains(page, `data-tenant="pub-000" data-state="operational"`) {
		t.Error("6 s after the build, the first reader waited for the next one")
	}
	s.Close()
	f.addCase("pub-001-down", "pub-001", cases.KindOutage, "api", probes.KindHTTP, t0, time.Time{}, "refused")
	f.clock.Add(time.Hour)
	page := mustGet(t, h, "/")
	if !strings.Contains(page, `data-tenant="pub-001" data-state="partial_outage"`) {
		t.Error("an hour after the last build, the first reader got the old page")
	}
}

// TestCrowdNeverWaitsForHungStore: with the store hanging, only the first
// reader after a quiet while waits, for 2 s at most; the crowd after it
// gets the last page at once.
func TestCrowdNeverWaitsForHungStore(t *testing.T) {
	f := newFixture(tenantsN(4, 0))
	s := f.server(t, nil)
	h := s.Handler()
	mustGet(t, h, "/")
	hang := make(chan struct{})
	f.st.mu.Lock()
	f.st.hang = hang
	f.st.mu.Unlock()
	defer func() {
		f.st.mu.Lock()
		f.st.hang = nil
		f.st.mu.Unlock()
		close(hang)
		s.Close()
	}()
	timed := func() time.Duration {
		start := time.Now()
		if page := mustGet(t, h, "/"); !strings.Contains(page, `id="overall"`) {
			t.Fatal("no page")
		}
		return time.Since(start)
	}
	f.clock.Add(time.Hour)
	if d := timed(); d < freshWait/2 || d > freshWait+time.Second {
		t.Errorf("the first reader after a quiet hour waited %s for a hung build, want about %s", d, freshWait)
	}
	for _, step := range []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, time.Minute} {
		f.clock.Add(step)
		if d := timed(); d > 500*time.Millisecond {
			t.Errorf("%s later, a reader waited %s for a build long hung", step, d)
		}
	}
}
