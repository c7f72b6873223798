package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/forewarn/forewarn/cases"
	"github.com/forewarn/forewarn/config"
	"github.com/forewarn/forewarn/notify"
	"github.com/forewarn/forewarn/probes"
	"github.com/forewarn/forewarn/store"
)

// engineStateKey is where the case engine's snapshot is kept in the store.
const engineStateKey = "cases/engine"

// How often the case loop lets time act on cases (a minimum duration
// running out) and saves the engine's streaks.
const (
	tickEvery     = 15 * time.Second
	snapshotEvery = 30 * time.Second
)

// caseLoop turns results into cases on one goroutine, since the engine is
// a plain state machine. Each change is written with its notifications
// and the engine's snapshot in one transaction; the dispatcher is woken to
// deliver them.
type caseLoop struct {
	log   *slog.Logger
	st    *store.Store
	eng   *cases.Engine
	in    chan probes.Result
	wake  func() // tells the dispatcher new notifications are due
	hooks caseHooks
	// statusLink is a tenant's private status page, when the config gives
	// no status_page link of its own; set before run.
	statusLink func(tenant string) string
	dirty      bool      // streaks changed since the last snapshot
	setup      caseSetup // replaced on reload; read by the loop
	change     chan caseSetup
}

// caseHooks are the case metrics.
type caseHooks interface {
	CaseOpened(kind string)
	SetOpenCases([]cases.Case)
}

// caseSetup is what the loop takes from the config.
type caseSetup struct {
	notifiers   []string
	tenants     map[string]config.Tenant
	notify      config.Notify
	maintenance []config.Maintenance
	engine      cases.Config
	targets     map[string]probes.Target // by key
}

// caseQueue bounds the results waiting for the case loop. Results beyond
// it are not lost to history (the store has its own buffer); the loop only
// misses them for case decisions, and logs it.
const caseQueue = 65536

func newCaseLoop(ctx context.Context, log *slog.Logger, st *store.Store, cfg *config.Config, hooks caseHooks, wake func()) (*caseLoop, error) {
	eng, err := cases.New(engineConfig(cfg))
	if err != nil {
		return nil, err
	}
	l := &caseLoop{log: log, st: st, eng: eng, in: make(chan probes.Result, caseQueue), wake: wake, hooks: hooks,
		change: make(chan caseSetup, 1)}
	l.apply(cfg)
	l.setup = <-l.change
	l.setTenants()
	switch blob, err := st.LoadState(ctx, engineStateKey); {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		var s cases.State
		if err := json.Unmarshal(blob, &s); err != nil {
			log.Warn("the saved case state is unreadable; starting afresh", "error", err)
		} else if err := eng.Restore(s); err != nil {
			log.Warn("the saved case state does not fit; starting afresh", "error", err)
		} else {
			log.Info("case state restored", "open_cases", len(eng.Cases()))
		}
	}
	hooks.SetOpenCases(eng.Cases())
	return l, nil
}

// engineConfig maps checks.yaml's cases section and checks onto the
// engine's rules: a check's max_duration makes results slower than it
// degraded, its cert_valid_for the warning time of its certificate.
func engineConfig(cfg *config.Config) cases.Config {
	c := cfg.Cases
	ec := cases.Config{
		FailureThreshold: c.FailureThreshold, SuccessThreshold: c.SuccessThreshold,
		MinDuration: c.MinDuration, ReopenWindow: c.ReopenWindow,
		CapacityFraction: c.CapacityFraction, CertWarning: c.CertWarning,
		Checks: map[string]cases.CheckRule{},
	}
	if ec.MinDuration == 0 {
		ec.MinDuration = -1 // configured as 0: no minimum
	}
	if ec.ReopenWindow == 0 {
		ec.ReopenWindow = -1
	}
	for _, t := range cfg.Targets {
		if t.HTTP == nil {
			continue
		}
		if e := t.HTTP.Expect; e.MaxDuration > 0 || e.CertValidFor > 0 {
			ec.Checks[t.Key()] = cases.CheckRule{SlowAfter: e.MaxDuration, CertWarning: e.CertValidFor}
		}
	}
	return ec
}

