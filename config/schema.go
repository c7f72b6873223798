package config

import (
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// file is checks.yaml decoded and validated, before expansion per tenant.
type file struct {
	listen   string
	defaults Defaults
	load     LoadLimits
	store    Store
	cases    Cases
	notify   Notify
	status   StatusPage
	secrets  []string // the notifiers' and the status page's
	vars     varSet
	tenants  []*tenantDef
	checks   []*checkDef
}

type tenantDef struct {
	Tenant
	at        loc // of the id
	vars      varSet
	overrides map[string]*override // by check name
}

// override changes one check for one tenant.
type override struct {
	timing   timing
	disabled bool
	spec     any // the kind's part, such as *expectDef for http
}

type checkDef struct {
	Check
	at       loc
	timing   timing
	selectAt map[string]loc // of each select key
	spec     kindSpec       // nil when the kind is missing or unknown
}

var (
	topKeys      = []string{"listen", "defaults", "load", "store", "cases", "notify", "status_page", "vars", "tenants", "checks"}
	defaultsKeys = []string{"interval", "timeout", "body_limit", "max_redirects"}
	tenantKeys   = []string{"id", "name", "url", "seats", "plan", "region", "public", "slack_channel", "labels", "vars", "overrides"}
	checkKeys    = []string{"name", "kind", "interval", "schedule", "timeout", "select"}
	overrideKeys = []string{"interval", "schedule", "timeout", "disabled"}
)

var builtinDefaults = Defaults{Interval: 30 * time.Second, Timeout: 10 * time.Second, BodyLimit: 1 << 20, MaxRedirects: 10}

func (d *decoder) decodeFile(n *yaml.Node, baseDir string, o Options) *file {
	f := &file{listen: "127.0.0.1:8080", defaults: builtinDefaults, load: builtinLoadLimits, vars: varSet{ok: true}}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "", "expected a mapping with tenants and checks, got %s", describe(n))
		return f
	}
	m := d.fields(n, "", "config", topKeys)
	if v := d.scalar(m["listen"], "listen", "a host:port address"); v != nil {
		if _, _, err := net.SplitHostPort(v.Value); err != nil {
			d.errorf(v, "listen", "invalid address %q: want host:port", v.Value)
		}
		f.listen = v.Value
	}
	f.defaults = d.decodeDefaults(m["defaults"])
	d.defaults = f.defaults
	f.load = d.decodeLoadLimits(m["load"])
	d.loadLimits = f.load
	src := secretSource{baseDir: baseDir, o: o}
	f.store = d.decodeStore(m["store"], baseDir)
	f.cases = d.decodeCases(m["cases"])
	f.notify, f.secrets = d.decodeNotify(m["notify"], src)
	var spSecrets []string
	f.status, spSecrets = d.decodeStatusPage(m["status_page"], src)
	f.secrets = append(f.secrets, spSecrets...)
	f.vars = d.decodeVars(m["vars"], "vars", src)
	f.checks = d.decodeChecks(m["checks"])
	d.resolveLoadRefs(f.checks)
	f.tenants = d.decodeTenants(m["tenants"], f.checks, src)
	d.checkMaintenance(f.cases, f.tenants)
	d.checkLinks(f.notify, f.tenants)
	d.checkSelectKeys(f.checks, f.tenants)
	return f
}

func (d *decoder) decodeDefaults(n *yaml.Node) Defaults {
	def := builtinDefaults
	m := d.fields(n, "defaults", "defaults", defaultsKeys)
	t := d.decodeTiming(m, "defaults")
	if t.intervalAt != nil {
		def.Interval = t.interval
	}
	if t.timeoutAt != nil {
		def.Timeout = t.timeout
	}
	def.BodyLimit = d.bodyLimit(m["body_limit"], "defaults.body_limit", def.BodyLimit)
	def.MaxRedirects = d.integer(m["max_redirects"], "defaults.max_redirects", def.MaxRedirects, 0)
	return def
}

// timing is the interval, schedule and timeout as written in a check, an
// override or the defaults. A nil *At means "not written".
type timing struct {
	interval, timeout              time.Duration
	schedule                       string
	intervalAt, timeoutAt, schedAt *loc
}

func (d *decoder) decodeTiming(m map[string]*yaml.Node, field string) timing {
	var t timing
	if v, ok := d.duration(m["interval"], join(field, "interval")); ok {
		if l := at(m["interval"], join(field, "interval")); v < time.Second {
			d.add(l, "interval must be at least 1s, got %s", model.Duration(v))
		} else {
			t.interval, t.intervalAt = v, &l
		}
	}
	if v, ok := d.duration(m["timeout"], join(field, "timeout")); ok {
		if l := at(m["timeout"], join(field, "timeout")); v <= 0 {
			d.add(l, "timeout must be positive")
		} else {
			t.timeout, t.timeoutAt = v, &l
		}
	}
	if s, ok := d.schedule(m["schedule"], join(field, "schedule")); ok {
		l := at(m["schedule"], join(field, "schedule"))
		t.schedule, t.schedAt = s, &l
		if value(m["interval"]) != nil {
			d.add(l, "set either interval or schedule, not both")
		}
	}
	return t
}

