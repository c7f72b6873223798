package probes

import (
	"slices"
	"testing"
	"time"
)

var kneeSLO = SLO{P95: 500 * time.Millisecond, ErrorRatio: 0.01}

// step is a measured step judged against kneeSLO, as a run judges it.
func step(users int, p95ms int, errRatio float64) LoadStep {
	s := LoadStep{Users: users, Requests: 1000, P95: time.Duration(p95ms) * time.Millisecond, ErrorRatio: errRatio}
	s.Passed = kneeSLO.Met(s)
	return s
}

func confirm(s LoadStep) LoadStep { s.Confirm = true; return s }

func TestSLOMet(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    LoadStep
		want bool
	}{
		{"within both", step(10, 100, 0), true},
		{"p95 exactly at the limit", step(10, 500, 0), true},
		{"error ratio exactly at the limit", step(10, 100, 0.01), true},
		{"p95 over", step(10, 501, 0), false},
		{"errors over", step(10, 100, 0.0101), false},
		{"nothing completed", LoadStep{Users: 10}, false},
	} {
		if got := kneeSLO.Met(tc.s); got != tc.want {
			t.Errorf("%s: Met = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestFindKnee(t *testing.T) {
	levels := []int{50, 100, 150, 200, 250, 300}
	for _, tc := range []struct {
		name  string
		steps []LoadStep
		want  Knee
	}{
		{"break confirmed", []LoadStep{
			step(50, 80, 0), step(100, 90, 0), step(150, 120, 0.002),
			step(200, 900, 0.2), confirm(step(200, 950, 0.25)),
		}, Knee{Users: 150, BreakAt: 200}},
		{"noisy step recovers on confirmation", []LoadStep{
			step(50, 80, 0), step(100, 520, 0), confirm(step(100, 110, 0)),
			step(150, 130, 0), step(200, 700, 0.05), confirm(step(200, 800, 0.06)),
		}, Knee{Users: 150, BreakAt: 200}},
		{"errors just over the SLO break it, latency fine", []LoadStep{
			step(50, 80, 0), step(100, 90, 0.012), confirm(step(100, 95, 0.011)),
		}, Knee{Users: 50, BreakAt: 100}},
		{"recovery after a bad step, then a real break", []LoadStep{
			step(50, 80, 0), step(100, 90, 0.3), confirm(step(100, 90, 0)),
			step(150, 100, 0), step(200, 100, 0), step(250, 2000, 0.5), confirm(step(250, 2100, 0.5)),
		}, Knee{Users: 200, BreakAt: 250}},
		{"no step passing", []LoadStep{
			step(50, 3000, 0.9), confirm(step(50, 3000, 0.9)),
		}, Knee{Users: 0, BreakAt: 50}},
		{"all steps passing", []LoadStep{
			step(50, 80, 0), step(100, 80, 0), step(150, 80, 0),
			step(200, 80, 0), step(250, 80, 0), step(300, 80, 0),
		}, Knee{Users: 300, AtMax: true}},
		{"last level noisy then served", []LoadStep{
			step(50, 80, 0), step(100, 80, 0), step(150, 80, 0), step(200, 80, 0),
			step(250, 80, 0), step(300, 600, 0), confirm(step(300, 90, 0)),
		}, Knee{Users: 300, AtMax: true}},
		{"aborted before the confirmation", []LoadStep{
			step(50, 80, 0), step(100, 900, 0.4),
		}, Knee{Users: 50}},
		{"nothing ran", nil, Knee{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := FindKnee(levels, tc.steps); got != tc.want {
				t.Errorf("FindKnee = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestNextLevelStopsEarly drives NextLevel with a tenant that serves up to
// a capacity: the ramp stops one confirmation after the first break and
// never goes above the break's level.
func TestNextLevelStopsEarly(t *testing.T) {
	levels := Ramp{Start: 50, Step: 50, Max: 600}.Levels()
	for _, tc := range []struct {
		name      string
		capacity  int
		noisyAt   int // a level whose first run misses the SLO by chance
		wantUsers []int
		wantStop  string
		wantKnee  Knee
	}{
		{"breaks at 200", 150, 0, []int{50, 100, 150, 200, 200}, StopSLO, Knee{Users: 150, BreakAt: 200}},
		{"noise at 100 does not stop it", 150, 100, []int{50, 100, 100, 150, 200, 200}, StopSLO, Knee{Users: 150, BreakAt: 200}},
		{"serves every level", 1000, 0, levels, StopMax, Knee{Users: 600, AtMax: true}},
		{"serves none", 10, 0, []int{50, 50}, StopSLO, Knee{BreakAt: 50}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var steps []LoadStep
			var ran []int
			stop := ""
			for range 100 {
				users, conf, done, why := NextLevel(levels, steps)
				if done {
					stop = why
					break
				}
				s := step(users, 100, 0)
				if users > tc.capacity || (users == tc.noisyAt && !conf) {
					s = step(users, 1500, 0.3)
				}
				s.Confirm = conf
				steps = append(steps, s)
				ran = append(ran, users)
			}
			if stop != tc.wantStop || !slices.Equal(ran, tc.wantUsers) {
				t.Errorf("ran %v, stop %q; want %v, stop %q", ran, stop, tc.wantUsers, tc.wantStop)
			}
			if k := FindKnee(levels, steps); k != tc.wantKnee {
				t.Errorf("knee %+v, want %+v", k, tc.wantKnee)
			}
		})
	}
}

func TestRampLevels(t *testing.T) {
	for _, tc := range []struct {
		r    Ramp
		want []int
	}{
		{Ramp{Start: 50, Step: 50, Max: 200}, []int{50, 100, 150, 200}},
		{Ramp{Start: 10, Step: 25, Max: 70}, []int{10, 35, 60, 70}}, // max is always the last level
		{Ramp{Start: 5, Step: 1, Max: 5}, []int{5}},
		{Ramp{Start: 50, Step: 50, Max: 40}, nil}, // max below start: config rejects it
		{Ramp{Start: 50, Step: 0, Max: 100}, nil}, // step 0: config rejects it
	} {
		if got := tc.r.Levels(); !slices.Equal(got, tc.want) {
			t.Errorf("%+v.Levels() = %v, want %v", tc.r, got, tc.want)
		}
	}
}
