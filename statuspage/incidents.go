package statuspage

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/forewarn/forewarn/cases"
	"github.com/forewarn/forewarn/store"
)

// caseView is a stored case with its causes, when its data parses.
type caseView struct {
	rec store.CaseRecord
	c   cases.Case
}

func (cv caseView) open() bool       { return cv.rec.ResolvedAt.IsZero() }
func (cv caseView) kind() cases.Kind { return cases.Kind(cv.rec.Kind) }

// parseCases reads cases from several lists, each case once (the first
// list's copy wins).
func parseCases(lists ...[]store.CaseRecord) []caseView {
	seen := map[string]bool{}
	var out []caseView
	for _, l := range lists {
		for _, rec := range l {
			if seen[rec.ID] {
				continue
			}
			seen[rec.ID] = true
			cv := caseView{rec: rec}
			if len(rec.Data) > 0 {
				_ = json.Unmarshal(rec.Data, &cv.c) // unreadable: a case without causes
			}
			out = append(out, cv)
		}
	}
	return out
}

// activeCauses are the causes still failing of an open case.
func (cv caseView) activeCauses() []cases.Cause {
	if !cv.open() {
		return nil
	}
	var out []cases.Cause
	for _, c := range cv.c.Causes {
		if c.Active {
			out = append(out, c)
		}
	}
	return out
}

// ref names a component, check or tenant on a page.
type ref struct{ ID, Name string }

// incident is what a page shows of one case, or of a group of cases.
type incident struct {
	ID         string
	Title      string
	Body       []string // paragraphs
	Published  bool
	Open       bool
	Kind       string // outage, degraded, capacity, expiring: the impact
	Start, End time.Time
	Updated    time.Time
	Components []ref // public: region · capability; private: checks
	Tenants    []ref // public tenants only
	Updates    []Update
}

// Impact is the incident's kind in words.
func (in *incident) Impact() string {
	switch cases.Kind(in.Kind) {
	case cases.KindOutage:
		return "Outage"
	case cases.KindDegraded:
		return "Degraded performance"
	case cases.KindCapacity:
		return "Reduced capacity"
	case cases.KindExpiring:
		return "Certificate renewal"
	}
	return "Incident"
}

// DurationText is how long a resolved incident lasted: "20 min", "2 h 5 min".
func (in *incident) DurationText() string { return spanText(in.End.Sub(in.Start)) }

func spanText(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 48*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%d h", h)
		}
		return fmt.Sprintf("%d h %d min", h, m)
	}
	return fmt.Sprintf("%d days %d h", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
}

// publicID is an incident's id on the pages: an HMAC of the case id (or
// group), since case ids name their tenant.
func (s *Server) publicID(key string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("incident:" + key))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))[:16]
}

