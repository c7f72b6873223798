package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/forewarn/forewarn/store"
)

// Outbox is what the Dispatcher needs of the store; *store.Store has it.
type Outbox interface {
	// DueNotifications returns notifier's pending items due at now, oldest
	// first, each only once the earlier events of its case are done.
	DueNotifications(ctx context.Context, notifier string, now time.Time, limit int) ([]store.OutboxItem, error)
	MarkDelivered(ctx context.Context, id int64, at time.Time) error
	MarkFailed(ctx context.Context, id int64, cause error, next time.Time) error
	MarkDead(ctx context.Context, id int64, cause error) error
	OutboxCounts(ctx context.Context) ([]store.OutboxCount, error)
}

var _ Outbox = (*store.Store)(nil)

// Metrics receives what the Dispatcher measures; the monitor implements it
// with Prometheus. Methods are called from several goroutines.
type Metrics interface {
	// QueueDepth is how many notifications wait for notifier: pending,
	// due or backing off (forewarn_notify_queue_depth).
	QueueDepth(notifier string, n int)
	// Failure counts one failed attempt (forewarn_notify_failures_total),
	// reason as in Error.Reason.
	Failure(notifier, reason string)
	// Delivered counts one delivery, latency from the event's entry in
	// the outbox to its delivery.
	Delivered(notifier string, latency time.Duration)
}

// DeadLetterMetrics may also be implemented by a Metrics: DeadLetters is
// then reported with QueueDepth, the dead letters the outbox holds for a
// notifier (the store keeps them for its outbox retention).
type DeadLetterMetrics interface {
	DeadLetters(notifier string, n int)
}

// DispatcherOptions tune a Dispatcher. The zero value of each field means
// its default.
type DispatcherOptions struct {
	Metrics Metrics      // nil: none
	Logger  *slog.Logger // slog.Default()

	// PollInterval is how often each notifier looks for due items when
	// nothing wakes it (1 s): a lost wake-up delays, never strands.
	PollInterval time.Duration
	// AttemptTimeout bounds one Deliver call (30 s; the webhook's own
	// timeout is shorter).
	AttemptTimeout time.Duration
	// BackoffBase and BackoffMax shape the retry delay after the nth
	// failed attempt: a random duration in [0, min(BackoffMax,
	// BackoffBase·2ⁿ⁻¹)] ("full jitter"), at least the Retry-After the
	// receiver asked for. 1 s and 5 min.
	BackoffBase, BackoffMax time.Duration
	// MaxAge is how long a notification is retried, from its entry in the
	// outbox, before it becomes a dead letter (24 h); negative: for ever.
	MaxAge time.Duration
	// BatchSize is how many due items one poll takes (100).
	BatchSize int
	// DepthInterval is how often QueueDepth is reported (10 s).
	DepthInterval time.Duration
	// StoreTimeout bounds one outbox call (10 s).
	StoreTimeout time.Duration

	// Clock is the time the outbox sees: due times, next attempts,
	// latencies (time.Now). Waiting itself is in real time, PollInterval
	// at a time, so a test with a fake clock and a short PollInterval
	// never sleeps long.
	Clock func() time.Time
	// Rand returns a number in [0, 1] for the jitter (math/rand/v2); it
	// must be safe for concurrent use.
	Rand func() float64
}

func (o DispatcherOptions) withDefaults() DispatcherOptions {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.PollInterval, time.Second)
	def(&o.AttemptTimeout, 30*time.Second)
	def(&o.BackoffBase, time.Second)
	def(&o.BackoffMax, 5*time.Minute)
	def(&o.DepthInterval, 10*time.Second)
	def(&o.StoreTimeout, 10*time.Second)
	if o.MaxAge == 0 {
		o.MaxAge = 24 * time.Hour
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 100
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	return o
}

// Dispatcher delivers the outbox's notifications: one goroutine per
// notifier, each taking its due items in order and delivering them one at a
// time, so a case's events arrive in order and a slow or failing notifier
// holds up nobody else. Every outcome is written back to the outbox before
// the next item: a crash repeats at most the attempt under way
// (at-least-once; Event.ID lets the receiver drop the repeat).
type Dispatcher struct {
	outbox  Outbox
	opts    DispatcherOptions
	log     *slog.Logger
	workers []*worker

	// ctx is cancelled when Stop gives up waiting: it aborts the attempts
	// and outbox calls under way. quit is closed at Stop: no new attempt.
	ctx    context.Context
	cancel context.CancelFunc
	quit   chan struct{}
	wg     sync.WaitGroup

	startOnce, stopOnce sync.Once

	mu       sync.Mutex
	disabled []string
}

