package probes

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"text/template"
	"time"

	"golang.org/x/net/publicsuffix"
)

// ProbeLogin runs t.Login's steps in order as one sign-in: a fresh cookie
// jar and fresh connections every run, so each run signs in for real. After
// a failure only the steps marked AlwaysRun (a sign-out) still run; the
// check fails with the first failed step's reason.
func ProbeLogin(ctx context.Context, t Target) Result {
	return probeLogin(ctx, t, nil)
}

// probeLogin is ProbeLogin with the resolver the dialer uses (nil: the
// system's), as for probeHTTP.
func probeLogin(ctx context.Context, t Target, resolver *net.Resolver) Result {
	run := &loginRun{t: t, spec: t.Login, start: time.Now()}
	if run.spec == nil || len(run.spec.Steps) == 0 {
		return run.internal("login check without steps")
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(t.Timeout, defaultTimeout))
	defer cancel()
	run.budget = budgetOf(ctx, run.start)
	run.secrets = credentials(t.Secrets, run.spec.Steps)
	if err := run.connect(resolver); err != nil {
		return run.internal(err.Error())
	}
	defer run.close()

	run.steps = make([]StepResult, len(run.spec.Steps))
	failed := -1
	for i := range run.spec.Steps {
		step := &run.spec.Steps[i]
		run.steps[i].Name = step.Name
		if failed < 0 {
			run.steps[i], _ = run.runStep(ctx, step, run.transports[i], run.budget)
			if !run.steps[i].Success {
				failed = i
			}
			continue
		}
		if step.AlwaysRun {
			run.steps[i] = run.cleanup(parent, ctx, step, run.transports[i])
		}
	}
	return run.result(failed)
}

// cleanupTimeout bounds an always_run step that runs after a failure when
// it has no timeout of its own: a sign-out is one short request.
const cleanupTimeout = 5 * time.Second

// cleanup runs an always_run step after a failure. The failure may have
// been the run's timeout, and a sign-out that then failed at once would
// leave the session open on the tenant's server; so the step gets a
// deadline of its own, off the run's, while the caller's cancellation
// (shutdown, reload) still stops it. A step needing a value no step set
// (the sign-in failed before extracting the token it would revoke) has
// nothing to clean up and is skipped.
func (run *loginRun) cleanup(parent, runCtx context.Context, step *Step, transport *http.Transport) StepResult {
	timeout := step.Timeout
	if timeout <= 0 {
		timeout = min(cmp.Or(run.t.Timeout, defaultTimeout), cleanupTimeout)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(runCtx), timeout)
	defer cancel()
	stop := context.AfterFunc(parent, cancel)
	defer stop()
	if parent.Err() != nil {
		cancel() // AfterFunc would cancel too, but on another goroutine, maybe after the request began
	}
	sr, unset := run.runStep(ctx, step, transport, timeout)
	if unset != "" {
		return StepResult{Name: step.Name,
			Message: fmt.Sprintf("skipped: needs .Extracted.%s, which no earlier step set", unset)}
	}
	return sr
}

// loginRun is one run of a login check. Its steps run one after another on
// the probe's goroutine, so nothing here needs a lock.
type loginRun struct {
	t      Target
	spec   *LoginSpec
	start  time.Time
	budget time.Duration // the whole run's, for timeout messages

	client     *http.Client
	transports []*http.Transport // by step; steps with equal TLS share one

	// constants are the templates whose value is the same all run long
	// (they read no .Extracted value), rendered once: a load run's users
	// send thousands of requests a second from the same templates.
	constants map[*template.Template]string
	// untraced skips the phase tracer: a load run measures latency, not
	// phases, and the tracer's hooks cost allocations on every request.
	untraced bool

	extracted map[string]string // values set so far, raw
	slots     *urlSlots         // extracted as URL placeholders; nil when stale
	secrets   []string          // t.Secrets, credentials and secret values extracted so far
	lastURL   *url.URL          // the last step's final request URL, for relative Locations
	unset     string            // the .Extracted value the last template stopped at

	steps []StepResult
	// Over all steps run, for the Result.
	tls        bool
	certExpiry time.Time
	bodyBytes  int64
	redirects  int
}

// credentials lists the secrets to mask: the target's, and the OAuth2
// credentials, which are secret whether or not the config said so. The
// result never shares t.Secrets' array, since extracted secrets are
// appended to it.
func credentials(secrets []string, steps []Step) []string {
	secrets = slices.Clip(secrets)
	for i := range steps {
		if g := steps[i].OAuth2; g != nil {
			secrets = append(secrets, g.ClientSecret, g.Password)
		}
	}
	return secrets
}

