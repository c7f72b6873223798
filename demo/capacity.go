package demo

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The capacity model: each tenant serves Capacity concurrent users well, as a
// real server does with a bounded pool of session (or connection) slots.
//
// A signed-in session holds one slot while it is active: it takes it at
// sign-in (startSession) or on its first request, keeps it between requests
// while the user thinks, and gives it back at sign-out or after SessionIdle
// without a request. When every slot is held, a request waits in a bounded
// queue (maxWaiters) until one frees, at most QueueTimeout; then, or at once
// when the queue is full, it gets 503 "over capacity" with Retry-After. So
// past capacity latency climbs and requests fail, while users within it are
// served as before. Requests without a session (health, status, the login
// page) never wait: a monitor's plain checks keep passing while sign-in
// fails.

// Capacity model constants, the same for every tenant.
const (
	// SessionIdle is how long a session keeps its slot without a request.
	SessionIdle = 2 * time.Second
	// QueueTimeout is how long a request waits for a slot before 503.
	QueueTimeout = time.Second
	// MaxCapacity bounds the capacity fault's users.
	MaxCapacity = 1_000_000
)

// queuePoll is how often a waiter reclaims idle slots. Sign-out wakes waiters
// at once; an idle slot frees only when someone looks, so waiters look.
const queuePoll = 50 * time.Millisecond

// maxWaiters bounds the queue of a tenant serving capacity users.
func maxWaiters(capacity int) int { return max(1, capacity/20) }

// slot is a session's place in its tenant's capacity.
type slot struct {
	key      string // the session token or API key
	inFlight int    // requests of the session being served
	last     time.Time
	released bool // signed out or reclaimed; a request in flight still ends
	// older and newer chain the slots with nothing in flight, by last.
	older, newer *slot
}

// waiter is a request queued for a slot. granted receives its slot (nil when
// the tenant's capacity was lifted meanwhile).
type waiter struct {
	key        string
	granted    chan *slot
	queued     bool
	prev, next *waiter
}

// gate holds one tenant's slots and queue. Idle, it is a few words: the map
// is dropped once empty, as sessionStore's is.
type gate struct {
	limit atomic.Int64 // the capacity now; 0: unlimited, no gate
	now   func() time.Time

	mu                     sync.Mutex
	slots                  map[string]*slot // nil while empty
	idleOldest, idleNewest *slot
	first, last            *waiter // the queue, first come first served
	waiters                int
	peakSlots, peakWaiters int
}

func (g *gate) clock() time.Time {
	if g.now != nil {
		return g.now()
	}
	return time.Now()
}

// use takes one more request on the slot key already holds: the fast path,
// one map lookup under the lock. It returns nil when key holds no slot.
func (g *gate) use(key string) *slot {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.slots[key]
	if s != nil {
		g.busy(s)
	}
	return s
}

// acquire returns key's slot for one request, taking a free one or queueing
// for one. ok is false when the tenant is over capacity: the queue was full,
// QueueTimeout passed or ctx ended. The slot is nil while the capacity is
// unlimited. The caller hands it back with done.
func (g *gate) acquire(ctx context.Context, key string) (s *slot, ok bool) {
	if g.limit.Load() == 0 {
		return nil, true
	}
	g.mu.Lock()
	if s := g.slots[key]; s != nil {
		g.busy(s)
		g.mu.Unlock()
		return s, true
	}
	limit := int(g.limit.Load())
	if limit == 0 {
		g.mu.Unlock()
		return nil, true
	}
	g.reclaim()
	if g.first == nil && len(g.slots) < limit {
		s := g.take(key)
		g.mu.Unlock()
		return s, true
	}
	if g.waiters >= maxWaiters(limit) {
		g.mu.Unlock()
		return nil, false
	}
	w := &waiter{key: key, granted: make(chan *slot, 1)}
	g.enqueue(w)
	g.mu.Unlock()
	return g.wait(ctx, w)
}

// wait blocks until w is granted a slot, looking for idle slots to reclaim
// every queuePoll, until QueueTimeout or ctx ends.
func (g *gate) wait(ctx context.Context, w *waiter) (*slot, bool) {
	timeout := time.NewTimer(QueueTimeout)
	defer timeout.Stop()
	poll := time.NewTicker(queuePoll)
	defer poll.Stop()
	for {
		select {
		case s := <-w.granted:
			return s, true
		case <-poll.C:
			g.mu.Lock()
			g.reclaim()
			g.grant()
			g.mu.Unlock()
		case <-timeout.C:
			return g.giveUp(w)
		case <-ctx.Done():
			return g.giveUp(w)
		}
	}
}

// giveUp leaves the queue, unless a slot was granted at the last moment:
// the request then takes it.
func (g *gate) giveUp(w *waiter) (*slot, bool) {
	g.mu.Lock()
	if w.queued {
		g.dequeue(w)
		g.mu.Unlock()
		return nil, false
	}
	g.mu.Unlock()
	return <-w.granted, true
}

// done ends one request on s. A slot with nothing in flight starts idling.
func (g *gate) done(s *slot) {
	if s == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	s.inFlight--
	if s.inFlight == 0 && !s.released {
		s.last = g.clock()
		g.pushIdle(s)
	}
}

// release frees key's slot at sign-out and hands it to the first waiter.
func (g *gate) release(key string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if s := g.slots[key]; s != nil {
		g.drop(s)
		g.grant()
	}
}

