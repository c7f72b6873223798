package scheduler

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/forewarn/forewarn/probes"
)

// Apply makes the running jobs match targets: new targets are scheduled,
// missing ones removed, changed ones updated. A target whose timing
// (interval, schedule) is unchanged keeps its slot and only has its target
// swapped, so a reload does not shift or re-run anything. Apply is used for
// the first plan and for every reload.
func (s *Scheduler) Apply(targets []probes.Target) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	want := make(map[string]probes.Target, len(targets))
	for _, t := range targets {
		if _, dup := want[t.Key()]; dup {
			return fmt.Errorf("plan has %s twice", t.Key())
		}
		want[t.Key()] = t
	}
	var errs []error
	for key, j := range s.jobs {
		if _, ok := want[key]; !ok {
			errs = append(errs, s.remove(j))
		}
	}
	for key, t := range want {
		j, ok := s.jobs[key]
		switch {
		case !ok:
			errs = append(errs, s.add(t, nil))
		case sameTiming(*j.target.Load(), t):
			if !reflect.DeepEqual(*j.target.Load(), t) {
				j.target.Store(&t)
			}
		default:
			errs = append(errs, s.remove(j), s.add(t, j.running))
		}
	}
	return errors.Join(errs...)
}

func (s *Scheduler) remove(j *job) error {
	j.removed.Store(true)
	j.cancel()
	delete(s.jobs, j.key)
	if err := s.gs.RemoveJob(j.gj.ID()); err != nil {
		return fmt.Errorf("removing %s: %w", j.key, err)
	}
	return nil
}

func sameTiming(a, b probes.Target) bool {
	return a.Interval == b.Interval && a.Schedule == b.Schedule
}

// Targets lists the targets scheduled now, in no particular order.
func (s *Scheduler) Targets() []probes.Target {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]probes.Target, 0, len(s.jobs))
	for _, j := range s.jobs {
		out = append(out, *j.target.Load())
	}
	return out
}
