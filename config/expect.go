package config

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/forewarn/forewarn/probes"
	"gopkg.in/yaml.v3"
)

var (
	expectKeys = []string{"status", "body_contains", "body_not_contains", "body_matches", "json", "max_duration", "cert_valid_for"}
	jsonOps    = []probes.JSONOp{probes.JSONExists, probes.JSONEquals, probes.JSONNotEquals, probes.JSONGt, probes.JSONGe, probes.JSONLt, probes.JSONLe}
)

// expectDef is an expect block as written. A nil field was not written, so
// that a tenant override replaces only the fields it sets.
type expectDef struct {
	status                []int
	contains, notContains []*tmpl
	matches               []*regexp.Regexp
	json                  []jsonDef
	maxDuration           *time.Duration
	certValidFor          *time.Duration
}

type jsonDef struct {
	path   string
	op     probes.JSONOp
	value  *tmpl // exists, equals, not_equals
	number float64
}

func (d *decoder) decodeExpect(n *yaml.Node, field string) *expectDef {
	e, _ := d.decodeExpectWith(n, field, nil)
	return e
}

// decodeExpectWith is decodeExpect for a kind that adds its own keys to
// expect; it returns the mapping for the caller to read them from.
func (d *decoder) decodeExpectWith(n *yaml.Node, field string, extra []string) (*expectDef, map[string]*yaml.Node) {
	e := &expectDef{}
	m := d.fields(n, field, "expect", append(slices.Clone(expectKeys), extra...))
	if m == nil {
		return e, nil
	}
	e.status = d.statuses(m["status"], join(field, "status"))
	e.contains = d.templates(m["body_contains"], join(field, "body_contains"))
	e.notContains = d.templates(m["body_not_contains"], join(field, "body_not_contains"))
	e.matches = d.regexps(m["body_matches"], join(field, "body_matches"))
	if items := d.list(m["json"], join(field, "json")); value(m["json"]) != nil {
		e.json = []jsonDef{}
		for i, item := range items {
			if j, ok := d.jsonAssertion(item, index(join(field, "json"), i)); ok {
				e.json = append(e.json, j)
			}
		}
	}
	if v, ok := d.duration(m["max_duration"], join(field, "max_duration")); ok {
		e.maxDuration = &v
	}
	if v, ok := d.duration(m["cert_valid_for"], join(field, "cert_valid_for")); ok {
		e.certValidFor = &v
	}
	return e, m
}

// templates lists e's templates, for checks of what they may refer to.
func (e *expectDef) templates() []*tmpl {
	ts := slices.Concat(e.contains, e.notContains)
	for _, j := range e.json {
		ts = append(ts, j.value)
	}
	return ts
}

// statuses reads one status code or a list of them.
func (d *decoder) statuses(n *yaml.Node, field string) []int {
	if n = value(n); n == nil {
		return nil
	}
	items, name := []*yaml.Node{n}, func(int) string { return field }
	if n.Kind == yaml.SequenceNode {
		items, name = n.Content, func(i int) string { return index(field, i) }
	}
	out := []int{}
	for i, item := range items {
		if code := d.integer(item, name(i), 0, 100); code > 599 {
			d.errorf(item, name(i), "invalid status code %d", code)
		} else if code != 0 {
			out = append(out, code)
		}
	}
	return out
}

// regexps compiles at load: a bad pattern is a config error, not a probe
// failure at 3 a.m.
func (d *decoder) regexps(n *yaml.Node, field string) []*regexp.Regexp {
	if n = value(n); n == nil {
		return nil
	}
	items, name := []*yaml.Node{n}, func(int) string { return field }
	if n.Kind == yaml.SequenceNode {
		items, name = n.Content, func(i int) string { return index(field, i) }
	}
	out := []*regexp.Regexp{}
	for i, item := range items {
		if re := d.regexp(item, name(i)); re != nil {
			out = append(out, re)
		}
	}
	return out
}

// regexp compiles one regular expression; nil when absent or invalid.
func (d *decoder) regexp(n *yaml.Node, field string) *regexp.Regexp {
	s := d.scalar(n, field, "a regular expression")
	if s == nil {
		return nil
	}
	re, err := regexp.Compile(s.Value)
	if err != nil {
		d.errorf(s, field, "invalid regular expression: %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		return nil
	}
	return re
}

func (d *decoder) jsonAssertion(n *yaml.Node, field string) (jsonDef, bool) {
	keys := []string{"path"}
	for _, op := range jsonOps {
		keys = append(keys, string(op))
	}
	m := d.fields(n, field, "json assertion", keys)
	if m == nil || !d.required(n, m, field, "path") {
		return jsonDef{}, false
	}
	j := jsonDef{path: d.str(m["path"], join(field, "path"))}
	var ops []string
	for _, op := range jsonOps {
		if value(m[string(op)]) != nil {
			ops = append(ops, string(op))
			j.op = op
		}
	}
	if len(ops) != 1 {
		d.errorf(n, field, "want exactly one of exists, equals, not_equals, gt, ge, lt, le; got %d%s", len(ops), listed(ops))
		return jsonDef{}, false
	}
	f, v := join(field, string(j.op)), m[string(j.op)]
	switch j.op {
	case probes.JSONExists:
		b := d.boolean(v, f, true)
		j.value = &tmpl{at: at(v, f), text: map[bool]string{true: "true", false: "false"}[b]}
	case probes.JSONEquals, probes.JSONNotEquals:
		j.value = d.template(v, f)
	default:
		j.number = d.number(v, f)
	}
	return j, j.value != nil || j.op != probes.JSONEquals && j.op != probes.JSONNotEquals
}

func listed(ops []string) string {
	if len(ops) == 0 {
		return ""
	}
	return " (" + strings.Join(ops, ", ") + ")"
}

// merge returns e with the fields o sets replaced, field by field.
func (e *expectDef) merge(o *expectDef) *expectDef {
	out := *e
	if o.status != nil {
		out.status = o.status
	}
	if o.contains != nil {
		out.contains = o.contains
	}
	if o.notContains != nil {
		out.notContains = o.notContains
	}
	if o.matches != nil {
		out.matches = o.matches
	}
	if o.json != nil {
		out.json = o.json
	}
	if o.maxDuration != nil {
		out.maxDuration = o.maxDuration
	}
	if o.certValidFor != nil {
		out.certValidFor = o.certValidFor
	}
	return &out
}

func (e *expectDef) expand(x *expansion) probes.HTTPExpect {
	out := probes.HTTPExpect{
		Status:          slices.Clone(e.status),
		BodyContains:    x.execAll(e.contains),
		BodyNotContains: x.execAll(e.notContains),
		BodyMatches:     slices.Clone(e.matches), // a Regexp is safe for concurrent use
	}
	for _, j := range e.json {
		out.JSON = append(out.JSON, probes.JSONAssertion{Path: j.path, Op: j.op, Value: x.exec(j.value), Number: j.number})
	}
	if e.maxDuration != nil {
		out.MaxDuration = *e.maxDuration
	}
	if e.certValidFor != nil {
		out.CertValidFor = *e.certValidFor
	}
	return out
}
