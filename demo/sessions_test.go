package demo

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

// fakeClock is a settable clock for the session store.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)} }

func TestSessionStoreBound(t *testing.T) {
	const limit = 5
	tests := []struct {
		name    string
		issued  int
		wantLen int
	}{
		{"under", 3, 3},
		{"at", limit, limit},
		{"over", 3*limit + 2, limit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &sessionStore{max: limit, now: newFakeClock().now}
			var toks []string
			for i := range tt.issued {
				toks = append(toks, s.issue("u", false))
				if n := s.live(); n > limit {
					t.Fatalf("after %d sign-ins: %d sessions, limit %d", i+1, n, limit)
				}
			}
			if n := s.live(); n != tt.wantLen {
				t.Errorf("%d sessions, want %d", n, tt.wantLen)
			}
			// The newest survive; the oldest were evicted.
			for i, tok := range toks {
				_, ok := s.lookup(tok)
				if want := i >= len(toks)-limit; ok != want {
					t.Errorf("session %d of %d live = %v, want %v", i+1, len(toks), ok, want)
				}
			}
		})
	}
}

func TestSessionStoreTTL(t *testing.T) {
	clock := newFakeClock()
	s := &sessionStore{now: clock.now}
	first := s.issue("alice", false)
	clock.advance(SessionTTL - time.Second)
	if user, ok := s.lookup(first); !ok || user != "alice" {
		t.Fatalf("before the TTL: %q %v", user, ok)
	}
	second := s.issue("bob", false)
	clock.advance(time.Second)
	if _, ok := s.lookup(first); ok {
		t.Error("first session live at its TTL")
	}
	if _, ok := s.lookup(second); !ok {
		t.Error("second session expired early")
	}
	// Expired sessions are purged by the next sign-in, looked up or not.
	clock.advance(SessionTTL)
	s.issue("carol", false)
	if n := s.live(); n != 1 {
		t.Errorf("%d sessions after the others expired, want 1", n)
	}
	if born := s.issue("dave", true); func() bool { _, ok := s.lookup(born); return ok }() {
		t.Error("a session issued expired validates")
	}
}

func TestSessionStoreRevoke(t *testing.T) {
	s := &sessionStore{now: newFakeClock().now}
	a, b, c := s.issue("a", false), s.issue("b", false), s.issue("c", false)
	for _, tok := range []string{b, a, "unknown", c} { // middle, oldest, nothing, newest
		s.revoke(tok)
		if _, ok := s.lookup(tok); ok {
			t.Errorf("%s live after revoke", tok)
		}
	}
	if s.live() != 0 || s.oldest != nil || s.newest != nil || s.byToken != nil {
		t.Errorf("store not empty: %d %v %v %v", s.live(), s.oldest, s.newest, s.byToken)
	}
	if tok := s.issue("d", false); s.live() != 1 || s.oldest != s.newest || s.oldest.token != tok {
		t.Error("store unusable after emptying")
	}
}

// Tokens are unique, URL-safe and 256 bits.
func TestNewToken(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		tok := newToken(32)
		if len(tok) != 43 || strings.ContainsAny(tok, "+/=") || seen[tok] {
			t.Fatalf("token %q", tok)
		}
		seen[tok] = true
	}
}

// bufWriter keeps the body, so the benchmark can read the token.
type bufWriter struct {
	h    http.Header
	code int
	buf  bytes.Buffer
}

func (w *bufWriter) Header() http.Header         { return w.h }
func (w *bufWriter) Write(b []byte) (int, error) { return w.buf.Write(b) }
func (w *bufWriter) WriteHeader(code int)        { w.code = code }

func (w *bufWriter) reset() {
	clear(w.h)
	w.code = 200
	w.buf.Reset()
}

// BenchmarkSignInAndMe is one JSON sign-in, one /api/me with its token and
// a sign-out, spread over all tenants of a 10,000-tenant demo.
func BenchmarkSignInAndMe(b *testing.B) {
	s, err := New(Options{Tenants: MaxTenants, Password: testPassword, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handler()
	tenants := s.Tenants()
	bodies := make([]string, len(tenants))
	for i, tn := range tenants {
		bodies[i] = `{"user":"` + SyntheticUser(tn.ID) + `","password":` + jsonString(testPassword) + `}`
	}
	w := &bufWriter{h: http.Header{}}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		base := "/t/" + tenants[i].ID
		w.reset()
		// http.NewRequest, not httptest's: that one parses a request
		// line through a fresh 4 KiB bufio.Reader, which would dominate.
		req, _ := http.NewRequest(http.MethodPost, base+"/api/session", strings.NewReader(bodies[i]))
		h.ServeHTTP(w, req)
		tok := jsonField(w.buf.String(), "token")
		w.reset()
		req, _ = http.NewRequest(http.MethodGet, base+"/api/me", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		h.ServeHTTP(w, req)
		if w.code != 200 {
			b.Fatalf("GET /api/me: %d %s", w.code, w.buf.String())
		}
		// Sign out, as a user does: a session left behind would hold a slot
		// of the tenant's capacity for SessionIdle.
		w.reset()
		req, _ = http.NewRequest(http.MethodDelete, base+"/api/session", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		h.ServeHTTP(w, req)
		i = (i + 1) % len(tenants)
	}
}
