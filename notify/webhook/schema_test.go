package webhook_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/forewarn/forewarn/cases"
	"github.com/forewarn/forewarn/notify"
)

var schemaPath = filepath.Join("..", "..", "docs", "webhook-event.schema.json")

// sampleEvents are one event of each shape a receiver gets.
func sampleEvents() map[string]notify.Event {
	links := notify.Links{Grafana: "https://grafana.example/d/forewarn-tenant?var-tenant=acme",
		StatusPage: "https://status.example/t/0123456789abcdef"}
	tenant := notify.TenantContext{ID: "acme", Name: "Acme Corp", Plan: "enterprise", Region: "eu-west", Seats: 500,
		SlackChannel: "#support-acme"}
	health := cases.Cause{Check: "health", Probe: "http", Kind: cases.KindOutage, Reason: "status",
		FirstMessage: "GET /health: status 503", Message: "GET /health: status 503", Since: t0,
		LastSeen: t0.Add(time.Minute), Failures: 3, Active: true}
	login := cases.Cause{Check: "sign-in", Probe: "login", Kind: cases.KindDegraded, Reason: "slow",
		FirstMessage: "step session: 2.4s > 2s", Message: "step session: 2.1s > 2s", Since: t0, LastSeen: t0.Add(time.Minute),
		Failures: 3, Active: true}
	open := notify.Event{Version: notify.SchemaVersion, ID: "acme-20261123T101500Z:2", Type: "case.cause_added", Time: t0.Add(time.Minute),
		Check: "sign-in", Tenant: tenant, Links: links,
		Case: cases.Case{ID: "acme-20261123T101500Z", Seq: 2, Tenant: cases.Tenant{ID: "acme", Name: "Acme Corp", Plan: "enterprise", Seats: 500},
			Status: cases.StatusOpen, Kind: cases.KindOutage, Severity: cases.SeverityCritical,
			Causes: []cases.Cause{health, login}, OpenedAt: t0}}

	capCause := cases.Cause{Check: "capacity", Probe: "load", Kind: cases.KindCapacity, Reason: "capacity",
		FirstMessage: "knee 150 users, 500 required", Message: "knee 150 users, 500 required", Since: t0, LastSeen: t0,
		Failures: 1, Active: true, Capacity: &cases.Capacity{Seats: 500, Required: 500, Knee: 150, BreakAt: 175, MeasuredAt: t0,
			Curve: []cases.CurvePoint{
				{Users: 100, Rate: 412.5, ErrorRatio: 0, P95: 180 * time.Millisecond, Passed: true},
				{Users: 150, Rate: 601.25, ErrorRatio: 0.002, P95: 420 * time.Millisecond, Passed: true},
				{Users: 175, Rate: 610, ErrorRatio: 0.31, P95: 2300 * time.Millisecond, Passed: false},
			}}}
	capacity := notify.Event{Version: notify.SchemaVersion, ID: "acme-20261124T030000Z:1", Type: "case.opened", Time: t0,
		Check: "capacity", Tenant: tenant,
		Case: cases.Case{ID: "acme-20261124T030000Z", Seq: 1, Tenant: cases.Tenant{ID: "acme"}, Status: cases.StatusOpen,
			Kind: cases.KindCapacity, Severity: cases.SeverityMajor, Causes: []cases.Cause{capCause}, OpenedAt: t0}}

	end := t0.Add(42 * time.Minute)
	healthOver := health
	healthOver.Active, healthOver.ResolvedAt = false, end
	cert := cases.Cause{Check: "tls", Probe: "http", Kind: cases.KindExpiring, Reason: "cert_expiry", Since: t0, LastSeen: t0,
		Failures: 1, Active: false, ResolvedAt: end, CertExpiry: t0.Add(10 * 24 * time.Hour)}
	resolved := notify.Event{Version: notify.SchemaVersion, ID: "acme-20261123T101500Z:5", Type: "case.resolved", Time: end,
		Tenant: notify.TenantContext{ID: "acme", Name: "Acme Corp"}, Links: links,
		Case: cases.Case{ID: "acme-20261123T101500Z", Seq: 5, Tenant: cases.Tenant{ID: "acme"}, Status: cases.StatusResolved,
			Kind: cases.KindOutage, Severity: cases.SeverityCritical, Causes: []cases.Cause{healthOver, cert}, OpenedAt: t0,
			ReopenedAt: t0.Add(20 * time.Minute), Reopens: 1, ResolvedAt: end, Duration: end.Sub(t0)}}

	test := notify.Event{Version: notify.SchemaVersion, ID: "test-20261123T101500Z:1", Type: notify.TypeTest, Time: t0,
		Tenant: notify.TenantContext{ID: "acme", Name: "Acme Corp"}, Test: true,
		Case: cases.Case{ID: "test-20261123T101500Z", Seq: 1, Tenant: cases.Tenant{ID: "acme"}, Status: cases.StatusOpen,
			Kind: cases.KindOutage, Severity: cases.SeverityInfo, OpenedAt: t0}} // no causes: "causes": null
	return map[string]notify.Event{"open": open, "capacity": capacity, "resolved": resolved, "test": test}
}

