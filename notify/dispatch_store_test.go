package notify_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/forewarn/forewarn/notify"
	"github.com/forewarn/forewarn/store"
)

// countingNotifier counts successful deliveries by event id across
// dispatchers; blockOn, when set, makes that event's delivery hang until
// the attempt is cancelled.
type countingNotifier struct {
	name    string
	mu      *sync.Mutex
	counts  map[string]int
	order   *[]string
	blockOn string
	blocked chan struct{}
}

func (n *countingNotifier) Name() string { return n.name }

func (n *countingNotifier) Deliver(ctx context.Context, e notify.Event) error {
	if e.ID == n.blockOn {
		close(n.blocked)
		<-ctx.Done()
		return ctx.Err()
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.counts[e.ID]++
	*n.order = append(*n.order, e.ID)
	return nil
}

// applyEvents writes events from..to of case caseID with a notification
// each for notifier, as the cases engine does.
func applyEvents(t *testing.T, s *store.Store, caseID string, from, to int64, notifier string) {
	t.Helper()
	now := time.Now()
	var evs []store.EventRecord
	var items []store.OutboxItem
	for seq := from; seq <= to; seq++ {
		e := event(caseID, seq, now)
		payload, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, store.EventRecord{Seq: seq, Type: "updated", Time: now})
		items = append(items, store.OutboxItem{Notifier: notifier, Seq: seq, Payload: payload})
	}
	c := store.CaseRecord{ID: caseID, Tenant: "acme", Kind: "outage", Severity: "major", State: "open",
		OpenedAt: now, UpdatedAt: now, Seq: to}
	if err := s.ApplyCaseChange(context.Background(), c, evs, items); err != nil {
		t.Fatal(err)
	}
}

// TestRestartDeliversPendingOnce: over a real SQLite outbox, a dispatcher
// stopped in the middle of an attempt leaves that item pending, and the
// next dispatcher delivers it and everything else pending exactly once, in
// order per case, without repeating what the first one delivered.
func TestRestartDeliversPendingOnce(t *testing.T) {
	ctx := context.Background()
	s, err := store.OpenWith(ctx, "sqlite:"+filepath.Join(t.TempDir(), "forewarn.db"), store.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	const name = "webhook:t"
	applyEvents(t, s, "a", 1, 4, name)
	applyEvents(t, s, "b", 1, 2, name)

	var (
		mu     sync.Mutex
		counts = map[string]int{}
		order  []string
	)
	first := &countingNotifier{name: name, mu: &mu, counts: counts, order: &order, blockOn: "a:3", blocked: make(chan struct{})}
	d1, err := notify.NewDispatcher(s, []notify.Notifier{first}, notify.DispatcherOptions{PollInterval: 5 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	d1.Start()
	<-first.blocked // a:1 and a:2 are delivered, a:3 is under way
	stopCtx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := d1.Stop(stopCtx); err == nil {
		t.Error("Stop during a hanging attempt returned no error")
	}

	// More events while forewarn is down.
	applyEvents(t, s, "a", 5, 5, name)
	applyEvents(t, s, "c", 1, 1, name)

	second := &countingNotifier{name: name, mu: &mu, counts: counts, order: &order}
	d2 := start(t, s, notify.DispatcherOptions{PollInterval: 5 * time.Millisecond}, second)
	applyEvents(t, s, "c", 2, 2, name)
	d2.Notify()

	want := []string{"a:1", "a:2", "a:3", "a:4", "a:5", "b:1", "b:2", "c:1", "c:2"}
	eventually(t, "all delivered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(counts) == len(want)
	})
	time.Sleep(20 * time.Millisecond) // a repeat would show now
	mu.Lock()
	defer mu.Unlock()
	for _, id := range want {
		if counts[id] != 1 {
			t.Errorf("%s delivered %d times, want once", id, counts[id])
		}
	}
	pos := map[string]int{}
	for i, id := range order {
		pos[id] = i
	}
	for i := 1; i < len(want); i++ {
		if want[i][0] == want[i-1][0] && pos[want[i]] < pos[want[i-1]] {
			t.Errorf("%s delivered before %s: %v", want[i], want[i-1], order)
		}
	}
	items, err := s.CaseNotifications(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.State != store.Delivered {
			t.Errorf("a:%d is %s, want delivered", it.Seq, it.State)
		}
	}
}
