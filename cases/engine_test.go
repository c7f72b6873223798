package cases

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/forewarn/forewarn/probes"
)

var t0 = time.Date(2025, 1, 2, 3, 0, 0, 0, time.UTC)

var tenants = []Tenant{
	{ID: "acme", Name: "Acme Corp", Plan: "enterprise", Seats: 500},
	{ID: "globex", Name: "Globex", Plan: "starter", Seats: 50},
}

// step is one thing that happens at minute `at`: a result, or a Tick when r
// is nil. want lists the events it must cause, formatted by show.
type step struct {
	at   float64 // minutes since t0
	r    *probes.Result
	want []string
}

func at(m float64) time.Time { return t0.Add(time.Duration(m * float64(time.Minute))) }

func fail(tenant, check string, reason probes.Reason) *probes.Result {
	return &probes.Result{Tenant: tenant, Check: check, Kind: probes.KindHTTP, Duration: 100 * time.Millisecond,
		Reason: reason, Message: "GET https://" + tenant + ".example/" + check + ": " + string(reason)}
}

func ok(tenant, check string) *probes.Result {
	return &probes.Result{Tenant: tenant, Check: check, Kind: probes.KindHTTP, Duration: 100 * time.Millisecond, Success: true}
}

func slowOK(tenant, check string, d time.Duration) *probes.Result {
	r := ok(tenant, check)
	r.Duration = d
	return r
}

// show formats an event as "type case#seq check kind/severity", with
// " (was kind/severity)" when the event changed them.
func show(ev Event) string {
	s := fmt.Sprintf("%s %s#%d %s %s/%s", ev.Type, ev.CaseID, ev.Seq, ev.Check, ev.Case.Kind, ev.Case.Severity)
	if ev.PrevKind != "" || ev.PrevSeverity != "" {
		s += fmt.Sprintf(" (was %s/%s)", ev.PrevKind, ev.PrevSeverity)
	}
	return s
}

// run plays steps on e and checks each step's events.
func run(t *testing.T, e *Engine, steps []step) []Event {
	t.Helper()
	var all []Event
	for i, s := range steps {
		now := at(s.at)
		var evs []Event
		if s.r == nil {
			evs = e.Tick(now)
		} else {
			r := *s.r
			r.Start = now
			evs = e.Observe(r, now)
		}
		var got []string
		for _, ev := range evs {
			got = append(got, show(ev))
		}
		if !slices.Equal(got, s.want) {
			what := "tick"
			if s.r != nil {
				what = s.r.Tenant + "/" + s.r.Check
			}
			t.Errorf("step %d (minute %g, %s):\n got %q\nwant %q", i, s.at, what, got, s.want)
		}
		all = append(all, evs...)
	}
	return all
}

func newEngine(t *testing.T, cfg Config) *Engine {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.SetTenants(tenants)
	return e
}

// every repeats r at minutes from, from+1, …, to, each step expecting no event.
func every(from, to float64, r *probes.Result) []step {
	var out []step
	for m := from; m <= to; m++ {
		out = append(out, step{at: m, r: r})
	}
	return out
}

func seq(parts ...[]step) []step { return slices.Concat(parts...) }

func one(m float64, r *probes.Result, want ...string) []step {
	return []step{{at: m, r: r, want: want}}
}

func tick(m float64, want ...string) []step { return []step{{at: m, want: want}} }

const acmeCase = "acme-20250102T030200Z" // an acme case opened at minute 2

