package cases

import (
	"slices"
	"strings"
	"time"

	"github.com/forewarn/forewarn/probes"
)

// Engine holds every check's streak and every tenant's current case. It is
// not safe for concurrent use: one goroutine feeds it results in order.
type Engine struct {
	cfg     Config
	tenants map[string]Tenant
	windows []Window
	checks  map[checkKey]*CheckState
	cases   map[string]*Case // by tenant: open, or resolved within ReopenWindow
}

type checkKey struct{ tenant, check string }

// New returns an engine with no state. Config zero values take defaults.
func New(cfg Config) (*Engine, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	return &Engine{cfg: cfg, tenants: map[string]Tenant{}, checks: map[checkKey]*CheckState{}, cases: map[string]*Case{}}, nil
}

// SetTenants replaces what the engine knows of the tenants: their plan for
// severity, their seats for capacity, their name for notifications. A
// result of an unknown tenant counts with only its id.
func (e *Engine) SetTenants(ts []Tenant) {
	e.tenants = make(map[string]Tenant, len(ts))
	for _, t := range ts {
		e.tenants[t.ID] = t
	}
}

// SetMaintenance replaces the maintenance windows.
func (e *Engine) SetMaintenance(ws []Window) { e.windows = slices.Clone(ws) }

// InMaintenance reports whether a window covers the check at now.
func (e *Engine) InMaintenance(tenant, check string, now time.Time) bool {
	for _, w := range e.windows {
		if w.covers(tenant, check, now) {
			return true
		}
	}
	return false
}

func (e *Engine) tenant(id string) Tenant {
	if t, ok := e.tenants[id]; ok {
		return t
	}
	return Tenant{ID: id}
}

// Observe takes one probe result, handled at now, and returns the case
// events it caused, in order. A zero now is the result's end.
func (e *Engine) Observe(r probes.Result, now time.Time) []Event {
	if now.IsZero() {
		now = r.Start.Add(r.Duration)
	}
	now = now.UTC()
	evs := e.expire(r.Tenant, now)
	f, ok := e.Classify(r)
	if !ok {
		return evs
	}
	k := checkKey{r.Tenant, r.Check}
	cs := e.checks[k]
	if cs == nil {
		cs = &CheckState{Tenant: r.Tenant, Check: r.Check}
		e.checks[k] = cs
	}
	rule := e.cfg.rule(r.Tenant, r.Check, r.Kind)
	if f.Kind == "" {
		return append(evs, e.good(cs, rule, now)...)
	}
	return append(evs, e.bad(cs, r, f, rule, now)...)
}

// Tick does the transitions time alone makes: a case whose causes all
// recovered resolves once MinDuration has passed, and a resolved case is
// forgotten once ReopenWindow has. Call it every few seconds to a minute.
func (e *Engine) Tick(now time.Time) []Event {
	now = now.UTC()
	var evs []Event
	for _, tenant := range sortedKeys(e.cases) {
		evs = append(evs, e.expire(tenant, now)...)
	}
	return evs
}

// Forget drops a check that is no longer configured (check "": every check
// of the tenant). Its cause, if active, is resolved as if it recovered.
func (e *Engine) Forget(tenant, check string, now time.Time) []Event {
	now = now.UTC()
	evs := e.expire(tenant, now)
	for k := range e.checks {
		if k.tenant == tenant && (check == "" || k.check == check) {
			delete(e.checks, k)
		}
	}
	c := e.cases[tenant]
	if c == nil || !c.Open() {
		return evs
	}
	for i := range c.Causes {
		if x := &c.Causes[i]; x.Active && (check == "" || x.Check == check) {
			evs = append(evs, e.resolveCause(c, x, now)...)
		}
	}
	return evs
}

// Cases returns the tenants' current cases, open or recently resolved,
// ordered by tenant.
func (e *Engine) Cases() []Case {
	out := make([]Case, 0, len(e.cases))
	for _, t := range sortedKeys(e.cases) {
		out = append(out, e.cases[t].clone())
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, strings.Compare)
	return keys
}
