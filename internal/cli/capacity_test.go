package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forewarn/forewarn/metrics"
	"github.com/forewarn/forewarn/probes"
)

const msec = time.Millisecond

func loadTarget(tenant, check string) probes.Target {
	return probes.Target{
		Tenant: tenant, Check: check, Kind: probes.KindLoad,
		Load: &probes.LoadSpec{
			Scenario: probes.LoadScenario{LoginCheck: "login", SignIn: make([]probes.Step, 2)},
			Actions:  []probes.Step{{Name: "dashboard"}, {Name: "search"}, {Name: "report"}},
			Model:    probes.LoadClosed, ThinkTime: time.Second, ThinkJitter: 500 * msec,
			Ramp:   probes.Ramp{Start: 50, Step: 50, Max: 300, StepDuration: time.Minute, WarmUp: 10 * time.Second},
			SLO:    probes.SLO{P95: 500 * msec, ErrorRatio: 0.01},
			Limits: probes.LoadLimits{MaxUsers: 1000, MaxRate: 500, MaxDuration: 15 * time.Minute},
			Seats:  500, Required: 250, Exclusive: true,
		},
	}
}

func curveStep(users int, p50, p95, p99 time.Duration, errRatio float64, passed bool) probes.LoadStep {
	req := int64(users) * 50
	return probes.LoadStep{
		Users: users, Duration: 50 * time.Second, Requests: req, Errors: int64(errRatio * float64(req)),
		Rate: float64(req) / 50, ErrorRatio: errRatio, P50: p50, P95: p95, P99: p99, Max: 2 * p99,
		InFlight: users / 3, Passed: passed,
	}
}

// typicalCurve breaks at 200 users, confirmed, against 500 seats.
func typicalCurve() *probes.LoadResult {
	confirm := curveStep(200, 330*msec, 1020*msec, 1900*msec, 0.029, false)
	confirm.Confirm = true
	return &probes.LoadResult{
		Model: probes.LoadClosed, SLO: probes.SLO{P95: 500 * msec, ErrorRatio: 0.01},
		Seats: 500, Required: 250, Planned: []int{50, 100, 150, 200, 250, 300},
		Steps: []probes.LoadStep{
			curveStep(50, 38*msec, 92*msec, 140*msec, 0, true),
			curveStep(100, 61*msec, 180*msec, 260*msec, 0.0004, true),
			curveStep(150, 120*msec, 410*msec, 530*msec, 0.004, true),
			curveStep(200, 310*msec, 990*msec, 1800*msec, 0.032, false),
			confirm,
		},
		Knee: probes.Knee{Users: 150, BreakAt: 200},
		Stop: "slo", Message: "p95 1020ms over the SLO's 500ms at 200 users, confirmed by a re-run",
	}
}

// fakeRunner reports progress through every step of curve, then returns
// it: success when the knee meets the requirement. It counts its calls.
type fakeRunner struct {
	curve *probes.LoadResult
	calls int
}

func (f *fakeRunner) run(ctx context.Context, t probes.Target, o probes.LoadOptions) probes.Result {
	f.calls++
	res := probes.Result{Tenant: t.Tenant, Check: t.Check, Kind: t.Kind, Start: time.Unix(1700000000, 0), Duration: 5*time.Minute + 400*msec}
	if f.curve == nil {
		res.Reason, res.Message = probes.ReasonInternal, "load runner not built yet"
		return res
	}
	c := *f.curve
	for i, s := range c.Steps {
		for _, ph := range []string{"sign-in", "warm-up", "measure", "measure"} {
			if o.Progress != nil {
				o.Progress(probes.LoadProgress{Step: i, Planned: len(c.Planned), Users: s.Users, Phase: ph,
					Elapsed: time.Duration(len(ph)) * 5 * time.Second, StepTime: time.Minute,
					Requests: s.Requests / 2, Errors: s.Errors / 2, Done: c.Steps[:i]})
			}
		}
		if ctx.Err() != nil {
			c.Steps, c.Stop, c.Message = c.Steps[:i], "aborted", "interrupted"
			c.Knee = probes.Knee{Users: 100}
			break
		}
	}
	if o.Progress != nil {
		o.Progress(probes.LoadProgress{Step: len(c.Steps) - 1, Planned: len(c.Planned), Done: c.Steps})
	}
	res.Load = &c
	res.Success = c.Knee.Users >= c.Required
	if !res.Success {
		res.Reason, res.Message = probes.ReasonCapacity, "knee 150 users, below the 250 required"
	}
	return res
}

