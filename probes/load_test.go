package probes

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// capacityServer serves capacity requests at once, each taking work; one
// more waits up to a queue bound, the rest get 503 at once: the shape of a
// tenant that breaks past its capacity. It counts what it received.
type capacityServer struct {
	capacity int
	work     time.Duration
	slots    chan struct{}

	requests  atomic.Int64
	inFlight  atomic.Int64
	peak      atomic.Int64
	mu        sync.Mutex
	perSecond map[int64]int64
	tokens    sync.Map // tokens seen
}

func newCapacityServer(t *testing.T, capacity int, work time.Duration) (*capacityServer, string) {
	s := &capacityServer{capacity: capacity, work: work, slots: make(chan struct{}, capacity), perSecond: map[int64]int64{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL
}

func (s *capacityServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for p := s.peak.Load(); n > p && !s.peak.CompareAndSwap(p, n); p = s.peak.Load() {
	}
	s.mu.Lock()
	s.perSecond[time.Now().Unix()]++
	s.mu.Unlock()
	if tok := r.Header.Get("Authorization"); tok != "" {
		s.tokens.Store(tok, true)
	}
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	default:
		http.Error(w, "over capacity", http.StatusServiceUnavailable)
		return
	}
	time.Sleep(s.work)
	w.Write([]byte("ok"))
}

func (s *capacityServer) peakPerSecond() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var p int64
	for _, n := range s.perSecond {
		p = max(p, n)
	}
	return p
}

// loadTarget is a closed-model ramp over a token pool, one action.
func loadTarget(url string, ramp Ramp) Target {
	return Target{
		Tenant: "acme", Check: "capacity", Kind: KindLoad, Timeout: 2 * time.Second,
		Load: &LoadSpec{
			Scenario: LoadScenario{Tokens: []string{"t1", "t2", "t3"}},
			Actions: []Step{{Name: "work", Request: &StepRequest{URL: tmpl(url + "/work"),
				Headers: []NamedTemplate{{Name: "Authorization", Value: tmpl("Bearer {{ .Extracted.token }}")}}}}},
			Model: LoadClosed, Ramp: ramp,
			SLO:    SLO{P95: 200 * time.Millisecond, ErrorRatio: 0.01},
			Limits: LoadLimits{MaxUsers: 100, MaxDuration: time.Minute},
			Seats:  30, Required: 30,
			Tenant: TemplateTenant{ID: "acme", URL: url},
		},
	}
}

func TestLoadFindsCapacityAndStopsEarly(t *testing.T) {
	srv, url := newCapacityServer(t, 20, 5*time.Millisecond)
	tg := loadTarget(url, Ramp{Start: 5, Step: 5, Max: 40, StepDuration: 400 * time.Millisecond, WarmUp: 100 * time.Millisecond})
	var progress []LoadProgress
	var mu sync.Mutex
	res := RunLoad(context.Background(), tg, LoadOptions{Progress: func(p LoadProgress) {
		mu.Lock()
		progress = append(progress, p)
		mu.Unlock()
	}})
	lr := res.Load
	if lr == nil {
		t.Fatalf("no load result: %+v", res)
	}
	for _, s := range lr.Steps {
		t.Logf("users %3d confirm=%v req %5d err %.3f p95 %v passed %v %s", s.Users, s.Confirm, s.Requests, s.ErrorRatio, s.P95, s.Passed, s.FirstError)
	}
	if lr.Knee.Users != 20 || lr.Knee.BreakAt != 25 || lr.Stop != StopSLO {
		t.Errorf("knee %+v stop %q, want 20 breaking at 25 (slo)", lr.Knee, lr.Stop)
	}
	// Stopped early: never above the break, the break re-run once.
	if last := lr.Steps[len(lr.Steps)-1]; last.Users != 25 || !last.Confirm || len(lr.Steps) != 6 {
		t.Errorf("steps ran: %d, last %+v; want 5..25 and 25 confirmed", len(lr.Steps), last)
	}
	if p := srv.peak.Load(); p > 25 {
		t.Errorf("the server saw %d requests at once, more than the 25 users the ramp reached", p)
	}
	if res.Success || res.Reason != ReasonCapacity || !strings.Contains(res.Message, "capacity knee 20 users is below the 30 required") {
		t.Errorf("result %v %q %q", res.Success, res.Reason, res.Message)
	}
	if !strings.Contains(lr.Steps[4].FirstError, "status 503") {
		t.Errorf("first error of the broken step: %q", lr.Steps[4].FirstError)
	}
	if len(progress) < 10 || progress[len(progress)-1].Step != 6 {
		t.Errorf("%d progress reports", len(progress))
	}
	if _, ok := srv.tokens.Load("Bearer t3"); !ok {
		t.Error("users did not share out the token pool")
	}
}

