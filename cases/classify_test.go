package cases

import (
	"testing"
	"time"

	"github.com/forewarn/forewarn/probes"
)

// load is a load run of acme's or globex's "capacity" check.
func load(tenant string, knee probes.Knee, required int) *probes.Result {
	r := &probes.Result{Tenant: tenant, Check: "capacity", Kind: probes.KindLoad, Duration: 10 * time.Minute, Success: true,
		Load: &probes.LoadResult{Required: required, Knee: knee, Steps: []probes.LoadStep{
			{Users: 100, Rate: 950, ErrorRatio: 0, P95: 300 * time.Millisecond, Passed: true},
			{Users: knee.BreakAt, Rate: 960, ErrorRatio: 0.02, P95: 2 * time.Second},
		}}}
	if required > 0 && knee.Users < required {
		r.Success, r.Reason = false, probes.ReasonCapacity
	}
	return r
}

func tlsOK(tenant, check string, left time.Duration) *probes.Result {
	r := ok(tenant, check)
	r.TLS, r.CertExpiry = true, t0.Add(left)
	return r
}

func tlsFail(tenant, check string, left time.Duration) *probes.Result {
	r := fail(tenant, check, probes.ReasonAssertion)
	r.TLS, r.CertExpiry = true, t0.Add(left)
	return r
}

const day = 24 * time.Hour

func TestClassify(t *testing.T) {
	e := newEngine(t, Config{Checks: map[string]CheckRule{
		"health":      {SlowAfter: 2 * time.Second},
		"globex/api":  {CertWarning: 30 * day},
		"api":         {CertWarning: 7 * day},
		"acme/api":    {SlowAfter: time.Second},
		"unconfigued": {},
	}})
	slowFail := fail("acme", "health", probes.ReasonAssertion)
	slowFail.Duration = 3 * time.Second
	bodyFail := fail("acme", "health", probes.ReasonAssertion)
	tests := []struct {
		name    string
		r       *probes.Result
		kind    Kind
		reason  string
		message string
		skip    bool
	}{
		{"ok", ok("acme", "health"), "", "", "", false},
		{"status", fail("acme", "health", probes.ReasonStatus), KindOutage, "status", "GET https://acme.example/health: status", false},
		{"internal is forewarn's fault", fail("acme", "health", probes.ReasonInternal), "", "", "", true},
		{"slow success", slowOK("acme", "health", 2500*time.Millisecond), KindDegraded, "slow", "took 2.5s, limit 2s", false},
		{"at the limit", slowOK("acme", "health", 2*time.Second), "", "", "", false},
		{"no limit: never slow", slowOK("acme", "sign-in", time.Minute), "", "", "", false},
		{"max_duration assertion", slowFail, KindDegraded, "assertion", slowFail.Message, false},
		{"fast assertion failure", bodyFail, KindOutage, "assertion", bodyFail.Message, false},
		{"cert in 5d", tlsOK("acme", "health", 5*day), KindExpiring, "cert_expiry",
			"certificate expires in 5d (2025-01-07), warning at 14d", false},
		{"cert in 20d", tlsOK("acme", "health", 20*day), "", "", "", false},
		{"cert in 20d, check warns at 30d", tlsOK("globex", "api", 20*day), KindExpiring, "cert_expiry",
			"certificate expires in 20d (2025-01-22), warning at 30d", false},
		{"tenant/check rule wins over check rule", tlsOK("acme", "api", 10*day), KindExpiring, "cert_expiry",
			"certificate expires in 10d (2025-01-12), warning at 14d", false},
		{"check rule for every tenant", tlsOK("initech", "api", 10*day), "", "", "", false},
		{"cert_valid_for assertion", tlsFail("globex", "api", 20*day), KindExpiring, "assertion", "GET https://globex.example/api: assertion", false},
		{"assertion, cert beyond the warning", tlsFail("acme", "health", 20*day), KindOutage, "assertion", "GET https://acme.example/health: assertion", false},
		{"expired cert", tlsFail("acme", "health", -day), KindOutage, "assertion", "GET https://acme.example/health: assertion", false},
		{"capacity below seats", load("acme", probes.Knee{Users: 400, BreakAt: 450}, 0), KindCapacity, "capacity",
			"serves 400 concurrent users, 500 required (500 seats); breaks at 450", false},
		{"capacity at seats", load("acme", probes.Knee{Users: 500, BreakAt: 550}, 0), "", "", "", false},
		{"capacity below the check's own requirement", load("acme", probes.Knee{Users: 400, BreakAt: 450}, 450), KindCapacity, "capacity",
			"serves 400 concurrent users, 450 required (500 seats); breaks at 450", false},
		{"capacity above the check's own requirement", load("acme", probes.Knee{Users: 400, BreakAt: 450}, 300), "", "", "", false},
		{"ramp never broke", load("acme", probes.Knee{Users: 500, AtMax: true}, 0), "", "", "", false},
		{"ramp stopped below the requirement without a break", load("acme", probes.Knee{Users: 200, AtMax: true}, 0), "", "", "", true},
		{"ramp aborted", load("acme", probes.Knee{Users: 200}, 0), "", "", "", true},
		{"load run without a curve", &probes.Result{Tenant: "acme", Check: "capacity", Kind: probes.KindLoad, Reason: probes.ReasonStatus}, "", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := *tt.r
			r.Start = t0
			f, ok := e.Classify(r)
			if ok == tt.skip || f.Kind != tt.kind || f.Reason != tt.reason || f.Message != tt.message {
				t.Errorf("got %s %q %q (ok %v), want %s %q %q (ok %v)", f.Kind, f.Reason, f.Message, ok,
					tt.kind, tt.reason, tt.message, !tt.skip)
			}
		})
	}
}

