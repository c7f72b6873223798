package statuspage

import (
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/forewarn/forewarn/config"
	"github.com/forewarn/forewarn/probes"
)

// Components say how checks become the public page's components: one per
// region × capability, each the sum of its tenants' checks.
//
// By default a login check is "Sign-in", a check whose name contains "api"
// is "API", any other "Web", and load checks are left out (capacity is
// shown on private pages, not as uptime).
type Components struct {
	// Checks maps a check name to its capability, before the defaults;
	// "-" leaves the check out of the status pages.
	Checks map[string]string
	// Order lists capabilities in the order shown; others follow in
	// alphabetical order. Default: Sign-in, API, Web.
	Order []string
	// RegionNames are display names of regions (eu-west → "Europe (West)").
	RegionNames map[string]string
}

// Hidden is the capability that leaves a check out.
const Hidden = "-"

var defaultOrder = []string{"Sign-in", "API", "Web"}

func (c Components) check() error {
	for name, cp := range c.Checks {
		if strings.TrimSpace(cp) == "" {
			return fmt.Errorf("statuspage: components: check %q has an empty capability (use %q to leave it out)", name, Hidden)
		}
	}
	seen := map[string]bool{}
	for _, cp := range c.Order {
		if cp == "" || cp == Hidden || seen[cp] {
			return errors.New("statuspage: components: order lists an empty, \"-\" or repeated capability")
		}
		seen[cp] = true
	}
	return nil
}

// capability is the component a check belongs to; "" for none.
func (c Components) capability(check, kind string) string {
	if cp, ok := c.Checks[check]; ok {
		if cp == Hidden {
			return ""
		}
		return cp
	}
	switch probes.Kind(kind) {
	case probes.KindLoad:
		return ""
	case probes.KindLogin:
		return "Sign-in"
	}
	if strings.Contains(strings.ToLower(check), "api") {
		return "API"
	}
	return "Web"
}

func (c Components) order() []string {
	if len(c.Order) > 0 {
		return c.Order
	}
	return defaultOrder
}

// sortCapabilities orders capabilities by Order, then by name.
func (c Components) sortCapabilities(caps []string) {
	order := c.order()
	rank := func(cp string) int {
		if i := slices.Index(order, cp); i >= 0 {
			return i
		}
		return len(order)
	}
	sort.Slice(caps, func(i, j int) bool {
		ri, rj := rank(caps[i]), rank(caps[j])
		if ri != rj {
			return ri < rj
		}
		return caps[i] < caps[j]
	})
}

func (c Components) regionName(region string) string {
	if n, ok := c.RegionNames[region]; ok && n != "" {
		return n
	}
	if region == "" {
		return "Other"
	}
	return region
}

// compKey is one public component.
type compKey struct{ region, capability string }

// id is the component's id in the JSON API and the page's data-component:
// "eu-west/sign-in", or "sign-in" for tenants without a region.
func (k compKey) id() string {
	if k.region == "" {
		return slug(k.capability)
	}
	return slug(k.region) + "/" + slug(k.capability)
}

// slug is s in lowercase letters, digits and dashes.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			continue
		}
		dash = true
	}
	if b.Len() == 0 {
		h := fnv.New32a()
		h.Write([]byte(s))
		return fmt.Sprintf("x%08x", h.Sum32())
	}
	return b.String()
}

// snapshot is the configuration as the pages see it, re-read at most once
// per CacheTTL. Token and region indexes are rebuilt only when the tenants
// changed.
type snapshot struct {
	at          time.Time
	fp          uint64
	tenants     []config.Tenant
	byID        map[string]int
	tokens      tokenIndex
	regions     []string // sorted, "" last
	regionOf    map[string]string
	public      []config.Tenant // by name
	isPublic    map[string]bool
	checks      []config.Check
	kinds       map[string]string // configured check → kind
	maintenance []config.Maintenance
}

// snap returns the current snapshot, refreshing it when CacheTTL old.
func (s *Server) snap() *snapshot {
	now := s.now()
	fresh := func(c *snapshot) bool {
		return c != nil && now.Sub(c.at) < s.o.CacheTTL && !now.Before(c.at)
	}
	if cur := s.snapPtr.Load(); fresh(cur) {
		return cur
	}
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	cur := s.snapPtr.Load()
	if fresh(cur) {
		return cur
	}
	next := s.buildSnapshot(cur, now)
	s.snapPtr.Store(next)
	return next
}

func (s *Server) buildSnapshot(prev *snapshot, now time.Time) *snapshot {
	tenants := s.o.Tenants()
	fp := tenantsFingerprint(tenants)
	n := &snapshot{at: now, fp: fp, tenants: tenants, checks: s.o.Checks(), maintenance: s.o.Maintenance(),
		kinds: map[string]string{}}
	for _, c := range n.checks {
		n.kinds[c.Name] = string(c.Kind)
	}
	if prev != nil && prev.fp == fp {
		n.byID, n.tokens, n.regions, n.regionOf, n.public, n.isPublic =
			prev.byID, prev.tokens, prev.regions, prev.regionOf, prev.public, prev.isPublic
		return n
	}
	n.byID = make(map[string]int, len(tenants))
	n.regionOf = make(map[string]string, len(tenants))
	n.isPublic = map[string]bool{}
	ids := make([]string, 0, len(tenants))
	regions := map[string]bool{}
	for i, t := range tenants {
		n.byID[t.ID] = i
		n.regionOf[t.ID] = t.Region
		regions[t.Region] = true
		ids = append(ids, t.ID)
		if t.Public {
			n.public = append(n.public, t)
			n.isPublic[t.ID] = true
		}
	}
	for r := range regions {
		n.regions = append(n.regions, r)
	}
	sort.Slice(n.regions, func(i, j int) bool {
		a, b := n.regions[i], n.regions[j]
		if (a == "") != (b == "") {
			return b == ""
		}
		return a < b
	})
	sort.SliceStable(n.public, func(i, j int) bool { return n.public[i].Name < n.public[j].Name })
	n.tokens = s.indexTokens(ids)
	return n
}

func tenantsFingerprint(ts []config.Tenant) uint64 {
	h := fnv.New64a()
	for _, t := range ts {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%t\x00%d\x00", t.ID, t.Name, t.Region, t.Public, t.Seats)
	}
	return h.Sum64()
}

func (n *snapshot) tenant(id string) (config.Tenant, bool) {
	i, ok := n.byID[id]
	if !ok {
		return config.Tenant{}, false
	}
	return n.tenants[i], true
}

// kindOf is a check's kind: configured, else as seen in rollups.
func (s *Server) kindOf(n *snapshot, check string) string {
	if k, ok := n.kinds[check]; ok {
		return k
	}
	s.checkMu.Lock()
	defer s.checkMu.Unlock()
	return s.seen[check]
}

// noteChecks remembers the checks rollups showed, with their kinds.
func (s *Server) noteChecks(kinds map[string]string) {
	s.checkMu.Lock()
	defer s.checkMu.Unlock()
	for c, k := range kinds {
		s.seen[c] = k
	}
}

// checkNames are every check name known, configured or seen, sorted: a
// private page lists them in its rollup query so the store can use its
// (period, tenant, check) key rather than scanning by time.
func (s *Server) checkNames(n *snapshot) []string {
	set := map[string]bool{}
	for c := range n.kinds {
		set[c] = true
	}
	s.checkMu.Lock()
	for c := range s.seen {
		set[c] = true
	}
	s.checkMu.Unlock()
	out := make([]string, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}
