package config

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/forewarn/forewarn/probes"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

var (
	loginKeys = []string{"steps"}
	stepKeys  = append([]string{"name", "request", "oauth2", "timeout", "expect", "extract", "always_run"}, transportKeys...)
	// oauth2StepKeys are the step keys an oauth2 step may have.
	oauth2StepKeys = []string{"name", "oauth2", "timeout", "tls", "always_run"}
)

// loginCheck is a login check: steps run in order by the prober.
type loginCheck struct {
	steps []*stepDef
}

// stepDef is one step as decoded, shared by every tenant. Exactly one of
// request and oauth2 is set when the step decoded without errors.
type stepDef struct {
	at            loc // of the name
	name          string
	alwaysRun     bool
	timeout       time.Duration
	timeoutAt     *loc
	request       *requestDef
	oauth2        *oauth2Def
	transport     transportDef
	expect        *expectDef
	headerMatches []probes.HeaderMatch
	extract       []probes.Extractor
	vars          []varDef // extract vars and the oauth2 var, in file order
}

// varDef is a variable a step sets, where it is named.
type varDef struct {
	name string
	at   loc
}

func decodeLogin(d *decoder, n *yaml.Node, m map[string]*yaml.Node, field string) kindSpec {
	l := &loginCheck{}
	sf := join(field, "steps")
	if !d.required(n, m, field, "steps") {
		return l
	}
	items, _ := d.nonEmptyList(m["steps"], sf, "step")
	names := uniqueNames{what: "step name"}
	vars := map[string]string{} // var → step that extracts it
	for i, item := range items {
		s := d.decodeStep(item, index(sf, i))
		if s == nil {
			continue
		}
		names.first(d, s.name, s.at)
		for _, v := range s.vars {
			if other, dup := vars[v.name]; dup {
				d.add(v.at, "%s is already extracted by step %q: names of extracted values are unique within a check", v.name, other)
			}
			vars[v.name] = s.name
		}
		l.steps = append(l.steps, s)
	}
	d.checkRefs(l.steps)
	return l
}

func (d *decoder) decodeStep(n *yaml.Node, field string) *stepDef {
	return d.decodeStepKeys(n, field, "step", stepKeys)
}

// decodeStepKeys is decodeStep for a mapping that allows only keys: a load
// check's actions are steps without always_run or oauth2.
func (d *decoder) decodeStepKeys(n *yaml.Node, field, what string, keys []string) *stepDef {
	m := d.fields(n, field, what, keys)
	if m == nil {
		return nil
	}
	d.required(n, m, field, "name")
	s := &stepDef{at: at(value(m["name"]), join(field, "name")), name: d.slug(m["name"], join(field, "name"))}
	s.alwaysRun = d.boolean(m["always_run"], join(field, "always_run"), false)
	if v, ok := d.duration(m["timeout"], join(field, "timeout")); ok {
		if l := at(m["timeout"], join(field, "timeout")); v <= 0 {
			d.add(l, "timeout must be positive")
		} else {
			s.timeout, s.timeoutAt = v, &l
		}
	}
	s.transport = d.decodeTransport(m, field)
	d.checkLoadOnly([]*tmpl{s.transport.serverName, s.transport.caFile})
	req, oauth2 := value(m["request"]), value(m["oauth2"])
	switch {
	case req != nil && oauth2 != nil:
		d.errorf(oauth2, join(field, "oauth2"), "set either request or oauth2, not both")
	case oauth2 != nil:
		s.decodeOAuth2Step(d, m, field)
	case req != nil:
		s.request = d.decodeRequest(req, join(field, "request"))
		s.decodeResponse(d, m, field)
	default:
		d.errorf(n, field, `missing required field "request" (or "oauth2")`)
	}
	return s
}

// decodeOAuth2Step reads a token request; the step's keys for a request
// and its response are errors, since the prober would ignore them.
func (s *stepDef) decodeOAuth2Step(d *decoder, m map[string]*yaml.Node, field string) {
	for _, k := range stepKeys {
		if v := value(m[k]); v != nil && !slices.Contains(oauth2StepKeys, k) {
			d.errorf(v, join(field, k), "an oauth2 step has no %s", k)
		}
	}
	s.oauth2 = d.decodeOAuth2(m["oauth2"], join(field, "oauth2"))
	if s.oauth2 != nil && s.oauth2.v.name != "" {
		s.vars = append(s.vars, s.oauth2.v)
	}
}

