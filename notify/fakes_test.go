package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/forewarn/forewarn/cases"
	"github.com/forewarn/forewarn/notify"
	"github.com/forewarn/forewarn/store"
)

var t0 = time.Date(2026, 11, 23, 10, 15, 0, 0, time.UTC)

// quiet is the tests' logger: the dispatcher's warnings are expected here.
var quiet = slog.New(slog.DiscardHandler)

// fakeOutbox is the store's outbox in memory, with its rules: an item is
// due once its time has come and no earlier event of its case is pending
// for the same notifier; marks act only on pending items.
type fakeOutbox struct {
	mu       sync.Mutex
	items    []store.OutboxItem
	failed   []failedMark   // every MarkFailed, in order
	dueErrs  int            // DueNotifications fails this many more times
	dueCalls map[string]int // by notifier
}

type failedMark struct {
	id       int64
	next     time.Time
	cause    string
	attempts int // after this one
	notifier string
	caseID   string
	seq      int64
}

// add queues the event of case caseID, seq for each notifier, created at.
func (f *fakeOutbox) add(t testing.TB, caseID string, seq int64, at time.Time, notifiers ...string) {
	t.Helper()
	e := event(caseID, seq, at)
	payload, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range notifiers {
		f.items = append(f.items, store.OutboxItem{ID: int64(len(f.items) + 1), Notifier: n, Key: e.ID, CaseID: caseID, Seq: seq,
			Payload: payload, State: store.Pending, NextAttempt: at, CreatedAt: at})
	}
}

// addRaw queues an item with the payload as given.
func (f *fakeOutbox) addRaw(notifier, caseID string, seq int64, at time.Time, payload string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.items = append(f.items, store.OutboxItem{ID: int64(len(f.items) + 1), Notifier: notifier,
		Key: store.IdempotencyKey(caseID, seq), CaseID: caseID, Seq: seq, Payload: json.RawMessage(payload),
		State: store.Pending, NextAttempt: at, CreatedAt: at})
}

func (f *fakeOutbox) DueNotifications(ctx context.Context, notifier string, now time.Time, limit int) ([]store.OutboxItem, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dueCalls == nil {
		f.dueCalls = map[string]int{}
	}
	f.dueCalls[notifier]++
	if f.dueErrs > 0 {
		f.dueErrs--
		return nil, errors.New("database is locked")
	}
	var out []store.OutboxItem
	for _, it := range f.items {
		if it.Notifier != notifier || it.State != store.Pending || it.NextAttempt.After(now) {
			continue
		}
		blocked := slices.ContainsFunc(f.items, func(e store.OutboxItem) bool {
			return e.Notifier == notifier && e.CaseID == it.CaseID && e.State == store.Pending && e.Seq < it.Seq
		})
		if !blocked && len(out) < limit {
			out = append(out, it)
		}
	}
	return out, nil
}

func (f *fakeOutbox) mark(id int64, change func(it *store.OutboxItem)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id < 1 || int(id) > len(f.items) {
		return store.ErrNotFound
	}
	it := &f.items[id-1]
	if it.State == store.Pending {
		it.Attempts++
		change(it)
	}
	return nil
}

func (f *fakeOutbox) MarkDelivered(ctx context.Context, id int64, at time.Time) error {
	return f.mark(id, func(it *store.OutboxItem) { it.State, it.DeliveredAt, it.LastError = store.Delivered, at, "" })
}

func (f *fakeOutbox) MarkFailed(ctx context.Context, id int64, cause error, next time.Time) error {
	return f.mark(id, func(it *store.OutboxItem) {
		it.LastError, it.NextAttempt = cause.Error(), next
		f.failed = append(f.failed, failedMark{id: id, next: next, cause: cause.Error(), attempts: it.Attempts,
			notifier: it.Notifier, caseID: it.CaseID, seq: it.Seq})
	})
}

func (f *fakeOutbox) MarkDead(ctx context.Context, id int64, cause error) error {
	return f.mark(id, func(it *store.OutboxItem) { it.State, it.LastError = store.Dead, cause.Error() })
}

