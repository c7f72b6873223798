package config

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/forewarn/forewarn/probes"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// LoadLimits are the process-wide hard caps on load (the top-level `load:`
// section). No load check may exceed them, and all runs together stay
// within MaxUsers and MaxRate.
type LoadLimits struct {
	MaxUsers          int           // default 1000
	MaxRate           float64       // requests/s, default 1000
	MaxConcurrentRuns int           // default 1: load runs never overlap
	MaxDuration       time.Duration // per run, default 30m
}

var builtinLoadLimits = LoadLimits{MaxUsers: 1000, MaxRate: 1000, MaxConcurrentRuns: 1, MaxDuration: 30 * time.Minute}

var (
	loadTopKeys = []string{"max_users", "max_rate", "max_concurrent_runs", "max_duration"}
	loadKeys    = []string{"scenario", "actions", "think_time", "think_jitter", "model", "pace", "ramp", "slo",
		"limits", "required", "windows", "jitter", "exclusive"}
	scenarioKeys = []string{"login", "tokens_file"}
	rampKeys     = []string{"start", "step", "max", "step_duration", "warm_up"}
	sloKeys      = []string{"p95", "error_ratio"}
	limitKeys    = []string{"max_users", "max_rate", "max_duration"}
	windowKeys   = []string{"cron", "duration"}
	actionKeys   = append([]string{"name", "request", "timeout", "expect", "extract"}, transportKeys...)
)

// Defaults of a load check.
var (
	defaultRamp = rampDef{
		start: amount{pct: 10}, step: amount{pct: 10}, max: amount{pct: 120},
		stepDuration: 30 * time.Second, warmUp: 5 * time.Second,
	}
	defaultSLO = probes.SLO{P95: time.Second, ErrorRatio: 0.01}
)

func (d *decoder) decodeLoadLimits(n *yaml.Node) LoadLimits {
	l := builtinLoadLimits
	m := d.fields(n, "load", "load", loadTopKeys)
	l.MaxUsers = d.integer(m["max_users"], "load.max_users", l.MaxUsers, 1)
	if v := value(m["max_rate"]); v != nil {
		if r := d.number(v, "load.max_rate"); r > 0 {
			l.MaxRate = r
		} else {
			d.errorf(v, "load.max_rate", "must be positive: the process-wide request rate cap")
		}
	}
	l.MaxConcurrentRuns = d.integer(m["max_concurrent_runs"], "load.max_concurrent_runs", l.MaxConcurrentRuns, 1)
	if v, ok := d.duration(m["max_duration"], "load.max_duration"); ok {
		if v <= 0 {
			d.errorf(m["max_duration"], "load.max_duration", "must be positive")
		} else {
			l.MaxDuration = v
		}
	}
	return l
}

// amount is a number of users: absolute, or a percentage of the tenant's
// seats resolved per tenant.
type amount struct {
	users int
	pct   float64 // > 0: a percentage of seats
	at    loc
	set   bool
	bad   bool // invalid, reported: resolves to nothing
}

func (a amount) String() string {
	if a.pct > 0 {
		return strconv.FormatFloat(a.pct, 'f', -1, 64) + "%"
	}
	return strconv.Itoa(a.users)
}

// amount reads `50` or `10%`.
func (d *decoder) amount(n *yaml.Node, field string, def amount) amount {
	v := d.scalar(n, field, "a number of users or a percentage of seats")
	if v == nil {
		return def
	}
	a := amount{at: at(v, field), set: true}
	bad := amount{at: a.at, set: true, bad: true}
	if p, ok := strings.CutSuffix(v.Value, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || f <= 0 || math.IsInf(f, 0) {
			d.errorf(v, field, "invalid percentage %q: want a positive number like 10%%", v.Value)
			return bad
		}
		a.pct = f
		return a
	}
	i, err := strconv.Atoi(v.Value)
	if err != nil || v.Tag != "!!int" {
		d.errorf(v, field, "expected a number of users or a percentage of seats like 10%%, got %q", v.Value)
		return bad
	}
	if i < 1 {
		d.errorf(v, field, "must be at least 1 user, got %d", i)
		return bad
	}
	a.users = i
	return a
}

