package probes

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/robfig/cron/v3"
)

// Why a scheduled load run did not happen (Result.Skipped).
const (
	SkipOutsideWindow = "outside_window" // the time is in none of the check's windows
	SkipLoadBudget    = "load_budget"    // other runs held the budget until the window closed
	SkipWindowShort   = "window_short"   // too little of the window was left for the ramp
)

var windowParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// InWindow reports whether a load run may happen at now, and until when:
// the latest end among the windows open at now. Without windows any time
// is allowed, with no end (a zero time).
func (s *LoadSpec) InWindow(now time.Time) (end time.Time, ok bool) {
	if len(s.Windows) == 0 {
		return time.Time{}, true
	}
	now = now.UTC()
	for _, w := range s.Windows {
		sched, err := windowParser.Parse(w.Cron)
		if err != nil {
			continue // config load validated it
		}
		// Openings after now−duration and at or before now: the window of
		// each is still open at now.
		for open := sched.Next(now.Add(-w.Duration)); !open.After(now); open = sched.Next(open) {
			ok = true
			if e := open.Add(w.Duration); e.After(end) {
				end = e
			}
		}
	}
	return end, ok
}

// RunScheduledLoad runs t's ramp as the scheduler does: after a random
// delay of up to the check's jitter, only inside one of its windows, never
// past that window's end, and once the process-wide budget has room. It
// returns skipped, and no result worth keeping, when the run did not
// happen; a ctx ended before the run began (shutdown) skips too.
func RunScheduledLoad(ctx context.Context, t Target, o LoadOptions) (res Result, skipped string) {
	spec := t.Load
	if spec == nil {
		return RunLoad(ctx, t, o), ""
	}
	if j := spec.Jitter; j > 0 && !sleepUntil(ctx, time.Now().Add(time.Duration(rand.Int64N(int64(j))))) {
		return Result{}, "cancelled"
	}
	end, ok := spec.InWindow(time.Now())
	if !ok {
		return Result{}, SkipOutsideWindow
	}
	if !end.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, end)
		defer cancel()
	}
	// A run that cannot finish its ramp before the window closes would
	// end cut short, with a knee that is only a lower bound: skip it.
	need := time.Duration(len(spec.Ramp.Levels())+1) * spec.Ramp.StepDuration
	windowLeft := func() bool { return end.IsZero() || time.Until(end) >= need }
	if !windowLeft() {
		return Result{}, SkipWindowShort
	}
	levels := spec.Ramp.Levels()
	peak := 0
	if len(levels) > 0 {
		peak = levels[len(levels)-1]
	}
	release, err := o.Budget.Wait(ctx, t.Key(), peak, spec.Limits.MaxRate, spec.Exclusive)
	if err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			return Result{}, "cancelled"
		}
		if ctx.Err() != nil {
			return Result{}, SkipLoadBudget
		}
		return RunLoad(ctx, t, o), "" // can never fit: RunLoad reports why
	}
	defer release()
	if !windowLeft() { // the wait for the budget used it up
		return Result{}, SkipWindowShort
	}
	o.Budget = nil
	return RunLoad(ctx, t, o), ""
}
