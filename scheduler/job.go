package scheduler

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/robfig/cron/v3"

	"github.com/forewarn/forewarn/probes"
)

// startMargin keeps a job's first run far enough in the future that gocron
// accepts it (WithStartDateTime rejects times in the past).
const startMargin = 50 * time.Millisecond

// probeGrace is how far past its timeout a probe may run before the
// scheduler's context cuts it off. Probes enforce their own timeout; this is
// a safety net. It leaves room for a login check's always_run sign-out,
// which after a timed-out run gets up to 5 s of its own (probes.ProbeLogin),
// and for the probe to report its own timeout rather than "context
// canceled". Shutdown still cancels at once.
const probeGrace = 6 * time.Second

// runLimit is how long the scheduler lets a run of t go. A load run may
// wait for the load budget up to its next run, then ramp for its duration
// limit; it enforces both itself.
func runLimit(t *probes.Target) time.Duration {
	if t.Load == nil {
		return t.Timeout + probeGrace
	}
	wait := t.Interval
	if wait <= 0 {
		wait = 24 * time.Hour // cron: the budget wait is bounded by windows, if any
	}
	return wait + t.Load.Jitter + t.Load.Limits.MaxDuration + probeGrace
}

// job is one (tenant × check) in gocron. Its target can be swapped by a
// reload that keeps its timing, without rescheduling.
type job struct {
	key    string
	target atomic.Pointer[probes.Target]
	gj     gocron.Job
	cron   cron.Schedule // nil for interval jobs
	// running is the in-task overlap guard (see run). It belongs to the key,
	// not the gocron job: a reload that changes a check's timing replaces
	// the job while its previous run may still be going.
	running *atomic.Bool
	removed atomic.Bool
	// ctx is the parent of the job's runs: removing the job cancels a run
	// going on, so a load run of a check dropped by a reload stops at once.
	ctx    context.Context
	cancel context.CancelFunc
}

// SkipOverlap is the reason a run is skipped when the previous run of the
// same target is still going.
const SkipOverlap = "overlap"

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// add creates the gocron job for t, with the overlap guard of the job it
// replaces, if any. The caller holds s.mu.
func (s *Scheduler) add(t probes.Target, running *atomic.Bool) error {
	if running == nil {
		running = new(atomic.Bool)
	}
	j := &job{key: t.Key(), running: running}
	j.ctx, j.cancel = context.WithCancel(s.ctx)
	j.target.Store(&t)
	def, opts, err := s.definition(j, t)
	if err != nil {
		j.cancel()
		return err
	}
	gj, err := s.gs.NewJob(def, gocron.NewTask(s.run, j), opts...)
	if err != nil {
		j.cancel()
		return fmt.Errorf("scheduling %s: %w", j.key, err)
	}
	j.gj = gj
	s.jobs[j.key] = j
	return nil
}

func (s *Scheduler) definition(j *job, t probes.Target) (gocron.JobDefinition, []gocron.JobOption, error) {
	opts := []gocron.JobOption{gocron.WithName(j.key)}
	if t.Schedule != "" {
		sched, err := cronParser.Parse(t.Schedule)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: schedule %q: %w", j.key, t.Schedule, err)
		}
		j.cron = sched
		return gocron.CronJob(t.Schedule, false), opts, nil
	}
	if t.Interval <= 0 {
		return nil, nil, fmt.Errorf("%s: interval must be positive", j.key)
	}
	start := NextSlot(j.key, t.Interval, s.clock.Now().Add(startMargin))
	opts = append(opts, gocron.WithStartAt(gocron.WithStartDateTime(start)))
	return gocron.DurationJob(t.Interval), opts, nil
}

// planned is the time the run happening at now was planned for.
func (j *job) planned(now time.Time) time.Time {
	t := j.target.Load()
	if j.cron == nil {
		return NearestSlot(j.key, t.Interval, now)
	}
	// The latest cron time at or before now (cron has no "previous").
	p := j.cron.Next(now.Add(-time.Minute))
	if p.After(now) {
		return now
	}
	for n := j.cron.Next(p); !n.After(now); n = j.cron.Next(n) {
		p = n
	}
	return p
}

// run is the task of every job. It is called by gocron on its own goroutine.
//
// The overlap guard lives here rather than in gocron's WithSingletonMode,
// which allocates a 1,000-slot channel and a goroutine per job: hundreds of
// MB at tens of thousands of jobs.
func (s *Scheduler) run(j *job) {
	if !j.running.CompareAndSwap(false, true) {
		s.o.Hooks.RunSkipped(SkipOverlap)
		return
	}
	defer j.running.Store(false)
	planned := j.planned(s.clock.Now())
	t := j.target.Load()

	// A load run is bounded by the load budget, not by the probes' cap:
	// waiting for its jitter or for another tenant's run must not hold a
	// slot every other probe needs.
	if t.Load == nil {
		select {
		case s.sem <- struct{}{}:
		case <-s.ctx.Done():
			return
		}
		defer func() { <-s.sem }()
	}

	s.o.Hooks.ObserveLag(max(0, s.clock.Since(planned)))
	ctx, cancel := context.WithTimeout(j.ctx, runLimit(t))
	defer cancel()
	s.o.Hooks.ProbeStarted()
	defer s.o.Hooks.ProbeFinished() // also when a probe panics (gocron recovers it)
	res := s.o.Probe(ctx, *t)
	if s.ctx.Err() != nil || j.removed.Load() {
		return // cut short by shutdown, or dropped by a reload: not a finding
	}
	if res.Skipped != "" {
		s.o.Hooks.RunSkipped(res.Skipped)
		return
	}
	s.o.OnResult(res)
}