// resolve is the amount for a tenant with seats; ok is false, after
// reporting, when a percentage meets a tenant without seats. where places
// a default's error at the mapping that left it out.
func (a amount) resolve(x *expansion, seats int, what string, where loc) (int, bool) {
	switch {
	case a.bad:
		x.failed = true
		return 0, false
	case a.pct <= 0:
		return a.users, true
	case seats <= 0:
		x.failed = true
		if !a.set {
			x.d.add(where, "tenant %q has no seats, so the default %s of %s of seats does not apply: set the tenant's seats or give the ramp in users", x.tenant, what, a)
			return 0, false
		}
		x.d.add(a.at, "tenant %q has no seats, so %s %s cannot be a percentage of them: set the tenant's seats or give users", x.tenant, what, a)
		return 0, false
	}
	return max(1, int(math.Ceil(float64(seats)*a.pct/100))), true
}

type rampDef struct {
	start, step, max     amount
	stepDuration, warmUp time.Duration
	at                   loc
}

// loadCheck is a load check as decoded, shared by every tenant.
type loadCheck struct {
	at         loc
	login      string // scenario: the login check's name
	loginAt    loc
	loginDef   *checkDef // resolved after every check is decoded
	tokensFile *tmpl
	actions    []*stepDef
	think      time.Duration
	jitterT    time.Duration
	model      probes.LoadModel
	pace       time.Duration
	ramp       rampDef
	slo        probes.SLO
	limits     probes.LoadLimits
	limitsAt   map[string]loc
	required   amount
	windows    []probes.LoadWindow
	jitter     time.Duration
	exclusive  bool
}

func decodeLoad(d *decoder, n *yaml.Node, m map[string]*yaml.Node, field string) kindSpec {
	l := &loadCheck{at: at(n, field), model: probes.LoadClosed, ramp: defaultRamp, slo: defaultSLO,
		required: amount{pct: 100}, exclusive: true, limitsAt: map[string]loc{}}
	d.required(n, m, field, "scenario", "actions")
	l.decodeScenario(d, m["scenario"], join(field, "scenario"))
	l.decodeActions(d, m["actions"], join(field, "actions"))
	l.think = d.nonNegative(m["think_time"], join(field, "think_time"))
	l.jitterT = d.nonNegative(m["think_jitter"], join(field, "think_jitter"))
	if v := d.scalar(m["model"], join(field, "model"), "closed or open"); v != nil {
		switch probes.LoadModel(v.Value) {
		case probes.LoadClosed, probes.LoadOpen:
			l.model = probes.LoadModel(v.Value)
		default:
			d.errorf(v, join(field, "model"), "unknown model %q: want closed (users wait for answers) or open (a fixed arrival rate)", v.Value)
		}
	}
	l.pace = d.nonNegative(m["pace"], join(field, "pace"))
	switch {
	case l.model == probes.LoadOpen && l.pace == 0:
		d.errorf(n, field, "the open model needs pace: how often each user starts an iteration (e.g. pace: 1s)")
	case l.model == probes.LoadClosed && value(m["pace"]) != nil:
		d.errorf(m["pace"], join(field, "pace"), "pace applies to the open model only (model: open); the closed model uses think_time")
	case l.model == probes.LoadOpen && value(m["think_time"]) != nil:
		d.errorf(m["think_time"], join(field, "think_time"), "think_time applies to the closed model only; the open model starts an iteration every pace")
	case l.model == probes.LoadOpen && value(m["think_jitter"]) != nil:
		d.errorf(m["think_jitter"], join(field, "think_jitter"), "think_jitter applies to the closed model only; the open model starts an iteration every pace")
	}
	l.decodeRamp(d, m["ramp"], join(field, "ramp"))
	l.decodeSLO(d, m["slo"], join(field, "slo"))
	l.decodeLimits(d, m["limits"], join(field, "limits"))
	l.required = d.amount(m["required"], join(field, "required"), l.required)
	l.decodeWindows(d, m["windows"], join(field, "windows"))
	l.jitter = d.nonNegative(m["jitter"], join(field, "jitter"))
	l.exclusive = d.boolean(m["exclusive"], join(field, "exclusive"), true)
	if !l.exclusive && d.loadLimits.MaxConcurrentRuns < 2 {
		d.errorf(m["exclusive"], join(field, "exclusive"),
			"exclusive: false lets runs overlap, but load.max_concurrent_runs is 1: raise it too")
	}
	return l
}