func paragraphs(text string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// publish applies a support lead's publication to an incident.
func (in *incident) publish(p *Publication) {
	if p == nil || !p.Published {
		return
	}
	in.Published = true
	if p.Title != "" {
		in.Title = p.Title
	}
	in.Body = paragraphs(p.Body)
	in.Updates = p.Updates
	if p.UpdatedAt.After(in.Updated) {
		in.Updated = p.UpdatedAt
	}
}

// caseComponents are the public components a case's causes touch.
func (s *Server) caseComponents(n *snapshot, cv caseView, region string) []compKey {
	var out []compKey
	for _, c := range cv.c.Causes {
		kind := string(c.Probe)
		if kind == "" {
			kind = s.kindOf(n, c.Check)
		}
		if cp := s.o.Components.capability(c.Check, kind); cp != "" {
			k := compKey{region, cp}
			if !containsKey(out, k) {
				out = append(out, k)
			}
		}
	}
	return out
}

func containsKey(ks []compKey, k compKey) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// publicVisible says whether the public page shows a case: not hidden,
// and published or an outage or degradation (capacity and certificate
// cases are the vendor's business until a support lead publishes them).
func publicVisible(cv caseView, p *Publication) bool {
	if p != nil && p.Hidden {
		return false
	}
	if p != nil && p.Published {
		return true
	}
	return cv.kind() == cases.KindOutage || cv.kind() == cases.KindDegraded
}

// publicIncidents turns cases into what the public reads: published cases
// and public tenants' cases one by one, every other case folded into one
// incident per region and UTC day it opened, under the generic title,
// naming no tenant.
func (s *Server) publicIncidents(n *snapshot, cs []caseView, pubs map[string]*Publication, since time.Time) []*incident {
	var out []*incident
	groups := map[string]*incident{}
	for _, cv := range cs {
		t, ok := n.tenant(cv.rec.Tenant)
		p := pubs[cv.rec.ID]
		if !ok || !publicVisible(cv, p) || (!cv.open() && cv.rec.ResolvedAt.Before(since)) {
			continue
		}
		comps := s.compRefs(n, s.caseComponents(n, cv, t.Region))
		if (p != nil && p.Published) || t.Public {
			in := &incident{ID: s.publicID("case:" + cv.rec.ID), Title: s.genericTitle(cases.Kind(cv.rec.Kind)), Open: cv.open(),
				Kind: cv.rec.Kind, Start: cv.rec.OpenedAt, End: cv.rec.ResolvedAt, Updated: cv.rec.UpdatedAt, Components: comps}
			if t.Public {
				in.Tenants = []ref{{t.ID, t.Name}}
			}
			in.publish(p)
			out = append(out, in)
			continue
		}
		key := groupKey(t.Region, cv.rec.OpenedAt)
		g := groups[key]
		if g == nil {
			g = &incident{ID: s.publicID("group:" + key), Kind: cv.rec.Kind,
				Start: cv.rec.OpenedAt, End: cv.rec.ResolvedAt}
			groups[key] = g
			out = append(out, g)
		}
		g.merge(cv, comps)
	}
	for _, g := range groups {
		g.Title = s.genericTitle(cases.Kind(g.Kind)) // the worst kind merged
	}
	sortIncidents(out)
	return out
}

// merge folds a case into a group: the earliest start, the latest end
// (none while one case is open), the worst kind.
func (g *incident) merge(cv caseView, comps []ref) {
	r := cv.rec
	if r.OpenedAt.Before(g.Start) {
		g.Start = r.OpenedAt
	}
	if cv.open() {
		g.Open = true
	}
	if g.Open {
		g.End = time.Time{}
	} else if r.ResolvedAt.After(g.End) {
		g.End = r.ResolvedAt
	}
	if kindRank(cases.Kind(r.Kind)) > kindRank(cases.Kind(g.Kind)) {
		g.Kind = r.Kind
	}
	if r.UpdatedAt.After(g.Updated) {
		g.Updated = r.UpdatedAt
	}
	for _, c := range comps {
		if !containsRef(g.Components, c) {
			g.Components = append(g.Components, c)
		}
	}
	sort.Slice(g.Components, func(i, j int) bool { return g.Components[i].ID < g.Components[j].ID })
}

func kindRank(k cases.Kind) int {
	for i, x := range cases.Kinds {
		if x == k {
			return i + 1
		}
	}
	return 0
}

func containsRef(rs []ref, r ref) bool {
	for _, x := range rs {
		if x.ID == r.ID {
			return true
		}
	}
	return false
}

// sortIncidents puts open incidents first, then the rest, newest first.
func sortIncidents(in []*incident) {
	sort.SliceStable(in, func(i, j int) bool {
		if in[i].Open != in[j].Open {
			return in[i].Open
		}
		if !in[i].Start.Equal(in[j].Start) {
			return in[i].Start.After(in[j].Start)
		}
		return in[i].ID < in[j].ID
	})
}

func (s *Server) compRefs(n *snapshot, ks []compKey) []ref {
	out := make([]ref, 0, len(ks))
	for _, k := range ks {
		out = append(out, ref{k.id(), s.compName(n, k)})
	}
	return out
}

// compName is "eu-west · Sign-in", or "Sign-in" when all tenants share one
// region.
func (s *Server) compName(n *snapshot, k compKey) string {
	if len(n.regions) <= 1 {
		return k.capability
	}
	return s.o.Components.regionName(k.region) + " · " + k.capability
}

// groupKey is the incident a private tenant's unpublished case is folded
// into: its region's, of the UTC day it opened.
func groupKey(region string, opened time.Time) string {
	return region + "\x00" + opened.UTC().Format("2006-01-02")
}

// incident finds an incident of the page by its public id; m may be nil.
func (m *publicModel) incident(id string) *incident {
	if m == nil {
		return nil
	}
	for _, list := range [][]*incident{m.Open, m.History} {
		for _, in := range list {
			if in.ID == id {
				return in
			}
		}
	}
	return nil
}

// genericTitles are what the public page calls the incidents a support
// lead has not published: by kind, naming no customer and no error.
var genericTitles = map[cases.Kind]string{
	cases.KindOutage:   "Service disruption for some customers",
	cases.KindDegraded: "Degraded performance for some customers",
	cases.KindCapacity: "Reduced capacity for some customers",
	cases.KindExpiring: "Certificate renewal for some customers",
}

func (s *Server) genericTitle(k cases.Kind) string {
	if s.o.GenericTitle != "" {
		return s.o.GenericTitle
	}
	if t := genericTitles[k]; t != "" {
		return t
	}
	return "Incident affecting some customers"
}

// privateTitles are what a tenant's own page calls its unpublished cases:
// never a probe's error text.
var privateTitles = map[cases.Kind]string{
	cases.KindOutage:   "Service disruption",
	cases.KindDegraded: "Degraded performance",
	cases.KindCapacity: "Reduced capacity",
	cases.KindExpiring: "Certificate renewal",
}

// tenantIncidents are a tenant's own cases: each one, with the checks it
// touched; certificate cases only once published.
func (s *Server) tenantIncidents(cs []caseView, pubs map[string]*Publication) []*incident {
	var out []*incident
	for _, cv := range cs {
		p := pubs[cv.rec.ID]
		published := p != nil && p.Published
		if p != nil && p.Hidden || !published && cv.kind() == cases.KindExpiring {
			continue
		}
		title := privateTitles[cv.kind()]
		if title == "" {
			title = "Incident"
		}
		in := &incident{ID: s.publicID("case:" + cv.rec.ID), Title: title, Open: cv.open(), Kind: cv.rec.Kind,
			Start: cv.rec.OpenedAt, End: cv.rec.ResolvedAt, Updated: cv.rec.UpdatedAt}
		for _, c := range cv.c.Causes {
			if !containsRef(in.Components, ref{ID: c.Check}) {
				in.Components = append(in.Components, ref{c.Check, c.Check})
			}
		}
		in.publish(p)
		out = append(out, in)
	}
	sortIncidents(out)
	return out
}