func (f *fakeOutbox) OutboxCounts(ctx context.Context) ([]store.OutboxCount, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := map[[2]string]int64{}
	for _, it := range f.items {
		n[[2]string{it.Notifier, string(it.State)}]++
	}
	var out []store.OutboxCount
	for k, c := range n {
		out = append(out, store.OutboxCount{Notifier: k[0], State: store.OutboxState(k[1]), Count: c})
	}
	return out, nil
}

// snapshot copies the items.
func (f *fakeOutbox) snapshot() []store.OutboxItem {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.items)
}

func (f *fakeOutbox) failures() []failedMark {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.failed)
}

// states counts notifier's items by state.
func (f *fakeOutbox) states(notifier string) map[store.OutboxState]int {
	out := map[store.OutboxState]int{}
	for _, it := range f.snapshot() {
		if it.Notifier == notifier {
			out[it.State]++
		}
	}
	return out
}

func event(caseID string, seq int64, at time.Time) notify.Event {
	return notify.Event{Version: notify.SchemaVersion, ID: store.IdempotencyKey(caseID, seq), Type: "case.updated", Time: at,
		Tenant: notify.TenantContext{ID: "acme", Name: "Acme Corp"},
		Case:   cases.Case{ID: caseID, Seq: int(seq), Status: cases.StatusOpen, Kind: cases.KindOutage, Severity: cases.SeverityMajor, OpenedAt: at}}
}

// fakeNotifier records deliveries; fail, when set, decides each attempt's
// error (nil: delivered).
type fakeNotifier struct {
	name string
	fail func(e notify.Event, attempt int) error

	mu        sync.Mutex
	attempts  map[string]int
	delivered []notify.Event
	calls     int
}

func (n *fakeNotifier) Name() string { return n.name }

func (n *fakeNotifier) Deliver(ctx context.Context, e notify.Event) error {
	n.mu.Lock()
	if n.attempts == nil {
		n.attempts = map[string]int{}
	}
	n.attempts[e.ID]++
	n.calls++
	attempt := n.attempts[e.ID]
	fail := n.fail
	n.mu.Unlock()
	if fail != nil {
		if err := fail(e, attempt); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	n.mu.Lock()
	n.delivered = append(n.delivered, e)
	n.mu.Unlock()
	return nil
}

func (n *fakeNotifier) got() []notify.Event {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.delivered)
}

func (n *fakeNotifier) callCount() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.calls
}

// ids lists the delivered events' ids of one case, in delivery order.
func ids(events []notify.Event, caseID string) []string {
	var out []string
	for _, e := range events {
		if e.Case.ID == caseID {
			out = append(out, e.ID)
		}
	}
	return out
}

// fakeClock is a clock only the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// metrics records what the dispatcher reports.
type metrics struct {
	mu        sync.Mutex
	depth     map[string]int
	dead      map[string]int
	failures  map[string]int // "notifier/reason"
	latencies map[string][]time.Duration
}

func newMetrics() *metrics {
	return &metrics{depth: map[string]int{}, dead: map[string]int{}, failures: map[string]int{}, latencies: map[string][]time.Duration{}}
}

func (m *metrics) QueueDepth(notifier string, n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.depth[notifier] = n
}

func (m *metrics) DeadLetters(notifier string, n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dead[notifier] = n
}

func (m *metrics) Failure(notifier, reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failures[notifier+"/"+reason]++
}

func (m *metrics) Delivered(notifier string, latency time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.latencies[notifier] = append(m.latencies[notifier], latency)
}

func (m *metrics) failureCount(key string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.failures[key]
}

// eventually fails the test unless cond holds within 10 s.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// start makes and starts a dispatcher stopped at the test's end.
func start(t testing.TB, outbox notify.Outbox, opts notify.DispatcherOptions, notifiers ...notify.Notifier) *notify.Dispatcher {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = time.Millisecond
	}
	d, err := notify.NewDispatcher(outbox, notifiers, opts)
	if err != nil {
		t.Fatal(err)
	}
	d.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := d.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return d
}

func caseName(i int) string { return fmt.Sprintf("case-%d", i) }

// polls counts DueNotifications calls, of all notifiers or of those named.
func (f *fakeOutbox) polls(notifiers ...string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for k, c := range f.dueCalls {
		if len(notifiers) == 0 || slices.Contains(notifiers, k) {
			n += c
		}
	}
	return n
}
