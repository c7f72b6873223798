package probes

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"text/template"
	"time"

	"golang.org/x/time/rate"
)

// progressEvery is how often a running ramp reports its progress.
const progressEvery = 250 * time.Millisecond

// signOutBudget bounds the sign-outs after an aborted run: a shutdown must
// end within a second, sessions or not.
const signOutBudget = 500 * time.Millisecond

// signOutLimit bounds the sign-outs after a run that ended by itself: a
// tenant that just broke must not keep the run going.
const signOutLimit = 10 * time.Second

// RunLoad runs t's ramp now. It returns when the ramp ends: at its max, at
// a confirmed break of the SLO, at its duration limit, or when ctx is done
// (within a second: every request is cancelled with it, and the users'
// sign-outs get half a second).
//
// Before the first step it reserves the ramp's peak users and its rate
// limit from o.Budget, waiting while other runs hold it.
func RunLoad(ctx context.Context, t Target, o LoadOptions) Result {
	start := time.Now()
	res := Result{Tenant: t.Tenant, Check: t.Check, Kind: t.Kind, Start: start}
	spec := t.Load
	if spec == nil {
		return failed(res, start, ReasonInternal, "load check without a load spec")
	}
	levels := spec.Ramp.Levels()
	if len(levels) == 0 {
		return failed(res, start, ReasonInternal, fmt.Sprintf("empty ramp (start %d, step %d, max %d)",
			spec.Ramp.Start, spec.Ramp.Step, spec.Ramp.Max))
	}
	peak := levels[len(levels)-1]
	if lim := spec.Limits.MaxUsers; lim > 0 && peak > lim {
		return failed(res, start, ReasonInternal, fmt.Sprintf("the ramp reaches %d users, above the limit of %d", peak, lim))
	}
	if len(spec.Scenario.SignIn) == 0 && len(spec.Scenario.Tokens) == 0 {
		return failed(res, start, ReasonInternal, "load check without a scenario: name a login check or give a token pool")
	}
	if len(spec.Actions) == 0 {
		return failed(res, start, ReasonInternal, "load check without actions")
	}
	release, err := o.Budget.Wait(ctx, t.Key(), peak, spec.Limits.MaxRate, spec.Exclusive)
	if err != nil {
		return failed(res, start, ReasonInternal, "load budget: "+err.Error())
	}
	defer release()

	runCtx, cancel := ctx, context.CancelFunc(func() {})
	if d := spec.Limits.MaxDuration; d > 0 {
		runCtx, cancel = context.WithTimeoutCause(ctx, d, errTimeCap)
	}
	defer cancel()
	r, err := newLoadRun(t, o, start)
	if err != nil {
		return failed(res, start, ReasonInternal, err.Error())
	}
	lr := r.ramp(runCtx, levels)
	r.stopUsers(ctx)

	lr.Knee = FindKnee(levels, lr.Steps)
	res.Load = lr
	res.Duration = time.Since(start)
	judgeLoad(&res, r)
	lr.Message = Redact(lr.Message, t.Secrets)
	res.Message = Redact(res.Message, t.Secrets)
	return res
}

var errTimeCap = errors.New("the run's duration limit was reached")

func failed(r Result, start time.Time, reason Reason, msg string) Result {
	r.Duration, r.Reason, r.Message = time.Since(start), reason, msg
	return r
}

// judgeLoad sets whether the run passed: it ran, and its knee reached the
// users required of it.
func judgeLoad(res *Result, r *loadRun) {
	lr := res.Load
	k := lr.Knee
	switch {
	case lr.Stop == StopAborted:
		res.Reason = ReasonInternal
		res.Message = "aborted: " + lr.Message
	case lr.Stop == StopSignIn:
		res.Reason = r.signInReason()
		res.Message = lr.Message
	case len(lr.Steps) == 0:
		res.Reason, res.Message = ReasonInternal, "no step completed: "+lr.Message
	case lr.Required > 0 && k.Users < lr.Required && k.BreakAt == 0 && !k.AtMax:
		res.Reason = ReasonTimeout
		res.Message = fmt.Sprintf("%s: served %d users, short of the %d required, before a break was confirmed",
			lr.Message, k.Users, lr.Required)
	case lr.Required > 0 && k.Users < lr.Required:
		res.Reason = ReasonCapacity
		res.Message = fmt.Sprintf("capacity knee %d users is below the %d required (seats %d): %s",
			k.Users, lr.Required, lr.Seats, lr.Message)
	default:
		res.Success = true
	}
}

