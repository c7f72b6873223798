package probes

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// LoadBudget is the process-wide bound on load: users and request rate over
// every run at once, and how many runs may overlap. A run reserves its
// peak users and rate before it starts and gives them back when it ends.
// Reserve refuses a run that does not fit; Wait queues it, first come
// first served, so no tenant's run is starved by others.
type LoadBudget struct {
	mu        sync.Mutex
	maxUsers  int
	maxRate   float64 // 0: no process-wide rate bound
	maxRuns   int
	users     int
	rate      float64
	runs      map[string]bool // running keys → exclusive
	exclusive string          // key of the exclusive run holding the budget
	queue     []*int          // waiters, oldest first
	changed   chan struct{}   // closed and replaced at every change
}

// NewLoadBudget bounds all load runs together: at most maxUsers users,
// maxRate requests per second (0: unbounded) and maxRuns runs at once.
func NewLoadBudget(maxUsers int, maxRate float64, maxRuns int) *LoadBudget {
	return &LoadBudget{maxUsers: maxUsers, maxRate: maxRate, maxRuns: max(maxRuns, 1), runs: map[string]bool{},
		changed: make(chan struct{})}
}

// Reserve takes users and rate for the run key at once, or says why not. An
// exclusive run needs the process to itself; a non-exclusive one only room
// in the budget. release gives the reservation back; calling it twice is
// harmless.
func (b *LoadBudget) Reserve(key string, users int, rate float64, exclusive bool) (release func(), err error) {
	if b == nil {
		return func() {}, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.fitsNow(key, users, rate, exclusive); err != nil {
		return nil, err
	}
	return b.take(key, users, rate, exclusive), nil
}

// fitsNow says why the run cannot start now; the caller holds b.mu.
func (b *LoadBudget) fitsNow(key string, users int, rate float64, exclusive bool) error {
	_, running := b.runs[key]
	switch {
	case running:
		return fmt.Errorf("a load run of %s is already running", key)
	case b.exclusive != "":
		return fmt.Errorf("the load run of %s is running and load runs do not overlap (set load.max_concurrent_runs and exclusive: false to allow it)", b.exclusive)
	case exclusive && len(b.runs) > 0:
		return fmt.Errorf("%d other load run(s) are running and this one is exclusive", len(b.runs))
	case len(b.runs) >= b.maxRuns:
		return fmt.Errorf("%d load runs are running, the most load.max_concurrent_runs allows", len(b.runs))
	case b.users+users > b.maxUsers:
		return fmt.Errorf("%d users would exceed the process-wide budget of %d (%d in use)", users, b.maxUsers, b.users)
	case b.maxRate > 0 && b.rate+rate > b.maxRate:
		return fmt.Errorf("%.0f requests/s would exceed the process-wide budget of %.0f/s (%.0f in use)", rate, b.maxRate, b.rate)
	}
	return nil
}

// take records a reservation; the caller holds b.mu.
func (b *LoadBudget) take(key string, users int, rate float64, exclusive bool) func() {
	b.users += users
	b.rate += rate
	b.runs[key] = exclusive
	if exclusive {
		b.exclusive = key
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			b.users -= users
			b.rate -= rate
			delete(b.runs, key)
			if b.exclusive == key {
				b.exclusive = ""
			}
			b.signal()
		})
	}
}

// signal wakes the waiters; the caller holds b.mu.
func (b *LoadBudget) signal() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// Wait is Reserve that waits, until ctx ends, while other runs hold the
// budget. Waiters are served in order: only the oldest may take the budget,
// so a run that needs the process to itself is not passed over for ever. A
// run that could never fit is refused at once.
func (b *LoadBudget) Wait(ctx context.Context, key string, users int, rate float64, exclusive bool) (release func(), err error) {
	if b == nil {
		return func() {}, nil
	}
	if err := b.fits(users, rate); err != nil {
		return nil, err
	}
	ticket := new(int)
	b.mu.Lock()
	b.queue = append(b.queue, ticket)
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		if i := slices.Index(b.queue, ticket); i >= 0 {
			b.queue = slices.Delete(b.queue, i, i+1)
			b.signal()
		}
		b.mu.Unlock()
	}()
	for {
		b.mu.Lock()
		changed := b.changed
		err := b.fitsNow(key, users, rate, exclusive)
		if err == nil && b.queue[0] == ticket {
			release := b.take(key, users, rate, exclusive)
			b.mu.Unlock()
			return release, nil
		}
		if err == nil {
			err = fmt.Errorf("%d earlier load run(s) are waiting for the budget", slices.Index(b.queue, ticket))
		}
		b.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("gave up waiting: %w", err)
		case <-changed:
		}
	}
}

// fits tells whether a run of users and rate could ever fit the budget.
func (b *LoadBudget) fits(users int, rate float64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if users > b.maxUsers {
		return fmt.Errorf("%d users exceed the process-wide budget of %d (load.max_users)", users, b.maxUsers)
	}
	if b.maxRate > 0 && rate > b.maxRate {
		return fmt.Errorf("%.0f requests/s exceed the process-wide budget of %.0f/s (load.max_rate)", rate, b.maxRate)
	}
	return nil
}

// SetLimits changes the budget's bounds, as a config reload does. Runs
// going on keep what they reserved; new ones are held to the new bounds.
func (b *LoadBudget) SetLimits(maxUsers int, maxRate float64, maxRuns int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.maxUsers, b.maxRate, b.maxRuns = maxUsers, maxRate, max(maxRuns, 1)
	b.signal()
}