func TestLifecycle(t *testing.T) {
	noMin := Config{MinDuration: -1}
	tests := []struct {
		name  string
		cfg   Config
		steps []step
	}{
		{"opens after 3 failures, not 2", noMin, seq(
			every(0, 1, fail("acme", "health", probes.ReasonStatus)),
			one(2, fail("acme", "health", probes.ReasonStatus), "opened "+acmeCase+"#1 health outage/critical"),
			every(3, 10, fail("acme", "health", probes.ReasonStatus)),
		)},
		{"failure threshold from config", Config{FailureThreshold: 5}, seq(
			every(0, 3, fail("acme", "health", probes.ReasonTimeout)),
			one(4, fail("acme", "health", probes.ReasonTimeout), "opened acme-20250102T030400Z#1 health outage/critical"),
		)},
		{"a success breaks the streak", noMin, seq(
			every(0, 1, fail("acme", "health", probes.ReasonStatus)),
			every(2, 2, ok("acme", "health")),
			every(3, 4, fail("acme", "health", probes.ReasonStatus)),
			one(5, fail("acme", "health", probes.ReasonStatus), "opened acme-20250102T030500Z#1 health outage/critical"),
		)},
		{"two checks of one tenant: one case, two causes", noMin, seq(
			every(0, 1, fail("acme", "health", probes.ReasonConnect)),
			one(2, fail("acme", "health", probes.ReasonConnect), "opened "+acmeCase+"#1 health outage/critical"),
			every(2.5, 3.5, fail("acme", "sign-in", probes.ReasonConnect)),
			one(4.5, fail("acme", "sign-in", probes.ReasonConnect), "cause_added "+acmeCase+"#2 sign-in outage/critical"),
		)},
		{"resolves after 2 successes of every cause", noMin, seq(
			every(0, 1, fail("acme", "health", probes.ReasonConnect)),
			one(2, fail("acme", "health", probes.ReasonConnect), "opened "+acmeCase+"#1 health outage/critical"),
			every(2.5, 3.5, fail("acme", "sign-in", probes.ReasonConnect)),
			one(4.5, fail("acme", "sign-in", probes.ReasonConnect), "cause_added "+acmeCase+"#2 sign-in outage/critical"),
			every(5, 5, ok("acme", "health")),
			one(6, ok("acme", "health"), "cause_resolved "+acmeCase+"#3 health outage/critical"),
			every(6.5, 6.5, ok("acme", "sign-in")),
			every(7, 9, ok("acme", "health")),
			one(7.5, ok("acme", "sign-in"), "resolved "+acmeCase+"#4 sign-in outage/critical"),
		)},
		{"flapping never opens", Config{}, func() []step {
			var s []step
			for m := 0.0; m < 60; m += 2 {
				s = append(s, every(m, m, fail("acme", "health", probes.ReasonTimeout))...)
				s = append(s, every(m+1, m+1, ok("acme", "health"))...)
			}
			return s
		}()},
		{"fails again within the reopen window: the same case reopened", noMin, seq(
			every(0, 1, fail("acme", "health", probes.ReasonStatus)),
			one(2, fail("acme", "health", probes.ReasonStatus), "opened "+acmeCase+"#1 health outage/critical"),
			every(3, 3, ok("acme", "health")),
			one(4, ok("acme", "health"), "resolved "+acmeCase+"#2 health outage/critical"),
			every(30, 31, fail("acme", "health", probes.ReasonStatus)),
			one(32, fail("acme", "health", probes.ReasonStatus), "reopened "+acmeCase+"#3 health outage/critical"),
			every(33, 33, ok("acme", "health")),
			one(34, ok("acme", "health"), "resolved "+acmeCase+"#4 health outage/critical"),
			// 1h after the resolution the case is forgotten: a new one opens.
			every(94, 95, fail("acme", "health", probes.ReasonStatus)),
			one(96, fail("acme", "health", probes.ReasonStatus), "opened acme-20250102T043600Z#1 health outage/critical"),
		)},
		{"reopen window off: a new case", Config{MinDuration: -1, ReopenWindow: -1}, seq(
			every(0, 1, fail("acme", "health", probes.ReasonStatus)),
			one(2, fail("acme", "health", probes.ReasonStatus), "opened "+acmeCase+"#1 health outage/critical"),
			every(3, 3, ok("acme", "health")),
			one(4, ok("acme", "health"), "resolved "+acmeCase+"#2 health outage/critical"),
			every(5, 6, fail("acme", "health", probes.ReasonStatus)),
			one(7, fail("acme", "health", probes.ReasonStatus), "opened acme-20250102T030700Z#1 health outage/critical"),
		)},
		{"min duration: recovered early, resolved by tick", Config{}, seq(
			every(0, 1, fail("acme", "health", probes.ReasonStatus)),
			one(2, fail("acme", "health", probes.ReasonStatus), "opened "+acmeCase+"#1 health outage/critical"),
			every(3, 3, ok("acme", "health")),
			one(4, ok("acme", "health"), "cause_resolved "+acmeCase+"#2 health outage/critical"),
			tick(6.9),
			tick(7, "resolved "+acmeCase+"#3  outage/critical"),
			tick(8),
		)},
		{"min duration: a failure while waiting joins the open case", Config{}, seq(
			every(0, 1, fail("acme", "health", probes.ReasonStatus)),
			one(2, fail("acme", "health", probes.ReasonStatus), "opened "+acmeCase+"#1 health outage/critical"),
			every(3, 3, ok("acme", "health")),
			one(4, ok("acme", "health"), "cause_resolved "+acmeCase+"#2 health outage/critical"),
			one(4.2, fail("acme", "health", probes.ReasonStatus)),
			one(4.4, fail("acme", "health", probes.ReasonStatus)),
			one(4.6, fail("acme", "health", probes.ReasonStatus), "cause_added "+acmeCase+"#3 health outage/critical"),
			tick(8),
			every(9, 9, ok("acme", "health")),
			one(10, ok("acme", "health"), "resolved "+acmeCase+"#4 health outage/critical"),
		)},
		{"min duration: the tenant's next result resolves", Config{}, seq(
			every(0, 1, fail("acme", "health", probes.ReasonStatus)),
			one(2, fail("acme", "health", probes.ReasonStatus), "opened "+acmeCase+"#1 health outage/critical"),
			every(3, 3, ok("acme", "health")),
			one(4, ok("acme", "health"), "cause_resolved "+acmeCase+"#2 health outage/critical"),
			every(5, 6, ok("acme", "health")),
			one(7, ok("acme", "health"), "resolved "+acmeCase+"#3  outage/critical"),
		)},
		{"other tenants unaffected", noMin, seq(
			every(0, 1, fail("acme", "health", probes.ReasonStatus)),
			every(0.5, 0.5, ok("globex", "health")),
			one(2, fail("acme", "health", probes.ReasonStatus), "opened "+acmeCase+"#1 health outage/critical"),
			every(2.5, 3.5, fail("globex", "health", probes.ReasonDNS)),
			one(4.5, fail("globex", "health", probes.ReasonDNS), "opened globex-20250102T030430Z#1 health outage/major"),
			every(5, 5, ok("acme", "health")),
			one(6, ok("acme", "health"), "resolved "+acmeCase+"#2 health outage/critical"),
			every(7, 20, fail("globex", "health", probes.ReasonDNS)),
		)},
		{"internal failures neither fail nor heal", noMin, seq(
			every(0, 1, fail("acme", "health", probes.ReasonStatus)),
			every(1.5, 1.5, fail("acme", "health", probes.ReasonInternal)),
			one(2, fail("acme", "health", probes.ReasonStatus), "opened "+acmeCase+"#1 health outage/critical"),
			every(3, 10, fail("acme", "health", probes.ReasonInternal)),
		)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run(t, newEngine(t, tt.cfg), tt.steps)
		})
	}
}