// capacity runs the command on a hand-built target with fake as the
// runner, and returns its exit code, stdout and stderr.
func capacity(t *testing.T, c capacityCmd, tg probes.Target, fake *fakeRunner) (int, string, string) {
	t.Helper()
	old := runLoad
	runLoad = fake.run
	t.Cleanup(func() { runLoad = old })
	var stdout, stderr bytes.Buffer
	e := &env{stdout: &stdout, stderr: &stderr}
	err := c.run(e, tg)
	code := ExitOK
	var f failure
	switch {
	case errors.As(err, &f):
		code = f.code
	case err != nil:
		t.Fatalf("run: %v", err)
	}
	return code, stdout.String(), stderr.String()
}

func chartFlag(path string) *string { return &path }

func TestCapacityPrintsTableAndChart(t *testing.T) {
	chart := filepath.Join(t.TempDir(), "acme.svg")
	fake := &fakeRunner{curve: typicalCurve()}
	code, out, errs := capacity(t, capacityCmd{Chart: chartFlag(chart)}, loadTarget("acme", "load"), fake)
	if code != ExitFailed {
		t.Errorf("exit %d, want %d (knee below required)", code, ExitFailed)
	}
	for _, want := range []string{
		"acme/load  load  FAIL (capacity)  in 5m0s\n  knee 150 users, below the 250 required\n",
		"SLO: p95 ≤ 500ms, errors ≤ 1%", "USERS", "200*", "FAIL (p95, errors)",
		"capacity knee: 150 users (broke at 200, confirmed)", "seats: 500, serves 30% of its 500 seats",
		"chart: " + chart + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	// Not a terminal: one plain line per finished step, each once.
	if n := strings.Count(errs, "\n"); n != 5 || !strings.Contains(errs, "level 4/6  200 users (re-run): ") {
		t.Errorf("stderr should hold the 5 steps, one line each:\n%s", errs)
	}
	svg, err := os.ReadFile(chart)
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(svg, new(struct{})); err != nil || !bytes.Contains(svg, []byte("acme / load — capacity curve")) {
		t.Errorf("chart is not the SVG expected (%v):\n%.300s", err, svg)
	}
}

func TestCapacityRedactsTheStopMessage(t *testing.T) {
	curve := typicalCurve()
	curve.Stop, curve.Message = "sign-in", `no user could sign in: step "submit": password hunter2 refused`
	tg := loadTarget("acme", "load")
	tg.Secrets = []string{"hunter2"}
	chart := filepath.Join(t.TempDir(), "c.svg")
	_, out, _ := capacity(t, capacityCmd{Chart: chartFlag(chart), NoProgress: true}, tg, &fakeRunner{curve: curve})
	svg, _ := os.ReadFile(chart)
	if strings.Contains(out, "hunter2") || !strings.Contains(out, "password <secret> refused") || bytes.Contains(svg, []byte("hunter2")) {
		t.Errorf("a secret is shown:\n%s", out)
	}
}

func TestCapacityExitCodes(t *testing.T) {
	met := typicalCurve()
	met.Required = 100
	cases := []struct {
		name  string
		chart string
		curve *probes.LoadResult
		code  int
		out   string
	}{
		{"knee meets the requirement", "ok.svg", met, ExitOK, "chart: "},
		{"knee below the requirement", "low.svg", typicalCurve(), ExitFailed, "chart: "},
		{"the ramp could not run", "none.svg", nil, ExitFailed, "FAIL (internal)  in 5m0s\n  load runner not built yet\n"},
		{"no chart", "", met, ExitOK, "capacity knee"},
		{"chart not writable", "missing-dir/x.svg", met, ExitRuntime, "capacity knee"},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := c.chart
			if path != "" {
				path = filepath.Join(dir, path)
			}
			code, out, errs := capacity(t, capacityCmd{Chart: chartFlag(path), NoProgress: true}, loadTarget("acme", "load"), &fakeRunner{curve: c.curve})
			if code != c.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, c.code, errs)
			}
			if !strings.Contains(out, c.out) {
				t.Errorf("stdout lacks %q:\n%s", c.out, out)
			}
			_, err := os.Stat(path)
			switch wrote := err == nil; {
			case c.curve == nil || c.chart == "" || c.code == ExitRuntime:
				if wrote || strings.Contains(out, "chart:") {
					t.Errorf("a chart was written or announced: %s", out)
				}
			case !wrote:
				t.Errorf("no chart at %s", path)
			}
			if c.code == ExitRuntime && !strings.Contains(errs, "forewarn: chart: ") {
				t.Errorf("stderr does not say the chart failed:\n%s", errs)
			}
		})
	}
}