func TestLoadAllLevelsServed(t *testing.T) {
	_, url := newCapacityServer(t, 100, time.Millisecond)
	tg := loadTarget(url, Ramp{Start: 10, Step: 10, Max: 30, StepDuration: 300 * time.Millisecond, WarmUp: 50 * time.Millisecond})
	res := RunLoad(context.Background(), tg, LoadOptions{})
	if !res.Success || res.Load.Knee != (Knee{Users: 30, AtMax: true}) || res.Load.Stop != StopMax {
		t.Fatalf("result %v %q, knee %+v stop %q", res.Success, res.Message, res.Load.Knee, res.Load.Stop)
	}
	for _, s := range res.Load.Steps {
		if s.Requests == 0 || s.P50 <= 0 || s.P50 > s.P95 || s.P95 > s.P99 || s.P99 > s.Max || s.Rate <= 0 {
			t.Errorf("step %+v", s)
		}
	}
}

func TestLoadRateCapHolds(t *testing.T) {
	srv, url := newCapacityServer(t, 1000, 0)
	tg := loadTarget(url, Ramp{Start: 20, Step: 20, Max: 20, StepDuration: 2500 * time.Millisecond, WarmUp: 100 * time.Millisecond})
	tg.Load.Limits.MaxRate = 200
	res := RunLoad(context.Background(), tg, LoadOptions{})
	if res.Load == nil || len(res.Load.Steps) != 1 {
		t.Fatalf("%+v", res)
	}
	s := res.Load.Steps[0]
	if s.Rate > 200*1.1 || s.Rate < 150 {
		t.Errorf("rate %.0f/s, want about the cap of 200/s", s.Rate)
	}
	// The limiter's burst is a twentieth of the rate: no second may see more.
	if p := srv.peakPerSecond(); p > 200+10+1 {
		t.Errorf("the server saw %d requests in one second; the cap is 200/s", p)
	}
}

func TestLoadAbortsWithinASecond(t *testing.T) {
	_, url := newCapacityServer(t, 1000, 300*time.Millisecond)
	tg := loadTarget(url, Ramp{Start: 50, Step: 50, Max: 100, StepDuration: time.Minute, WarmUp: time.Second})
	tg.Load.Scenario = LoadScenario{Tokens: []string{"t"}}
	tg.Load.Limits.MaxDuration = 10 * time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(700*time.Millisecond, cancel)
	start := time.Now()
	res := RunLoad(ctx, tg, LoadOptions{})
	if took := time.Since(start); took > 1700*time.Millisecond {
		t.Errorf("RunLoad returned %s after the start, %s after the cancel", took, took-700*time.Millisecond)
	}
	if res.Success || res.Load.Stop != StopAborted {
		t.Errorf("aborted run: success %v stop %q", res.Success, res.Load.Stop)
	}
}

func TestLoadTimeCapStopsTheRamp(t *testing.T) {
	_, url := newCapacityServer(t, 1000, 0)
	tg := loadTarget(url, Ramp{Start: 1, Step: 1, Max: 10, StepDuration: 300 * time.Millisecond, WarmUp: 50 * time.Millisecond})
	tg.Load.Limits.MaxDuration = time.Second
	start := time.Now()
	res := RunLoad(context.Background(), tg, LoadOptions{})
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Errorf("took %s with a 1s limit", took)
	}
	if res.Load.Stop != StopTimeCap || len(res.Load.Steps) != 3 || res.Success || res.Reason != ReasonTimeout {
		t.Errorf("stop %q after %d steps, %v %q", res.Load.Stop, len(res.Load.Steps), res.Reason, res.Message)
	}
}