// decodeResponse reads what a request step's response must satisfy and
// what it extracts.
func (s *stepDef) decodeResponse(d *decoder, m map[string]*yaml.Node, field string) {
	ef := join(field, "expect")
	e, em := d.decodeExpectWith(m["expect"], ef, []string{"headers"})
	s.expect = e
	d.checkLoadOnly(e.templates())
	s.headerMatches = d.headerMatches(em["headers"], join(ef, "headers"))
	s.extract, s.vars = d.decodeExtract(m["extract"], join(field, "extract"))
}

func (d *decoder) headerMatches(n *yaml.Node, field string) []probes.HeaderMatch {
	var out []probes.HeaderMatch
	seen := map[string]bool{}
	for _, p := range d.pairs(n, field) {
		f := join(field, p.key)
		switch canon := strings.ToLower(p.key); {
		case !isToken(p.key):
			d.errorf(p.k, f, "invalid header name %q", p.key)
		case seen[canon]:
			d.errorf(p.k, f, "header %q is listed twice", p.key)
		default:
			seen[canon] = true
			for _, re := range d.regexps(p.v, f) {
				out = append(out, probes.HeaderMatch{Name: p.key, Regexp: re})
			}
		}
	}
	return out
}

func (s *stepDef) varNames() []string {
	names := make([]string, len(s.vars))
	for i, v := range s.vars {
		names[i] = v.name
	}
	return names
}

// requestTemplates are the templates the prober executes on each run.
func (s *stepDef) requestTemplates() []*tmpl {
	if s.request == nil {
		return nil
	}
	return s.request.templates()
}

func (l *loginCheck) overrideKeys() []string { return nil }

func (l *loginCheck) decodeOverride(*decoder, map[string]*yaml.Node, string) any { return nil }

func (l *loginCheck) expand(x *expansion, t *probes.Target, _ any) {
	spec := &probes.LoginSpec{Tenant: templateTenant(x.data.Tenant), Vars: x.data.Vars}
	data := probes.TemplateData{Tenant: spec.Tenant, Vars: spec.Vars, Extracted: map[string]string{}}
	for _, s := range l.steps {
		spec.Steps = append(spec.Steps, s.expand(x, data, t.Timeout))
		for _, v := range s.vars {
			data.Extracted[v.name] = placeholder(v.name)
		}
	}
	t.Login = spec
}

func (s *stepDef) expand(x *expansion, data probes.TemplateData, timeout time.Duration) probes.Step {
	step := probes.Step{
		Name:            s.name,
		AlwaysRun:       s.alwaysRun,
		Timeout:         s.timeout,
		FollowRedirects: s.transport.followRedirects,
		MaxRedirects:    s.transport.maxRedirects,
		BodyLimit:       s.transport.bodyLimit,
		TLS:             x.tls(s.transport),
		HeaderMatches:   slices.Clone(s.headerMatches),
		Extract:         slices.Clone(s.extract),
	}
	if s.expect != nil {
		step.Expect = s.expect.expand(x)
	}
	if s.request != nil {
		step.Request = s.request.expand(x, data)
	}
	if s.oauth2 != nil {
		step.OAuth2 = s.oauth2.expand(x)
	}
	s.checkTimeout(x, timeout)
	return step
}

// checkTimeout reports a step timeout longer than the target's, which
// covers all steps together. When only a tenant's override makes it too
// long, the error names the tenant.
func (s *stepDef) checkTimeout(x *expansion, timeout time.Duration) {
	if s.timeoutAt == nil || s.timeout <= timeout {
		return
	}
	x.failed = true
	if check := x.check.Timeout; s.timeout > check {
		x.d.add(*s.timeoutAt, "timeout %s is longer than the check's timeout %s", model.Duration(s.timeout), model.Duration(check))
		return
	}
	x.d.add(*s.timeoutAt, "tenant %q: timeout %s is longer than the check's timeout %s for this tenant",
		x.tenant, model.Duration(s.timeout), model.Duration(timeout))
}

// templateTenant is the tenant as request templates see it.
func templateTenant(t Tenant) probes.TemplateTenant {
	return probes.TemplateTenant{
		ID: t.ID, Name: t.Name, URL: t.URL, Seats: t.Seats,
		Plan: t.Plan, Region: t.Region, Public: t.Public, Labels: maps.Clone(t.Labels),
	}
}
