package probes

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"time"

	"golang.org/x/net/publicsuffix"
)

// vu is one virtual user: a loginRun of its own (cookie jar, extracted
// values) over the run's shared connections. Its fields are touched by
// its goroutine only, and by stopUsers after that goroutine ended.
type vu struct {
	r        *loadRun
	id       int
	run      *loginRun
	signedIn bool
}

func newVU(r *loadRun, id int) *vu {
	run := &loginRun{t: r.t, start: r.start, transports: r.transports, constants: r.constants, untraced: true,
		spec: &LoginSpec{Steps: r.steps, Tenant: r.spec.Tenant, Vars: r.spec.Vars}}
	run.secrets = credentials(r.t.Secrets, r.steps)
	u := &vu{r: r, id: id, run: run}
	u.resetSession()
	return u
}

// resetSession gives the user a new cookie jar and forgets what it
// extracted: the next sign-in starts from nothing, as a new browser would.
func (u *vu) resetSession() {
	u.run.client = &http.Client{Transport: routeTransport{}, CheckRedirect: routeRedirect}
	if len(u.r.spec.Scenario.Tokens) == 0 { // a token pool needs no cookies
		jar, _ := cookiejar.New(&cookiejar.Options{PublicSuffixList: publicsuffix.List}) // never fails
		u.run.client.Jar = jar
	}
	u.run.extracted, u.run.slots, u.run.lastURL = nil, nil, nil
}

// loop runs the user until ctx ends, from at on.
func (u *vu) loop(ctx context.Context, at time.Time) {
	if !sleepUntil(ctx, at) {
		return
	}
	if u.r.spec.Model == LoadOpen {
		u.open(ctx, at)
		return
	}
	u.closed(ctx)
}

// closed is the closed model: each action after the previous one
// answered and the think time passed.
func (u *vu) closed(ctx context.Context) {
	first, n := u.r.actions()
	for ctx.Err() == nil {
		if !u.signedIn && !u.signIn(ctx) {
			u.pause(ctx, true)
			continue
		}
		for i := first; i < first+n && ctx.Err() == nil; i++ {
			if sr, ok := u.do(ctx, i, time.Time{}); !ok && sr.StatusCode == http.StatusUnauthorized {
				if u.lostSession(sr) {
					return // its token is refused: the user is retired
				}
				u.pause(ctx, true) // never a tight loop of sign-ins
				break
			}
			u.pause(ctx, false)
		}
	}
}

// open is the open model: an iteration starts every Pace whatever the
// tenant answered, and its first request's latency counts from when it
// should have been sent. A user still busy when its next start comes
// starts late, and that lateness is part of the latency recorded: a slow
// tenant cannot hide behind a generator that waited for it.
func (u *vu) open(ctx context.Context, at time.Time) {
	pace := u.r.spec.Pace
	next := at.Add(time.Duration(rand.Int64N(int64(max(pace, 1)))))
	first, n := u.r.actions()
	for sleepUntil(ctx, next) {
		intended := next
		next = next.Add(pace)
		if !u.signedIn {
			if !u.signIn(ctx) {
				continue
			}
			// The sign-in is not part of the first action's latency.
			if now := time.Now(); now.After(intended) {
				intended = now
			}
		}
		for i := first; i < first+n && ctx.Err() == nil; i++ {
			from := time.Time{}
			if i == first {
				from = intended
			}
			if sr, ok := u.do(ctx, i, from); !ok && sr.StatusCode == http.StatusUnauthorized {
				if u.lostSession(sr) {
					return
				}
				break
			}
		}
	}
}

// signIn runs the scenario's sign-in steps, or takes the user's token.
func (u *vu) signIn(ctx context.Context) bool {
	sc := &u.r.spec.Scenario
	if len(sc.Tokens) > 0 {
		u.run.set("token", sc.Tokens[u.id%len(sc.Tokens)], true)
		u.signedIn = true
		u.r.signedIn.Add(1)
		return true
	}
	u.resetSession()
	for i := range sc.SignIn {
		sr, ok := u.do(ctx, i, time.Time{})
		if !ok {
			if ctx.Err() == nil {
				sr.Message = Redact(sr.Message, u.run.secrets)
				u.r.signInFail.Store(&sr)
			}
			return false
		}
	}
	u.signedIn = true
	u.r.signedIn.Add(1)
	return true
}

// lostSession is a 401 on an action: the session ended (expired,
// revoked), so the user signs in again before its next action. With a
// token pool the token itself is refused: that is a failed sign-in, and
// retire is true: the user stops, since its token will not work again.
func (u *vu) lostSession(sr StepResult) (retire bool) {
	u.signedOut()
	if len(u.r.spec.Scenario.Tokens) == 0 {
		return false
	}
	sr.Message = "the pool's token was refused: " + Redact(sr.Message, u.run.secrets)
	u.r.signInFail.Store(&sr)
	return true
}

func (u *vu) signedOut() {
	if u.signedIn {
		u.signedIn = false
		u.r.signedIn.Add(-1)
	}
}

// signOut runs the sign-out steps once, unmeasured.
func (u *vu) signOut(ctx context.Context) {
	first := len(u.r.spec.Scenario.SignIn) + len(u.r.spec.Actions)
	for i := first; i < len(u.r.steps); i++ {
		if ctx.Err() != nil {
			return
		}
		if l := u.r.limiter; l != nil && l.Wait(ctx) != nil {
			return // the rate cap holds for sign-outs too
		}
		step := &u.r.steps[i]
		u.run.runStep(ctx, step, u.r.transports[i], step.Timeout)
	}
	u.signedOut()
}

// do sends step i once, within the run's rate limit, and records it.
// Latency counts from from, or from when the limiter let it go. A request
// cut short because the run is stopping is not recorded.
func (u *vu) do(ctx context.Context, i int, from time.Time) (StepResult, bool) {
	r := u.r
	if r.limiter != nil {
		if err := r.limiter.Wait(ctx); err != nil {
			return StepResult{}, false
		}
	}
	if from.IsZero() {
		from = time.Now()
	}
	step := &r.steps[i]
	r.rec.enter()
	sr, _ := u.run.runStep(ctx, step, r.transports[i], step.Timeout)
	r.rec.leave()
	if ctx.Err() != nil {
		return sr, false
	}
	d := time.Since(from)
	var first *StepResult
	if !sr.Success && r.rec.firstErr.Load() == nil { // it may be the step's FirstError
		first = &StepResult{Name: sr.Name, Message: Redact(sr.Message, u.run.secrets)}
	}
	r.rec.record(u.id, d, sr.Success, first)
	return sr, sr.Success
}

// pause is the think time after an action, with its jitter; after a
// failed sign-in, at least 100ms so that a user turned away does not spin.
func (u *vu) pause(ctx context.Context, afterFailure bool) {
	spec := u.r.spec
	d := spec.ThinkTime
	if j := spec.ThinkJitter; j > 0 {
		d += time.Duration(rand.Int64N(int64(j)))
	}
	if afterFailure {
		d = max(d, 100*time.Millisecond)
	}
	if d > 0 {
		sleepUntil(ctx, time.Now().Add(d))
	}
}

// actions is where the actions sit in r.steps, and how many there are.
func (r *loadRun) actions() (first, n int) {
	return len(r.spec.Scenario.SignIn), len(r.spec.Actions)
}

// sleepUntil waits until t; false when ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