// loadRun is one run of a ramp: its users, their shared connections and
// rate limit, and the recorder they report to.
type loadRun struct {
	t       Target
	spec    *LoadSpec
	o       LoadOptions
	start   time.Time
	limiter *rate.Limiter // nil: no rate limit
	rec     *recorder
	steps   []Step // sign-in, actions, sign-out, in one list for the users' loginRuns
	// constants are the steps' templates that render the same for everyone.
	constants map[*template.Template]string
	// transports by step index, shared by every user: connections are
	// pooled across users, each user keeping its own cookie jar.
	transports []*http.Transport

	mu    sync.Mutex
	users []*vu
	wg    sync.WaitGroup

	// usersCtx stops every user; stopUsers cancels it.
	usersCtx    context.Context
	cancelUsers context.CancelFunc

	signedIn   atomic.Int64 // users signed in now
	signInFail atomic.Pointer[StepResult]
}

func newLoadRun(t Target, o LoadOptions, start time.Time) (*loadRun, error) {
	spec := t.Load
	r := &loadRun{t: t, spec: spec, o: o, start: start, rec: newRecorder(o.OnRequest)}
	if spec.Limits.MaxRate > 0 {
		// A burst of one: no second ever sees more than the cap.
		r.limiter = rate.NewLimiter(rate.Limit(spec.Limits.MaxRate), 1)
	}
	sc := spec.Scenario
	r.steps = make([]Step, 0, len(sc.SignIn)+len(spec.Actions)+len(sc.SignOut))
	r.steps = append(r.steps, sc.SignIn...)
	r.steps = append(r.steps, spec.Actions...)
	r.steps = append(r.steps, sc.SignOut...)
	for i := range r.steps {
		// Each request is bounded by the check's timeout, or its own.
		s := &r.steps[i]
		if s.Timeout <= 0 || (t.Timeout > 0 && t.Timeout < s.Timeout) {
			s.Timeout = cmp.Or(t.Timeout, defaultTimeout)
		}
	}
	peak := spec.Ramp.Max
	r.transports = make([]*http.Transport, len(r.steps))
next:
	for i := range r.steps {
		for j := range i {
			if sameTLS(&r.steps[i].TLS, &r.steps[j].TLS) {
				r.transports[i] = r.transports[j]
				continue next
			}
		}
		cfg, err := newTLSConfig(r.steps[i].TLS)
		if err != nil {
			return nil, fmt.Errorf("step %q: %w", r.steps[i].Name, err)
		}
		tr := newTransport(cfg, nil, true)
		tr.MaxIdleConnsPerHost = peak + 16
		tr.MaxIdleConns = 0
		tr.IdleConnTimeout = 30 * time.Second
		r.transports[i] = tr
	}
	r.constants = constantTemplates(r.steps, &TemplateData{Tenant: spec.Tenant, Vars: spec.Vars})
	r.usersCtx, r.cancelUsers = context.WithCancel(context.Background())
	return r, nil
}

// constantTemplates renders once the steps' templates that read no
// .Extracted value: they give the same text for every user and request.
func constantTemplates(steps []Step, data *TemplateData) map[*template.Template]string {
	out := map[*template.Template]string{}
	add := func(t *template.Template) {
		if t == nil || t.Tree == nil || t.Tree.Root == nil || strings.Contains(t.Tree.Root.String(), "Extracted") {
			return
		}
		var sb strings.Builder
		if t.Execute(&sb, data) == nil {
			out[t] = sb.String()
		}
	}
	named := func(ns []NamedTemplate) {
		for _, n := range ns {
			add(n.Value)
		}
	}
	for i := range steps {
		r := steps[i].Request
		if r == nil {
			continue
		}
		add(r.URL)
		named(r.Headers)
		named(r.Query)
		named(r.Body.Form)
		add(r.Body.Raw)
	}
	return out
}

// ramp runs the steps NextLevel asks for until it says done or ctx ends.
func (r *loadRun) ramp(ctx context.Context, levels []int) *LoadResult {
	spec := r.spec
	lr := &LoadResult{Model: cmp.Or(spec.Model, LoadClosed), SLO: spec.SLO, Seats: spec.Seats,
		Required: spec.Required, Planned: levels}
	ticker := time.NewTicker(progressEvery)
	defer ticker.Stop()
	for {
		users, conf, done, stop := NextLevel(levels, lr.Steps)
		if done {
			lr.Stop = stop
			break
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < spec.Ramp.StepDuration {
			lr.Stop = StopTimeCap
			break
		}
		s, ok := r.step(ctx, ticker, users, conf, lr)
		if !ok {
			lr.Stop = StopAborted
			if errors.Is(context.Cause(ctx), errTimeCap) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
				lr.Stop = StopTimeCap
			}
			break
		}
		lr.Steps = append(lr.Steps, s)
		if !s.Passed && r.signedIn.Load() == 0 && r.signInFail.Load() != nil {
			lr.Stop = StopSignIn
			break
		}
	}
	lr.Message = r.stopMessage(lr)
	r.progress(LoadProgress{Step: len(lr.Steps), Planned: len(levels), Done: lr.Steps})
	return lr
}

