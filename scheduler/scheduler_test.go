package scheduler

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forewarn/forewarn/probes"
)

func TestOffsetsSpreadEvenly(t *testing.T) {
	const n, buckets = 10000, 10
	interval := time.Minute
	var count [buckets]int
	for i := range n {
		off := Offset(fmt.Sprintf("tenant-%05d/health", i), interval)
		if off < 0 || off >= interval {
			t.Fatalf("offset %v outside [0, %v)", off, interval)
		}
		count[int(off*buckets/interval)]++
	}
	for b, c := range count {
		if c < n/buckets*85/100 || c > n/buckets*115/100 {
			t.Errorf("bucket %d of the interval holds %d of %d jobs, want about %d: offsets bunch up", b, c, n, n/buckets)
		}
	}
	if Offset("acme/health", interval) != Offset("acme/health", interval) {
		t.Error("offset of a key changed between calls: a restart would move every job")
	}
}

func TestSlots(t *testing.T) {
	interval := 30 * time.Second
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	next := NextSlot("acme/health", interval, now)
	if !next.After(now) || next.Sub(now) > interval {
		t.Fatalf("NextSlot = %v, want within (now, now+interval]", next)
	}
	if got := next.Sub(time.Unix(0, 0)) % interval; got != Offset("acme/health", interval) {
		t.Errorf("NextSlot phase = %v, want the key's offset %v", got, Offset("acme/health", interval))
	}
	for _, jitter := range []time.Duration{-time.Millisecond, 0, 5 * time.Millisecond} {
		if got := NearestSlot("acme/health", interval, next.Add(jitter)); !got.Equal(next) {
			t.Errorf("NearestSlot(next%+v) = %v, want %v", jitter, got, next)
		}
	}
}

// recorder is a fake probe and result sink that counts concurrency.
type recorder struct {
	sleep        time.Duration
	mu           sync.Mutex
	perKey       map[string]int // runs in flight per key
	maxPerKey    int
	inFlight     int
	maxInFlight  int
	results      map[string]int
	skipped, lag atomic.Int64
	canceled     atomic.Int64
}

func newRecorder(sleep time.Duration) *recorder {
	return &recorder{sleep: sleep, perKey: map[string]int{}, results: map[string]int{}}
}

func (r *recorder) probe(ctx context.Context, t probes.Target) probes.Result {
	r.mu.Lock()
	r.perKey[t.Key()]++
	r.inFlight++
	r.maxPerKey = max(r.maxPerKey, r.perKey[t.Key()])
	r.maxInFlight = max(r.maxInFlight, r.inFlight)
	r.mu.Unlock()
	select {
	case <-time.After(r.sleep):
	case <-ctx.Done():
		r.canceled.Add(1)
	}
	r.mu.Lock()
	r.perKey[t.Key()]--
	r.inFlight--
	r.mu.Unlock()
	return probes.Result{Tenant: t.Tenant, Check: t.Check, Success: true}
}

func (r *recorder) onResult(res probes.Result) {
	r.mu.Lock()
	r.results[res.Tenant+"/"+res.Check]++
	r.mu.Unlock()
}

func (r *recorder) ObserveLag(d time.Duration) {
	if d > 50*time.Millisecond {
		r.lag.Add(1)
	}
}
func (r *recorder) ProbeStarted()     {}
func (r *recorder) ProbeFinished()    {}
func (r *recorder) RunSkipped(string) { r.skipped.Add(1) }

func (r *recorder) count(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.results[key]
}

func start(t *testing.T, r *recorder, maxInFlight int, targets ...probes.Target) *Scheduler {
	t.Helper()
	s, err := New(Options{MaxInFlight: maxInFlight, Probe: r.probe, OnResult: r.onResult, Hooks: r})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(targets); err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return s
}

func target(tenant string, interval time.Duration) probes.Target {
	return probes.Target{Tenant: tenant, Check: "health", Kind: probes.KindHTTP, Interval: interval, Timeout: interval}
}