// connect builds the run's one client: a fresh cookie jar, and one
// keep-alive transport per distinct TLS configuration among the steps.
func (run *loginRun) connect(resolver *net.Resolver) error {
	jar, err := cookiejar.New(&cookiejar.Options{PublicSuffixList: publicsuffix.List})
	if err != nil {
		return err
	}
	steps := run.spec.Steps
	run.transports = make([]*http.Transport, len(steps))
next:
	for i := range steps {
		for j := range i {
			if sameTLS(&steps[i].TLS, &steps[j].TLS) {
				run.transports[i] = run.transports[j]
				continue next
			}
		}
		cfg, err := newTLSConfig(steps[i].TLS)
		if err != nil {
			return fmt.Errorf("step %q: %w", steps[i].Name, err)
		}
		run.transports[i] = newTransport(cfg, resolver, true)
	}
	run.client = &http.Client{Transport: routeTransport{}, Jar: jar, CheckRedirect: routeRedirect}
	return nil
}

func sameTLS(a, b *TLSConfig) bool {
	return a.Roots == b.Roots && string(a.CAPEM) == string(b.CAPEM) &&
		a.ServerName == b.ServerName && a.InsecureSkipVerify == b.InsecureSkipVerify
}

// close ends the run's connections: the next run dials afresh.
func (run *loginRun) close() {
	for _, t := range run.transports {
		if t != nil {
			t.CloseIdleConnections()
		}
	}
}

// stepOutcome is what one step's request or token exchange found.
type stepOutcome struct {
	rs    *response
	f     *failure
	line  string      // "POST https://…/login", for the message
	set   []Extracted // values the step extracted, as shown
	unset string      // the .Extracted value a template needed and no step set
}

// runStep runs one step within its own timeout, if it has one. budget is
// the time ctx allows, for timeout messages. unset names the .Extracted
// value whose absence failed the step, if that is why it failed.
func (run *loginRun) runStep(ctx context.Context, step *Step, transport *http.Transport, budget time.Duration) (sr StepResult, unset string) {
	start := time.Now()
	x := &exchange{
		expect: step.Expect, headers: step.HeaderMatches, follow: step.FollowRedirects,
		maxRedirects: step.MaxRedirects, bodyLimit: step.BodyLimit, secrets: run.secrets,
		start: start, budget: budget, trace: &phaseTracer{},
	}
	if step.Timeout > 0 {
		runDeadline, bounded := ctx.Deadline()
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, step.Timeout)
		defer cancel()
		if !bounded || start.Add(step.Timeout).Before(runDeadline) {
			x.budget = step.Timeout // the step's own timeout is the nearer
		}
	}
	route := &stepRoute{x: x, transport: transport}
	ctx = context.WithValue(ctx, routeKey{}, route)

	var o stepOutcome
	switch {
	case step.OAuth2 != nil:
		o = run.token(ctx, step.OAuth2, x, route)
	case step.Request != nil:
		o = run.request(ctx, step, x)
	default:
		o = stepOutcome{rs: &response{}, f: &failure{ReasonInternal, "step has neither a request nor an oauth2 grant"}}
	}
	run.note(o.rs, x)
	if o.rs.url != nil {
		run.lastURL = o.rs.url
	}
	sr = StepResult{
		Name: step.Name, Ran: true, Success: o.f == nil, StatusCode: o.rs.status,
		Duration: time.Since(start), Phases: x.trace.phases(), Extracted: o.set,
	}
	if o.f != nil {
		sr.Reason, sr.Message = o.f.reason, o.f.msg
		if o.line != "" {
			sr.Message = o.line + ": " + o.f.msg
		}
	}
	return sr, o.unset
}

// request sends a step's templated request, judges the response and, if
// it passes, extracts the step's values from it.
//
// The step's secret values are looked for before the response is judged:
// a failed step never reaches its extractors, yet its message may quote
// the very session cookie (a Set-Cookie header match, a body excerpt) it
// would have extracted as secret.
func (run *loginRun) request(ctx context.Context, step *Step, x *exchange) stepOutcome {
	run.unset = ""
	req, line, f := run.newRequest(ctx, step.Request)
	if f != nil {
		o := stepOutcome{rs: &response{}, f: f, line: line}
		if f.reason == ReasonExtraction {
			o.unset = run.unset
		}
		return o
	}
	o := stepOutcome{line: line}
	if !run.untraced {
		req = req.WithContext(x.traced(ctx))
	}
	o.rs, o.f = x.send(run.client, req)
	if o.f == nil {
		run.learnSecrets(step.Extract, o.rs, x)
		o.f = x.judge(ctx, o.rs)
	}
	if o.f == nil {
		o.set, o.f = run.extract(step.Extract, o.rs, x)
	}
	return o
}

