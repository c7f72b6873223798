package statuspage

import (
	"context"
	"errors"
	"slices"
	"sort"
	"sync/atomic"
	"time"

	"github.com/forewarn/forewarn/config"
	"github.com/forewarn/forewarn/store"
)

// tenantModel is everything one tenant's private page, JSON, feed and
// badges show.
type tenantModel struct {
	Built       time.Time
	Title       string
	Tenant      config.Tenant
	Token       string
	State       State
	Checked     time.Time
	Checks      []*checkView
	Open        []*incident
	History     []*incident
	Maintenance []*maintView
	Capacity    []*capacityView
	Overall     []day
	Uptime      uptime

	renders renders
}

// checkView is one of the tenant's checks.
type checkView struct {
	Name       string
	Kind       string
	Capability string
	State      State
	Days       []day
	Uptime     uptime
	Latency    latencySummary // last 24 h
	Chart      *chart         // response times, hourly, last 7 days
	hours      []hourPoint
	rollups    []store.Rollup // while assembling
}

// hourPoint is an hourly rollup as the pages use it: a model keeps 168
// of them per check, so they are small.
type hourPoint struct {
	Start           time.Time
	Runs, Successes int64
	Mean, P50, P95  time.Duration
}

// HTMLID is the check's element id.
func (c *checkView) HTMLID() string { return "check-" + slug(c.Name) }

// tenantEntry is a private model kept for its tenant and token.
type tenantEntry struct {
	lazy lazy[*tenantModel]
	used atomic.Int64 // unix nanoseconds of the last read
}

// errGone is a token whose tenant left the config since the index was built.
var errGone = errors.New("statuspage: tenant no longer configured")

// tenantModel returns the model of the tenant a token opens; ok is false
// for a token that opens nothing.
func (s *Server) tenantModel(ctx context.Context, token string) (m *tenantModel, ok bool, err error) {
	id, ok := s.tenantOf(token)
	if !ok {
		return nil, false, nil
	}
	key := id + "\x00" + token
	s.tenantMu.Lock()
	e := s.tenants[key]
	if e == nil {
		e = &tenantEntry{}
		s.tenants[key] = e
	}
	s.tenantMu.Unlock()
	now := s.now()
	e.used.Store(now.UnixNano())
	if last := s.swept.Load(); now.UnixNano()-last > int64(time.Minute) && s.swept.CompareAndSwap(last, now.UnixNano()) {
		s.sweepTenants(now)
	}
	m, err = getLazy(s, ctx, &e.lazy, s.o.CacheTTL, func(ctx context.Context) (*tenantModel, error) {
		return s.buildTenant(ctx, id, token)
	}, false)
	if errors.Is(err, errGone) {
		return nil, false, nil
	}
	return m, err == nil, err
}

// sweepTenants forgets private models nobody read for five minutes.
func (s *Server) sweepTenants(now time.Time) {
	cut := now.Add(-5 * time.Minute).UnixNano()
	s.tenantMu.Lock()
	defer s.tenantMu.Unlock()
	for k, e := range s.tenants {
		if e.used.Load() < cut {
			delete(s.tenants, k)
		}
	}
}

// hoursShown is the response-time chart's span, in hourly rollups.
const hoursShown = 7 * 24