// when is the timing a target runs with.
type when struct {
	interval, timeout time.Duration
	schedule          string
}

// effective resolves the timing of a check, with a tenant's override when
// ov is not nil. An inherited timeout is capped at the interval; a written
// one longer than the interval is an error, placed on whatever value the
// user wrote last: the override's timeout or interval, else the check's.
func (d *decoder) effective(c, ov *timing) (when, bool) {
	w := when{interval: d.defaults.Interval, timeout: d.defaults.Timeout}
	base := c
	if ov != nil && (ov.intervalAt != nil || ov.schedAt != nil) {
		base = ov
	}
	if base.schedAt != nil {
		w.interval, w.schedule = 0, base.schedule
	} else if base.intervalAt != nil {
		w.interval = base.interval
	}
	var where *loc
	if c.timeoutAt != nil {
		w.timeout, where = c.timeout, c.timeoutAt
	}
	if ov != nil && ov.timeoutAt != nil {
		w.timeout, where = ov.timeout, ov.timeoutAt
	} else if base == ov && where != nil {
		where = ov.intervalAt
	}
	if w.schedule != "" || w.timeout <= w.interval {
		return w, true
	}
	if where == nil {
		w.timeout = w.interval
		return w, true
	}
	d.add(*where, "timeout %s is longer than interval %s", model.Duration(w.timeout), model.Duration(w.interval))
	return w, false
}

var slug = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

func (d *decoder) slug(n *yaml.Node, field string) string {
	s := d.str(n, field)
	if value(n) != nil && !slug.MatchString(s) {
		d.errorf(n, field, "invalid name %q: use 1 to 63 lowercase letters, digits and dashes, starting with a letter or digit", s)
	}
	return s
}

// baseURL checks a tenant URL and drops a trailing slash, so that
// "{{ .Tenant.URL }}/health" reads naturally.
func (d *decoder) baseURL(n *yaml.Node, field string) string {
	s := d.str(n, field)
	if value(n) == nil {
		return ""
	}
	if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		d.errorf(n, field, "invalid URL %q: want an absolute http or https URL", s)
	}
	return strings.TrimRight(s, "/")
}

// implicitLabels come from tenant fields; `select` matches them like labels.
var implicitLabels = []string{"id", "plan", "region"}

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

func (d *decoder) labels(n *yaml.Node, field string) map[string]string {
	out := map[string]string{}
	for _, p := range d.pairs(n, field) {
		f := join(field, p.key)
		switch {
		case slices.Contains(implicitLabels, p.key):
			d.errorf(p.k, f, "label %q is set by the tenant's %s field", p.key, p.key)
		case !labelName.MatchString(p.key):
			d.errorf(p.k, f, "invalid label name %q", p.key)
		default:
			out[p.key] = d.str(p.v, f)
		}
	}
	return out
}

func (t *tenantDef) label(name string) (string, bool) {
	switch name {
	case "id":
		return t.ID, true
	case "plan":
		return t.Plan, true
	case "region":
		return t.Region, true
	}
	v, ok := t.Labels[name]
	return v, ok
}

// selects reports whether every key of sel matches one of its values.
func (t *tenantDef) selects(sel map[string][]string) bool {
	for name, values := range sel {
		if v, ok := t.label(name); !ok || !slices.Contains(values, v) {
			return false
		}
	}
	return true
}

func (d *decoder) decodeSelect(n *yaml.Node, field string) (map[string][]string, map[string]loc) {
	out, where := map[string][]string{}, map[string]loc{}
	for _, p := range d.pairs(n, field) {
		f := join(field, p.key)
		values := d.strs(p.v, f)
		if len(values) == 0 {
			d.errorf(p.k, f, "empty list: give at least one value")
			continue
		}
		out[p.key], where[p.key] = values, at(p.k, f)
	}
	return out, where
}

// checkSelectKeys reports a select key that no tenant has as a label: a
// typo such as `plna` would otherwise select nobody, with only a warning.
// A known label whose values match no tenant stays a warning (see plan):
// the tenant may not have been added yet.
func (d *decoder) checkSelectKeys(checks []*checkDef, tenants []*tenantDef) {
	if len(tenants) == 0 {
		return // reported as missing; every key would look unknown
	}
	known := slices.Clone(implicitLabels)
	for _, t := range tenants {
		for name := range t.Labels {
			if !slices.Contains(known, name) {
				known = append(known, name)
			}
		}
	}
	slices.Sort(known)
	for _, c := range checks {
		for name, l := range c.selectAt {
			if !slices.Contains(known, name) {
				d.add(l, "no tenant has label %q (labels: %s)", name, strings.Join(known, ", "))
			}
		}
	}
}
