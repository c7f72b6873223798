package notify_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/forewarn/forewarn/notify"
	"github.com/forewarn/forewarn/store"
)

func serverError() error {
	return &notify.Error{Reason: "server_error", Err: errors.New("503 Service Unavailable")}
}

// wantInOrder checks that n got every event of each case once, in seq order.
func wantInOrder(t *testing.T, n *fakeNotifier, cases map[string]int) {
	t.Helper()
	got := n.got()
	total := 0
	for c, events := range cases {
		var want []string
		for seq := 1; seq <= events; seq++ {
			want = append(want, store.IdempotencyKey(c, int64(seq)))
		}
		if g := ids(got, c); !slices.Equal(g, want) {
			t.Errorf("%s got %s: %v, want %v", n.name, c, g, want)
		}
		total += events
	}
	if len(got) != total {
		t.Errorf("%s got %d deliveries, want %d", n.name, len(got), total)
	}
}

func TestDeliversInOrderPerCase(t *testing.T) {
	out := &fakeOutbox{}
	// Cases interleaved in the outbox; every second event fails its first
	// attempt, so order must survive retries.
	want := map[string]int{}
	for seq := int64(1); seq <= 4; seq++ {
		for c := 1; c <= 3; c++ {
			out.add(t, caseName(c), seq, t0, "webhook:a")
			want[caseName(c)] = 4
		}
	}
	n := &fakeNotifier{name: "webhook:a", fail: func(e notify.Event, attempt int) error {
		if e.Case.Seq%2 == 0 && attempt == 1 {
			return serverError()
		}
		return nil
	}}
	start(t, out, notify.DispatcherOptions{BackoffBase: time.Millisecond, BackoffMax: 2 * time.Millisecond}, n)
	eventually(t, "all delivered", func() bool { return out.states("webhook:a")[store.Delivered] == 12 })
	wantInOrder(t, n, want)
}

func TestNotifyWakesNotifiers(t *testing.T) {
	out := &fakeOutbox{}
	a, b := &fakeNotifier{name: "slack"}, &fakeNotifier{name: "webhook:b"}
	d := start(t, out, notify.DispatcherOptions{PollInterval: time.Hour}, a, b)
	eventually(t, "the first polls", func() bool { return out.polls() >= 2 })
	out.add(t, "c", 1, time.Now(), "slack", "webhook:b")
	d.Notify()
	eventually(t, "delivered after Notify", func() bool { return len(a.got()) == 1 && len(b.got()) == 1 })
}

func TestPollingFindsItemsWithoutNotify(t *testing.T) {
	out := &fakeOutbox{}
	n := &fakeNotifier{name: "slack"}
	start(t, out, notify.DispatcherOptions{PollInterval: 5 * time.Millisecond}, n)
	eventually(t, "the first poll", func() bool { return out.polls() >= 1 })
	out.add(t, "c", 1, time.Now(), "slack") // a lost wake-up
	eventually(t, "delivered by polling", func() bool { return len(n.got()) == 1 })
}

// TestFailingNotifierBacksOff: each retry waits twice as long as the one
// before, up to 5 minutes, and the other notifier goes on meanwhile.
func TestFailingNotifierBacksOff(t *testing.T) {
	out := &fakeOutbox{}
	clock := &fakeClock{t: t0}
	out.add(t, "c1", 1, t0, "slack")
	slack := &fakeNotifier{name: "slack", fail: func(notify.Event, int) error { return serverError() }}
	hook := &fakeNotifier{name: "webhook:ok"}
	m := newMetrics()
	d := start(t, out, notify.DispatcherOptions{Clock: clock.Now, Rand: func() float64 { return 1 }, Metrics: m}, slack, hook)

	want := []time.Duration{1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300}
	for i, w := range want {
		eventually(t, "attempt", func() bool { return len(out.failures()) == i+1 })
		f := out.failures()[i]
		if got := f.next.Sub(clock.Now()); got != w*time.Second || f.attempts != i+1 {
			t.Errorf("after attempt %d: retry in %v (attempts %d), want %v", i+1, got, f.attempts, w*time.Second)
		}
		// The webhook is not held up by Slack's failures.
		out.add(t, caseName(i), 1, clock.Now(), "webhook:ok")
		d.Notify()
		eventually(t, "webhook delivery", func() bool { return len(hook.got()) == i+1 })
		clock.Advance(f.next.Sub(clock.Now()))
	}
	if got := m.failureCount("slack/server_error"); got < len(want) {
		t.Errorf("failures counted: %d, want %d", got, len(want))
	}
}

