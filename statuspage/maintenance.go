package statuspage

import (
	"context"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/forewarn/forewarn/config"
	"github.com/forewarn/forewarn/store"
)

// maintView is a maintenance window as a page shows it: scheduled, or in
// progress. Windows that ended are not shown.
type maintView struct {
	ID         string
	Title      string
	Reason     string // "" when the page may not show it
	Start, End time.Time
	InProgress bool
	Components []ref // none: everything
	Tenants    []ref // public tenants only
}

func (s *Server) maintID(w config.Maintenance) string {
	return s.publicID("maint:" + w.Tenant + "\x00" + w.Check + "\x00" + w.Start.Format(time.RFC3339) + "\x00" + w.End.Format(time.RFC3339))
}

func current(w config.Maintenance, now time.Time) bool {
	return w.End.IsZero() || w.End.After(now)
}

func inProgress(w config.Maintenance, now time.Time) bool {
	return !now.Before(w.Start) && current(w, now)
}

// publicMaintenance lists the windows to come and under way. A window for
// all tenants, or for a public one, shows its reason; a private tenant's
// shows as maintenance "for some customers" in its region, without the
// reason (it may name the customer), once per time and place.
func (s *Server) publicMaintenance(n *snapshot, now time.Time) []*maintView {
	var out []*maintView
	seen := map[string]bool{}
	for _, w := range n.maintenance {
		if !current(w, now) {
			continue
		}
		v := &maintView{ID: s.maintID(w), Title: "Scheduled maintenance", Reason: w.Reason, Start: w.Start, End: w.End,
			InProgress: inProgress(w, now)}
		if w.Tenant == "" {
			v.Components = s.maintComponents(n, n.regions, w.Check)
			out = append(out, v)
			continue
		}
		t, ok := n.tenant(w.Tenant)
		if !ok {
			continue
		}
		v.Components = s.maintComponents(n, []string{t.Region}, w.Check)
		if t.Public {
			v.Tenants = []ref{{t.ID, t.Name}}
			out = append(out, v)
			continue
		}
		key := t.Region + "\x00" + w.Check + "\x00" + w.Start.String() + "\x00" + w.End.String()
		if seen[key] {
			continue
		}
		seen[key] = true
		v.ID = s.publicID("maint-group:" + key)
		v.Title, v.Reason = "Scheduled maintenance for some customers", ""
		out = append(out, v)
	}
	sortMaintenance(out)
	return out
}

// maintComponents are the components a window covers in the regions
// given: one capability's, or the regions' as a whole (check "").
func (s *Server) maintComponents(n *snapshot, regions []string, check string) []ref {
	if check == "" {
		if len(n.regions) <= 1 {
			return nil // everything
		}
		var out []ref
		for _, r := range regions {
			out = append(out, ref{slug(r), s.o.Components.regionName(r)})
		}
		return out
	}
	cp := s.o.Components.capability(check, s.kindOf(n, check))
	if cp == "" {
		return nil
	}
	var ks []compKey
	for _, r := range regions {
		ks = append(ks, compKey{r, cp})
	}
	return s.compRefs(n, ks)
}

// globalMaintenance is what windows for every tenant cover right now: all
// (a window without a check) or these capabilities.
func (s *Server) globalMaintenance(n *snapshot, now time.Time) (all bool, caps map[string]bool) {
	caps = map[string]bool{}
	for _, w := range n.maintenance {
		if w.Tenant != "" || !inProgress(w, now) {
			continue
		}
		if w.Check == "" {
			return true, caps
		}
		if cp := s.o.Components.capability(w.Check, s.kindOf(n, w.Check)); cp != "" {
			caps[cp] = true
		}
	}
	return false, caps
}

// tenantMaintenance lists a tenant's windows to come and under way, and
// those of every tenant, with their reasons.
func (s *Server) tenantMaintenance(n *snapshot, id string, now time.Time) []*maintView {
	var out []*maintView
	for _, w := range n.maintenance {
		if (w.Tenant != "" && w.Tenant != id) || !current(w, now) {
			continue
		}
		v := &maintView{ID: s.maintID(w), Title: "Scheduled maintenance", Reason: w.Reason, Start: w.Start, End: w.End,
			InProgress: inProgress(w, now)}
		if w.Check != "" {
			v.Components = []ref{{w.Check, w.Check}}
		}
		out = append(out, v)
	}
	sortMaintenance(out)
	return out
}

// maintenanceCovers reports whether a window in progress covers a tenant's check.
func maintenanceCovers(ws []config.Maintenance, tenant, check string, now time.Time) bool {
	for _, w := range ws {
		if (w.Tenant == "" || w.Tenant == tenant) && (w.Check == "" || w.Check == check) && inProgress(w, now) {
			return true
		}
	}
	return false
}

func sortMaintenance(ms []*maintView) {
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].Start.Before(ms[j].Start) })
}

// Planned downtime does not count against uptime: the whole hours a
// maintenance window covers are taken out of the daily rollups of the
// tenants and checks it names. An hour the window covers only in part
// counts as usual (rollups are hourly). The current hour is taken out
// once the window covers it to its end.

// maintHours are a window's whole hours, [from, to); none when it covers
// no whole hour.
func maintHours(w config.Maintenance) (from, to time.Time, ok bool) {
	from = w.Start.UTC().Truncate(time.Hour)
	if from.Before(w.Start) {
		from = from.Add(time.Hour)
	}
	to = w.End.UTC().Truncate(time.Hour)
	return from, to, to.After(from)
}