func (d *decoder) nonNegative(n *yaml.Node, field string) time.Duration {
	v, ok := d.duration(n, field)
	if ok && v < 0 {
		d.errorf(n, field, "must not be negative")
		return 0
	}
	return v
}

func (l *loadCheck) decodeScenario(d *decoder, n *yaml.Node, field string) {
	m := d.fields(n, field, "scenario", scenarioKeys)
	if m == nil || value(n) == nil {
		return
	}
	login, tokens := value(m["login"]), value(m["tokens_file"])
	switch {
	case login != nil && tokens != nil:
		d.errorf(tokens, join(field, "tokens_file"), "set either login or tokens_file, not both")
	case login != nil:
		l.login, l.loginAt = d.str(login, join(field, "login")), at(login, join(field, "login"))
	case tokens != nil:
		l.tokensFile = d.template(tokens, join(field, "tokens_file"))
	default:
		d.errorf(n, field, "a scenario signs each user in: set login (the name of a login check) or tokens_file (one token per line)")
	}
}

func (l *loadCheck) decodeActions(d *decoder, n *yaml.Node, field string) {
	items, _ := d.nonEmptyList(n, field, "action")
	names := uniqueNames{what: "action name"}
	for i, item := range items {
		s := d.decodeStepKeys(item, index(field, i), "action", actionKeys)
		if s == nil {
			continue
		}
		names.first(d, s.name, s.at)
		l.actions = append(l.actions, s)
	}
}

func (l *loadCheck) decodeRamp(d *decoder, n *yaml.Node, field string) {
	m := d.fields(n, field, "ramp", rampKeys)
	l.ramp.at = at(n, field)
	l.ramp.start = d.amount(m["start"], join(field, "start"), l.ramp.start)
	l.ramp.step = d.stepAmount(m["step"], join(field, "step"), l.ramp.step)
	l.ramp.max = d.amount(m["max"], join(field, "max"), l.ramp.max)
	if v, ok := d.duration(m["step_duration"], join(field, "step_duration")); ok {
		if v < time.Second {
			d.errorf(m["step_duration"], join(field, "step_duration"), "must be at least 1s, got %s", model.Duration(v))
		} else {
			l.ramp.stepDuration = v
		}
	}
	if v, ok := d.duration(m["warm_up"], join(field, "warm_up")); ok {
		l.ramp.warmUp = v
	}
	if l.ramp.warmUp >= l.ramp.stepDuration {
		d.errorf(n, field, "warm_up %s leaves nothing of step_duration %s to measure",
			model.Duration(l.ramp.warmUp), model.Duration(l.ramp.stepDuration))
	}
}

// stepAmount is amount with a clearer message for the usual mistake, 0.
func (d *decoder) stepAmount(n *yaml.Node, field string, def amount) amount {
	if v := d.scalar(n, field, "a number"); v != nil && (v.Value == "0" || v.Value == "0%") {
		d.errorf(v, field, "step must be at least 1 user: a step of 0 never ramps")
		return amount{at: at(v, field), set: true, bad: true}
	}
	return d.amount(n, field, def)
}

func (l *loadCheck) decodeSLO(d *decoder, n *yaml.Node, field string) {
	m := d.fields(n, field, "slo", sloKeys)
	if v, ok := d.duration(m["p95"], join(field, "p95")); ok {
		if v <= 0 {
			d.errorf(m["p95"], join(field, "p95"), "must be positive")
		} else {
			l.slo.P95 = v
		}
	}
	if v := d.scalar(m["error_ratio"], join(field, "error_ratio"), "a ratio"); v != nil {
		r, ok := parseRatio(v.Value)
		if !ok {
			d.errorf(v, join(field, "error_ratio"), "invalid ratio %q: want 0 to 1 (0.01) or a percentage (1%%)", v.Value)
		} else {
			l.slo.ErrorRatio = r
		}
	}
}

func parseRatio(s string) (float64, bool) {
	scale := 1.0
	if p, ok := strings.CutSuffix(s, "%"); ok {
		s, scale = strings.TrimSpace(p), 100
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) {
		return 0, false
	}
	f /= scale
	return f, f >= 0 && f <= 1
}

