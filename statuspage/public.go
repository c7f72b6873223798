package statuspage

import (
	"context"
	"fmt"
	"hash/fnv"
	"sort"
	"time"

	"github.com/forewarn/forewarn/store"
)

// publicModel is everything the public page, its JSON, feed and badges
// show, built at once from the store.
type publicModel struct {
	Built       time.Time
	Title       string
	State       State
	Checked     time.Time // start of the latest hour with probe runs; zero: none
	MultiRegion bool
	Regions     []*regionView
	Components  []*component // in page order
	Tenants     []*component // public tenants, by name
	Open        []*incident
	History     []*incident
	Maintenance []*maintView
	Overall     []day // every component summed
	Uptime      uptime

	renders renders
}

type regionView struct {
	ID, Name   string
	Components []*component
}

// component is one bar: a region × capability, or a public tenant.
type component struct {
	ID         string // "eu-west/sign-in", or the tenant id
	Name       string // "Sign-in", or the tenant name
	Region     string
	RegionName string
	Capability string
	State      State
	Days       []day
	Uptime     uptime
	key        compKey
}

// HTMLID is the element id: "component-eu-west-sign-in", "tenant-acme".
func (c *component) HTMLID(prefix string) string { return prefix + "-" + slug(c.ID) }

// dayData is one UTC day of every component and public tenant.
type dayData struct {
	final        bool
	maintFP      uint64 // the windows taken out of it: maintFingerprint
	comps        map[compKey]counts
	members      map[compKey]int // tenants with runs in the component
	tenants      map[string]counts
	tenantChecks map[string]int // visible checks per public tenant
}

// history keeps the days gone by: a day is read again only until it is
// final (ten minutes after it ended, for results written late), when
// tenants, regions or checks change, or when the maintenance windows
// that take hours out of it change.
type history struct {
	key  uint64
	days map[time.Time]*dayData
}

// dayFinalAfter is how long after a UTC day ends its rollups may still
// change: a probe that started before midnight is written after it.
const dayFinalAfter = 10 * time.Minute

func (s *Server) historyKey(n *snapshot) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d\x00", n.fp)
	names := make([]string, 0, len(n.kinds))
	for c := range n.kinds {
		names = append(names, c)
	}
	sort.Strings(names)
	for _, c := range names {
		fmt.Fprintf(h, "%s\x00%s\x00", c, n.kinds[c])
	}
	return h.Sum64()
}

// days returns the 90 days of dates, reading what is not kept: all of them
// at the first build (about 10 s at 10,000 tenants on SQLite), today only
// after that.
func (s *Server) days(ctx context.Context, n *snapshot, dates []time.Time, now time.Time) ([]*dayData, error) {
	s.histMu.Lock()
	defer s.histMu.Unlock()
	if key := s.historyKey(n); s.hist.key != key || s.hist.days == nil {
		s.hist = history{key: key, days: map[time.Time]*dayData{}}
	}
	out := make([]*dayData, len(dates))
	keep := map[time.Time]bool{}
	for i, date := range dates {
		today := i == len(dates)-1
		final := !now.Before(date.Add(24*time.Hour + dayFinalAfter))
		d := s.hist.days[date]
		fp := maintFingerprint(n.maintenance, date)
		if today || d == nil || !d.final && final || d.maintFP != fp {
			var err error
			if d, err = s.readDay(ctx, n, date, now, final); err != nil {
				return nil, err
			}
			d.final, d.maintFP = final, fp
			if !today {
				s.hist.days[date] = d
			}
		}
		out[i] = d
		keep[date] = true
	}
	for date := range s.hist.days {
		if !keep[date] {
			delete(s.hist.days, date)
		}
	}
	return out, nil
}

// readDay sums one day's rollups per component and per public tenant.
func (s *Server) readDay(ctx context.Context, n *snapshot, date, now time.Time, final bool) (*dayData, error) {
	off, err := s.publicOffsets(ctx, n.maintenance, date, now, final)
	if err != nil {
		return nil, err
	}
	rows, err := s.o.Store.SeriesRollups(ctx, store.Day, store.Selector{}, date, date.Add(24*time.Hour))
	if err != nil {
		return nil, err
	}
	subtract(rows, off)
	d := &dayData{comps: map[compKey]counts{}, members: map[compKey]int{}, tenants: map[string]counts{},
		tenantChecks: map[string]int{}}
	kinds := map[string]string{}
	last := map[compKey]string{} // rows come by tenant: a new tenant is a new member
	for _, r := range rows {
		if !r.Start.Equal(date) {
			continue
		}
		kinds[r.Check] = string(r.Kind)
		region, ok := n.regionOf[r.Tenant]
		if !ok {
			continue // a tenant no longer configured
		}
		kind, ok := n.kinds[r.Check]
		if !ok {
			kind = string(r.Kind)
		}
		cp := s.o.Components.capability(r.Check, kind)
		if cp == "" {
			continue
		}
		k, c := compKey{region, cp}, counts{r.Runs, r.Successes}
		sum := d.comps[k]
		sum.add(c)
		d.comps[k] = sum
		if last[k] != r.Tenant {
			last[k] = r.Tenant
			d.members[k]++
		}
		if n.isPublic[r.Tenant] {
			t := d.tenants[r.Tenant]
			t.add(c)
			d.tenants[r.Tenant] = t
			d.tenantChecks[r.Tenant]++
		}
	}
	s.noteChecks(kinds)
	return d, nil
}