func TestSlowProbeIsNotOverlapped(t *testing.T) {
	t.Parallel()
	r := newRecorder(350 * time.Millisecond)
	start(t, r, 0, target("acme", 100*time.Millisecond))
	time.Sleep(1200 * time.Millisecond)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.maxPerKey != 1 {
		t.Errorf("a job ran %d times at once; a slow probe must not be overlapped", r.maxPerKey)
	}
	if r.skipped.Load() == 0 {
		t.Error("no run was counted as skipped although the probe outlasts its interval")
	}
	if r.results["acme/health"] < 2 {
		t.Errorf("%d results in 1.2 s of a 350 ms probe, want ≥ 2", r.results["acme/health"])
	}
}

func TestGlobalCapOnProbesInFlight(t *testing.T) {
	t.Parallel()
	r := newRecorder(150 * time.Millisecond)
	var targets []probes.Target
	for i := range 20 {
		targets = append(targets, target(fmt.Sprintf("t%02d", i), 200*time.Millisecond))
	}
	start(t, r, 3, targets...)
	time.Sleep(1200 * time.Millisecond)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.maxInFlight > 3 {
		t.Errorf("%d probes ran at once, cap is 3", r.maxInFlight)
	}
	if r.maxInFlight < 3 {
		t.Errorf("at most %d probes ran at once; the cap of 3 should have been reached", r.maxInFlight)
	}
}

func TestShutdownCancelsInFlightProbes(t *testing.T) {
	t.Parallel()
	r := newRecorder(time.Hour)
	s, err := New(Options{Probe: r.probe, OnResult: r.onResult, Hooks: r})
	if err != nil {
		t.Fatal(err)
	}
	long := target("acme", 100*time.Millisecond)
	long.Timeout = time.Hour
	if err := s.Apply([]probes.Target{long}); err != nil {
		t.Fatal(err)
	}
	s.Start()
	time.Sleep(300 * time.Millisecond) // the first run starts within one interval
	began := time.Now()
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if d := time.Since(began); d > time.Second {
		t.Errorf("Shutdown took %v with a probe in flight; it must cancel the probe", d)
	}
	if r.canceled.Load() == 0 {
		t.Error("the in-flight probe's context was not canceled")
	}
	if n := r.count("acme/health"); n != 0 {
		t.Errorf("%d results delivered from probes cut short by shutdown, want 0", n)
	}
}

func TestApplyReloadsPlan(t *testing.T) {
	t.Parallel()
	r := newRecorder(time.Millisecond)
	s := start(t, r, 0, target("acme", 100*time.Millisecond), target("globex", 100*time.Millisecond))
	time.Sleep(300 * time.Millisecond)
	before := nextRun(t, s, "globex/health")

	changed := target("globex", 100*time.Millisecond)
	changed.Timeout = 50 * time.Millisecond // same timing, new content
	if err := s.Apply([]probes.Target{changed, target("initech", 100*time.Millisecond)}); err != nil {
		t.Fatal(err)
	}
	if got := nextRun(t, s, "globex/health"); !got.Equal(before) && got.Sub(before)%(100*time.Millisecond) != 0 {
		t.Errorf("a reload that kept globex's interval moved its slot: %v → %v", before, got)
	}
	acme := r.count("acme/health")
	time.Sleep(400 * time.Millisecond)
	if got := r.count("acme/health"); got > acme+1 {
		t.Errorf("removed target acme still ran %d more times", got-acme)
	}
	if r.count("initech/health") == 0 {
		t.Error("target initech added by reload never ran")
	}
	plan := s.Plan()
	if len(plan) != 2 || plan[0].Target.Key() != "globex/health" || plan[0].Target.Timeout != 50*time.Millisecond {
		t.Errorf("plan after reload = %+v", plan)
	}
	if r.lag.Load() > 0 {
		t.Errorf("%d runs started more than 50 ms late on an idle scheduler", r.lag.Load())
	}
}

func nextRun(t *testing.T, s *Scheduler, key string) time.Time {
	t.Helper()
	for _, e := range s.Plan() {
		if e.Target.Key() == key {
			return e.NextRun
		}
	}
	t.Fatalf("%s not in plan", key)
	return time.Time{}
}