// NewDispatcher returns a Dispatcher of notifiers over outbox; Start starts
// it. Notifier names must be unique: each has its own queue in the outbox.
func NewDispatcher(outbox Outbox, notifiers []Notifier, opts DispatcherOptions) (*Dispatcher, error) {
	if outbox == nil {
		return nil, errors.New("notify: dispatcher without an outbox")
	}
	opts = opts.withDefaults()
	d := &Dispatcher{outbox: outbox, opts: opts, log: opts.Logger, quit: make(chan struct{})}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	seen := make(map[string]bool)
	for _, n := range notifiers {
		name := n.Name()
		if name == "" || seen[name] {
			return nil, fmt.Errorf("notify: notifier name %q is empty or used twice", name)
		}
		seen[name] = true
		d.workers = append(d.workers, &worker{d: d, n: n, name: name, wake: make(chan struct{}, 1),
			log: opts.Logger.With("notifier", name)})
	}
	return d, nil
}

// Start starts a goroutine per notifier, and one reporting queue depths
// when there are Metrics. Calling it again, or after Stop, does nothing.
func (d *Dispatcher) Start() {
	d.startOnce.Do(func() {
		select {
		case <-d.quit:
			return
		default:
		}
		for _, w := range d.workers {
			d.wg.Add(1)
			go w.run()
		}
		if d.opts.Metrics != nil {
			d.wg.Add(1)
			go d.reportDepths()
		}
	})
}

// Notify wakes every notifier to look for due items: call it after writing
// to the outbox. It never blocks; wake-ups that come while a notifier is
// busy are merged into one.
func (d *Dispatcher) Notify() {
	for _, w := range d.workers {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// Stop stops taking new items and waits for the attempts under way to end.
// When ctx ends first it cancels them (their items stay pending and are
// tried again after a restart) and returns ctx's error.
func (d *Dispatcher) Stop(ctx context.Context) error {
	d.stopOnce.Do(func() { close(d.quit) })
	done := make(chan struct{})
	go func() {
		d.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		d.cancel()
		return nil
	case <-ctx.Done():
	}
	d.cancel()
	// Deliver and the outbox honour the cancellation; the grace only keeps
	// a notifier that does not from hanging the shutdown.
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	return fmt.Errorf("notify: stop: %w: attempts under way were cancelled", ctx.Err())
}

// Disabled lists the notifiers stopped by a receiver that is gone (a
// webhook answering 410), in the order they stopped.
func (d *Dispatcher) Disabled() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.disabled)
}

func (d *Dispatcher) disable(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.disabled = append(d.disabled, name)
}

func (d *Dispatcher) stopping() bool {
	select {
	case <-d.quit:
		return true
	default:
		return false
	}
}

// backoff is the delay after the attempt-th failed attempt (1, 2, …):
// exponential with full jitter, so notifications failing together do not
// retry together
// (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/).
func (d *Dispatcher) backoff(attempt int) time.Duration {
	ceiling := d.opts.BackoffMax
	if attempt < 1 {
		attempt = 1
	}
	if attempt <= 32 {
		if c := d.opts.BackoffBase << (attempt - 1); c > 0 && c < ceiling {
			ceiling = c
		}
	}
	r := min(max(d.opts.Rand(), 0), 1)
	return time.Duration(r * float64(ceiling))
}

// reportDepths reports each notifier's queue depth now and every
// DepthInterval.
func (d *Dispatcher) reportDepths() {
	defer d.wg.Done()
	t := time.NewTicker(d.opts.DepthInterval)
	defer t.Stop()
	for {
		d.reportDepth()
		select {
		case <-d.quit:
			return
		case <-t.C:
		}
	}
}

func (d *Dispatcher) reportDepth() {
	ctx, cancel := context.WithTimeout(d.ctx, d.opts.StoreTimeout)
	defer cancel()
	counts, err := d.outbox.OutboxCounts(ctx)
	if err != nil {
		d.log.Warn("notify: cannot count the outbox", "error", err)
		return
	}
	pending, dead := map[string]int{}, map[string]int{}
	for _, c := range counts {
		switch c.State {
		case store.Pending:
			pending[c.Notifier] += int(c.Count)
		case store.Dead:
			dead[c.Notifier] += int(c.Count)
		}
	}
	dm, _ := d.opts.Metrics.(DeadLetterMetrics)
	for _, w := range d.workers {
		d.opts.Metrics.QueueDepth(w.name, pending[w.name])
		if dm != nil {
			dm.DeadLetters(w.name, dead[w.name])
		}
	}
}

// decode reads an item's event. An item whose payload lacks an id gets its
// outbox key: the receiver still has something to drop repeats by.
func decode(it store.OutboxItem) (Event, error) {
	var e Event
	if len(it.Payload) == 0 {
		return e, &Error{Reason: "invalid", Permanent: true, Err: errors.New("notification without a payload")}
	}
	if err := json.Unmarshal(it.Payload, &e); err != nil {
		return e, &Error{Reason: "invalid", Permanent: true, Err: fmt.Errorf("payload is not an event: %w", err)}
	}
	if e.ID == "" {
		e.ID = it.Key
	}
	return e, nil
}