func TestCapacityDefaultChartPath(t *testing.T) {
	t.Chdir(t.TempDir())
	code, out, _ := capacity(t, capacityCmd{NoProgress: true}, loadTarget("acme", "load"), &fakeRunner{curve: typicalCurve()})
	if code != ExitFailed || !strings.Contains(out, "chart: capacity-acme-load.svg\n") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	if _, err := os.Stat("capacity-acme-load.svg"); err != nil {
		t.Error(err)
	}
	if got := chartPath(nil, probes.Target{Tenant: "../etc", Check: "a/b"}); got != "capacity-.._etc-a_b.svg" {
		t.Errorf("chartPath of hostile names = %q", got)
	}
}

func TestCapacityJSON(t *testing.T) {
	chart := filepath.Join(t.TempDir(), "c.svg")
	code, out, errs := capacity(t, capacityCmd{JSON: true, Chart: chartFlag(chart), NoProgress: true}, loadTarget("acme", "load"), &fakeRunner{curve: typicalCurve()})
	if code != ExitFailed {
		t.Errorf("exit %d", code)
	}
	var got struct {
		Success bool
		Reason  string
		Load    struct {
			Knee  struct{ Users, BreakAt int } `json:"knee"`
			Steps []struct {
				Users      int
				Confirm    bool
				P95Seconds float64 `json:"p95_seconds"`
			}
			Headroom string
		}
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, out)
	}
	if got.Success || got.Reason != "capacity" || got.Load.Knee.Users != 150 || len(got.Load.Steps) != 5 ||
		!got.Load.Steps[4].Confirm || got.Load.Steps[3].P95Seconds != 0.99 || got.Load.Headroom != "serves 30% of its 500 seats" {
		t.Errorf("JSON: %+v", got)
	}
	if !strings.Contains(errs, "chart: "+chart) {
		t.Errorf("with --json the chart is announced on stderr:\n%s", errs)
	}
}

func TestCapacityDryRun(t *testing.T) {
	fake := &fakeRunner{curve: typicalCurve()}
	tg := loadTarget("acme", "load")
	tg.Load.Limits = probes.LoadLimits{MaxUsers: 200, MaxRate: 250, MaxDuration: 4 * time.Minute}
	tg.Load.Windows = []probes.LoadWindow{{Cron: "0 2 * * *", Duration: 2 * time.Hour}}
	code, out, _ := capacity(t, capacityCmd{DryRun: true, Chart: chartFlag("")}, tg, fake)
	if code != ExitOK || fake.calls != 0 {
		t.Fatalf("exit %d, runner called %d times", code, fake.calls)
	}
	for _, want := range []string{
		"acme/load  load  dry run: nothing is sent",
		"ramp       6 levels: 50 100 150 200 250 300 users",
		"steps      1m each, of which the first 10s is warm-up",
		"duration   6m if every level runs; at worst 12m",
		"model      closed: each user sends a request when its previous one answered, then thinks 1s (+ up to 500ms)",
		`users      each signs in with login check "login" (2 steps)`,
		"actions    3 per iteration: dashboard, search, report",
		"SLO        p95 ≤ 500ms, errors ≤ 1%",
		"seats      500; the check fails at a knee below 250 users",
		"limits     max users 200, max rate 250/s, max duration 4m",
		"peak rate  300 requests/s at 300 users (at most, if every response were instant)",
		`window     scheduled runs only from cron "0 2 * * *" for 2h; this command runs now`,
		"would exceed its limits:\n",
		"  - the ramp reaches 300 users, over max users 200: the run would be refused\n",
		"  - the levels take 6m, over max duration 4m: the time cap ends the ramp after level 4 (200 users)\n",
		"  - up to 300 requests/s at 300 users with fast responses, over max rate 250/s: requests would be held back\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}

	tg = loadTarget("acme", "load")
	_, out, _ = capacity(t, capacityCmd{DryRun: true}, tg, fake)
	if !strings.HasSuffix(out, "within its limits\n") {
		t.Errorf("plan within limits:\n%s", out)
	}
	tg.Load.Model, tg.Load.Pace, tg.Load.Limits = probes.LoadOpen, 2*time.Second, probes.LoadLimits{MaxRate: 400, MaxDuration: 10 * time.Minute}
	_, out, _ = capacity(t, capacityCmd{DryRun: true}, tg, fake)
	for _, want := range []string{"peak rate  450 requests/s at 300 users (the open model's arrival rate)",
		"  - 450 requests/s at 300 users, over max rate 400/s: requests would be held back", "  - re-runs to confirm breaks could take it past max duration 10m"} {
		if !strings.Contains(out, want) {
			t.Errorf("open plan lacks %q:\n%s", want, out)
		}
	}
}

func TestCapacityInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fake := &fakeRunner{curve: typicalCurve()}
	old := runLoad
	runLoad = func(_ context.Context, t probes.Target, o probes.LoadOptions) probes.Result {
		return fake.run(ctx, t, o)
	}
	t.Cleanup(func() { runLoad = old })
	var stdout, stderr bytes.Buffer
	err := capacityCmd{Chart: chartFlag("")}.run(&env{stdout: &stdout, stderr: &stderr}, loadTarget("acme", "load"))
	if f, ok := err.(failure); !ok || f.code != ExitFailed {
		t.Errorf("err %v, want exit 1", err)
	}
	if !strings.Contains(stdout.String(), "stopped: aborted after 0 of 6 planned levels: interrupted") {
		t.Errorf("the partial curve is not printed:\n%s", stdout.String())
	}
}