// note adds a step's response to the run's totals.
func (run *loginRun) note(rs *response, x *exchange) {
	run.bodyBytes += rs.bodyBytes
	run.redirects += x.redirects
	if rs.tls {
		run.tls = true
		if run.certExpiry.IsZero() || rs.certExpiry.Before(run.certExpiry) {
			run.certExpiry = rs.certExpiry
		}
	}
}

// set records an extracted value for later steps and returns it as shown.
func (run *loginRun) set(name, value string, secret bool) Extracted {
	if run.extracted == nil {
		run.extracted = make(map[string]string)
	}
	run.extracted[name] = value
	run.slots = nil
	if !secret {
		return Extracted{Var: name, Value: value}
	}
	run.addSecret(value)
	return Extracted{Var: name, Value: Redacted}
}

func (run *loginRun) addSecret(value string) {
	if value != "" && !slices.Contains(run.secrets, value) {
		run.secrets = append(run.secrets, value)
	}
}

// result sums the steps into the Result handed on. Messages and shown
// values are redacted here, with every secret the run learned, including
// those extracted after the message was written.
func (run *loginRun) result(failed int) Result {
	r := Result{
		Tenant: run.t.Tenant, Check: run.t.Check, Kind: run.t.Kind,
		Start: run.start, Duration: time.Since(run.start), Steps: run.steps,
		Redirects: run.redirects, BodyBytes: run.bodyBytes, TLS: run.tls, CertExpiry: run.certExpiry,
	}
	for i := range run.steps {
		s := &run.steps[i]
		r.Phases = r.Phases.add(s.Phases)
		s.Message = Redact(s.Message, run.secrets)
		for j := range s.Extracted {
			s.Extracted[j].Value = Redact(s.Extracted[j].Value, run.secrets)
		}
	}
	if failed < 0 {
		r.Success, r.StepsCompleted = true, len(run.steps)
		r.StatusCode = run.steps[len(run.steps)-1].StatusCode
		return r
	}
	fs := run.steps[failed]
	r.StepsCompleted, r.Reason, r.StatusCode = failed, fs.Reason, fs.StatusCode
	r.Message = fmt.Sprintf("step %q: %s", fs.Name, fs.Message)
	return r
}

// internal is a run that could not start.
func (run *loginRun) internal(msg string) Result {
	r := Result{
		Tenant: run.t.Tenant, Check: run.t.Check, Kind: run.t.Kind,
		Start: run.start, Duration: time.Since(run.start),
		Reason: ReasonInternal, Message: Redact(msg, run.t.Secrets),
	}
	if run.spec != nil {
		r.Steps = make([]StepResult, len(run.spec.Steps))
		for i, s := range run.spec.Steps {
			r.Steps[i].Name = s.Name
		}
	}
	return r
}

// routeKey carries a step's *stepRoute in its requests' contexts: the run
// has one client, and each step its own transport, redirect policy and
// tracer.
type routeKey struct{}

type stepRoute struct {
	x         *exchange
	transport http.RoundTripper
	last      *http.Response // the last response seen, for token requests
}

func routeOf(ctx context.Context) *stepRoute {
	r, _ := ctx.Value(routeKey{}).(*stepRoute)
	return r
}

// routeTransport sends a request over its step's transport. A request not
// built by the probe (the oauth2 package's) is marked as synthetic here.
type routeTransport struct{}

func (routeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	route := routeOf(req.Context())
	if route == nil {
		return nil, fmt.Errorf("login probe: request to %s outside a step", req.URL.Redacted())
	}
	if req.Header.Get(SyntheticHeader) == "" {
		req = req.Clone(req.Context()) // a RoundTripper must not change its request
		markSynthetic(req.Header)
	}
	resp, err := route.transport.RoundTrip(req)
	if resp != nil {
		route.last = resp
	}
	return resp, err
}

func routeRedirect(req *http.Request, via []*http.Request) error {
	if route := routeOf(req.Context()); route != nil {
		return route.x.checkRedirect(req, via)
	}
	return http.ErrUseLastResponse
}
