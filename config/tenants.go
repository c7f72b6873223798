package config

import (
	"slices"

	"gopkg.in/yaml.v3"
)

func (d *decoder) decodeTenants(n *yaml.Node, checks []*checkDef, src secretSource) []*tenantDef {
	items, ok := d.nonEmptyList(n, "tenants", "tenant")
	if !ok {
		return nil
	}
	byName := map[string]*checkDef{}
	for _, c := range checks {
		byName[c.Name] = c
	}
	seen := uniqueNames{what: "tenant id"}
	var tenants []*tenantDef
	for i, item := range items {
		t := d.decodeTenant(item, index("tenants", i), byName, src)
		if t != nil && seen.first(d, t.ID, t.at) {
			tenants = append(tenants, t)
		}
	}
	return tenants
}

// uniqueNames reports a name defined twice in a list, where it stands
// again and where it was first defined.
type uniqueNames struct {
	what  string
	lines map[string]int
}

// first reports whether name is new; a repeat is reported as an error.
func (u *uniqueNames) first(d *decoder, name string, at loc) bool {
	if u.lines == nil {
		u.lines = map[string]int{}
	}
	if line, dup := u.lines[name]; dup && name != "" {
		d.add(at, "duplicate %s %q (first defined at line %d)", u.what, name, line)
		return false
	}
	u.lines[name] = at.line
	return true
}

func (d *decoder) decodeTenant(n *yaml.Node, field string, checks map[string]*checkDef, src secretSource) *tenantDef {
	m := d.fields(n, field, "tenant", tenantKeys)
	if m == nil {
		return nil
	}
	d.required(n, m, field, "id", "url")
	t := &tenantDef{at: at(value(m["id"]), join(field, "id"))}
	t.ID = d.slug(m["id"], join(field, "id"))
	t.Name = d.str(m["name"], join(field, "name"))
	if t.Name == "" {
		t.Name = t.ID
	}
	t.URL = d.baseURL(m["url"], join(field, "url"))
	t.Seats = d.integer(m["seats"], join(field, "seats"), 0, 0)
	t.Plan = d.str(m["plan"], join(field, "plan"))
	t.Region = d.str(m["region"], join(field, "region"))
	t.Public = d.boolean(m["public"], join(field, "public"), false)
	t.SlackChannel = d.str(m["slack_channel"], join(field, "slack_channel"))
	t.Labels = d.labels(m["labels"], join(field, "labels"))
	t.vars = d.decodeVars(m["vars"], join(field, "vars"), src)
	t.overrides = d.decodeOverrides(m["overrides"], join(field, "overrides"), checks)
	return t
}

// decodeOverrides reads per-tenant changes to checks, keyed by check name.
// A check whose kind is unknown has been reported; its overrides are skipped.
func (d *decoder) decodeOverrides(n *yaml.Node, field string, checks map[string]*checkDef) map[string]*override {
	out := map[string]*override{}
	for _, p := range d.pairs(n, field) {
		f := join(field, p.key)
		c, ok := checks[p.key]
		if !ok {
			d.errorf(p.k, f, "no check named %q%s", p.key, hint(p.key, checkNames(checks)))
			continue
		}
		if c.spec == nil {
			continue
		}
		m := d.fields(p.v, f, "override", append(slices.Clone(overrideKeys), c.spec.overrideKeys()...))
		if m == nil {
			continue
		}
		out[p.key] = &override{
			timing:   d.decodeTiming(m, f),
			disabled: d.boolean(m["disabled"], join(f, "disabled"), false),
			spec:     c.spec.decodeOverride(d, m, f),
		}
	}
	return out
}

func checkNames(checks map[string]*checkDef) []string {
	names := make([]string, 0, len(checks))
	for name := range checks {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
