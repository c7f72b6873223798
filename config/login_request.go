package config

import (
	"math"
	"mime"
	"net/http"
	"strings"

	"github.com/forewarn/forewarn/probes"
	"gopkg.in/yaml.v3"
)

var (
	stepRequestKeys = []string{"method", "url", "headers", "query", "form", "json", "body", "content_type"}
	bodyKeys        = []string{"form", "json", "body"}
)

// requestDef is a login step's request: spec holds the parsed templates,
// shared by every tenant's Target; the tmpls are kept to check them at
// load, per tenant.
type requestDef struct {
	spec    probes.StepRequest
	url     *tmpl
	headers []*tmpl // values
	others  []*tmpl // query and form values, JSON string leaves, raw body
}

func (d *decoder) decodeRequest(n *yaml.Node, field string) *requestDef {
	m := d.fields(n, field, "request", stepRequestKeys)
	if m == nil || !d.required(n, m, field, "url") {
		return nil
	}
	r := &requestDef{spec: probes.StepRequest{Method: http.MethodGet}}
	if v := d.scalar(m["method"], join(field, "method"), "a method"); v != nil {
		if !isToken(v.Value) {
			d.errorf(v, join(field, "method"), "invalid method %q", v.Value)
		}
		r.spec.Method = v.Value
	}
	r.url = d.template(m["url"], join(field, "url"))
	r.spec.URL = runnable(r.url)
	r.spec.Headers, r.headers = d.namedTemplates(m["headers"], join(field, "headers"), true)
	var query []*tmpl
	r.spec.Query, query = d.namedTemplates(m["query"], join(field, "query"), false)
	r.others = append(r.others, query...)
	r.decodeBody(d, n, m, field)
	return r
}

// namedTemplates reads a mapping of names to templated values, in file
// order. Header names must be tokens, each given once whatever its case.
func (d *decoder) namedTemplates(n *yaml.Node, field string, headers bool) ([]probes.NamedTemplate, []*tmpl) {
	var out []probes.NamedTemplate
	var ts []*tmpl
	seen := map[string]bool{}
	for _, p := range d.pairs(n, field) {
		f, lower := join(field, p.key), strings.ToLower(p.key)
		switch {
		case headers && !isToken(p.key):
			d.errorf(p.k, f, "invalid header name %q", p.key)
			continue
		case headers && seen[lower]:
			d.errorf(p.k, f, "header %q is set twice", p.key)
			continue
		}
		seen[lower] = true
		if t := d.template(p.v, f); t != nil {
			out = append(out, probes.NamedTemplate{Name: p.key, Value: runnable(t)})
			ts = append(ts, t)
		}
	}
	return out, ts
}

// decodeBody reads the one of form, json and body that is set, if any.
func (r *requestDef) decodeBody(d *decoder, n *yaml.Node, m map[string]*yaml.Node, field string) {
	var set []string
	for _, k := range bodyKeys {
		if value(m[k]) != nil {
			set = append(set, k)
		}
	}
	if len(set) > 1 {
		d.errorf(n, field, "want at most one of form, json and body; got %d%s", len(set), listed(set))
		return
	}
	b := &r.spec.Body
	if ct := d.scalar(m["content_type"], join(field, "content_type"), "a media type"); ct != nil {
		if _, _, err := mime.ParseMediaType(ct.Value); err != nil {
			d.errorf(ct, join(field, "content_type"), "invalid content_type %q: %v", ct.Value, err)
		}
		if len(set) == 0 || set[0] != "body" {
			d.errorf(ct, join(field, "content_type"), "content_type is for a raw body; form and json set their own")
		}
		b.ContentType = ct.Value
	}
	switch {
	case value(m["form"]) != nil:
		var form []*tmpl
		b.Kind = probes.BodyForm
		b.Form, form = d.namedTemplates(m["form"], join(field, "form"), false)
		r.others = append(r.others, form...)
	case value(m["json"]) != nil:
		b.Kind = probes.BodyJSON
		b.JSON = r.jsonValue(d, m["json"], join(field, "json"))
	case value(m["body"]) != nil:
		t := d.template(m["body"], join(field, "body"))
		b.Kind, b.Raw = probes.BodyRaw, runnable(t)
		if t != nil {
			r.others = append(r.others, t)
		}
		if b.ContentType == "" {
			b.ContentType = "text/plain"
		}
	}
}

// jsonValue turns YAML into the tree the prober marshals: map[string]any,
// []any, nil, bool, int, float64, and a *template.Template for each string.
func (r *requestDef) jsonValue(d *decoder, n *yaml.Node, field string) any {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		obj := map[string]any{}
		for _, p := range d.pairs(n, field) {
			obj[p.key] = r.jsonValue(d, p.v, join(field, p.key))
		}
		return obj
	case yaml.SequenceNode:
		arr := make([]any, 0, len(n.Content))
		for i, item := range n.Content {
			arr = append(arr, r.jsonValue(d, item, index(field, i)))
		}
		return arr
	}
	switch n.Tag {
	case "!!null":
		return nil
	case "!!bool", "!!int", "!!float":
		var v any
		if err := n.Decode(&v); err != nil {
			d.errorf(n, field, "invalid %s %q", strings.TrimPrefix(n.Tag, "!!"), n.Value)
		} else if f, ok := v.(float64); ok && (math.IsInf(f, 0) || math.IsNaN(f)) {
			d.errorf(n, field, "%s is not a JSON number", n.Value)
		}
		return v
	}
	// Strings, and scalars YAML reads as dates and the like, which JSON
	// has not: sent as written.
	t := d.parseTemplate(n.Value, at(n, field))
	r.others = append(r.others, t)
	return runnable(t)
}

func (r *requestDef) templates() []*tmpl {
	ts := append([]*tmpl{r.url}, r.headers...)
	return append(ts, r.others...)
}

// expand executes every template once for this tenant, with a placeholder
// for each value earlier steps extract, so that a missing .Vars key or a
// bad field is a load error. The request itself keeps the templates.
func (r *requestDef) expand(x *expansion, data probes.TemplateData) *probes.StepRequest {
	if s, ok := x.runWith(r.url, data); ok && !startsWithExtracted(r.url) {
		x.checkURL(r.url, s)
	}
	for _, t := range r.headers {
		if s, _ := x.runWith(t, data); strings.ContainsAny(s, "\r\n\x00") {
			// A value spanning lines would inject headers of its own.
			x.errorf(t, "header value contains a line break or NUL")
		}
	}
	for _, t := range r.others {
		x.runWith(t, data)
	}
	spec := r.spec
	return &spec
}