func (s *Server) buildTenant(ctx context.Context, id, token string) (*tenantModel, error) {
	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	now := s.now()
	n := s.snap()
	t, ok := n.tenant(id)
	if !ok {
		return nil, errGone
	}
	dates := daysFrom(now)
	// Listing the checks lets the store use its (period, tenant, check)
	// key: with the tenant alone, SQLite scans the period by time.
	sel := store.Selector{Tenants: []string{id}}
	if names := s.checkNames(n); len(names) <= 1000 {
		sel.Checks = names
	}
	off, err := s.maintOffsets(ctx, n.maintenance, sel, dates[0], dates[len(dates)-1].Add(24*time.Hour))
	if err != nil {
		return nil, err
	}
	daily, err := s.o.Store.SeriesRollups(ctx, store.Day, sel, dates[0], dates[len(dates)-1].Add(24*time.Hour))
	if err != nil {
		return nil, err
	}
	subtract(daily, off)
	hourFrom := now.Truncate(time.Hour).Add(-(hoursShown - 1) * time.Hour)
	hourly, err := s.o.Store.SeriesRollups(ctx, store.Hour, sel, hourFrom, now.Truncate(time.Hour).Add(time.Hour))
	if err != nil {
		return nil, err
	}
	recs, err := s.o.Store.TenantCases(ctx, id, tenantCases)
	if err != nil {
		return nil, err
	}
	cs := parseCases(recs)
	pubs, err := s.publicationsFor(ctx, cs)
	if err != nil {
		return nil, err
	}
	capacity, err := s.capacity(ctx, t, loadChecks(n, id, daily), now)
	if err != nil {
		return nil, err
	}
	m := &tenantModel{Built: now, Title: s.o.Title, Tenant: t, Token: token, Capacity: capacity,
		Maintenance: s.tenantMaintenance(n, id, now)}
	s.assembleChecks(m, n, dates, daily, hourly, cs, pubs)
	for _, in := range s.tenantIncidents(cs, pubs) {
		for _, c := range m.Checks {
			if containsRef(in.Components, ref{ID: c.Name}) {
				countIncidents(c.Days, in.Start, in.End, now)
			}
		}
		countIncidents(m.Overall, in.Start, in.End, now)
		if in.Open {
			m.Open = append(m.Open, in)
		} else if in.End.After(dates[0]) {
			m.History = append(m.History, in)
		}
	}
	s.prerenderTenant(m)
	return m, nil
}

// assembleChecks makes the tenant's checks: configured ones first, in
// config order, then any other with data; load and hidden checks are not
// uptime and stay out.
func (s *Server) assembleChecks(m *tenantModel, n *snapshot, dates []time.Time, daily, hourly []store.Rollup, cs []caseView, pubs map[string]*Publication) {
	byName := map[string]*checkView{}
	var order []string
	add := func(name, kind string) *checkView {
		if c, ok := byName[name]; ok {
			return c
		}
		if k, ok := n.kinds[name]; ok {
			kind = k
		}
		cp := s.o.Components.capability(name, kind)
		if cp == "" {
			return nil
		}
		c := &checkView{Name: name, Kind: kind, Capability: cp, Days: make([]day, len(dates))}
		for i := range c.Days {
			c.Days[i].Date = dates[i]
		}
		byName[name] = c
		order = append(order, name)
		return c
	}
	for _, c := range n.checks {
		if slices.Contains(c.Tenants, m.Tenant.ID) {
			add(c.Name, string(c.Kind))
		}
	}
	configured := len(order)
	for _, r := range daily {
		if c := add(r.Check, string(r.Kind)); c != nil {
			if i := dayIndex(dates[0], r.Start); i >= 0 {
				c.Days[i].Runs, c.Days[i].OK = r.Runs, r.Successes
			}
		}
	}
	for _, r := range hourly {
		if c := add(r.Check, string(r.Kind)); c != nil {
			c.rollups = append(c.rollups, r)
		}
	}
	sort.Strings(order[configured:])
	failing := s.failingChecks(cs, pubs)
	m.Overall = make([]day, len(dates))
	for i := range m.Overall {
		m.Overall[i].Date = dates[i]
	}
	for _, name := range order {
		c := byName[name]
		c.Uptime = uptimeOf(c.Days)
		c.Latency = summarizeLatency(c.rollups, m.Built.Add(-24*time.Hour))
		c.Chart = responseChart(c.rollups, m.Built.Truncate(time.Hour).Add(-(hoursShown-1)*time.Hour), hoursShown)
		c.hours = make([]hourPoint, len(c.rollups))
		for i, r := range c.rollups {
			c.hours[i] = hourPoint{r.Start, r.Runs, r.Successes, r.MeanDuration(), r.Quantile(0.5), r.Quantile(0.95)}
		}
		c.rollups = nil
		c.State = checkState(m, n, c, failing[name])
		for i, d := range c.Days {
			m.Overall[i].Runs += d.Runs
			m.Overall[i].OK += d.OK
		}
		m.Checks = append(m.Checks, c)
	}
	m.Uptime = uptimeOf(m.Overall)
	m.State = s.tenantOverall(m, failing)
}