// setLimit changes the capacity. Sessions holding slots beyond a smaller one
// keep them until they are released; lifting the limit (0) frees them all,
// and the queue with them.
func (g *gate) setLimit(capacity int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.limit.Store(int64(capacity))
	if capacity == 0 {
		for _, s := range g.slots {
			s.released = true
			s.older, s.newer = nil, nil
		}
		g.slots, g.idleOldest, g.idleNewest = nil, nil, nil
	}
	g.grant()
}

// busy marks one more request in flight on s. Must hold g.mu.
func (g *gate) busy(s *slot) {
	if s.inFlight == 0 {
		g.unlinkIdle(s)
	}
	s.inFlight++
}

// take gives key a new slot with one request in flight. Must hold g.mu.
func (g *gate) take(key string) *slot {
	s := &slot{key: key, inFlight: 1}
	if g.slots == nil {
		g.slots = make(map[string]*slot)
	}
	g.slots[key] = s
	g.peakSlots = max(g.peakSlots, len(g.slots))
	return s
}

// drop frees s. Must hold g.mu.
func (g *gate) drop(s *slot) {
	delete(g.slots, s.key)
	if len(g.slots) == 0 {
		g.slots = nil // Go maps never shrink: do not pin a burst's buckets
	}
	if s.inFlight == 0 {
		g.unlinkIdle(s)
	}
	s.released = true
}

// reclaim frees the slots idle for SessionIdle. The idle chain is in the
// order requests ended, so it stops at the first recent one: each slot is
// reclaimed once, constant cost per request. Must hold g.mu.
func (g *gate) reclaim() {
	if g.idleOldest == nil {
		return
	}
	now := g.clock()
	for s := g.idleOldest; s != nil && now.Sub(s.last) >= SessionIdle; s = g.idleOldest {
		g.drop(s)
	}
}

// grant hands free slots to the queue, first come first served. Must hold g.mu.
func (g *gate) grant() {
	for w := g.first; w != nil; w = g.first {
		limit := int(g.limit.Load())
		s := g.slots[w.key] // another request of the session got one meanwhile
		switch {
		case s != nil:
			g.busy(s)
		case limit == 0:
		case len(g.slots) < limit:
			s = g.take(w.key)
		default:
			return
		}
		g.dequeue(w)
		w.granted <- s
	}
}

func (g *gate) enqueue(w *waiter) {
	w.queued = true
	w.prev = g.last
	if g.last != nil {
		g.last.next = w
	} else {
		g.first = w
	}
	g.last = w
	g.waiters++
	g.peakWaiters = max(g.peakWaiters, g.waiters)
}

func (g *gate) dequeue(w *waiter) {
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		g.first = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		g.last = w.prev
	}
	w.prev, w.next, w.queued = nil, nil, false
	g.waiters--
}

func (g *gate) pushIdle(s *slot) {
	s.older = g.idleNewest
	if g.idleNewest != nil {
		g.idleNewest.newer = s
	} else {
		g.idleOldest = s
	}
	g.idleNewest = s
}

func (g *gate) unlinkIdle(s *slot) {
	if s.older != nil {
		s.older.newer = s.newer
	} else if g.idleOldest == s {
		g.idleOldest = s.newer
	}
	if s.newer != nil {
		s.newer.older = s.older
	} else if g.idleNewest == s {
		g.idleNewest = s.older
	}
	s.older, s.newer = nil, nil
}

// gateSessions makes a request that carries a live session (cookie, bearer
// token or API key) hold its session's slot while it is served. Requests
// without one pass straight through, as do all of a tenant with unlimited
// capacity.
func gateSessions(next tenantHandler) tenantHandler {
	return func(a *tenantApp, w http.ResponseWriter, r *http.Request) {
		if a.gate.limit.Load() == 0 {
			next(a, w, r)
			return
		}
		key, ok := sessionKey(r)
		if !ok || isSignOut(r) {
			// A sign-out frees a slot (see release): it never waits for one.
			next(a, w, r)
			return
		}
		s := a.gate.use(key)
		if s == nil {
			// Only a session that signedIn resolves may take a slot: a
			// made-up token must not fill the tenant.
			if _, ok := a.signedIn(r); !ok {
				next(a, w, r)
				return
			}
			if s, ok = a.gate.acquire(r.Context(), key); !ok {
				a.overCapacity(w)
				return
			}
		}
		defer a.gate.done(s)
		next(a, w, r)
	}
}

// isSignOut reports a sign-out request: POST …/logout, DELETE …/api/session.
func isSignOut(r *http.Request) bool {
	p := r.URL.Path
	return r.Method == http.MethodPost && strings.HasSuffix(p, "/logout") ||
		r.Method == http.MethodDelete && strings.HasSuffix(p, "/api/session")
}

// sessionKey is the credential signedIn reads: the bearer token when the
// request sends an Authorization header, else the session cookie.
func sessionKey(r *http.Request) (string, bool) {
	// Indexing the header map skips Get's canonicalization: this runs on
	// every request, and the server stores keys canonical.
	if h := r.Header["Authorization"]; len(h) > 0 && h[0] != "" {
		return bearerToken(r)
	}
	if len(r.Header["Cookie"]) == 0 {
		return "", false
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return "", false
	}
	return c.Value, true
}

// overCapacity refuses a request the tenant has no slot for.
func (a *tenantApp) overCapacity(w http.ResponseWriter) {
	a.load.rejected.Add(1)
	w.Header().Set("Retry-After", "1")
	http.Error(w, "over capacity", http.StatusServiceUnavailable)
}
