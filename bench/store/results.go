package main

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/forewarn/forewarn/probes"
)

// target is one tenant's check.
type target struct {
	tenant, check string
	login, https  bool
	offset        time.Duration // its phase in the interval, as the scheduler spreads checks
}

// fleet makes probe results as a monitor of its targets would, each target
// once per interval, in time order: results of successive intervals have
// successive Starts, so batches fill hours and days as a live monitor's do.
type fleet struct {
	targets  []target
	interval time.Duration
	start    time.Time
	rng      *rand.Rand
	n        int // results made
}

// fleetMix is the kind mix: every tenant has an http health check, every
// second an api check, every fifth a five-step login check.
func newFleet(tenants int, start time.Time, interval time.Duration) *fleet {
	f := &fleet{interval: interval, start: start, rng: rand.New(rand.NewPCG(1, 2))}
	for i := range tenants {
		id := fmt.Sprintf("customer-%05d", i)
		f.add(target{tenant: id, check: "health", https: i%2 == 0})
		if i%2 == 0 {
			f.add(target{tenant: id, check: "api", https: true})
		}
		if i%5 == 0 {
			f.add(target{tenant: id, check: "sign-in", login: true, https: true})
		}
	}
	f.byOffset()
	return f
}

// newUniformFleet is n targets of one kind (login or http health).
func newUniformFleet(n int, login bool, start time.Time, interval time.Duration) *fleet {
	f := &fleet{interval: interval, start: start, rng: rand.New(rand.NewPCG(3, 4))}
	for i := range n {
		t := target{tenant: fmt.Sprintf("customer-%05d", i), check: "health", https: i%2 == 0}
		if login {
			t.check, t.login, t.https = "sign-in", true, true
		}
		f.add(t)
	}
	f.byOffset()
	return f
}

func (f *fleet) add(t target) {
	t.offset = time.Duration(f.rng.Int64N(int64(f.interval)))
	f.targets = append(f.targets, t)
}

// byOffset orders the targets as their runs come in an interval: by
// offset, so successive results are of unrelated targets, as the
// scheduler's hash offsets make them, and Starts only grow.
func (f *fleet) byOffset() {
	slices.SortFunc(f.targets, func(a, b target) int { return cmp.Compare(a.offset, b.offset) })
}

// next is the next target's next result.
func (f *fleet) next() probes.Result {
	t := &f.targets[f.n%len(f.targets)]
	round := f.n / len(f.targets)
	f.n++
	return f.result(t, f.start.Add(time.Duration(round)*f.interval+t.offset))
}

// result is one run of t at start: about 1 % fail, as in a fleet with a
// few tenants in trouble at any time.
func (f *fleet) result(t *target, start time.Time) probes.Result {
	ok := f.rng.IntN(100) != 0
	if t.login {
		return f.login(t, start, ok)
	}
	return f.http(t, start, ok)
}

// phases is one request's time split; TLS only over https.
func (f *fleet) phases(https bool) probes.Phases {
	ms := func(lo, hi int) time.Duration {
		return time.Duration(lo*1000+f.rng.IntN((hi-lo)*1000+1)) * time.Microsecond
	}
	p := probes.Phases{Resolve: ms(0, 3), Connect: ms(1, 15), Processing: ms(15, 250), Transfer: ms(0, 5)}
	if https {
		p.TLS = ms(5, 30)
	}
	return p
}

func total(p probes.Phases) time.Duration {
	return p.Resolve + p.Connect + p.TLS + p.Processing + p.Transfer + 200*time.Microsecond
}

func (f *fleet) http(t *target, start time.Time, ok bool) probes.Result {
	p := f.phases(t.https)
	r := probes.Result{Tenant: t.tenant, Check: t.check, Kind: probes.KindHTTP, Start: start, Duration: total(p),
		Success: true, StatusCode: 200, Phases: p, BodyBytes: int64(120 + f.rng.IntN(2000))}
	if t.https {
		r.TLS, r.CertExpiry = true, start.Add(60*24*time.Hour).Truncate(time.Hour)
	}
	if !ok {
		f.fail(&r)
	}
	return r
}

// fail turns r into one of the usual failures, with the message a probe
// writes.
func (f *fleet) fail(r *probes.Result) {
	r.Success = false
	switch f.rng.IntN(3) {
	case 0:
		r.Reason, r.StatusCode, r.Message = probes.ReasonStatus, 503, "status 503, want 200"
	case 1:
		r.Reason, r.StatusCode, r.Phases, r.BodyBytes = probes.ReasonConnect, 0, probes.Phases{Connect: r.Phases.Connect}, 0
		r.Message = fmt.Sprintf("dial tcp 10.%d.%d.%d:443: connect: connection refused", f.rng.IntN(256), f.rng.IntN(256), f.rng.IntN(256))
	default:
		r.Reason, r.StatusCode, r.Duration, r.BodyBytes = probes.ReasonTimeout, 0, 10*time.Second, 0
		r.Message = "no response within the check's timeout of 10s"
	}
}

var loginSteps = [...]string{"sign-in page", "submit credentials", "session", "dashboard", "sign-out"}

// login is a five-step sign-in; a failure stops at a step, and the
// sign-out (always run) still runs.
func (f *fleet) login(t *target, start time.Time, ok bool) probes.Result {
	failAt := len(loginSteps)
	if !ok {
		failAt = 1 + f.rng.IntN(3)
	}
	r := probes.Result{Tenant: t.tenant, Check: t.check, Kind: probes.KindLogin, Start: start, Success: ok,
		TLS: true, CertExpiry: start.Add(60 * 24 * time.Hour).Truncate(time.Hour), StepsCompleted: failAt}
	for i, name := range loginSteps {
		st := probes.StepResult{Name: name}
		last := i == len(loginSteps)-1
		if i <= failAt || last {
			st.Ran, st.Phases = true, f.phases(i == 0)
			st.Duration, st.Success, st.StatusCode = total(st.Phases), true, 200
		}
		if i == failAt && !ok {
			st.Success, st.StatusCode, st.Reason = false, 401, probes.ReasonStatus
			st.Message = "status 401, want 200 or 302"
			r.StatusCode, r.Reason, r.Message = 401, probes.ReasonStatus, "step "+name+": status 401, want 200 or 302"
		}
		if st.Ran {
			r.Duration += st.Duration
			r.Phases = addPhases(r.Phases, st.Phases)
		}
		r.Steps = append(r.Steps, st)
	}
	if ok {
		r.StatusCode = 200
	}
	return r
}

func addPhases(p, q probes.Phases) probes.Phases {
	return probes.Phases{Resolve: p.Resolve + q.Resolve, Connect: p.Connect + q.Connect, TLS: p.TLS + q.TLS,
		Processing: p.Processing + q.Processing, Transfer: p.Transfer + q.Transfer}
}