// lastChecked is the start of the latest hour in which probes ran.
func (s *Server) lastChecked(ctx context.Context, sel store.Selector, now time.Time) (time.Time, error) {
	rows, err := s.o.Store.AggregateRollups(ctx, store.Hour, sel, now.Add(-3*time.Hour), now.Add(time.Hour))
	if err != nil {
		return time.Time{}, err
	}
	var last time.Time
	for _, r := range rows {
		if r.Runs > 0 && r.Start.After(last) {
			last = r.Start
		}
	}
	return last, nil
}

// buildPublic reads the store and builds the public model, then renders
// its page and JSON, so that readers only copy bytes.
func (s *Server) buildPublic(ctx context.Context) (*publicModel, error) {
	now := s.now()
	n := s.snap()
	dates := daysFrom(now)
	ds, err := s.days(ctx, n, dates, now)
	if err != nil {
		return nil, err
	}
	open, err := s.o.Store.OpenCases(ctx)
	if err != nil {
		return nil, err
	}
	recent, err := s.o.Store.RecentCases(ctx, s.o.MaxCases)
	if err != nil {
		return nil, err
	}
	cs := parseCases(open, recent)
	pubs, err := s.publicationsFor(ctx, cs)
	if err != nil {
		return nil, err
	}
	checked, err := s.lastChecked(ctx, store.Selector{}, now)
	if err != nil {
		return nil, err
	}
	m := &publicModel{Built: now, Title: s.o.Title, Checked: checked, MultiRegion: len(n.regions) > 1,
		Maintenance: s.publicMaintenance(n, now)}
	incidents := s.publicIncidents(n, cs, pubs, dates[0])
	s.assembleComponents(m, n, ds, dates, s.componentStates(n, cs, pubs, ds[len(ds)-1], now))
	s.assembleTenants(m, n, ds, dates, cs, pubs)
	m.summarize(dates)
	m.countIncidents(incidents, now)
	for _, in := range incidents {
		if in.Open {
			m.Open = append(m.Open, in)
		} else {
			m.History = append(m.History, in)
		}
	}
	s.sweepTenants(now)
	s.prerenderPublic(m)
	return m, nil
}

// componentStates are the components' states now, from open cases: a
// component is in major outage when at least half its tenants have an
// outage cause in it, in partial outage when some have, degraded when
// some are slow; under maintenance when a window for every tenant covers
// it and nothing is worse.
func (s *Server) componentStates(n *snapshot, cs []caseView, pubs map[string]*Publication, today *dayData, now time.Time) map[compKey]State {
	outage, degraded := map[compKey]map[string]bool{}, map[compKey]bool{}
	for _, cv := range cs {
		t, ok := n.tenant(cv.rec.Tenant)
		if p := pubs[cv.rec.ID]; !ok || p != nil && p.Hidden {
			continue
		}
		for _, c := range cv.activeCauses() {
			cp := s.o.Components.capability(c.Check, string(c.Probe))
			if cp == "" {
				continue
			}
			k := compKey{t.Region, cp}
			switch caseState(c.Kind) {
			case StateMajorOutage:
				if outage[k] == nil {
					outage[k] = map[string]bool{}
				}
				outage[k][t.ID] = true
			case StateDegraded:
				if c.Kind != "capacity" {
					degraded[k] = true
				}
			}
		}
	}
	out := map[compKey]State{}
	for k, ts := range outage {
		members := max(today.members[k], len(ts))
		if 2*len(ts) >= members {
			out[k] = StateMajorOutage
		} else {
			out[k] = StatePartialOutage
		}
	}
	for k := range degraded {
		out[k] = worse(out[k], StateDegraded)
	}
	all, caps := s.globalMaintenance(n, now)
	if all || len(caps) > 0 {
		for k := range today.comps {
			if all || caps[k.capability] {
				out[k] = worse(out[k], StateMaintenance)
			}
		}
	}
	return out
}