// TestLoadOpenModelCountsStalls checks that the open model measures from
// the intended send time: a tenant that stalls every user for 300ms while
// they should send every 50ms shows latencies well past 300ms, not the
// 300ms a generator that waited politely would report.
func TestLoadOpenModelCountsStalls(t *testing.T) {
	_, url := newCapacityServer(t, 1000, 300*time.Millisecond)
	tg := loadTarget(url, Ramp{Start: 5, Step: 5, Max: 5, StepDuration: 2 * time.Second, WarmUp: 200 * time.Millisecond})
	tg.Load.Model, tg.Load.Pace = LoadOpen, 50*time.Millisecond
	tg.Load.SLO.P95 = time.Minute
	res := RunLoad(context.Background(), tg, LoadOptions{})
	s := res.Load.Steps[0]
	if s.P99 < 900*time.Millisecond {
		t.Errorf("p99 %s: the open model hid the stall (coordinated omission)", s.P99)
	}
}

func TestLoadSignInFailureStopsWithItsReason(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad password", http.StatusUnauthorized)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tg := loadTarget(srv.URL, Ramp{Start: 2, Step: 2, Max: 4, StepDuration: 300 * time.Millisecond, WarmUp: 50 * time.Millisecond})
	tg.Load.Scenario = LoadScenario{LoginCheck: "sign-in", SignIn: []Step{{Name: "submit",
		Request: &StepRequest{Method: "POST", URL: tmpl(srv.URL + "/login")}}}}
	res := RunLoad(context.Background(), tg, LoadOptions{})
	if res.Success || res.Load.Stop != StopSignIn || res.Reason != ReasonStatus ||
		!strings.Contains(res.Message, `no user could sign in: step "submit"`) || !strings.Contains(res.Message, "401") {
		t.Errorf("stop %q reason %q message %q", res.Load.Stop, res.Reason, res.Message)
	}
}

func TestLoadBudget(t *testing.T) {
	b := NewLoadBudget(100, 1000, 1)
	rel, err := b.Reserve("acme/load", 60, 500, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Reserve("globex/load", 10, 10, true); err == nil || !strings.Contains(err.Error(), "acme/load is running") {
		t.Errorf("second exclusive run: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	got := make(chan error, 1)
	go func() {
		rel2, err := b.Wait(ctx, "globex/load", 10, 10, true)
		if err == nil {
			rel2()
		}
		got <- err
	}()
	time.Sleep(50 * time.Millisecond)
	rel()
	rel() // twice is harmless
	if err := <-got; err != nil {
		t.Errorf("waiting run after release: %v", err)
	}
	if _, err := b.Wait(ctx, "big/load", 101, 10, false); err == nil || !strings.Contains(err.Error(), "load.max_users") {
		t.Errorf("a run over the whole budget: %v", err)
	}
	shared := NewLoadBudget(100, 0, 2)
	r1, err1 := shared.Reserve("a/load", 50, 0, false)
	_, err2 := shared.Reserve("b/load", 60, 0, false)
	if err1 != nil || err2 == nil || !strings.Contains(err2.Error(), "exceed the process-wide budget of 100") {
		t.Errorf("users budget: %v, %v", err1, err2)
	}
	r1()
}

func TestLoadWindows(t *testing.T) {
	spec := &LoadSpec{Windows: []LoadWindow{{Cron: "0 2 * * *", Duration: 4 * time.Hour}, {Cron: "30 22 * * 6", Duration: time.Hour}}}
	day := func(h, m int) time.Time { return time.Date(2026, 11, 21, h, m, 0, 0, time.UTC) } // a Saturday
	for _, tc := range []struct {
		at      time.Time
		wantOK  bool
		wantEnd time.Time
	}{
		{day(1, 59), false, time.Time{}},
		{day(2, 0), true, day(6, 0)},
		{day(5, 59), true, day(6, 0)},
		{day(6, 0), false, time.Time{}}, // the end is not in the window
		{day(22, 45), true, day(23, 30)},
		{day(22, 45).Add(24 * time.Hour), false, time.Time{}}, // Sunday: only Saturdays
	} {
		end, ok := spec.InWindow(tc.at)
		if ok != tc.wantOK || !end.Equal(tc.wantEnd) {
			t.Errorf("InWindow(%s) = %s, %v; want %s, %v", tc.at.Format("Mon 15:04"), end, ok, tc.wantEnd, tc.wantOK)
		}
	}
	if end, ok := (&LoadSpec{}).InWindow(day(12, 0)); !ok || !end.IsZero() {
		t.Errorf("no windows: %s %v, want any time", end, ok)
	}
}

func TestScheduledLoadSkips(t *testing.T) {
	_, url := newCapacityServer(t, 100, 0)
	tg := loadTarget(url, Ramp{Start: 1, Step: 1, Max: 1, StepDuration: 300 * time.Millisecond, WarmUp: 50 * time.Millisecond})
	now := time.Now().UTC()
	// A window that opened an hour ago and closed a minute ago.
	tg.Load.Windows = []LoadWindow{{Cron: fmt.Sprintf("%d %d * * *", now.Add(-time.Hour).Minute(), now.Add(-time.Hour).Hour()),
		Duration: 59 * time.Minute}}
	if _, skipped := RunScheduledLoad(context.Background(), tg, LoadOptions{}); skipped != SkipOutsideWindow {
		t.Errorf("outside its window: skipped %q", skipped)
	}
	// Inside a window that ends in 300ms, while another run holds the budget.
	b := NewLoadBudget(100, 0, 1)
	release, _ := b.Reserve("globex/capacity", 10, 0, true)
	defer release()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	tg.Load.Windows = nil
	if _, skipped := RunScheduledLoad(ctx, tg, LoadOptions{Budget: b}); skipped != SkipLoadBudget {
		t.Errorf("budget held: skipped %q", skipped)
	}
	release()
	res, skipped := RunScheduledLoad(context.Background(), tg, LoadOptions{Budget: b})
	if skipped != "" || res.Load == nil || len(res.Load.Steps) != 1 {
		t.Errorf("budget free: skipped %q, %+v", skipped, res)
	}
}

// TestLoadRedactsSecrets: a failing action's message may quote the user's
// token; neither the step's first error nor the result shows it.
func TestLoadRedactsSecrets(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "denied for "+r.Header.Get("Authorization"), http.StatusForbidden)
	}))
	defer srv.Close()
	tg := loadTarget(srv.URL, Ramp{Start: 1, Step: 1, Max: 1, StepDuration: 300 * time.Millisecond, WarmUp: 50 * time.Millisecond})
	tg.Load.Scenario.Tokens = []string{"tok-very-secret"}
	tg.Secrets = []string{"tok-very-secret"}
	res := RunLoad(context.Background(), tg, LoadOptions{})
	if len(res.Load.Steps) == 0 {
		t.Fatalf("%+v", res)
	}
	fe := res.Load.Steps[0].FirstError
	if !strings.Contains(fe, "403") || strings.Contains(fe, "tok-very-secret") || strings.Contains(res.Message+res.Load.Message, "tok-very-secret") {
		t.Errorf("first error %q, message %q", fe, res.Message)
	}
}