func TestCapacityFraction(t *testing.T) {
	for _, tt := range []struct {
		fraction float64
		knee     int
		want     Kind
	}{
		{0, 499, KindCapacity}, // default 1.0
		{0, 500, ""},
		{0.8, 399, KindCapacity},
		{0.8, 400, ""},
		{0.75, 374, KindCapacity}, // 375 = 500 × 0.75
		{0.75, 375, ""},
	} {
		e := newEngine(t, Config{CapacityFraction: tt.fraction})
		r := *load("acme", probes.Knee{Users: tt.knee, BreakAt: tt.knee + 25}, 0)
		if f, _ := e.Classify(r); f.Kind != tt.want {
			t.Errorf("fraction %g, knee %d: got %q, want %q", tt.fraction, tt.knee, f.Kind, tt.want)
		}
	}
}

func TestCapacityCase(t *testing.T) {
	e := newEngine(t, Config{MinDuration: -1})
	const id = "acme-20250102T030000Z"
	evs := run(t, e, seq(
		// One load run is enough: it confirmed its own break.
		one(0, load("acme", probes.Knee{Users: 400, BreakAt: 450}, 0), "opened "+id+"#1 capacity capacity/warning"),
		one(1440, load("acme", probes.Knee{Users: 400, BreakAt: 450}, 0)),
		one(2880, load("acme", probes.Knee{Users: 300, BreakAt: 325}, 0), "updated "+id+"#2 capacity capacity/warning"),
		// A run that says nothing changes nothing.
		one(4320, load("acme", probes.Knee{Users: 100}, 0)),
		one(5760, load("acme", probes.Knee{Users: 500, AtMax: true}, 0), "resolved "+id+"#3 capacity capacity/warning"),
		// Globex's knee is above its 50 seats.
		one(0, load("globex", probes.Knee{Users: 75, BreakAt: 100}, 0)),
	))
	c := evs[1].Case.Causes[0].Capacity
	if c == nil || c.Seats != 500 || c.Required != 500 || c.Knee != 300 || c.BreakAt != 325 ||
		!c.MeasuredAt.Equal(at(2880)) || len(c.Curve) != 2 || c.Curve[1].Users != 325 || c.Curve[1].ErrorRatio != 0.02 {
		t.Errorf("capacity = %+v", c)
	}
	if x := evs[1].Case.Causes[0]; x.Probe != probes.KindLoad || x.FirstMessage != "serves 400 concurrent users, 500 required (500 seats); breaks at 450" ||
		x.Message != "serves 300 concurrent users, 500 required (500 seats); breaks at 325" {
		t.Errorf("cause = %+v", x)
	}
}

func TestExpiringCase(t *testing.T) {
	e := newEngine(t, Config{MinDuration: -1})
	run(t, e, seq(
		every(0, 10, tlsOK("globex", "health", 30*day)),
		every(11, 12, tlsOK("acme", "health", 5*day)),
		one(13, tlsOK("acme", "health", 5*day), "opened acme-20250102T031300Z#1 health expiring/warning"),
		every(14, 20, tlsOK("acme", "health", 5*day)),
		// Renewed.
		every(21, 21, tlsOK("acme", "health", 90*day)),
		one(22, tlsOK("acme", "health", 90*day), "resolved acme-20250102T031300Z#2 health expiring/warning"),
	))
}