// TestSlowNotifierDoesNotBlockOthers: a notifier stuck in Deliver holds up
// only its own queue.
func TestSlowNotifierDoesNotBlockOthers(t *testing.T) {
	out := &fakeOutbox{}
	release := make(chan struct{})
	slack := &fakeNotifier{name: "slack", fail: func(notify.Event, int) error {
		<-release
		return nil
	}}
	hook := &fakeNotifier{name: "webhook:ok"}
	for c := range 20 {
		out.add(t, caseName(c), 1, t0, "slack", "webhook:ok")
	}
	start(t, out, notify.DispatcherOptions{}, slack, hook)
	eventually(t, "webhook deliveries while Slack hangs", func() bool { return len(hook.got()) == 20 })
	if n := len(slack.got()); n != 0 {
		t.Errorf("slack delivered %d while stuck", n)
	}
	close(release)
	eventually(t, "slack deliveries", func() bool { return len(slack.got()) == 20 })
}

func TestPermanentErrorIsDeadLetter(t *testing.T) {
	out := &fakeOutbox{}
	out.add(t, "c1", 1, t0, "webhook:a")
	out.add(t, "c1", 2, t0, "webhook:a")
	out.addRaw("webhook:a", "c2", 1, t0, `{"id": 7}`) // not an event
	n := &fakeNotifier{name: "webhook:a", fail: func(e notify.Event, _ int) error {
		if e.ID == "c1:1" {
			return &notify.Error{Reason: "client_error", Permanent: true, Err: errors.New("404 Not Found")}
		}
		return nil
	}}
	m := newMetrics()
	start(t, out, notify.DispatcherOptions{Metrics: m}, n)
	// The dead letter does not hold up the case's next event.
	eventually(t, "c1:2 delivered", func() bool { return len(n.got()) == 1 })
	eventually(t, "dead letters", func() bool { return out.states("webhook:a")[store.Dead] == 2 })
	items := out.snapshot()
	if it := items[0]; it.State != store.Dead || it.Attempts != 1 || !strings.Contains(it.LastError, "404") {
		t.Errorf("c1:1 = %+v, want dead after one attempt", it)
	}
	if it := items[2]; it.State != store.Dead || !strings.Contains(it.LastError, "invalid") {
		t.Errorf("c2:1 = %+v, want dead: invalid", it)
	}
	if m.failureCount("webhook:a/client_error") != 1 || m.failureCount("webhook:a/invalid") != 1 {
		t.Errorf("failures = %v", m.failures)
	}
	time.Sleep(20 * time.Millisecond)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.attempts["c1:1"] != 1 {
		t.Errorf("a dead letter was tried %d times", n.attempts["c1:1"])
	}
}

func TestDisableStopsOnlyThatNotifier(t *testing.T) {
	out := &fakeOutbox{}
	for c := range 3 {
		out.add(t, caseName(c), 1, t0, "webhook:gone", "slack")
	}
	gone := &fakeNotifier{name: "webhook:gone", fail: func(notify.Event, int) error {
		return &notify.Error{Reason: "gone", Permanent: true, Disable: true, Err: errors.New("410 Gone")}
	}}
	slack := &fakeNotifier{name: "slack"}
	d := start(t, out, notify.DispatcherOptions{}, gone, slack)
	eventually(t, "slack deliveries", func() bool { return len(slack.got()) == 3 })
	eventually(t, "disabled", func() bool { return slices.Equal(d.Disabled(), []string{"webhook:gone"}) })

	out.add(t, "later", 1, t0, "webhook:gone", "slack")
	d.Notify()
	eventually(t, "slack goes on", func() bool { return len(slack.got()) == 4 })
	time.Sleep(20 * time.Millisecond)
	if c := gone.callCount(); c != 1 {
		t.Errorf("the disabled notifier was called %d times, want 1", c)
	}
	if s := out.states("webhook:gone"); s[store.Dead] != 1 || s[store.Pending] != 3 {
		t.Errorf("disabled notifier's queue = %v, want 1 dead and 3 pending (kept for after a fix)", s)
	}
}