// failingChecks are the states the tenant's open, visible cases give its
// checks.
func (s *Server) failingChecks(cs []caseView, pubs map[string]*Publication) map[string]State {
	out := map[string]State{}
	for _, cv := range cs {
		if p := pubs[cv.rec.ID]; p != nil && p.Hidden {
			continue
		}
		for _, c := range cv.activeCauses() {
			out[c.Check] = worse(out[c.Check], caseState(c.Kind))
		}
	}
	return out
}

func checkState(m *tenantModel, n *snapshot, c *checkView, failing State) State {
	if failing != "" && failing != StateOperational {
		return failing
	}
	if maintenanceCovers(n.maintenance, m.Tenant.ID, c.Name, m.Built) {
		return StateMaintenance
	}
	// No case and runs in the last two hours: fine. No runs: unknown.
	for i := len(c.hours) - 1; i >= 0; i-- {
		if c.hours[i].Runs > 0 {
			if !c.hours[i].Start.Before(m.Built.Truncate(time.Hour).Add(-2 * time.Hour)) {
				return StateOperational
			}
			break
		}
	}
	return StateUnknown
}

// tenantOverall is the tenant's state in one line: a major outage when
// every check fails, partial when some do; a failing check not shown as
// uptime (a capacity case of a load check) makes it degraded.
func (s *Server) tenantOverall(m *tenantModel, failing map[string]State) State {
	down := map[string]State{}
	shown := map[string]bool{}
	st := StateUnknown
	for _, c := range m.Checks {
		shown[c.Name] = true
		if c.State == StateMajorOutage {
			down[c.Name] = c.State
		} else {
			st = worse(st, c.State)
		}
		if ch := c.Checked(); ch.After(m.Checked) {
			m.Checked = ch
		}
	}
	for name, f := range failing {
		if !shown[name] && f != StateOperational {
			st = worse(st, StateDegraded)
		}
	}
	return tenantState(down, len(m.Checks), st)
}

// Checked is the start of the check's latest hour with runs.
func (c *checkView) Checked() time.Time {
	for i := len(c.hours) - 1; i >= 0; i-- {
		if c.hours[i].Runs > 0 {
			return c.hours[i].Start
		}
	}
	return time.Time{}
}

// latencySummary is a check's response times over a span.
type latencySummary struct {
	Runs           int64
	Mean, P50, P95 time.Duration
}

// HasData says whether any run succeeded in the span.
func (l latencySummary) HasData() bool { return l.Runs > 0 }

// summarizeLatency merges the hourly rollups since from into one.
func summarizeLatency(hours []store.Rollup, from time.Time) latencySummary {
	var sum store.Rollup
	for _, h := range hours {
		if h.Start.Before(from.Truncate(time.Hour)) || h.Successes == 0 {
			continue
		}
		if sum.Successes == 0 || h.DurationMin < sum.DurationMin {
			sum.DurationMin = h.DurationMin
		}
		sum.DurationMax = max(sum.DurationMax, h.DurationMax)
		sum.Runs += h.Runs
		sum.Successes += h.Successes
		sum.DurationSum += h.DurationSum
		for i, c := range h.Latency {
			sum.Latency[i] += c
		}
	}
	return latencySummary{Runs: sum.Successes, Mean: sum.MeanDuration(), P50: sum.Quantile(0.5), P95: sum.Quantile(0.95)}
}