// maintKey is one check's day.
type maintKey struct {
	tenant, check string
	day           time.Time
}

// maintOffsets are the runs and successes of the whole hours windows cover
// in [from, to), per check and day, for the tenants and checks in sel (all
// when empty). Read them before the daily rollups they are taken from: a
// result committed in between then counts in the day and not in its
// offset, and a day never loses more than it holds.
func (s *Server) maintOffsets(ctx context.Context, ws []config.Maintenance, sel store.Selector, from, to time.Time) (map[maintKey]counts, error) {
	var out map[maintKey]counts
	done := map[maintKey]bool{} // tenant, check, hour: once, however many windows cover it
	for _, w := range ws {
		h0, h1, ok := maintHours(w)
		if !ok || !h1.After(from) || !h0.Before(to) {
			continue
		}
		h0, h1 = later(h0, from), earlier(h1, to)
		q := store.Selector{Tenants: sel.Tenants, Checks: sel.Checks}
		if w.Tenant != "" {
			if len(q.Tenants) > 0 && !slices.Contains(q.Tenants, w.Tenant) {
				continue
			}
			q.Tenants = []string{w.Tenant}
		}
		if w.Check != "" {
			if len(q.Checks) > 0 && !slices.Contains(q.Checks, w.Check) {
				continue
			}
			q.Checks = []string{w.Check}
		}
		hourly, err := s.o.Store.SeriesRollups(ctx, store.Hour, q, h0, h1)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = map[maintKey]counts{}
		}
		for _, h := range hourly {
			if h.Start.Before(h0) || !h.Start.Before(h1) || done[maintKey{h.Tenant, h.Check, h.Start}] {
				continue
			}
			done[maintKey{h.Tenant, h.Check, h.Start}] = true
			k := maintKey{h.Tenant, h.Check, h.Start.Truncate(24 * time.Hour)}
			c := out[k]
			c.add(counts{h.Runs, h.Successes})
			out[k] = c
		}
	}
	return out, nil
}

// subtract takes offsets out of daily rollups, never below nothing nor
// more successes than runs.
func subtract(daily []store.Rollup, off map[maintKey]counts) {
	if len(off) == 0 {
		return
	}
	for i := range daily {
		d := &daily[i]
		if c, ok := off[maintKey{d.Tenant, d.Check, d.Start}]; ok {
			d.Runs = max(0, d.Runs-c.runs)
			d.Successes = min(d.Runs, max(0, d.Successes-c.ok))
		}
	}
}

// maintFingerprint identifies the windows that take hours out of a day:
// a kept day is read again when they change, and only then.
func maintFingerprint(ws []config.Maintenance, day time.Time) uint64 {
	h := fnv.New64a()
	for _, w := range ws {
		if h0, h1, ok := maintHours(w); ok && h1.After(day) && h0.Before(day.Add(24*time.Hour)) {
			fmt.Fprintf(h, "%s\x00%s\x00%d\x00%d\x00", w.Tenant, w.Check, h0.Unix(), h1.Unix())
		}
	}
	return h.Sum64()
}

// recentOffsets keeps the public page's offsets of the days not yet final
// (today, and yesterday for dayFinalAfter), per day, up to the hours that
// ended dayFinalAfter ago: a window over every tenant covers every series,
// too many hourly rows to read again at each build. Each build reads only
// the hours since, whose rollups may still grow.
type recentOffsets struct {
	mu   sync.Mutex
	days map[time.Time]*dayOffsets
}

type dayOffsets struct {
	fp   uint64    // maintFingerprint of the windows they were read for
	upTo time.Time // the offsets of [day, upTo) are in off
	off  map[maintKey]counts
}

// publicOffsets are a day's offsets for the public page: read whole for a
// final day (it is kept), else from recentOffsets and the hours since.
func (s *Server) publicOffsets(ctx context.Context, ws []config.Maintenance, day, now time.Time, final bool) (map[maintKey]counts, error) {
	read := func(from, to time.Time) (map[maintKey]counts, error) {
		return s.maintOffsets(ctx, ws, store.Selector{}, from, to)
	}
	end := day.Add(24 * time.Hour)
	if final {
		return read(day, end)
	}
	stable := earlier(end, later(day, now.Add(-dayFinalAfter).Truncate(time.Hour)))
	c := &s.recentOff
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.days == nil {
		c.days = map[time.Time]*dayOffsets{}
	}
	for d := range c.days {
		if d.Add(48 * time.Hour).Before(now) {
			delete(c.days, d)
		}
	}
	fp := maintFingerprint(ws, day)
	e := c.days[day]
	if e == nil || e.fp != fp {
		e = &dayOffsets{fp: fp, upTo: day}
		c.days[day] = e
	}
	if e.upTo.Before(stable) {
		done, err := read(e.upTo, stable)
		if err != nil {
			return nil, err
		}
		e.off = addOffsets(e.off, done)
		e.upTo = stable
	}
	fresh, err := read(stable, end)
	if err != nil {
		return nil, err
	}
	return addOffsets(maps.Clone(e.off), fresh), nil
}

func addOffsets(to, from map[maintKey]counts) map[maintKey]counts {
	if to == nil && len(from) > 0 {
		to = make(map[maintKey]counts, len(from))
	}
	for k, c := range from {
		sum := to[k]
		sum.add(c)
		to[k] = sum
	}
	return to
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