func TestTwoCausesSnapshot(t *testing.T) {
	e := newEngine(t, Config{MinDuration: -1})
	evs := run(t, e, seq(
		every(0, 1, fail("acme", "health", probes.ReasonConnect)),
		one(2, fail("acme", "health", probes.ReasonConnect), "opened "+acmeCase+"#1 health outage/critical"),
		every(2.5, 3.5, fail("acme", "sign-in", probes.ReasonTimeout)),
		one(4.5, fail("acme", "sign-in", probes.ReasonTimeout), "cause_added "+acmeCase+"#2 sign-in outage/critical"),
		every(5, 6, fail("acme", "health", probes.ReasonConnect)),
	))
	c := evs[1].Case
	if c.Tenant != tenants[0] || c.Status != StatusOpen || !c.OpenedAt.Equal(at(2)) {
		t.Errorf("case = %+v", c)
	}
	var causes []string
	for _, x := range c.ActiveCauses() {
		causes = append(causes, fmt.Sprintf("%s %s %s since %s, %d failures, %q", x.Check, x.Kind, x.Reason,
			x.Since.Format("15:04:05"), x.Failures, x.FirstMessage))
	}
	want := []string{
		`health outage connect since 03:00:00, 3 failures, "GET https://acme.example/health: connect"`,
		`sign-in outage timeout since 03:02:30, 3 failures, "GET https://acme.example/sign-in: timeout"`,
	}
	if !slices.Equal(causes, want) {
		t.Errorf("causes:\n got %q\nwant %q", causes, want)
	}
	// The first event's snapshot does not change with later ones.
	if n := len(evs[0].Case.Causes); n != 1 {
		t.Errorf("opened event's case has %d causes, want 1", n)
	}
	cur := e.Cases()
	if len(cur) != 1 || cur[0].Causes[0].Failures != 5 || !cur[0].Causes[0].LastSeen.Equal(at(6)) {
		t.Errorf("current case: %+v", cur)
	}
}

