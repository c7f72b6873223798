package probes

import (
	"time"
)

// KindLoad ramps virtual users against a tenant until it stops meeting its
// SLO, and reports the highest concurrency that still met it: the capacity
// knee, next to the seats the customer contracted for.
const KindLoad Kind = "load"

// ReasonCapacity fails a load check whose knee is below the seats required
// of it: the tenant does not serve the users it is paid for.
const ReasonCapacity Reason = "capacity"

// LoadModel is how virtual users send requests.
type LoadModel string

// Load models.
const (
	// LoadClosed: each user sends its next request when the previous one
	// answered and its think time passed. The default.
	LoadClosed LoadModel = "closed"
	// LoadOpen: each user starts an iteration every Pace whatever the
	// tenant answers (an arrival rate of users/pace). Latency counts from
	// the intended send time, so a stalled tenant cannot hide its stall by
	// slowing the generator (no coordinated omission).
	LoadOpen LoadModel = "open"
)

// LoadSpec is a resolved load check for one tenant.
type LoadSpec struct {
	// Scenario is how each virtual user signs in before it works.
	Scenario LoadScenario
	// Actions run in order, over and over, by every signed-in user. Their
	// templates see the values the sign-in extracted (.Extracted) and, with
	// a token pool, the user's token as .Extracted.token.
	Actions []Step
	// ThinkTime is the pause after each action (closed model), with up to
	// ThinkJitter added at random so users do not march in step.
	ThinkTime   time.Duration
	ThinkJitter time.Duration

	Model LoadModel
	// Pace is the period between a user's iteration starts in the open
	// model: users/Pace iterations per second in all.
	Pace time.Duration

	Ramp   Ramp
	SLO    SLO
	Limits LoadLimits

	// Seats is the tenant's contracted concurrent users (0: unknown).
	// Required is the knee below which the check fails: seats × the
	// check's required fraction (0: no requirement).
	Seats    int
	Required int

	// Windows, when set, allow scheduled runs only inside one of them; a
	// run never lasts past its window's end. Jitter delays a scheduled run
	// by a random time up to it.
	Windows []LoadWindow
	Jitter  time.Duration

	// Exclusive, true by default, keeps this run from overlapping any
	// other tenant's exclusive load run in the process.
	Exclusive bool

	Tenant TemplateTenant
	Vars   map[string]string
}

// LoadScenario is how a virtual user gets a session. Exactly one of
// SignIn and Tokens is set.
type LoadScenario struct {
	// LoginCheck names the login check whose steps SignIn holds.
	LoginCheck string
	// SignIn are the login check's steps but its always_run ones, run once
	// per user; SignOut are the always_run steps, run when the user stops.
	SignIn  []Step
	SignOut []Step
	// Tokens is a pool of ready credentials: user i uses Tokens[i%len].
	Tokens []string
}

// Ramp is a stepped ramp of concurrent users, percentages of seats
// resolved at config load.
type Ramp struct {
	Start, Step, Max int
	StepDuration     time.Duration // each step's length, warm-up included
	WarmUp           time.Duration // discarded at the start of each step
}

// Levels lists the user counts of the ramp's steps: Start, Start+Step, …,
// and Max as the last step even when Step does not divide the range.
func (r Ramp) Levels() []int {
	if r.Start <= 0 || r.Step <= 0 || r.Max < r.Start {
		return nil
	}
	var out []int
	for u := r.Start; u < r.Max; u += r.Step {
		out = append(out, u)
	}
	return append(out, r.Max)
}

// SLO is what a step must meet to count as served: its error ratio and
// its p95 latency at most these.
type SLO struct {
	P95        time.Duration
	ErrorRatio float64
}

// LoadLimits are a run's hard caps, within the process-wide ones.
type LoadLimits struct {
	MaxUsers    int
	MaxRate     float64 // requests per second over all users; 0: none
	MaxDuration time.Duration
}

// LoadWindow is a time a load run may happen in: it opens at each Cron
// time (5 fields, UTC) and stays open for Duration.
type LoadWindow struct {
	Cron     string
	Duration time.Duration
}

// LoadResult is a load run's curve and what it concluded.
type LoadResult struct {
	Model LoadModel
	SLO   SLO
	Seats int
	// Required is the knee the check asks for (LoadSpec.Required).
	Required int
	// Planned are the ramp's levels; Steps the steps run, a level may run
	// twice when its break is confirmed.
	Planned []int
	Steps   []LoadStep
	Knee    Knee
	// Stop says why the ramp ended: "max", "slo", "aborted", "time cap",
	// "sign-in".
	Stop    string
	Message string // readable account of the stop
}

// Knee is the capacity a ramp found.
type Knee struct {
	// Users is the highest level that met the SLO before the confirmed
	// break; 0 when no level met it.
	Users int
	// BreakAt is the first level whose break was confirmed; 0 when none.
	BreakAt int
	// AtMax is true when every level up to the ramp's max met the SLO:
	// Users is then a lower bound.
	AtMax bool
}

// LoadStep is one step of a ramp, measured after its warm-up.
type LoadStep struct {
	Users    int
	Confirm  bool // a re-run of the level before to confirm its break
	Start    time.Time
	Duration time.Duration // measured window
	Requests int64
	Errors   int64
	Rate     float64 // requests per second in the window
	// ErrorRatio is Errors/Requests, 1 when nothing completed.
	ErrorRatio         float64
	P50, P95, P99, Max time.Duration
	// InFlight is the most requests in flight at once; at most Users, since
	// each user sends one request at a time.
	InFlight int
	Passed   bool // met the SLO
	// FirstError is the first failed request of the window: the step's
	// name and the failure, redacted.
	FirstError string
}

// LoadProgress is a running ramp's state, reported a few times a second.
type LoadProgress struct {
	Step     int // index into the steps run so far, 0-based
	Planned  int // levels planned (len(Planned))
	Users    int
	Phase    string // "sign-in", "warm-up", "measure"
	Elapsed  time.Duration
	StepTime time.Duration // the step's full length
	Requests int64         // in the current step so far
	Errors   int64
	Done     []LoadStep // steps finished
}

// LoadOptions are what the caller of RunLoad adds to a target.
type LoadOptions struct {
	// Progress, when set, receives the ramp's state a few times a second
	// and once at the end, from one goroutine.
	Progress func(LoadProgress)
	// Budget is the process-wide load budget the run reserves its users
	// and rate from; nil: no budget beyond the run's own limits.
	Budget *LoadBudget
	// OnRequest, when set, is called for every request a user completes in
	// a measured window or not: its latency and whether it met the action's
	// assertions. It must be cheap and safe for concurrent use (metrics).
	OnRequest func(d time.Duration, ok bool)
}
