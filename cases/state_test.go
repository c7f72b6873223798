package cases

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/forewarn/forewarn/probes"
)

// incident is a scenario over two tenants with every kind of event.
func incident() []step {
	const id = "acme-20250102T030200Z"
	return seq(
		every(0, 1, fail("acme", "health", probes.ReasonConnect)),
		one(2, fail("acme", "health", probes.ReasonConnect), "opened "+id+"#1 health outage/critical"),
		every(2.5, 3.5, fail("acme", "sign-in", probes.ReasonTimeout)),
		one(4.5, fail("acme", "sign-in", probes.ReasonTimeout), "cause_added "+id+"#2 sign-in outage/critical"),
		every(3, 4, fail("globex", "health", probes.ReasonStatus)),
		// A restart may come anywhere from here.
		one(5, fail("globex", "health", probes.ReasonStatus), "opened globex-20250102T030500Z#1 health outage/major"),
		every(6, 6, ok("acme", "health")),
		one(7, ok("acme", "health"), "cause_resolved "+id+"#3 health outage/critical"),
		every(8, 9, fail("acme", "sign-in", probes.ReasonTimeout)),
		every(10, 10, ok("acme", "sign-in")),
		one(11, ok("acme", "sign-in"), "resolved "+id+"#4 sign-in outage/critical"),
		every(20, 21, fail("acme", "health", probes.ReasonStatus)),
		one(22, fail("acme", "health", probes.ReasonStatus), "reopened "+id+"#5 health outage/critical"),
		every(23, 23, ok("acme", "health")),
		one(24, ok("acme", "health"), "cause_resolved "+id+"#6 health outage/critical"),
		tick(27, "resolved "+id+"#7  outage/critical"),
	)
}

// A restart at any point, restoring the state persisted with the events,
// continues exactly as if nothing happened: no case opened twice, no event
// repeated or lost.
func TestSnapshotRestore(t *testing.T) {
	steps := incident()
	want := run(t, newEngine(t, Config{}), steps)
	for cut := 1; cut < len(steps); cut++ {
		a := newEngine(t, Config{})
		got := run(t, a, steps[:cut])

		data, err := json.Marshal(a.Snapshot())
		if err != nil {
			t.Fatal(err)
		}
		var s State
		if err := json.Unmarshal(data, &s); err != nil {
			t.Fatal(err)
		}
		b := newEngine(t, Config{})
		if err := b.Restore(s); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(b.Snapshot(), a.Snapshot()) {
			t.Fatalf("cut %d: state changed through JSON:\n%+v\n%+v", cut, b.Snapshot(), a.Snapshot())
		}
		got = append(got, run(t, b, steps[cut:])...)
		if !reflect.DeepEqual(roundTrip(t, got), roundTrip(t, want)) {
			t.Errorf("cut %d: events differ from an uninterrupted run", cut)
		}
	}
}

func roundTrip(t *testing.T, evs []Event) []Event {
	t.Helper()
	data, err := json.Marshal(evs)
	if err != nil {
		t.Fatal(err)
	}
	var out []Event
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSnapshotIsACopy(t *testing.T) {
	e := newEngine(t, Config{})
	run(t, e, incident()[:8])
	s := e.Snapshot()
	s.Cases[0].Causes[0].Message = "changed"
	s.Checks[0].Failures = 99
	if e.Snapshot().Cases[0].Causes[0].Message == "changed" || e.Snapshot().Checks[0].Failures == 99 {
		t.Error("the snapshot shares memory with the engine")
	}
}

func TestRestoreErrors(t *testing.T) {
	c := Case{ID: "acme-1", Tenant: Tenant{ID: "acme"}}
	for _, tt := range []struct {
		s    State
		want string
	}{
		{State{Version: 2}, "state version 2"},
		{State{Version: 1, Checks: []CheckState{{Tenant: "a", Check: "b"}, {Tenant: "a", Check: "b"}}}, "check a/b twice"},
		{State{Version: 1, Cases: []Case{c, c}}, "two cases of tenant acme"},
		{State{Version: 1, Cases: []Case{{ID: "x"}}}, "without id or tenant"},
	} {
		e := newEngine(t, Config{})
		if err := e.Restore(tt.s); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Restore(%+v) = %v, want %q", tt.s, err, tt.want)
		}
	}
}

// The event is what the outbox stores and the webhook sends: its JSON
// names are part of the contract.
func TestEventJSON(t *testing.T) {
	e := newEngine(t, Config{})
	evs := run(t, e, incident()[:3])
	data, err := json.Marshal(evs[0])
	if err != nil {
		t.Fatal(err)
	}
	want := `{"case_id":"acme-20250102T030200Z","seq":1,"type":"opened","time":"2025-01-02T03:02:00Z","check":"health",` +
		`"case":{"id":"acme-20250102T030200Z","seq":1,"tenant":{"id":"acme","name":"Acme Corp","plan":"enterprise","seats":500},` +
		`"status":"open","kind":"outage","severity":"critical","causes":[{"check":"health","probe":"http","kind":"outage",` +
		`"reason":"connect","first_message":"GET https://acme.example/health: connect","message":"GET https://acme.example/health: connect",` +
		`"since":"2025-01-02T03:00:00Z","last_seen":"2025-01-02T03:02:00Z","failures":3,"active":true}],` +
		`"opened_at":"2025-01-02T03:02:00Z"}}`
	if string(data) != want {
		t.Errorf("got  %s\nwant %s", data, want)
	}
}

// A result that carries a monotonic clock reading still snapshots equal
// through JSON.
func TestMonotonicTimes(t *testing.T) {
	e := newEngine(t, Config{})
	start := time.Now()
	for i := range 3 {
		r := *fail("acme", "health", probes.ReasonStatus)
		r.Start = start.Add(time.Duration(i) * time.Minute)
		e.Observe(r, r.Start.Add(time.Second))
	}
	data, _ := json.Marshal(e.Snapshot())
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.Cases, e.Snapshot().Cases) {
		t.Errorf("snapshot differs through JSON:\n%+v\n%+v", s.Cases, e.Snapshot().Cases)
	}
}

// A case restored before the tenants are set keeps the tenant it had.
func TestRestoreKeepsTenant(t *testing.T) {
	a := newEngine(t, Config{})
	run(t, a, incident()[:3])
	b, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Restore(a.Snapshot()); err != nil {
		t.Fatal(err)
	}
	evs := b.Forget("acme", "", at(10))
	if len(evs) != 1 || evs[0].Case.Tenant != tenants[0] {
		t.Errorf("events = %+v", evs)
	}
}