func TestResolvedCase(t *testing.T) {
	e := newEngine(t, Config{})
	evs := run(t, e, seq(
		every(0, 1, fail("acme", "health", probes.ReasonStatus)),
		one(2, fail("acme", "health", probes.ReasonStatus), "opened "+acmeCase+"#1 health outage/critical"),
		every(3, 9, fail("acme", "health", probes.ReasonStatus)),
		every(10, 10, ok("acme", "health")),
		one(11, ok("acme", "health"), "resolved "+acmeCase+"#2 health outage/critical"),
	))
	c := evs[1].Case
	if c.Status != StatusResolved || !c.ResolvedAt.Equal(at(11)) || c.Duration != 9*time.Minute {
		t.Errorf("resolved case: status %s, resolved %s, duration %s", c.Status, c.ResolvedAt, c.Duration)
	}
	x := c.Causes[0]
	if x.Active || !x.ResolvedAt.Equal(at(11)) || x.Failures != 10 || !x.LastSeen.Equal(at(9)) {
		t.Errorf("resolved cause: %+v", x)
	}
	if evs[1].Key() != acmeCase+"/2" {
		t.Errorf("key = %q", evs[1].Key())
	}
}

func TestMaintenance(t *testing.T) {
	win := func(tenant, check string) Window {
		return Window{Tenant: tenant, Check: check, Start: at(0), End: at(10), Reason: "upgrade"}
	}
	tests := []struct {
		name    string
		windows []Window
		steps   []step
	}{
		{"global window suppresses opening; a failure after it opens", []Window{win("", "")}, seq(
			every(0, 9, fail("acme", "health", probes.ReasonStatus)),
			every(0, 9, fail("globex", "health", probes.ReasonStatus)),
			one(10, fail("acme", "health", probes.ReasonStatus), "opened acme-20250102T031000Z#1 health outage/critical"),
		)},
		{"tenant window: other tenants still open", []Window{win("acme", "")}, seq(
			every(0, 9, fail("acme", "health", probes.ReasonStatus)),
			every(0, 1, fail("globex", "health", probes.ReasonStatus)),
			one(2, fail("globex", "health", probes.ReasonStatus), "opened globex-20250102T030200Z#1 health outage/major"),
		)},
		{"check window: other checks still open", []Window{win("acme", "sign-in")}, seq(
			every(0, 5, fail("acme", "sign-in", probes.ReasonStatus)),
			every(0.5, 1.5, fail("acme", "health", probes.ReasonStatus)),
			one(2.5, fail("acme", "health", probes.ReasonStatus), "opened acme-20250102T030230Z#1 health outage/critical"),
			// An open case gains no cause in maintenance…
			every(3, 9, fail("acme", "sign-in", probes.ReasonStatus)),
			// …but does after it.
			one(10, fail("acme", "sign-in", probes.ReasonStatus), "cause_added acme-20250102T030230Z#2 sign-in outage/critical"),
		)},
		{"recovered in maintenance: no case at all", []Window{win("acme", "")}, seq(
			every(0, 5, fail("acme", "health", probes.ReasonStatus)),
			every(6, 20, ok("acme", "health")),
		)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t, Config{MinDuration: -1})
			e.SetMaintenance(tt.windows)
			run(t, e, tt.steps)
		})
	}
}

// An open case is kept through maintenance: it neither escalates nor
// reopens, but resolves.
func TestMaintenanceOpenCase(t *testing.T) {
	e := newEngine(t, Config{MinDuration: -1, Checks: map[string]CheckRule{"health": {SlowAfter: time.Second}}})
	e.SetMaintenance([]Window{{Tenant: "acme", Start: at(5), End: at(30)}})
	run(t, e, seq(
		every(0, 1, slowOK("acme", "health", 3*time.Second)),
		one(2, slowOK("acme", "health", 3*time.Second), "opened "+acmeCase+"#1 health degraded/major"),
		every(5, 9, fail("acme", "health", probes.ReasonConnect)), // no escalation
		every(10, 10, ok("acme", "health")),
		one(11, ok("acme", "health"), "resolved "+acmeCase+"#2 health degraded/major"),
		every(12, 20, fail("acme", "health", probes.ReasonConnect)), // no reopening
		one(30, fail("acme", "health", probes.ReasonConnect), "reopened "+acmeCase+"#3 health outage/critical"),
	))
}