func compileSchema(t *testing.T) (*jsonschema.Schema, any) {
	t.Helper()
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat() // date-time and uri are checked, not just annotations
	if err := c.AddResource("webhook-event.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("webhook-event.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch, doc
}

func instance(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// TestSchemaValidatesSampleEvents: each kind of event, as Deliver marshals
// it, is valid against docs/webhook-event.schema.json, and the schema
// declares every field it has — so a field added to notify.Event or to
// cases.Case without the schema fails here.
func TestSchemaValidatesSampleEvents(t *testing.T) {
	sch, doc := compileSchema(t)
	for name, e := range sampleEvents() {
		t.Run(name, func(t *testing.T) {
			inst := instance(t, e)
			if err := sch.Validate(inst); err != nil {
				t.Fatalf("%s event does not match the schema: %v", name, err)
			}
			for _, p := range undeclared(doc, doc, inst, "") {
				t.Errorf("%s event: field %s is not in the schema", name, p)
			}
		})
	}
}

// TestSchemaRefusesWrongEvents: the schema has teeth.
func TestSchemaRefusesWrongEvents(t *testing.T) {
	sch, _ := compileSchema(t)
	e := sampleEvents()["capacity"]
	tests := map[string]func(m map[string]any){
		"duration as text":  func(m map[string]any) { curve(m)[0].(map[string]any)["p95"] = "180ms" },
		"unknown kind":      func(m map[string]any) { m["case"].(map[string]any)["kind"] = "meltdown" },
		"no id":             func(m map[string]any) { delete(m, "id") },
		"other version":     func(m map[string]any) { m["version"] = "2" },
		"not a time":        func(m map[string]any) { m["time"] = "yesterday" },
		"type without case": func(m map[string]any) { m["type"] = "opened" },
	}
	for name, change := range tests {
		t.Run(name, func(t *testing.T) {
			m := instance(t, e).(map[string]any)
			change(m)
			if err := sch.Validate(m); err == nil {
				t.Errorf("the schema accepts an event with %s", name)
			}
		})
	}
}

func curve(m map[string]any) []any {
	c := m["case"].(map[string]any)["causes"].([]any)[0].(map[string]any)
	return c["capacity"].(map[string]any)["curve"].([]any)
}

// undeclared walks inst along schema s (resolving local $refs against root)
// and returns the paths of object members no "properties" declares.
func undeclared(root, s, inst any, path string) []string {
	sm, ok := s.(map[string]any)
	if !ok {
		return nil
	}
	if ref, ok := sm["$ref"].(string); ok {
		target := root
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			target = target.(map[string]any)[part]
		}
		return undeclared(root, target, inst, path)
	}
	var out []string
	switch v := inst.(type) {
	case map[string]any:
		props, _ := sm["properties"].(map[string]any)
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ps, ok := props[k]
			if !ok {
				out = append(out, path+"."+k)
				continue
			}
			out = append(out, undeclared(root, ps, v[k], path+"."+k)...)
		}
	case []any:
		for _, x := range v {
			out = append(out, undeclared(root, sm["items"], x, path+"[]")...)
		}
	}
	return out
}