// TestCapacityLiveBar renders the mpb bar into a buffer, as on a terminal:
// it must show the step and never deadlock with the step lines printed
// above it (run with -race).
func TestCapacityLiveBar(t *testing.T) {
	old := isTerminal
	isTerminal = func(io.Writer) bool { return true }
	t.Cleanup(func() { isTerminal = old })
	code, out, errs := capacity(t, capacityCmd{Chart: chartFlag("")}, loadTarget("acme", "load"), &fakeRunner{curve: typicalCurve()})
	if code != ExitFailed || !strings.Contains(out, "capacity knee") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{"level 1/6  50 users: ", "level 4/6  200 users (re-run): "} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%q", want, errs)
		}
	}
	if strings.Count(errs, "level 3/6  150 users: ") != 1 {
		t.Errorf("a step line is missing or repeated:\n%q", errs)
	}
}

func TestRampProgressBar(t *testing.T) {
	var buf bytes.Buffer
	r := newRampProgress(&buf, loadTarget("acme", "load").Load, true)
	r.update(probes.LoadProgress{Step: 2, Users: 150, Phase: "measure", Elapsed: 30 * time.Second, StepTime: time.Minute, Requests: 100, Errors: 2})
	r.update(probes.LoadProgress{Step: 2, Users: 150, Phase: "measure", Elapsed: 32 * time.Second, StepTime: time.Minute, Requests: 400, Errors: 4})
	if v := r.view.Load(); v.step != "level 3/6 150 users measure" || v.counts != "150 req/s  4 errors (1.0%)" {
		t.Errorf("bar shows %q, %q", v.step, v.counts)
	}
	if r.bar.Current() != 152_000 {
		t.Errorf("bar at %dms, want 152000 (two steps and 32s)", r.bar.Current())
	}
	r.finish(nil, false)
	if !strings.Contains(buf.String(), "level 3/6 150 users measure") {
		t.Errorf("bar not rendered:\n%q", buf.String())
	}
}