func (s *Server) assembleComponents(m *publicModel, n *snapshot, ds []*dayData, dates []time.Time, states map[compKey]State) {
	keys := map[compKey]bool{}
	for _, d := range ds {
		for k := range d.comps {
			keys[k] = true
		}
	}
	for k := range states {
		keys[k] = true
	}
	byRegion := map[string][]string{}
	for k := range keys {
		byRegion[k.region] = append(byRegion[k.region], k.capability)
	}
	for _, r := range n.regions {
		caps := byRegion[r]
		if len(caps) == 0 {
			continue
		}
		s.o.Components.sortCapabilities(caps)
		rv := &regionView{ID: slug(r), Name: s.o.Components.regionName(r)}
		for _, cp := range caps {
			k := compKey{r, cp}
			c := &component{ID: k.id(), Name: cp, Region: r, RegionName: rv.Name, Capability: cp, key: k,
				Days: make([]day, len(dates))}
			for i, d := range ds {
				cnt := d.comps[k]
				c.Days[i] = day{Date: dates[i], Runs: cnt.runs, OK: cnt.ok}
			}
			c.Uptime = uptimeOf(c.Days)
			c.State = states[k]
			if c.State == "" {
				c.State = recentState(c.Days)
			}
			rv.Components = append(rv.Components, c)
			m.Components = append(m.Components, c)
		}
		m.Regions = append(m.Regions, rv)
	}
}

// recentState is a component's state without an open case: operational
// if it ran today or yesterday, else unknown.
func recentState(ds []day) State {
	if n := len(ds); n > 0 && ds[n-1].Runs > 0 || n > 1 && ds[n-2].Runs > 0 {
		return StateOperational
	}
	return StateUnknown
}

func (s *Server) assembleTenants(m *publicModel, n *snapshot, ds []*dayData, dates []time.Time, cs []caseView, pubs map[string]*Publication) {
	failing := map[string]map[string]State{} // tenant → check → state
	for _, cv := range cs {
		if p := pubs[cv.rec.ID]; !n.isPublic[cv.rec.Tenant] || p != nil && p.Hidden {
			continue
		}
		for _, c := range cv.activeCauses() {
			if s.o.Components.capability(c.Check, string(c.Probe)) == "" {
				continue
			}
			if failing[cv.rec.Tenant] == nil {
				failing[cv.rec.Tenant] = map[string]State{}
			}
			f := failing[cv.rec.Tenant]
			f[c.Check] = worse(f[c.Check], caseState(c.Kind))
		}
	}
	for _, t := range n.public {
		c := &component{ID: t.ID, Name: t.Name, Region: t.Region, RegionName: s.o.Components.regionName(t.Region),
			Days: make([]day, len(dates))}
		for i, d := range ds {
			cnt := d.tenants[t.ID]
			c.Days[i] = day{Date: dates[i], Runs: cnt.runs, OK: cnt.ok}
		}
		c.Uptime = uptimeOf(c.Days)
		checks := max(ds[len(ds)-1].tenantChecks[t.ID], ds[len(ds)-2].tenantChecks[t.ID])
		c.State = tenantState(failing[t.ID], checks, recentState(c.Days))
		if stateRank[c.State] <= stateRank[StateOperational] && maintenanceCovers(n.maintenance, t.ID, "", m.Built) {
			c.State = StateMaintenance
		}
		m.Tenants = append(m.Tenants, c)
	}
}

// tenantState is one tenant's state from its failing checks: a major
// outage when every check fails, partial when some do.
func tenantState(failing map[string]State, checks int, otherwise State) State {
	down, st := 0, otherwise
	for _, f := range failing {
		if f == StateMajorOutage {
			down++
			continue
		}
		st = worse(st, f)
	}
	switch {
	case down == 0:
		return st
	case down >= checks:
		return StateMajorOutage
	}
	return StatePartialOutage
}

func (m *publicModel) countIncidents(incidents []*incident, now time.Time) {
	byID := map[string]*component{}
	for _, c := range m.Components {
		byID[c.ID] = c
	}
	for _, in := range incidents {
		for _, r := range in.Components {
			if c := byID[r.ID]; c != nil {
				countIncidents(c.Days, in.Start, in.End, now)
			}
		}
		for _, c := range m.Tenants {
			if containsRef(in.Tenants, ref{ID: c.ID}) {
				countIncidents(c.Days, in.Start, in.End, now)
			}
		}
	}
	for _, in := range incidents {
		countIncidents(m.Overall, in.Start, in.End, now)
	}
}

// summarize sums the components into the overall bars and state.
func (m *publicModel) summarize(dates []time.Time) {
	st := StateUnknown
	m.Overall = make([]day, len(dates))
	for i := range m.Overall {
		m.Overall[i].Date = dates[i]
		for _, c := range m.Components {
			m.Overall[i].Runs += c.Days[i].Runs
			m.Overall[i].OK += c.Days[i].OK
		}
	}
	for _, c := range m.Components {
		st = worse(st, c.State)
	}
	for _, c := range m.Tenants {
		st = worse(st, c.State)
	}
	m.State = st
	m.Uptime = uptimeOf(m.Overall)
}
