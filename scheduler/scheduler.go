// Package scheduler runs every target of the plan on its schedule with
// gocron/v2: one job per (tenant × check), each at a stable offset within its
// interval, never overlapping itself, with a global cap on probes in flight.
//
// The scheduler only runs probes and hands their results on; it does not
// know about metrics, storage or notifications beyond the small Hooks it
// reports its own health to.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/jonboulle/clockwork"

	"github.com/forewarn/forewarn/probes"
)

// Hooks receives the scheduler's own health. *metrics.Exporter implements it.
type Hooks interface {
	ObserveLag(time.Duration)
	ProbeStarted()
	ProbeFinished()
	RunSkipped(reason string)
}

// Options configure a Scheduler. Zero values get sane defaults.
type Options struct {
	// MaxInFlight caps probes running at once across all jobs (default
	// 512). A run that finds the cap reached waits for a slot; the wait
	// shows as scheduler lag.
	MaxInFlight int
	// Probe runs one probe; default probes.Run.
	Probe func(context.Context, probes.Target) probes.Result
	// OnResult receives each result, from the job's goroutine. It must be
	// safe for concurrent use. Results of probes cut short by Shutdown, or
	// of targets removed by a reload while running, are not delivered.
	OnResult func(probes.Result)
	Hooks    Hooks
	Clock    clockwork.Clock // default: the real clock
	Logger   *slog.Logger
}

// DefaultMaxInFlight is the default global cap on probes in flight.
const DefaultMaxInFlight = 512

// Scheduler runs the plan. Create it with New, then Apply a plan and Start.
type Scheduler struct {
	o     Options
	gs    gocron.Scheduler
	clock clockwork.Clock
	sem   chan struct{}

	// ctx is the parent of every probe's context; Shutdown cancels it so
	// in-flight probes stop at once.
	ctx    context.Context
	cancel context.CancelFunc

	mu   sync.Mutex
	jobs map[string]*job
}

// New creates a scheduler; nothing runs until Start.
func New(o Options) (*Scheduler, error) {
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	if o.Probe == nil {
		o.Probe = probes.Run
	}
	if o.OnResult == nil {
		o.OnResult = func(probes.Result) {}
	}
	if o.Hooks == nil {
		o.Hooks = nopHooks{}
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	gs, err := gocron.NewScheduler(
		gocron.WithClock(o.Clock),
		gocron.WithLocation(time.UTC), // cron schedules are read in UTC
		gocron.WithStopTimeout(5*time.Second),
	)
	if err != nil {
		return nil, fmt.Errorf("creating scheduler: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Scheduler{
		o: o, gs: gs, clock: o.Clock, sem: make(chan struct{}, o.MaxInFlight),
		ctx: ctx, cancel: cancel, jobs: map[string]*job{},
	}, nil
}

// Start begins running jobs.
func (s *Scheduler) Start() { s.gs.Start() }

// Shutdown cancels in-flight probes and stops the scheduler. It returns once
// every job has returned, or when ctx ends.
func (s *Scheduler) Shutdown(ctx context.Context) error {
	s.cancel()
	done := make(chan error, 1)
	go func() { done <- s.gs.Shutdown() }()
	select {
	case err := <-done:
		if errors.Is(err, gocron.ErrStopJobsTimedOut) {
			return fmt.Errorf("stopping scheduler: some probes did not stop in time: %w", err)
		}
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Entry is one target of the running plan and when it runs next.
type Entry struct {
	Target  probes.Target
	NextRun time.Time
}

// Plan lists the running targets in key order with their next run time.
func (s *Scheduler) Plan() []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Entry, 0, len(s.jobs))
	for _, j := range s.jobs {
		e := Entry{Target: *j.target.Load()}
		if next, err := j.gj.NextRun(); err == nil {
			e.NextRun = next
		}
		out = append(out, e)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Target.Key() < out[b].Target.Key() })
	return out
}

type nopHooks struct{}

func (nopHooks) ObserveLag(time.Duration) {}
func (nopHooks) ProbeStarted()            {}
func (nopHooks) ProbeFinished()           {}
func (nopHooks) RunSkipped(string)        {}