func (l *loadCheck) decodeLimits(d *decoder, n *yaml.Node, field string) {
	g := d.loadLimits
	l.limits = probes.LoadLimits{MaxUsers: g.MaxUsers, MaxRate: g.MaxRate, MaxDuration: g.MaxDuration}
	m := d.fields(n, field, "limits", limitKeys)
	if v := value(m["max_users"]); v != nil {
		u := d.integer(v, join(field, "max_users"), g.MaxUsers, 1)
		if u > g.MaxUsers {
			d.errorf(v, join(field, "max_users"), "%d is above the hard cap load.max_users %d", u, g.MaxUsers)
		} else {
			l.limits.MaxUsers = u
			l.limitsAt["max_users"] = at(v, join(field, "max_users"))
		}
	}
	if v := value(m["max_rate"]); v != nil {
		r := d.number(v, join(field, "max_rate"))
		switch {
		case r <= 0:
			d.errorf(v, join(field, "max_rate"), "must be positive")
		case r > g.MaxRate:
			d.errorf(v, join(field, "max_rate"), "%g requests/s is above the hard cap load.max_rate %g", r, g.MaxRate)
		default:
			l.limits.MaxRate = r
		}
	}
	if v, ok := d.duration(m["max_duration"], join(field, "max_duration")); ok {
		switch {
		case v <= 0:
			d.errorf(m["max_duration"], join(field, "max_duration"), "must be positive")
		case v > g.MaxDuration:
			d.errorf(m["max_duration"], join(field, "max_duration"), "%s is above the hard cap load.max_duration %s",
				model.Duration(v), model.Duration(g.MaxDuration))
		default:
			l.limits.MaxDuration = v
			l.limitsAt["max_duration"] = at(m["max_duration"], join(field, "max_duration"))
		}
	}
}

func (l *loadCheck) decodeWindows(d *decoder, n *yaml.Node, field string) {
	if value(n) == nil {
		return
	}
	items, _ := d.nonEmptyList(n, field, "window")
	for i, item := range items {
		f := index(field, i)
		m := d.fields(item, f, "window", windowKeys)
		if m == nil || !d.required(item, m, f, "cron", "duration") {
			continue
		}
		c, okC := d.schedule(m["cron"], join(f, "cron"))
		dur, okD := d.duration(m["duration"], join(f, "duration"))
		if okD && dur <= 0 {
			d.errorf(m["duration"], join(f, "duration"), "must be positive")
			okD = false
		}
		if okC && okD {
			l.windows = append(l.windows, probes.LoadWindow{Cron: c, Duration: dur})
		}
	}
}

// resolveLoadRefs ties each load check to the login check its scenario
// names, and checks the actions' .Extracted references against what that
// sign-in extracts. It runs once every check is decoded.
func (d *decoder) resolveLoadRefs(checks []*checkDef) {
	byName := map[string]*checkDef{}
	for _, c := range checks {
		byName[c.Name] = c
	}
	for _, c := range checks {
		l, ok := c.spec.(*loadCheck)
		if !ok {
			continue
		}
		d.checkLoadTiming(c, l)
		var earlier []string
		switch {
		case l.tokensFile != nil:
			earlier = []string{"token"}
		case l.login != "":
			lc := byName[l.login]
			login, isLogin := (*loginCheck)(nil), false
			if lc != nil {
				login, isLogin = lc.spec.(*loginCheck)
			}
			switch {
			case lc == nil:
				d.add(l.loginAt, "no check named %q: scenario.login names the login check whose steps sign each user in%s",
					l.login, loginChecks(checks))
				c.spec = nil // reported: no target
				continue
			case !isLogin:
				d.add(l.loginAt, "check %q is of kind %s, not login: scenario.login must name a login check%s",
					l.login, lc.Kind, loginChecks(checks))
				c.spec = nil
				continue
			}
			l.loginDef = lc
			for _, s := range login.steps {
				if !s.alwaysRun {
					earlier = append(earlier, s.varNames()...)
				}
			}
		default:
			c.spec = nil // no scenario: reported
			continue
		}
		for _, a := range l.actions {
			if a.oauth2 != nil {
				d.add(a.at, "action %q: an action is a request; sign in with an oauth2 step in the login check", a.name)
			}
		}
		d.checkRefsFrom(earlier, l.actions)
	}
}

