package config

import (
	"crypto/x509"
	"maps"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"github.com/forewarn/forewarn/probes"
	"gopkg.in/yaml.v3"
)

// tmpl is a string field that may hold a Go template, parsed once at load
// and executed per tenant.
type tmpl struct {
	at   loc
	text string
	t    *template.Template // nil for text without actions
	bad  bool               // failed to parse; reported
}

// tmplData is what a template sees: {{ .Tenant.URL }}, {{ .Vars.password }}.
type tmplData struct {
	Tenant Tenant
	Vars   map[string]string
}

func (d *decoder) template(n *yaml.Node, field string) *tmpl {
	if n = d.scalar(n, field, "a string"); n == nil {
		return nil
	}
	return d.parseTemplate(n.Value, at(n, field))
}

func (d *decoder) parseTemplate(text string, l loc) *tmpl {
	tm := &tmpl{at: l, text: text}
	if !strings.Contains(text, "{{") {
		return tm
	}
	t, err := template.New(l.field).Option("missingkey=error").Parse(text)
	if err != nil {
		d.add(l, "invalid template: %s", templateMsg(err, l.field))
		tm.bad = true
		return tm
	}
	tm.t = t
	return tm
}

// templates reads one template or a list of them; nil when absent.
func (d *decoder) templates(n *yaml.Node, field string) []*tmpl {
	if n = value(n); n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return []*tmpl{d.template(n, field)}
	}
	out := []*tmpl{}
	for i, item := range n.Content {
		out = append(out, d.template(item, index(field, i)))
	}
	return out
}

var templatePos = regexp.MustCompile(`^\d+(:\d+)?: `)

// templateMsg keeps the useful end of a text/template error:
// `template: f:1:7: executing "f" at <.Vars.user>: map has no entry for key "user"`
// becomes `<.Vars.user>: map has no entry for key "user"`.
func templateMsg(err error, name string) string {
	msg := strings.TrimPrefix(err.Error(), "template: "+name+":")
	if i := strings.Index(msg, " at <"); i >= 0 {
		return msg[i+len(" at "):]
	}
	return templatePos.ReplaceAllString(msg, "")
}

// expansion builds one target: one check for one tenant.
type expansion struct {
	d      *decoder
	src    secretSource
	ca     map[string]caFile // by path, shared by all targets
	check  *checkDef
	tenant string
	data   tmplData
	failed bool
}

type caFile struct {
	pem   []byte
	roots *x509.CertPool // parsed from pem
	err   string
}

// exec expands t for this tenant; "" when t is nil.
func (x *expansion) exec(t *tmpl) string {
	s, _ := x.run(t)
	return s
}

// run is exec that also tells whether there is a value to validate.
func (x *expansion) run(t *tmpl) (string, bool) { return x.runWith(t, x.data) }

// runWith is run with other data: a login step's request templates see
// probes.TemplateData, which adds .Extracted.
func (x *expansion) runWith(t *tmpl, data any) (string, bool) {
	switch {
	case t == nil:
		return "", false
	case t.bad:
		x.failed = true
		return "", false
	case t.t == nil:
		return t.text, true
	}
	var b strings.Builder
	if err := t.t.Execute(&b, data); err != nil {
		x.errorf(t, "%s", templateMsg(err, t.at.field))
		return "", false
	}
	return b.String(), true
}

func (x *expansion) execAll(ts []*tmpl) []string {
	if ts == nil {
		return nil
	}
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = x.exec(t)
	}
	return out
}

// errorf reports a problem in the value of t for this tenant. A field
// without template actions has the same value, so the same problem, for
// every tenant: it is reported once, without naming one.
func (x *expansion) errorf(t *tmpl, format string, args ...any) {
	x.failed = true
	if t.t == nil {
		x.d.add(t.at, format, args...)
		return
	}
	x.d.add(t.at, "tenant %q: "+format, append([]any{x.tenant}, args...)...)
}

// plan expands every selected, enabled (check × tenant) into a Target.
func (f *file) plan(d *decoder, baseDir string, o Options) *Config {
	cfg := &Config{Listen: f.listen, Defaults: f.defaults, Load: f.load, Store: f.store, Cases: f.cases,
		Notify: f.notify, StatusPage: f.status, Vars: f.vars.values}
	cfg.secrets = append(slices.Clone(f.vars.secrets), f.secrets...)
	for _, t := range f.tenants {
		cfg.Tenants = append(cfg.Tenants, t.Tenant)
		cfg.secrets = append(cfg.secrets, t.vars.secrets...)
	}
	ca := map[string]caFile{}
	for _, c := range f.checks {
		check := c.Check
		for _, t := range f.tenants {
			ov := t.overrides[c.Name]
			if !t.selects(c.Select) || ov != nil && ov.disabled {
				continue
			}
			check.Tenants = append(check.Tenants, t.ID)
			x := &expansion{d: d, src: secretSource{baseDir, o}, ca: ca, check: c, tenant: t.ID}
			if target, ok := x.target(f, c, t, ov); ok {
				cfg.Targets = append(cfg.Targets, target)
			}
		}
		if len(check.Tenants) == 0 && len(f.tenants) > 0 {
			w := Error{File: d.file, Line: c.at.line, Column: c.at.col, Field: c.at.field, Msg: "check selects no tenant"}
			cfg.Warnings = append(cfg.Warnings, w.Error())
		}
		cfg.Checks = append(cfg.Checks, check)
	}
	cfg.Warnings = append(cfg.Warnings, d.warnings...)
	return cfg
}

func (x *expansion) target(f *file, c *checkDef, t *tenantDef, ov *override) (probes.Target, bool) {
	if c.spec == nil || !f.vars.ok || !t.vars.ok {
		return probes.Target{}, false // the cause is reported
	}
	w := when{interval: c.Interval, timeout: c.Timeout, schedule: c.Schedule}
	var ovSpec any
	if ov != nil {
		var ok bool
		w, ok = x.d.effective(&c.timing, &ov.timing)
		x.failed = !ok
		ovSpec = ov.spec
	}
	vars := maps.Clone(f.vars.values)
	maps.Copy(vars, t.vars.values)
	x.data = tmplData{Tenant: t.Tenant, Vars: vars}
	target := probes.Target{
		Tenant: t.ID, Check: c.Name, Kind: c.Kind,
		Interval: w.interval, Schedule: w.schedule, Timeout: w.timeout,
		// All of the tenant's secrets, not only those its templates use: a
		// probe error may quote any of them (a redirect to a URL with a token).
		Secrets: append(slices.Clone(f.vars.secrets), t.vars.secrets...),
	}
	c.spec.expand(x, &target, ovSpec)
	return target, !x.failed
}