func (r *loadRun) stopMessage(lr *LoadResult) string {
	var last LoadStep
	if len(lr.Steps) > 0 {
		last = lr.Steps[len(lr.Steps)-1]
	}
	switch lr.Stop {
	case StopMax:
		return fmt.Sprintf("ramp completed: every level up to %d users ran", lr.Planned[len(lr.Planned)-1])
	case StopSLO:
		if last.Requests == 0 {
			return fmt.Sprintf("stopped at %d users: no request completed in two steps", last.Users)
		}
		return fmt.Sprintf("stopped at %d users: the SLO was missed twice (p95 %s, errors %.1f%%)",
			last.Users, last.P95.Round(time.Millisecond), 100*last.ErrorRatio)
	case StopTimeCap:
		return fmt.Sprintf("stopped after %s: the run's duration limit or window end left no time for the next step",
			time.Since(r.start).Round(time.Second))
	case StopSignIn:
		msg := "no user could sign in"
		if f := r.signInFail.Load(); f != nil {
			msg += fmt.Sprintf(": step %q: %s", f.Name, f.Message)
		}
		return msg
	default:
		return fmt.Sprintf("stopped after %s, %d steps completed", time.Since(r.start).Round(time.Second), len(lr.Steps))
	}
}

func (r *loadRun) signInReason() Reason {
	if f := r.signInFail.Load(); f != nil && f.Reason != ReasonNone {
		return f.Reason
	}
	return ReasonStatus
}

// step runs one level: it brings the users up to count, lets the warm-up
// pass unmeasured, then measures until the step's end. ok is false when ctx
// ended first; the partial step is then dropped.
func (r *loadRun) step(ctx context.Context, ticker *time.Ticker, users int, conf bool, lr *LoadResult) (LoadStep, bool) {
	spec := r.spec
	begin := time.Now()
	r.addUsers(users, begin)
	warmEnd := begin.Add(spec.Ramp.WarmUp)
	end := begin.Add(spec.Ramp.StepDuration)
	p := LoadProgress{Step: len(lr.Steps), Planned: len(lr.Planned), Users: users, StepTime: spec.Ramp.StepDuration, Done: lr.Steps}
	measuring := false
	var mStart time.Time
	for {
		now := time.Now()
		if !measuring && !now.Before(warmEnd) {
			measuring, mStart = true, now
			r.rec.begin()
		}
		if !now.Before(end) {
			break
		}
		p.Elapsed = now.Sub(begin)
		p.Phase = "warm-up"
		if measuring {
			p.Phase = "measure"
			p.Requests, p.Errors = r.rec.counts()
		} else if int(r.signedIn.Load()) < users && spec.Scenario.Tokens == nil {
			p.Phase = "sign-in"
		}
		r.progress(p)
		wait := min(time.Until(end), progressEvery)
		if !measuring {
			wait = min(wait, time.Until(warmEnd))
		}
		select {
		case <-ctx.Done():
			r.rec.end(0)
			return LoadStep{}, false
		case <-time.After(max(wait, 0)):
		}
	}
	if !measuring { // no warm-up left a window: measure nothing
		mStart = end
		r.rec.begin()
	}
	s := r.rec.end(time.Since(mStart))
	s.Users, s.Confirm, s.Start = users, conf, mStart
	s.Passed = spec.SLO.Met(s)
	return s, true
}

func (r *loadRun) progress(p LoadProgress) {
	if r.o.Progress != nil {
		r.o.Progress(p)
	}
}

// addUsers starts users until count run. Users start spread over the
// first tenth of the warm-up (at most a second), not all in one instant.
func (r *loadRun) addUsers(count int, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	have := len(r.users)
	if count <= have {
		return
	}
	spread := min(r.spec.Ramp.WarmUp/10, time.Second)
	for i := have; i < count; i++ {
		delay := time.Duration(0)
		if n := count - have; n > 1 {
			delay = spread * time.Duration(i-have) / time.Duration(n)
		}
		u := newVU(r, i)
		r.users = append(r.users, u)
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			u.loop(r.usersCtx, now.Add(delay))
		}()
	}
}

// stopUsers stops every user, waits for them, and signs the signed-in ones
// out: within signOutBudget when ctx (the caller's) has ended, else within
// the sign-out steps' own timeouts.
func (r *loadRun) stopUsers(ctx context.Context) {
	r.cancelUsers()
	r.wg.Wait()
	defer func() {
		for _, tr := range r.transports {
			tr.CloseIdleConnections()
		}
	}()
	if len(r.spec.Scenario.SignOut) == 0 {
		return
	}
	// Sign-outs get signOutLimit in all, and half a second once ctx
	// ends (shutdown, Ctrl-C), whether it ended before or during them.
	outCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), signOutLimit)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(signOutBudget, cancel) })
	defer stop()
	if ctx.Err() != nil {
		time.AfterFunc(signOutBudget, cancel)
	}
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for _, u := range r.users {
		if !u.signedIn {
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			u.signOut(outCtx)
		}()
	}
	wg.Wait()
}