func loginChecks(checks []*checkDef) string {
	var names []string
	for _, c := range checks {
		if c.Kind == probes.KindLogin {
			names = append(names, strconv.Quote(c.Name))
		}
	}
	if len(names) == 0 {
		return " (there is no login check: add one, or use scenario.tokens_file)"
	}
	return " (login checks: " + strings.Join(names, ", ") + ")"
}

// checkLoadTiming asks a load check for an explicit schedule: the default
// interval of a few seconds would load the tenant all day.
func (d *decoder) checkLoadTiming(c *checkDef, l *loadCheck) {
	t := c.timing
	switch {
	case t.intervalAt == nil && t.schedAt == nil:
		d.add(c.at, "load check %q needs a schedule or an interval (e.g. schedule: \"0 3 * * *\" for 03:00 UTC daily): "+
			"the default interval would load the tenant all day", c.Name)
	case t.intervalAt != nil && t.interval < l.limits.MaxDuration:
		d.add(*t.intervalAt, "interval %s is shorter than the run's max_duration %s: runs would follow each other without pause",
			model.Duration(t.interval), model.Duration(l.limits.MaxDuration))
	case t.intervalAt != nil && l.jitter >= t.interval:
		d.add(*t.intervalAt, "jitter %s is not shorter than interval %s", model.Duration(l.jitter), model.Duration(t.interval))
	}
}

func (l *loadCheck) overrideKeys() []string { return nil }

func (l *loadCheck) decodeOverride(*decoder, map[string]*yaml.Node, string) any { return nil }

func (l *loadCheck) expand(x *expansion, t *probes.Target, _ any) {
	tenant := x.data.Tenant
	spec := &probes.LoadSpec{
		ThinkTime: l.think, ThinkJitter: l.jitterT, Model: l.model, Pace: l.pace,
		SLO: l.slo, Limits: l.limits, Seats: tenant.Seats, Windows: slices.Clone(l.windows),
		Jitter: l.jitter, Exclusive: l.exclusive, Tenant: templateTenant(tenant), Vars: x.data.Vars,
	}
	t.Load = spec
	l.expandRamp(x, spec)
	data := probes.TemplateData{Tenant: spec.Tenant, Vars: spec.Vars, Extracted: map[string]string{}}
	switch {
	case l.loginDef != nil:
		login := l.loginDef.spec.(*loginCheck)
		sx := *x
		sx.check = l.loginDef
		lt := probes.Target{Timeout: l.loginDef.Timeout} // its steps' timeouts are checked against the login check's
		login.expand(&sx, &lt, nil)
		x.failed = x.failed || sx.failed
		spec.Scenario.LoginCheck = l.loginDef.Name
		for _, s := range lt.Login.Steps {
			if s.AlwaysRun {
				spec.Scenario.SignOut = append(spec.Scenario.SignOut, s)
			} else {
				spec.Scenario.SignIn = append(spec.Scenario.SignIn, s)
			}
		}
		for _, s := range login.steps {
			for _, v := range s.vars {
				data.Extracted[v.name] = placeholder(v.name)
			}
		}
	case l.tokensFile != nil:
		spec.Scenario.Tokens = x.tokens(l.tokensFile)
		t.Secrets = append(t.Secrets, spec.Scenario.Tokens...)
		data.Extracted["token"] = placeholder("token")
	}
	for _, a := range l.actions {
		spec.Actions = append(spec.Actions, a.expand(x, data, t.Timeout))
		for _, v := range a.vars {
			data.Extracted[v.name] = placeholder(v.name)
		}
	}
}

