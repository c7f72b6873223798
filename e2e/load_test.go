package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/forewarn/forewarn/demo"
	"github.com/forewarn/forewarn/probes"
)

// loadChecks is a checks.yaml for the demo's tenants below: users sign in
// through the web form, then list items and read their profile, ramped in
// steps of 5 % of seats up to the seats, with a rate cap.
func loadChecks(t *testing.T, demoURL string, ids []string, extra string) string {
	t.Helper()
	return writeConfig(t, demoTenants(demoURL, 0, ids...)+"checks:\n"+formSignIn+signOutStep+capacityLoad+`    interval: 1d
    think_time: 200ms
    think_jitter: 50ms
    ramp: {start: 5%, step: 5%, max: 100%, step_duration: 1500ms, warm_up: 500ms}
    slo: {p95: 800ms, error_ratio: 1%}
    limits: {max_users: 1000, max_rate: 400, max_duration: 5m}
`+extra)
}

// loadJSON is the curve of forewarn capacity --json, as far as tests read it.
type loadJSON struct {
	Required int    `json:"required"`
	Planned  []int  `json:"planned"`
	Stop     string `json:"stop"`
	Knee     struct {
		Users   int `json:"users"`
		BreakAt int `json:"break_at"`
	} `json:"knee"`
	Steps []struct {
		Users      int     `json:"users"`
		Confirm    bool    `json:"confirm"`
		ErrorRatio float64 `json:"error_ratio"`
		P95        float64 `json:"p95_seconds"`
	} `json:"steps"`
}

// capacityJSON runs forewarn capacity for a tenant and decodes its curve.
func capacityJSON(t *testing.T, config, tenant string, args ...string) (loadJSON, int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append([]string{"capacity", tenant, "capacity", "-c", config,
		"--json", "--no-progress", "--chart", ""}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Load *loadJSON `json:"load"`
	}
	if err := json.Unmarshal(out, &res); err != nil || res.Load == nil || len(res.Load.Steps) == 0 {
		t.Fatalf("capacity %s: exit %d, no curve (%v):\n%s\n%s", tenant, code, err, out, stderr.String())
	}
	return *res.Load, code, stderr.String()
}

// TestCapacityKneeOfEachTenant ramps four demo tenants at once, each in
// its own forewarn process, and checks what a vendor relies on: the knee
// found is the tenant's real capacity (within 10 %), the ramp stopped one
// confirmation after the break, and the tenant never saw more users or
// more requests per second than the check's caps allow.
func TestCapacityKneeOfEachTenant(t *testing.T) {
	t.Parallel()
	_, demoURL, _ := startDemo(t, demo.DefaultTenants)
	ids := []string{"acme", "initech", "wonka", "soylent"}
	config := loadChecks(t, demoURL, ids, "")
	capacity := map[string]int{}
	seats := map[string]int{}
	for _, tn := range demo.Tenants(demo.DefaultTenants) {
		capacity[tn.ID], seats[tn.ID] = tn.Capacity, tn.Seats
	}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lr, code, stderr := capacityJSON(t, config, id)
			var curve []string
			for _, s := range lr.Steps {
				curve = append(curve, fmt.Sprintf("%d%s:%.0f%%/%s", s.Users, map[bool]string{true: "*"}[s.Confirm],
					100*s.ErrorRatio, time.Duration(s.P95*float64(time.Second)).Round(time.Millisecond)))
			}
			t.Logf("%s: capacity %d, knee %d, break %d, stop %q, curve %s", id, capacity[id], lr.Knee.Users,
				lr.Knee.BreakAt, lr.Stop, strings.Join(curve, " "))
			want := capacity[id]
			if d := lr.Knee.Users - want; d*10 > want || -d*10 > want {
				t.Errorf("%s: knee %d users, configured capacity %d: more than 10%% off", id, lr.Knee.Users, want)
			}
			// Every one of these tenants serves fewer users than its seats.
			if code != 1 || lr.Required != seats[id] {
				t.Errorf("%s: exit %d, required %d; want exit 1 (knee below its %d seats)\n%s", id, code, lr.Required, seats[id], stderr)
			}
			// Stopped early: the last step re-ran the first broken level,
			// and no level above it ran although the ramp went on.
			last := lr.Steps[len(lr.Steps)-1]
			top := lr.Planned[len(lr.Planned)-1]
			if lr.Stop != probes.StopSLO || !last.Confirm || last.Users != lr.Knee.BreakAt || top <= last.Users {
				t.Errorf("%s: stop %q, last step %d (confirm %v), break %d, planned up to %d", id, lr.Stop,
					last.Users, last.Confirm, lr.Knee.BreakAt, top)
			}
			st, err := demo.LoadRemote(context.Background(), demoURL, id)
			if err != nil {
				t.Error(err)
				return
			}
			t.Logf("%s: demo saw %d requests, peak %d in flight, %d/s, %d sessions, %d rejected", id,
				st.Requests, st.PeakInFlight, st.PeakPerSecond, st.PeakSlots, st.Rejected)
			if st.PeakInFlight > int64(last.Users) {
				t.Errorf("%s: %d requests in flight at once; the ramp never ran more than %d users", id, st.PeakInFlight, last.Users)
			}
			if st.PeakSlots > capacity[id] || st.Rejected == 0 {
				t.Errorf("%s: peak sessions %d (capacity %d), %d rejected", id, st.PeakSlots, capacity[id], st.Rejected)
			}
			// max_rate 400/s, and the limiter's burst of a twentieth.
			if st.PeakPerSecond > 420 {
				t.Errorf("%s: %d requests in one second; the cap is 400/s", id, st.PeakPerSecond)
			}
		}()
	}
	wg.Wait()
}

// TestCapacityDryRunSendsNothing: --dry-run prints the plan and the tenant
// receives no request.
func TestCapacityDryRunSendsNothing(t *testing.T) {
	t.Parallel()
	_, demoURL, _ := startDemo(t, demo.DefaultTenants)
	config := loadChecks(t, demoURL, []string{"acme"}, "")
	out, code := runCLI(t, "capacity", "acme", "-c", config, "--dry-run")
	if code != 0 || !strings.Contains(out, "dry run: nothing is sent") || !strings.Contains(out, "25 50 75 100") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	st, err := demo.LoadRemote(context.Background(), demoURL, "acme")
	if err != nil || st.Requests != 0 {
		t.Errorf("the demo received %d requests during a dry run (%v)", st.Requests, err)
	}
}

// TestCapacityFaultLowersTheKnee: the demo's capacity fault shrinks a
// tenant at run time, and the next ramp finds the smaller knee.
func TestCapacityFaultLowersTheKnee(t *testing.T) {
	t.Parallel()
	_, demoURL, _ := startDemo(t, demo.DefaultTenants)
	if out, code := runCLI(t, "demo", "fault", "globex", "capacity", "--users", "50", "--addr", demoURL); code != 0 {
		t.Fatalf("fault: exit %d: %s", code, out)
	}
	config := loadChecks(t, demoURL, []string{"globex"}, "")
	lr, code, _ := capacityJSON(t, config, "globex")
	// globex: 250 seats, levels of 13 users: 13 … 52 breaks; 39 is served.
	if lr.Knee.Users < 39 || lr.Knee.Users > 52 || code != 1 {
		t.Errorf("knee %d after the capacity fault of 50 users (exit %d)", lr.Knee.Users, code)
	}
}
