package demo

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncClock is a settable clock safe to read from the server's goroutines.
type syncClock struct {
	mu sync.Mutex
	t  time.Time
}

func newSyncClock() *syncClock { return &syncClock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)} }

func (c *syncClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *syncClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newCapacityServer is a demo of 3 tenants signing in with testPassword,
// acme serving acmeCapacity users. A clock, when given, drives acme's idle
// reclaim and per-second counts.
func newCapacityServer(t testing.TB, acmeCapacity int, clock *syncClock) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(Options{Tenants: 3, Password: testPassword, Capacities: map[string]int{"acme": acmeCapacity},
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if clock != nil {
		s.tenants["acme"].gate.now = clock.now
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts
}

// signIn opens n JSON sessions on acme and returns their tokens.
func signIn(t *testing.T, base string, n int) []string {
	t.Helper()
	var toks []string
	for range n {
		r, tok := apiSession(t, http.DefaultClient, base, SyntheticUser("acme"), testPassword)
		if r.code != 200 {
			t.Fatalf("sign-in: %d %q", r.code, r.body)
		}
		toks = append(toks, tok)
	}
	return toks
}

// timedReply is a reply and how long it took.
type timedReply struct {
	reply
	took time.Duration
}

// sendAsync sends a request from another goroutine; the reply comes on the channel.
func sendAsync(ctx context.Context, method, u string, hdr ...string) <-chan timedReply {
	out := make(chan timedReply, 1)
	go func() {
		start := time.Now()
		req, _ := http.NewRequestWithContext(ctx, method, u, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		r := reply{err: err}
		if err == nil {
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			r = reply{code: resp.StatusCode, header: resp.Header, body: string(b), err: err}
		}
		out <- timedReply{r, time.Since(start)}
	}()
	return out
}

// waitFor polls cond every few milliseconds for up to 2s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func waiters(s *Server, id string) int {
	st, _ := s.Load(id)
	return st.Waiters
}

func isOverCapacity(r reply) bool {
	return r.err == nil && r.code == 503 && r.header.Get("Retry-After") == "1" && r.body == "over capacity\n"
}

// Capacity 3, queue 1: three users are served, a fourth waits and is
// refused after QueueTimeout, a fifth at once; a sign-out serves the waiter.
func TestCapacityQueue(t *testing.T) {
	t.Parallel()
	s, ts := newCapacityServer(t, 3, nil)
	base := ts.URL + "/t/acme"
	toks := signIn(t, base, 3)
	for i, tok := range toks {
		if r := send(t, http.DefaultClient, http.MethodGet, base+"/api/me", "", "", bearer(tok)...); r.code != 200 {
			t.Fatalf("session %d: %d %q", i+1, r.code, r.body)
		}
	}
	fourth := bearer(APIKey(testPassword, "acme", 1))
	waiting := sendAsync(context.Background(), http.MethodGet, base+"/api/me", fourth...)
	waitFor(t, "the fourth user to queue", func() bool { return waiters(s, "acme") == 1 })

	// The queue is full: refused at once, sign-in included.
	start := time.Now()
	if r := send(t, http.DefaultClient, http.MethodGet, base+"/api/me", "", "", bearer(APIKey(testPassword, "acme", 2))...); !isOverCapacity(r) {
		t.Errorf("fifth user with the queue full: %d %v %q", r.code, r.header, r.body)
	}
	if r, _ := apiSession(t, http.DefaultClient, base, SyntheticUser("acme"), testPassword); !isOverCapacity(r) {
		t.Errorf("sign-in with the queue full: %d %q", r.code, r.body)
	}
	if d := time.Since(start); d > QueueTimeout/2 {
		t.Errorf("refusals took %s, want at once", d)
	}
	// Users within capacity and requests without a session are served.
	if r := send(t, http.DefaultClient, http.MethodGet, base+"/api/me", "", "", bearer(toks[0])...); r.code != 200 {
		t.Errorf("a user holding a slot: %d", r.code)
	}
	for _, path := range []string{"/health", "/api/status", "/login", "/api/items"} {
		if r := send(t, http.DefaultClient, http.MethodGet, base+path, "", ""); r.code != 200 {
			t.Errorf("GET %s without a session while full: %d", path, r.code)
		}
	}

	r := <-waiting
	if !isOverCapacity(r.reply) || r.took < QueueTimeout-50*time.Millisecond || r.took > QueueTimeout+500*time.Millisecond {
		t.Errorf("fourth user: %d %q after %s, want 503 over capacity after ~%s", r.code, r.body, r.took, QueueTimeout)
	}

	// A sign-out hands its slot to the waiter at once.
	waiting = sendAsync(context.Background(), http.MethodGet, base+"/api/me", fourth...)
	waitFor(t, "the fourth user to queue again", func() bool { return waiters(s, "acme") == 1 })
	signedOut := time.Now()
	if r := send(t, http.DefaultClient, http.MethodDelete, base+"/api/session", "", "", bearer(toks[1])...); r.code != 204 {
		t.Fatalf("sign-out: %d", r.code)
	}
	r = <-waiting
	if r.code != 200 || !strings.Contains(r.body, SyntheticUser("acme")) {
		t.Errorf("waiter after a sign-out: %d %q", r.code, r.body)
	}
	if d := time.Since(signedOut); d > 200*time.Millisecond {
		t.Errorf("waiter served %s after the sign-out", d)
	}
	st, _ := s.Load("acme")
	if st.Slots != 3 || st.PeakSlots != 3 || st.PeakWaiters != 1 || st.Rejected != 3 || st.Capacity != 3 || st.Queue != 1 {
		t.Errorf("load %+v", st)
	}
}

// A session keeps its slot while its user thinks, and loses it after
// SessionIdle without a request; a waiter then gets it.
func TestCapacityIdleReclaim(t *testing.T) {
	t.Parallel()
	clock := newSyncClock()
	s, ts := newCapacityServer(t, 1, clock)
	base := ts.URL + "/t/acme"
	tok := signIn(t, base, 1)[0]
	key := bearer(APIKey(testPassword, "acme", 1))

	// Thinking just under SessionIdle: the slot is still the session's, so
	// another user queues (and gives up when its client does).
	clock.advance(SessionIdle - time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	if r := <-sendAsync(ctx, http.MethodGet, base+"/api/me", key...); r.err == nil {
		t.Errorf("other user while the session thinks: %d, want to wait", r.code)
	}
	waitFor(t, "the server to see the client go", func() bool { return waiters(s, "acme") == 0 })
	if r := send(t, http.DefaultClient, http.MethodGet, base+"/api/me", "", "", bearer(tok)...); r.code != 200 {
		t.Fatalf("session after thinking: %d", r.code)
	}

	// Idle for SessionIdle: a newcomer takes the slot at once.
	clock.advance(SessionIdle)
	if r := send(t, http.DefaultClient, http.MethodGet, base+"/api/me", "", "", key...); r.code != 200 {
		t.Fatalf("newcomer after the session idled: %d %q", r.code, r.body)
	}

	// A waiter is served when the holder idles out, without anyone else
	// coming by: it looks for idle slots itself.
	waiting := sendAsync(context.Background(), http.MethodGet, base+"/api/me", bearer(tok)...)
	waitFor(t, "the session to queue", func() bool { return waiters(s, "acme") == 1 })
	clock.advance(SessionIdle)
	if r := <-waiting; r.code != 200 || r.took > QueueTimeout/2 {
		t.Errorf("waiter after the holder idled: %d after %s", r.code, r.took)
	}
	if st, _ := s.Load("acme"); st.Slots != 1 || st.PeakSlots != 1 || st.Rejected != 1 {
		t.Errorf("load %+v", st)
	}
}

// A slot with a request in flight is never idle, however long it runs.
func TestGateInFlightNotReclaimed(t *testing.T) {
	clock := newSyncClock()
	g := &gate{now: clock.now}
	g.limit.Store(1)
	a, ok := g.acquire(context.Background(), "a")
	if !ok || a == nil {
		t.Fatal("first acquire refused")
	}
	clock.advance(10 * SessionIdle)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, ok := g.acquire(ctx, "b"); ok {
		t.Fatal("b got the slot of a request in flight")
	}
	g.done(a)
	clock.advance(SessionIdle)
	b, ok := g.acquire(ctx, "b")
	if !ok {
		t.Fatal("b refused after a idled")
	}
	g.done(b)
	if g.use("a") != nil || g.waiters != 0 || len(g.slots) != 1 || g.idleOldest != b || g.idleNewest != b {
		t.Errorf("gate state: %d waiters, %d slots", g.waiters, len(g.slots))
	}
}

// Sign-in takes a slot: form, JSON and OAuth2 alike are refused when full,
// and a failed sign-in takes none.
func TestCapacitySignIn(t *testing.T) {
	t.Parallel()
	s, ts := newCapacityServer(t, 1, nil)
	base := ts.URL + "/t/acme"
	if r, _ := apiSession(t, http.DefaultClient, base, SyntheticUser("acme"), "wrong"); r.code != 401 {
		t.Fatalf("wrong password: %d", r.code)
	}
	if st, _ := s.Load("acme"); st.Slots != 0 {
		t.Fatalf("a failed sign-in holds a slot: %+v", st)
	}
	signIn(t, base, 1)
	// Fill the queue, so sign-ins are refused at once.
	waiting := sendAsync(context.Background(), http.MethodGet, base+"/api/me", bearer(APIKey(testPassword, "acme", 1))...)
	waitFor(t, "a user to queue", func() bool { return waiters(s, "acme") == 1 })
	for name, flow := range signInFlows {
		t.Run(name, func(t *testing.T) {
			in, _ := flow(t, base)
			if !isOverCapacity(in) {
				t.Errorf("sign-in while full: %d %v %q", in.code, in.header, in.body)
			}
		})
	}
	if r := <-waiting; !isOverCapacity(r.reply) {
		t.Errorf("waiter: %d", r.code)
	}
}

// The capacity fault shrinks and restores a tenant's capacity at run time:
// sessions holding slots keep them, newcomers wait until enough leave.
func TestCapacityFault(t *testing.T) {
	t.Parallel()
	s, ts := newCapacityServer(t, 3, nil)
	base := ts.URL + "/t/acme"
	toks := signIn(t, base, 3)
	if _, err := s.SetFault("acme", Fault{Mode: ModeCapacity, Users: 1}); err != nil {
		t.Fatal(err)
	}
	for i, tok := range toks {
		if r := send(t, http.DefaultClient, http.MethodGet, base+"/api/me", "", "", bearer(tok)...); r.code != 200 {
			t.Errorf("session %d after the shrink: %d", i+1, r.code)
		}
	}
	key := bearer(APIKey(testPassword, "acme", 1))
	// Two sign out: the third still fills the new capacity of one.
	for _, tok := range toks[:2] {
		send(t, http.DefaultClient, http.MethodDelete, base+"/api/session", "", "", bearer(tok)...)
	}
	waiting := sendAsync(context.Background(), http.MethodGet, base+"/api/me", key...)
	waitFor(t, "a newcomer to queue", func() bool { return waiters(s, "acme") == 1 })
	send(t, http.DefaultClient, http.MethodDelete, base+"/api/session", "", "", bearer(toks[2])...)
	if r := <-waiting; r.code != 200 {
		t.Errorf("newcomer after the last sign-out: %d", r.code)
	}

	// Over the admin API: set, read back, clear.
	code, body := adminRequest(t, http.MethodPut, ts.URL+"/admin/tenants/acme/fault", `{"mode":"capacity","users":2}`)
	if code != 200 || strings.TrimSpace(body) != `{"mode":"capacity","users":2}` {
		t.Errorf("PUT capacity fault: %d %s", code, body)
	}
	if st, err := LoadRemote(context.Background(), ts.URL, "acme"); err != nil || st.Capacity != 2 || st.Queue != 1 {
		t.Errorf("capacity under the fault: %+v %v", st, err)
	}
	if err := ClearFaultRemote(context.Background(), ts.URL, "acme"); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.Load("acme"); st.Capacity != 3 {
		t.Errorf("capacity after clearing: %d, want 3", st.Capacity)
	}

	// users 0 lifts the limit: slots are no longer kept.
	if _, err := s.SetFault("acme", Fault{Mode: ModeCapacity}); err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 5; n++ {
		if r := send(t, http.DefaultClient, http.MethodGet, base+"/api/me", "", "", bearer(APIKey(testPassword, "acme", n))...); r.code != 200 {
			t.Errorf("key %d with the limit lifted: %d", n, r.code)
		}
	}
	if st, _ := s.Load("acme"); st.Capacity != 0 || st.Slots != 0 || st.Queue != 0 {
		t.Errorf("load with the limit lifted: %+v", st)
	}
	// Another fault restores the configured capacity.
	if _, err := s.SetFault("acme", Fault{Mode: ModeWrongBody}); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.Load("acme"); st.Capacity != 3 {
		t.Errorf("capacity under wrong_body: %d, want 3", st.Capacity)
	}
}

// Peaks of a known burst: 7 requests in flight at once within one second,
// then 3 and 5 in the next one.
func TestLoadCounters(t *testing.T) {
	t.Parallel()
	clock := newSyncClock()
	s, ts := newCapacityServer(t, 3, clock)
	base := ts.URL + "/t/acme"
	if _, err := s.SetFault("acme", Fault{Mode: ModeSlow, Delay: 300 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	var replies []<-chan timedReply
	for range 7 {
		replies = append(replies, sendAsync(context.Background(), http.MethodGet, base+"/health"))
	}
	waitFor(t, "7 requests in flight", func() bool { st, _ := s.Load("acme"); return st.InFlight == 7 })
	for _, r := range replies {
		if r := <-r; r.code != 200 {
			t.Fatalf("burst: %d %v", r.code, r.err)
		}
	}
	s.ClearFault("acme")
	clock.advance(time.Second)
	for range 3 {
		get(t, http.DefaultClient, base+"/health")
	}
	st, err := LoadRemote(context.Background(), ts.URL, "acme")
	want := LoadStats{Tenant: "acme", Capacity: 3, Queue: 1, Requests: 10, PeakInFlight: 7, PeakPerSecond: 7}
	if err != nil || st != want {
		t.Errorf("after the burst: %+v %v, want %+v", st, err, want)
	}
	for range 5 {
		get(t, http.DefaultClient, base+"/nothing") // counted, 404 or not
	}
	if st, _ := s.Load("acme"); st.PeakPerSecond != 8 || st.Requests != 15 {
		t.Errorf("8 in one second: %+v", st)
	}
	if st, _ := s.Load("globex"); st.Requests != 0 {
		t.Errorf("globex counted acme's requests: %+v", st)
	}

	if err := ResetLoadRemote(context.Background(), ts.URL, "acme"); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.Load("acme"); st != (LoadStats{Tenant: "acme", Capacity: 3, Queue: 1}) {
		t.Errorf("after reset: %+v", st)
	}
	if _, err := LoadRemote(context.Background(), ts.URL, "nobody"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("unknown tenant: %v", err)
	}
	if err := ResetLoadRemote(context.Background(), ts.URL, "nobody"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("reset unknown tenant: %v", err)
	}
}

// Many users racing for few slots: never more slots than the capacity, and
// every answer is served or refused, never lost.
func TestCapacityConcurrent(t *testing.T) {
	t.Parallel()
	const capacity, users = 4, 24
	s, ts := newCapacityServer(t, capacity, nil)
	base := ts.URL + "/t/acme"
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for u := 1; u <= users; u++ {
		wg.Go(func() {
			key := bearer(APIKey(testPassword, "acme", u))
			for range 5 {
				r := <-sendAsync(context.Background(), http.MethodGet, base+"/api/items", key...)
				mu.Lock()
				codes[r.code]++
				mu.Unlock()
			}
			<-sendAsync(context.Background(), http.MethodDelete, base+"/api/session", key...)
		})
	}
	wg.Wait()
	st, _ := s.Load("acme")
	if st.PeakSlots > capacity || st.Slots != 0 || st.PeakWaiters > 1 || st.InFlight != 0 {
		t.Errorf("load %+v", st)
	}
	if codes[200]+codes[503] != users*5 || codes[200] < capacity || int64(codes[503]) != st.Rejected {
		t.Errorf("answers %v, rejected %d", codes, st.Rejected)
	}
}

func TestCapacities(t *testing.T) {
	want := map[string]int{"acme": 150, "initech": 90, "wonka": 60, "soylent": 30, "globex": 350, "weyland": 1500}
	named := Tenants(len(namedTenants))
	for _, tn := range named {
		if c, ok := want[tn.ID]; ok && tn.Capacity != c {
			t.Errorf("%s: capacity %d, want %d", tn.ID, tn.Capacity, c)
		}
		below := map[string]bool{"acme": true, "initech": true, "wonka": true, "soylent": true}[tn.ID]
		if below != (tn.Capacity < tn.Seats) || tn.Capacity > tn.Seats*3/2 {
			t.Errorf("%s: capacity %d for %d seats", tn.ID, tn.Capacity, tn.Seats)
		}
	}
	below := 0
	for _, tn := range Tenants(MaxTenants)[len(named):] {
		// 60–90% or 120–150% of the seats, give or take rounding.
		if tn.Capacity <= 0 || tn.Capacity == tn.Seats || tn.Capacity*100 < tn.Seats*50 || tn.Capacity*100 > tn.Seats*160 {
			t.Fatalf("%s: capacity %d for %d seats", tn.ID, tn.Capacity, tn.Seats)
		}
		if tn.Capacity < tn.Seats {
			below++
		}
	}
	if n := MaxTenants - len(named); below < n/10 || below > n/6 {
		t.Errorf("%d of %d generated tenants below their seats, want about 1 in 8", below, n)
	}

	s, err := New(Options{Tenants: 3, Capacities: map[string]int{"globex": 0, "initech": 7}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Tenants(); got[0].Capacity != 150 || got[1].Capacity != 0 || got[2].Capacity != 7 {
		t.Errorf("overridden capacities: %+v", got)
	}
	for _, bad := range []map[string]int{{"acme": -1}, {"acme": MaxCapacity + 1}, {"nobody": 5}} {
		if _, err := New(Options{Tenants: 3, Capacities: bad, Logger: slog.New(slog.DiscardHandler)}); err == nil {
			t.Errorf("New(Capacities: %v): no error", bad)
		}
	}
}

// An unlimited tenant keeps no slots.
func TestCapacityUnlimited(t *testing.T) {
	s, ts := newCapacityServer(t, 0, nil)
	base := ts.URL + "/t/acme"
	for _, tok := range signIn(t, base, 5) {
		if r := send(t, http.DefaultClient, http.MethodGet, base+"/api/me", "", "", bearer(tok)...); r.code != 200 {
			t.Fatalf("unlimited: %d", r.code)
		}
	}
	if st, _ := s.Load("acme"); st.Slots != 0 || st.PeakSlots != 0 || st.Capacity != 0 || st.Requests != 10 {
		t.Errorf("load %+v", st)
	}
}

// TestSignOutNeverWaitsForASlot: a session whose slot was reclaimed while
// the tenant is full still signs out at once.
func TestSignOutNeverWaitsForASlot(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/t/acme/logout", nil)
	if !isSignOut(r) || isSignOut(httptest.NewRequest(http.MethodGet, "/t/acme/logout", nil)) ||
		!isSignOut(httptest.NewRequest(http.MethodDelete, "/t/acme/api/session", nil)) {
		t.Error("sign-out requests not recognised")
	}
}