func TestRetryAfterIsRespected(t *testing.T) {
	out := &fakeOutbox{}
	clock := &fakeClock{t: t0}
	out.add(t, "c1", 1, t0, "slack")
	out.add(t, "c2", 1, t0, "slack")
	limited := true // the first call only; the dispatcher calls from one goroutine
	slack := &fakeNotifier{name: "slack", fail: func(notify.Event, int) error {
		if limited {
			limited = false
			return &notify.Error{Reason: "rate_limited", RetryAfter: 30 * time.Second, Err: errors.New("429")}
		}
		return nil
	}}
	d := start(t, out, notify.DispatcherOptions{Clock: clock.Now, Rand: func() float64 { return 0 }}, slack)
	eventually(t, "the first attempt", func() bool { return len(out.failures()) == 1 })
	if f := out.failures()[0]; !f.next.Equal(t0.Add(30 * time.Second)) {
		t.Errorf("retry at %v, want 30s later", f.next.Sub(t0))
	}
	// Retry-After holds off the notifier, not only the item: c2 waits too.
	clock.Advance(29 * time.Second)
	d.Notify()
	time.Sleep(20 * time.Millisecond)
	if c := slack.callCount(); c != 1 {
		t.Fatalf("%d calls within Retry-After, want 1", c)
	}
	clock.Advance(time.Second)
	eventually(t, "delivered after Retry-After", func() bool { return len(slack.got()) == 2 })
}

// TestSlackDownFiveMinutes: Slack fails for five minutes while cases keep
// changing; once it is back, every event is delivered once, in order per
// case, within the backoff cap.
func TestSlackDownFiveMinutes(t *testing.T) {
	out := &fakeOutbox{}
	clock := &fakeClock{t: t0}
	up := t0.Add(5 * time.Minute)
	slack := &fakeNotifier{name: "slack", fail: func(notify.Event, int) error {
		if clock.Now().Before(up) {
			return serverError()
		}
		return nil
	}}
	hook := &fakeNotifier{name: "webhook:ok"}
	start(t, out, notify.DispatcherOptions{Clock: clock.Now, PollInterval: 200 * time.Microsecond}, slack, hook)

	const cases, events = 5, 4
	want := map[string]int{}
	added := 0
	for step := 0; ; step++ {
		// A new event every 10 s of the outage, across the cases in turn.
		if step%10 == 0 && added < cases*events {
			c, seq := added%cases, added/cases+1
			out.add(t, caseName(c), int64(seq), clock.Now(), "slack", "webhook:ok")
			want[caseName(c)] = seq
			added++
		}
		if added == cases*events && out.states("slack")[store.Delivered] == cases*events {
			break
		}
		if clock.Now().After(up.Add(6 * time.Minute)) {
			t.Fatalf("not all delivered 6 minutes after Slack came back: %v", out.states("slack"))
		}
		// Move on once each notifier has looked at the outbox at this time:
		// the test keeps pace with the dispatcher on a slow machine too.
		p1, p2 := out.polls("slack"), out.polls("webhook:ok")
		clock.Advance(time.Second)
		eventually(t, "polls", func() bool { return out.polls("slack") >= p1+2 && out.polls("webhook:ok") >= p2+2 })
	}
	wantInOrder(t, slack, want)
	wantInOrder(t, hook, want)
	if len(out.failures()) == 0 {
		t.Error("slack never failed")
	}
}

func TestGivesUpAfterMaxAge(t *testing.T) {
	out := &fakeOutbox{}
	clock := &fakeClock{t: t0.Add(25 * time.Hour)}
	out.add(t, "c1", 1, t0, "slack")
	slack := &fakeNotifier{name: "slack", fail: func(notify.Event, int) error { return serverError() }}
	start(t, out, notify.DispatcherOptions{Clock: clock.Now}, slack)
	eventually(t, "dead letter", func() bool { return out.states("slack")[store.Dead] == 1 })
	if it := out.snapshot()[0]; !strings.Contains(it.LastError, "given up after 1 attempts in 24h0m0s") {
		t.Errorf("last error = %q", it.LastError)
	}
}