// expandRamp resolves the ramp and the required knee for the tenant's
// seats, and checks them against the limits.
func (l *loadCheck) expandRamp(x *expansion, spec *probes.LoadSpec) {
	seats := spec.Seats
	r := l.ramp
	start, ok1 := r.start.resolve(x, seats, "ramp start", r.at)
	step, ok2 := r.step.resolve(x, seats, "ramp step", r.at)
	mx, ok3 := r.max.resolve(x, seats, "ramp max", r.at)
	if !ok1 || !ok2 || !ok3 {
		return
	}
	spec.Ramp = probes.Ramp{Start: start, Step: step, Max: mx, StepDuration: r.stepDuration, WarmUp: r.warmUp}
	where := func(a amount) loc {
		if a.set {
			return a.at
		}
		return r.at
	}
	forTenant := func(a amount) string {
		if a.pct > 0 {
			return fmt.Sprintf("tenant %q: ", x.tenant)
		}
		return ""
	}
	if mx < start {
		x.failed = true
		if r.max.pct > 0 || r.start.pct > 0 {
			x.d.add(where(r.max), "tenant %q: ramp max %d users (%s) is below start %d (%s)", x.tenant, mx, r.max, start, r.start)
			return
		}
		x.d.add(where(r.max), "ramp max %d is below start %d", mx, start)
		return
	}
	if lim := spec.Limits.MaxUsers; mx > lim {
		x.failed = true
		x.d.add(where(r.max), "%sramp max %d users is above the limit of %d users (limits.max_users, at most load.max_users)",
			forTenant(r.max), mx, lim)
	}
	levels := spec.Ramp.Levels()
	// One step more than the levels: the confirmation of a break.
	if total := time.Duration(len(levels)+1) * r.stepDuration; total > spec.Limits.MaxDuration {
		x.failed = true
		x.d.add(r.at, "%sthe ramp needs up to %d steps of %s (%d levels and a confirmation) = %s, more than max_duration %s: use fewer steps or shorter ones",
			forTenant(r.step), len(levels)+1, model.Duration(r.stepDuration), len(levels), model.Duration(total), model.Duration(spec.Limits.MaxDuration))
	}
	if l.model == probes.LoadOpen && spec.Limits.MaxRate > 0 && l.pace > 0 {
		// The open model's rate is set by the ramp: a cap below it would
		// hold requests back and count the wait as the tenant's latency.
		if peak := float64(mx*len(l.actions)) / l.pace.Seconds(); peak > spec.Limits.MaxRate {
			x.failed = true
			x.d.add(where(r.max), "%sthe open model sends %d users × %d actions every %s = %.0f requests/s at the top of the ramp, above max_rate %g: "+
				"lower ramp.max, lengthen pace or raise the limit", forTenant(r.max), mx, len(l.actions), model.Duration(l.pace), peak, spec.Limits.MaxRate)
		}
	}
	if n := len(spec.Scenario.Tokens); n > 0 && n < mx {
		x.d.warn(l.tokensFile.at, "tenant %q: the token pool has %d tokens for up to %d users: users share tokens, "+
			"and a tenant that limits sessions per token will look bigger than it is", x.tenant, n, mx)
	}
	l.checkWindows(x, spec)
	if l.required.pct > 0 && seats == 0 {
		return // no seats: nothing is required
	}
	req, ok := l.required.resolve(x, seats, "required", l.at)
	if !ok {
		return
	}
	if l.required.pct > 0 {
		req = int(math.Ceil(float64(seats) * l.required.pct / 100)) // 100% of 500 seats is 500, not more
	}
	spec.Required = req
	if mx < req {
		x.failed = true
		x.d.add(where(r.max), "%sramp max %d users is below the %d required (%s of %d seats): the check could never pass",
			forTenant(r.max), mx, req, l.required, seats)
	}
}

// checkWindows reports windows too short for the jitter and the ramp: every
// run would be cut off before its last step.
func (l *loadCheck) checkWindows(x *expansion, spec *probes.LoadSpec) {
	need := spec.Jitter + time.Duration(len(spec.Ramp.Levels())+1)*spec.Ramp.StepDuration
	for _, w := range spec.Windows {
		if w.Duration < need {
			x.failed = true
			x.d.add(l.at, "%swindow %q of %s is shorter than the jitter and the ramp (%s): runs would be cut off",
				forTenantPct(x, l.ramp), w.Cron, model.Duration(w.Duration), model.Duration(need))
			return
		}
	}
}

func forTenantPct(x *expansion, r rampDef) string {
	if r.start.pct > 0 || r.step.pct > 0 || r.max.pct > 0 {
		return fmt.Sprintf("tenant %q: ", x.tenant)
	}
	return ""
}

// tokens reads a token pool file: one token per line, blank lines and
// #-comments skipped. Its tokens are secrets.
func (x *expansion) tokens(t *tmpl) []string {
	path, ok := x.run(t)
	if !ok {
		return nil
	}
	data, err := x.src.o.ReadFile(x.src.path(path))
	if err != nil {
		x.errorf(t, "cannot read the token pool: %v", err)
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	if len(out) == 0 {
		x.errorf(t, "the token pool %s holds no token (one per line)", path)
	}
	return out
}