func TestSeverity(t *testing.T) {
	custom := Config{MinDuration: -1, Severity: map[Kind]map[string]Severity{
		KindOutage:   {"starter": SeverityWarning},
		KindCapacity: {"enterprise": SeverityCritical},
	}}
	tests := []struct {
		name   string
		cfg    Config
		tenant string
		r      *probes.Result
		want   string
	}{
		{"outage on enterprise", Config{}, "acme", fail("acme", "health", probes.ReasonStatus), "outage/critical"},
		{"outage on starter", Config{}, "globex", fail("globex", "health", probes.ReasonStatus), "outage/major"},
		{"outage on an unknown tenant", Config{}, "initech", fail("initech", "health", probes.ReasonStatus), "outage/major"},
		{"degraded on enterprise", Config{}, "acme", slowOK("acme", "health", 5*time.Second), "degraded/major"},
		{"degraded on starter", Config{}, "globex", slowOK("globex", "health", 5*time.Second), "degraded/warning"},
		{"capacity on enterprise", Config{}, "acme", fail("acme", "health", probes.ReasonCapacity), "capacity/warning"},
		{"custom: outage on starter", custom, "globex", fail("globex", "health", probes.ReasonStatus), "outage/warning"},
		{"custom: outage on enterprise keeps the default", custom, "acme", fail("acme", "health", probes.ReasonStatus), "outage/critical"},
		{"custom: capacity on enterprise", custom, "acme", fail("acme", "health", probes.ReasonCapacity), "capacity/critical"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Checks = map[string]CheckRule{"health": {SlowAfter: 2 * time.Second}}
			e := newEngine(t, tt.cfg)
			var evs []Event
			for m := range 3 {
				r := *tt.r
				r.Start = at(float64(m))
				evs = append(evs, e.Observe(r, r.Start)...)
			}
			if len(evs) != 1 {
				t.Fatalf("got %d events, want 1", len(evs))
			}
			if got := string(evs[0].Case.Kind) + "/" + string(evs[0].Case.Severity); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// A cause's kind grows worse at once and milder only after
// SuccessThreshold milder results in a row.
func TestKindChanges(t *testing.T) {
	e := newEngine(t, Config{MinDuration: -1, Checks: map[string]CheckRule{"health": {SlowAfter: 2 * time.Second}}})
	slow := slowOK("acme", "health", 3*time.Second)
	run(t, e, seq(
		every(0, 1, slow),
		one(2, slow, "opened "+acmeCase+"#1 health degraded/major"),
		one(3, fail("acme", "health", probes.ReasonTimeout),
			"severity_changed "+acmeCase+"#2 health outage/critical (was degraded/major)"),
		every(4, 4, slow),
		every(5, 5, fail("acme", "health", probes.ReasonTimeout)),
		every(6, 6, slow),
		one(7, slow, "severity_changed "+acmeCase+"#3 health degraded/major (was outage/critical)"),
		// A second cause of a worse kind raises the case…
		every(8, 9, fail("acme", "sign-in", probes.ReasonStatus)),
		one(10, fail("acme", "sign-in", probes.ReasonStatus), "cause_added "+acmeCase+"#4 sign-in outage/critical (was degraded/major)"),
		// …and it resolving lowers it again.
		every(11, 11, ok("acme", "sign-in")),
		one(12, ok("acme", "sign-in"), "cause_resolved "+acmeCase+"#5 sign-in degraded/major (was outage/critical)"),
	))
}

func TestForget(t *testing.T) {
	e := newEngine(t, Config{MinDuration: -1})
	run(t, e, seq(
		every(0, 1, fail("acme", "health", probes.ReasonStatus)),
		one(2, fail("acme", "health", probes.ReasonStatus), "opened "+acmeCase+"#1 health outage/critical"),
		every(2.5, 3.5, fail("acme", "sign-in", probes.ReasonStatus)),
		one(4.5, fail("acme", "sign-in", probes.ReasonStatus), "cause_added "+acmeCase+"#2 sign-in outage/critical"),
	))
	var got []string
	for _, ev := range e.Forget("acme", "sign-in", at(5)) {
		got = append(got, show(ev))
	}
	for _, ev := range e.Forget("acme", "", at(6)) {
		got = append(got, show(ev))
	}
	want := []string{
		"cause_resolved " + acmeCase + "#3 sign-in outage/critical",
		"resolved " + acmeCase + "#4 health outage/critical",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if s := e.Snapshot(); len(s.Checks) != 0 {
		t.Errorf("checks left: %+v", s.Checks)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{FailureThreshold: -1}, "thresholds must not be negative"},
		{Config{CapacityFraction: -0.5}, "must not be negative"},
		{Config{Severity: map[Kind]map[string]Severity{"down": {"": SeverityMajor}}}, `unknown kind "down"`},
		{Config{Severity: map[Kind]map[string]Severity{KindOutage: {"pro": "urgent"}}}, `unknown severity "urgent"`},
		{Config{Checks: map[string]CheckRule{"health": {SlowAfter: -1}}}, `checks["health"]`},
	}
	for _, tt := range tests {
		_, err := New(tt.cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%+v) = %v, want an error with %q", tt.cfg, err, tt.want)
		}
	}
}