// apply hands a (re)loaded config to the loop.
func (l *caseLoop) apply(cfg *config.Config) {
	s := caseSetup{notifiers: cfg.Notify.NotifierNames(), tenants: map[string]config.Tenant{}, notify: cfg.Notify,
		maintenance: cfg.Cases.Maintenance, engine: engineConfig(cfg), targets: map[string]probes.Target{}}
	for _, t := range cfg.Targets {
		s.targets[t.Key()] = t
	}
	for _, t := range cfg.Tenants {
		s.tenants[t.ID] = t
	}
	select {
	case <-l.change: // an older setup not yet taken
	default:
	}
	l.change <- s
}

// observe queues a result for the loop; it never blocks a probe.
func (l *caseLoop) observe(r probes.Result) {
	select {
	case l.in <- r:
	default:
		l.log.Warn("case loop behind; a result is skipped for case decisions", "tenant", r.Tenant, "check", r.Check)
	}
}

// run is the loop. It returns when ctx ends, after saving the snapshot.
func (l *caseLoop) run(ctx context.Context) {
	tick := time.NewTicker(tickEvery)
	defer tick.Stop()
	snap := time.NewTicker(snapshotEvery)
	defer snap.Stop()
	for {
		select {
		case <-ctx.Done():
			l.saveSnapshot(context.WithoutCancel(ctx))
			return
		case s := <-l.change:
			l.reconfigure(ctx, s)
		case r := <-l.in:
			l.persist(ctx, l.eng.Observe(r, time.Time{}))
			l.dirty = true
		case now := <-tick.C:
			l.persist(ctx, l.eng.Tick(now))
		case <-snap.C:
			if l.dirty {
				l.saveSnapshot(ctx)
			}
		}
	}
}

// reconfigure takes a reloaded config: the engine is rebuilt with its
// rules and keeps its state, and checks no longer planned are forgotten,
// so a case never waits on a check that will not run again.
func (l *caseLoop) reconfigure(ctx context.Context, s caseSetup) {
	old := l.setup
	l.setup = s
	if eng, err := cases.New(s.engine); err != nil {
		l.log.Error("case rules not applied; the previous ones stay", "error", err)
	} else if err := eng.Restore(l.eng.Snapshot()); err != nil {
		l.log.Error("case rules not applied; the previous ones stay", "error", err)
	} else {
		l.eng = eng
	}
	l.setTenants()
	now := time.Now()
	var events []cases.Event
	for key, t := range old.targets {
		if _, kept := s.targets[key]; !kept {
			events = append(events, l.eng.Forget(t.Tenant, t.Check, now)...)
		}
	}
	l.persist(ctx, events)
}

func (l *caseLoop) setTenants() {
	ts := make([]cases.Tenant, 0, len(l.setup.tenants))
	for _, t := range l.setup.tenants {
		ts = append(ts, cases.Tenant{ID: t.ID, Name: t.Name, Plan: t.Plan, Seats: t.Seats})
	}
	l.eng.SetTenants(ts)
	l.eng.SetMaintenance(l.setup.windows())
}