// TestLoadBudgetServesWaitersInOrder: runs waiting for the budget get it
// first come, first served.
func TestLoadBudgetServesWaitersInOrder(t *testing.T) {
	b := NewLoadBudget(100, 0, 1)
	hold, _ := b.Reserve("first", 10, 0, true)
	var order []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, key := range []string{"a", "b", "c"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 30 * time.Millisecond) // queue in this order
			rel, err := b.Wait(context.Background(), key, 10, 0, true)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, key)
			mu.Unlock()
			time.Sleep(10 * time.Millisecond)
			rel()
		}()
	}
	time.Sleep(150 * time.Millisecond)
	hold()
	wg.Wait()
	if strings.Join(order, "") != "abc" {
		t.Errorf("served %v, want a, b, c", order)
	}
	// A non-exclusive run of a key already running is refused too.
	shared := NewLoadBudget(100, 0, 2)
	r1, _ := shared.Reserve("acme/load", 10, 0, false)
	defer r1()
	if _, err := shared.Reserve("acme/load", 10, 0, false); err == nil {
		t.Error("the same key reserved twice")
	}
}

// TestLoadRefusedTokensStopAsSignIn: a token pool the tenant refuses is a
// sign-in failure, not a capacity finding, and no user spins on it.
func TestLoadRefusedTokensStopAsSignIn(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "token expired", http.StatusUnauthorized)
	}))
	defer srv.Close()
	tg := loadTarget(srv.URL, Ramp{Start: 5, Step: 5, Max: 10, StepDuration: 400 * time.Millisecond, WarmUp: 100 * time.Millisecond})
	res := RunLoad(context.Background(), tg, LoadOptions{})
	if res.Load.Stop != StopSignIn || res.Reason != ReasonStatus || !strings.Contains(res.Message, "token was refused") {
		t.Errorf("stop %q reason %q: %s", res.Load.Stop, res.Reason, res.Message)
	}
	if n := hits.Load(); n > 20 {
		t.Errorf("%d requests with refused tokens: users kept retrying", n)
	}
}
