package config

import (
	"github.com/forewarn/forewarn/probes"
	"gopkg.in/yaml.v3"
)

var (
	extractSources = []probes.ExtractFrom{
		probes.ExtractJSON, probes.ExtractRegex, probes.ExtractHeader, probes.ExtractCookie, probes.ExtractFormInput,
	}
	extractKeys = []string{"json", "regex", "header", "cookie", "form_input", "group", "required", "secret"}
)

// decodeExtract reads `extract: {var: {source: …}}` in file order. vars
// lists every name written, valid or not, for the uniqueness check.
func (d *decoder) decodeExtract(n *yaml.Node, field string) ([]probes.Extractor, []varDef) {
	var out []probes.Extractor
	var vars []varDef
	for _, p := range d.pairs(n, field) {
		f := join(field, p.key)
		if !isVarName(p.key) {
			d.errorf(p.k, f, "invalid variable name: use letters, digits and _ (it is read as {{ .Extracted.name }})")
			continue
		}
		vars = append(vars, varDef{name: p.key, at: at(p.k, f)})
		if e, ok := d.extractor(p.v, f); ok {
			e.Var = p.key
			out = append(out, e)
		}
	}
	return out, vars
}

func (d *decoder) extractor(n *yaml.Node, field string) (probes.Extractor, bool) {
	m := d.fields(n, field, "extractor", extractKeys)
	if m == nil {
		return probes.Extractor{}, false
	}
	e := probes.Extractor{
		Required: d.boolean(m["required"], join(field, "required"), true),
		Secret:   d.boolean(m["secret"], join(field, "secret"), false),
	}
	var set []string
	for _, from := range extractSources {
		if value(m[string(from)]) != nil {
			set = append(set, string(from))
			e.From = from
		}
	}
	if len(set) != 1 {
		d.errorf(n, field, "want exactly one of json, regex, header, cookie, form_input; got %d%s", len(set), listed(set))
		return e, false
	}
	if g := value(m["group"]); g != nil && e.From != probes.ExtractRegex {
		d.errorf(g, join(field, "group"), "group is for a regex extractor")
	}
	f, v := join(field, string(e.From)), m[string(e.From)]
	switch e.From {
	case probes.ExtractRegex:
		return e, d.regexSource(&e, v, m["group"], field)
	case probes.ExtractJSON:
		e.Path = d.str(v, f)
	case probes.ExtractHeader:
		if e.Name = d.str(v, f); e.Name != "" && !isToken(e.Name) {
			d.errorf(v, f, "invalid header name %q", e.Name)
			return e, false
		}
	default:
		e.Name = d.str(v, f)
	}
	if e.Path == "" && e.Name == "" {
		d.errorf(v, f, "must not be empty")
		return e, false
	}
	return e, true
}

// regexSource compiles the regex and checks that the group it takes
// exists: group 0 is the whole match, the default 1 the first group.
func (d *decoder) regexSource(e *probes.Extractor, re, group *yaml.Node, field string) bool {
	if e.Regexp = d.regexp(re, join(field, "regex")); e.Regexp == nil {
		return false
	}
	gf := join(field, "group")
	e.Group = d.integer(group, gf, 1, 0)
	if n := e.Regexp.NumSubexp(); e.Group > n {
		where, f := group, gf
		if value(group) == nil {
			where, f = re, join(field, "regex")
		}
		d.errorf(value(where), f, "group %d is out of range: the regular expression has %d group(s)", e.Group, n)
		return false
	}
	return true
}