func TestFindLoadTarget(t *testing.T) {
	http := probes.Target{Tenant: "acme", Check: "home", Kind: probes.KindHTTP}
	one := []probes.Target{http, loadTarget("acme", "load"), loadTarget("globex", "load")}
	two := append(one, loadTarget("acme", "load-eu"))
	cases := []struct {
		name, tenant, check string
		targets             []probes.Target
		want, err           string
	}{
		{"only load check", "acme", "", one, "acme/load", ""},
		{"named", "acme", "load-eu", two, "acme/load-eu", ""},
		{"two, none named", "acme", "", two, "",
			`tenant "acme" has 2 load checks; name one: forewarn capacity acme CHECK (its load checks: load, load-eu)`},
		{"not a load check", "acme", "home", two, "",
			"acme/home is of kind http; capacity runs load checks only (its load checks: load, load-eu)"},
		{"no load check at all", "acme", "", []probes.Target{http}, "", `tenant "acme" has no load check in checks.yaml`},
		{"http check, no load check", "acme", "home", []probes.Target{http}, "",
			"acme/home is of kind http; capacity runs load checks only (acme has no load check)"},
		{"unknown check", "acme", "nope", two, "", `tenant "acme" has no check "nope" in checks.yaml (its load checks: load, load-eu)`},
		{"unknown tenant", "initech", "", two, "", `no tenant "initech" in checks.yaml (tenants: acme, globex)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := findLoadTarget(c.targets, "checks.yaml", c.tenant, c.check)
			switch {
			case c.err != "" && (err == nil || err.Error() != c.err):
				t.Errorf("err %v, want %q", err, c.err)
			case c.err == "" && (err != nil || got.Key() != c.want):
				t.Errorf("got %s, %v; want %s", got.Key(), err, c.want)
			}
		})
	}
}

const capacityConfig = `
tenants:
  - {id: acme, url: "http://127.0.0.1:1", seats: 500, plan: enterprise}
  - {id: tiny, url: "http://127.0.0.1:1", seats: 10, plan: starter}
checks:
  - name: home
    kind: http
    request: {url: "{{ .Tenant.URL }}/"}
  - name: sign-in
    kind: login
    steps:
      - {name: submit, request: {method: POST, url: "{{ .Tenant.URL }}/login"}}
  - name: capacity
    kind: load
    select: {plan: [enterprise]}
    schedule: "0 3 * * *"
    scenario: {login: sign-in}
    actions:
      - {name: items, request: {url: "{{ .Tenant.URL }}/api/items"}}
    think_time: 500ms
    ramp: {start: 10%, step: 10%, max: 60%, step_duration: 20s, warm_up: 5s}
    slo: {p95: 500ms, error_ratio: 1%}
    required: 50%
`

// TestCapacityCommandLine goes through Main and config loading, with the
// fake runner.
func TestCapacityCommandLine(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "checks.yaml")
	if err := os.WriteFile(cfg, []byte(capacityConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	chart := filepath.Join(dir, "chart.svg")
	fake := &fakeRunner{curve: typicalCurve()}
	old := runLoad
	runLoad = fake.run
	t.Cleanup(func() { runLoad = old })
	for _, c := range []struct {
		args     []string
		code     int
		out, err string
		runs     int
	}{
		{[]string{"capacity", "-c", cfg, "acme", "--dry-run"}, ExitOK,
			"acme/capacity  load  dry run: nothing is sent\n  ramp       6 levels: 50 100 150 200 250 300 users\n", "", 0},
		{[]string{"capacity", "-c", cfg, "acme", "--chart", chart, "--no-progress"}, ExitFailed,
			"capacity knee: 150 users (broke at 200, confirmed)", "level 4/6  200 users (re-run): ", 1},
		{[]string{"capacity", "-c", cfg, "acme", "capacity", "--chart", "", "--json"}, ExitFailed, `"break_at": 200`, "", 1},
		{[]string{"capacity", "-c", cfg, "acme", "home"}, ExitUsage, "",
			"acme/home is of kind http; capacity runs load checks only (its load checks: capacity)", 0},
		{[]string{"capacity", "-c", cfg, "tiny"}, ExitUsage, "", `tenant "tiny" has no load check in ` + cfg, 0},
		{[]string{"capacity"}, ExitUsage, "", `expected "<tenant>"`, 0},
	} {
		fake.calls = 0
		var stdout, stderr bytes.Buffer
		code := Main(c.args, &stdout, &stderr, metrics.BuildInfo{})
		if code != c.code || !strings.Contains(stdout.String(), c.out) || !strings.Contains(stderr.String(), c.err) || fake.calls != c.runs {
			t.Errorf("%v: exit %d, %d runs\nstdout:\n%s\nstderr:\n%s\nwant exit %d, %d runs, %q and %q",
				c.args, code, fake.calls, stdout.String(), stderr.String(), c.code, c.runs, c.out, c.err)
		}
	}
	if _, err := os.Stat(chart); err != nil {
		t.Error(err)
	}
}