// persist writes each case's events with their notifications and the
// engine's snapshot, case by case, then wakes the dispatcher.
func (l *caseLoop) persist(ctx context.Context, events []cases.Event) {
	if len(events) == 0 {
		return
	}
	byCase := map[string][]cases.Event{}
	var order []string
	for _, ev := range events {
		if _, seen := byCase[ev.CaseID]; !seen {
			order = append(order, ev.CaseID)
		}
		byCase[ev.CaseID] = append(byCase[ev.CaseID], ev)
		l.logEvent(ev)
		if ev.Type == cases.EventOpened {
			l.hooks.CaseOpened(string(ev.Case.Kind))
		}
	}
	snapshot := l.snapshot()
	for i, id := range order {
		evs := byCase[id]
		last := evs[len(evs)-1].Case
		rec := store.CaseRecord{ID: id, Tenant: last.Tenant.ID, Kind: string(last.Kind), Severity: string(last.Severity),
			State: string(last.Status), OpenedAt: last.OpenedAt, ResolvedAt: last.ResolvedAt,
			UpdatedAt: evs[len(evs)-1].Time, Seq: int64(last.Seq)}
		rec.Data, _ = json.Marshal(last)
		var recs []store.EventRecord
		var items []store.OutboxItem
		for _, ev := range evs {
			data, _ := json.Marshal(ev)
			recs = append(recs, store.EventRecord{Seq: int64(ev.Seq), Type: string(ev.Type), Time: ev.Time, Data: data})
			payload, _ := json.Marshal(l.notifyEvent(ev))
			for _, n := range l.setup.notifiers {
				items = append(items, store.OutboxItem{Notifier: n, Seq: int64(ev.Seq), Payload: payload, CreatedAt: ev.Time})
			}
		}
		var states []store.StateWrite
		if i == len(order)-1 { // the snapshot covers every case of this batch
			states = append(states, store.StateWrite{Key: engineStateKey, Value: snapshot})
		}
		if err := l.st.ApplyCaseChange(ctx, rec, recs, items, states...); err != nil {
			l.log.Error("case change not saved; it will be lost if forewarn stops now", "case", id, "error", err)
			continue
		}
	}
	l.dirty = false
	l.hooks.SetOpenCases(l.eng.Cases())
	if l.wake != nil {
		l.wake()
	}
}

func (l *caseLoop) logEvent(ev cases.Event) {
	c := ev.Case
	attrs := []any{"case", ev.CaseID, "tenant", c.Tenant.ID, "event", ev.Type, "kind", c.Kind, "severity", c.Severity}
	if ev.Check != "" {
		attrs = append(attrs, "check", ev.Check)
	}
	switch ev.Type {
	case cases.EventOpened, cases.EventReopened:
		l.log.Warn("case "+string(ev.Type), attrs...)
	case cases.EventResolved:
		l.log.Info("case resolved", append(attrs, "duration", c.Duration.Round(time.Second))...)
	default:
		l.log.Info("case "+string(ev.Type), attrs...)
	}
}

// notifyEvent is the payload every notifier gets for ev.
func (l *caseLoop) notifyEvent(ev cases.Event) notify.Event {
	t := l.setup.tenants[ev.Case.Tenant.ID]
	grafana, status := l.setup.notify.Links(t)
	if status == "" && l.statusLink != nil {
		status = l.statusLink(t.ID)
	}
	return notify.Event{
		Version: notify.SchemaVersion, ID: store.IdempotencyKey(ev.CaseID, int64(ev.Seq)),
		Type: notify.TypePrefix + string(ev.Type), Time: ev.Time.UTC(), Check: ev.Check,
		Tenant: notify.TenantContext{ID: t.ID, Name: t.Name, Plan: t.Plan, Region: t.Region, Seats: t.Seats,
			SlackChannel: t.SlackChannel},
		Case:  ev.Case,
		Links: notify.Links{Grafana: grafana, StatusPage: status},
	}
}

// snapshot is the engine's state as saved: streaks of healthy checks are
// left out (a missing check restores as healthy), which keeps it small at
// 10,000 tenants.
func (l *caseLoop) snapshot() []byte {
	s := l.eng.Snapshot()
	withCase := map[string]bool{}
	for _, c := range s.Cases {
		withCase[c.Tenant.ID] = true
	}
	kept := s.Checks[:0]
	for _, cs := range s.Checks {
		if cs.Failures > 0 || cs.Milder > 0 || withCase[cs.Tenant] {
			kept = append(kept, cs)
		}
	}
	s.Checks = kept
	b, _ := json.Marshal(s)
	return b
}

func (l *caseLoop) saveSnapshot(ctx context.Context) {
	if err := l.st.SaveState(ctx, engineStateKey, l.snapshot()); err != nil {
		l.log.Warn("case state not saved", "error", err)
		return
	}
	l.dirty = false
}

// windows are the config's maintenance windows as the engine takes them.
func (s caseSetup) windows() []cases.Window {
	var out []cases.Window
	for _, m := range s.maintenance {
		out = append(out, cases.Window{Tenant: m.Tenant, Check: m.Check, Start: m.Start, End: m.End, Reason: m.Reason})
	}
	return out
}