func TestAttemptTimeout(t *testing.T) {
	out := &fakeOutbox{}
	out.add(t, "c1", 1, t0, "slack")
	hang := &hangingNotifier{name: "slack"}
	m := newMetrics()
	start(t, out, notify.DispatcherOptions{AttemptTimeout: 20 * time.Millisecond, Metrics: m,
		BackoffBase: time.Hour}, hang)
	eventually(t, "a timeout", func() bool { return m.failureCount("slack/timeout") == 1 })
}

// hangingNotifier blocks until its context ends and returns the plain
// context error.
type hangingNotifier struct{ name string }

func (h *hangingNotifier) Name() string { return h.name }
func (h *hangingNotifier) Deliver(ctx context.Context, _ notify.Event) error {
	<-ctx.Done()
	return ctx.Err()
}

func TestOutboxErrorsAreRetried(t *testing.T) {
	out := &fakeOutbox{dueErrs: 3}
	out.add(t, "c1", 1, t0, "slack")
	n := &fakeNotifier{name: "slack"}
	start(t, out, notify.DispatcherOptions{BackoffBase: time.Millisecond}, n)
	eventually(t, "delivered after the outbox recovers", func() bool { return len(n.got()) == 1 })
}

func TestMetrics(t *testing.T) {
	out := &fakeOutbox{}
	clock := &fakeClock{t: t0.Add(3 * time.Second)}
	out.add(t, "c1", 1, t0, "webhook:a")
	out.add(t, "c1", 1, t0, "slack")
	out.add(t, "c2", 1, t0, "slack")
	slack := &fakeNotifier{name: "slack", fail: func(notify.Event, int) error { return serverError() }}
	hook := &fakeNotifier{name: "webhook:a"}
	m := newMetrics()
	start(t, out, notify.DispatcherOptions{Clock: clock.Now, Metrics: m, DepthInterval: time.Millisecond}, slack, hook)
	eventually(t, "metrics", func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.depth["slack"] == 2 && m.depth["webhook:a"] == 0 && len(m.latencies["webhook:a"]) == 1
	})
	m.mu.Lock()
	defer m.mu.Unlock()
	if l := m.latencies["webhook:a"][0]; l != 3*time.Second {
		t.Errorf("latency = %v, want 3s from the outbox entry", l)
	}
}

func TestStopWaitsForTheAttemptUnderWay(t *testing.T) {
	out := &fakeOutbox{}
	out.add(t, "c1", 1, t0, "slack")
	started := make(chan struct{})
	slack := &fakeNotifier{name: "slack", fail: func(notify.Event, int) error {
		close(started)
		time.Sleep(50 * time.Millisecond)
		return nil
	}}
	d, err := notify.NewDispatcher(out, []notify.Notifier{slack}, notify.DispatcherOptions{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	d.Start()
	<-started
	if err := d.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := out.states("slack"); s[store.Delivered] != 1 {
		t.Errorf("after a graceful stop: %v, want the attempt under way delivered and recorded", s)
	}
}

func TestStopCancelsWhenItsContextEnds(t *testing.T) {
	out := &fakeOutbox{}
	out.add(t, "c1", 1, t0, "slack")
	hang := &hangingNotifier{name: "slack"}
	d, err := notify.NewDispatcher(out, []notify.Notifier{hang}, notify.DispatcherOptions{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	d.Start()
	eventually(t, "the attempt", func() bool { return out.polls() >= 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := d.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Stop = %v, want the context's deadline", err)
	}
	if it := out.snapshot()[0]; it.State != store.Pending || it.Attempts != 0 {
		t.Errorf("item after a cancelled attempt = %+v, want pending and untouched", it)
	}
}

func TestNewDispatcherRefusesDuplicateNames(t *testing.T) {
	_, err := notify.NewDispatcher(&fakeOutbox{}, []notify.Notifier{&fakeNotifier{name: "slack"}, &fakeNotifier{name: "slack"}},
		notify.DispatcherOptions{})
	if err == nil {
		t.Error("two notifiers named slack accepted")
	}
}