func TestCronTargets(t *testing.T) {
	now := time.Date(2026, 11, 23, 2, 59, 30, 0, time.UTC)
	tg := probes.Target{Tenant: "acme", Check: "capacity", Schedule: "0 3 * * *", Timeout: time.Minute}
	next, err := NextRun(tg, now)
	if err != nil || !next.Equal(time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)) {
		t.Errorf("NextRun(0 3 * * *) at 02:59:30 = %v, %v; want 03:00 UTC", next, err)
	}
	j := &job{key: tg.Key()}
	j.target.Store(&tg)
	j.cron, _ = cronParser.Parse(tg.Schedule)
	for _, fired := range []time.Duration{-5 * time.Millisecond, 0, 20 * time.Millisecond} {
		at := next.Add(fired)
		want := next
		if fired < 0 {
			want = at // fired early: no lag
		}
		if got := j.planned(at); !got.Equal(want) {
			t.Errorf("planned(03:00%+v) = %v, want %v", fired, got, want)
		}
	}

	r := newRecorder(time.Millisecond)
	s := start(t, r, 0, tg)
	if plan := s.Plan(); len(plan) != 1 || !plan[0].NextRun.After(time.Now()) {
		t.Errorf("cron target not scheduled: %+v", plan)
	}
}

// A reload that changes a check's timing replaces its job; the run still
// going must keep the new job from starting another run of the same check.
func TestTimingReloadDoesNotOverlapRunningProbe(t *testing.T) {
	t.Parallel()
	r := newRecorder(600 * time.Millisecond)
	s := start(t, r, 0, target("acme", 100*time.Millisecond))
	time.Sleep(250 * time.Millisecond) // the first run is going
	if err := s.Apply([]probes.Target{target("acme", 150*time.Millisecond)}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(600 * time.Millisecond)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.maxPerKey != 1 {
		t.Errorf("%d runs of acme/health at once after a timing reload, want 1", r.maxPerKey)
	}
}

func TestTargetsListsScheduledPlan(t *testing.T) {
	r := newRecorder(time.Millisecond)
	s := start(t, r, 0, target("acme", time.Minute), target("globex", time.Minute))
	if got := len(s.Targets()); got != 2 {
		t.Errorf("Targets() = %d targets, want 2", got)
	}
}

// TestSkippedRunIsNotAResult: a run that did not happen (a load run
// outside its window) is counted as skipped and delivers no result.
func TestSkippedRunIsNotAResult(t *testing.T) {
	t.Parallel()
	r := newRecorder(0)
	s, err := New(Options{Hooks: r, OnResult: r.onResult, Probe: func(ctx context.Context, t probes.Target) probes.Result {
		return probes.Result{Tenant: t.Tenant, Check: t.Check, Skipped: probes.SkipOutsideWindow}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Apply([]probes.Target{target("acme", 100*time.Millisecond)}); err != nil {
		t.Fatal(err)
	}
	s.Start()
	defer s.Shutdown(context.Background())
	time.Sleep(450 * time.Millisecond)
	if r.skipped.Load() < 2 || r.count("acme/health") != 0 {
		t.Errorf("%d skips, %d results; want skips and no result", r.skipped.Load(), r.count("acme/health"))
	}
}

func TestLoadRunLimit(t *testing.T) {
	load := &probes.Target{Interval: time.Hour, Timeout: 10 * time.Second,
		Load: &probes.LoadSpec{Jitter: time.Minute, Limits: probes.LoadLimits{MaxDuration: 20 * time.Minute}}}
	if got := runLimit(load); got != time.Hour+time.Minute+20*time.Minute+probeGrace {
		t.Errorf("load run limit %s", got)
	}
	if got := runLimit(&probes.Target{Timeout: 10 * time.Second}); got != 10*time.Second+probeGrace {
		t.Errorf("probe run limit %s", got)
	}
}

// TestRemovedTargetRunIsCancelled: a reload that drops a target cancels its
// run going on (a load run must not outlive its check).
func TestRemovedTargetRunIsCancelled(t *testing.T) {
	t.Parallel()
	r := newRecorder(time.Hour)
	s := start(t, r, 0, target("acme", 100*time.Millisecond))
	deadline := time.Now().Add(2 * time.Second)
	for {
		r.mu.Lock()
		running := r.inFlight
		r.mu.Unlock()
		if running > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.Apply(nil); err != nil {
		t.Fatal(err)
	}
	for time.Now().Before(deadline) && r.canceled.Load() == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	if r.canceled.Load() != 1 {
		t.Errorf("the removed target's run was not cancelled")
	}
}
