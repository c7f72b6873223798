package demo

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"
)

// Session limits, the same for every tenant.
const (
	// SessionTTL is how long a session cookie, a session token or an OAuth2
	// access token stays valid.
	SessionTTL = 15 * time.Minute
	// MaxSessionsPerTenant bounds a tenant's live sessions; signing in past
	// it ends the oldest session.
	MaxSessionsPerTenant = 10_000
)

// session is one signed-in user. Sessions are chained oldest to newest, the
// order they are evicted in.
type session struct {
	token        string
	user         string
	expires      time.Time
	older, newer *session
}

// sessionStore holds one tenant's sessions: opaque random tokens, each valid
// for ttl, at most max of them. Expired sessions are dropped lazily, when
// looked up or when a sign-in finds them at the old end of the chain, so the
// store needs no goroutine and a tenant nobody signs in to costs one empty
// struct.
//
// Memory stays bounded under any sign-in rate: at most max sessions per
// tenant, and in steady state only those signed in within the last ttl.
//
// The zero value is ready: ttl, max and now default to SessionTTL,
// MaxSessionsPerTenant and time.Now. The capacity model (capacity.go) sits in
// front of it: tenantApp.startSession takes the new session a slot before
// adding it.
type sessionStore struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu             sync.Mutex
	byToken        map[string]*session // nil while empty
	oldest, newest *session
}

func (s *sessionStore) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

func (s *sessionStore) lifetime() time.Duration {
	if s.ttl > 0 {
		return s.ttl
	}
	return SessionTTL
}

func (s *sessionStore) limit() int {
	if s.max > 0 {
		return s.max
	}
	return MaxSessionsPerTenant
}

// issue starts a session for user and returns its token.
func (s *sessionStore) issue(user string, expired bool) string {
	tok := newToken(32)
	s.add(tok, user, expired)
	return tok
}

// add starts a session for user with token tok, a fresh newToken. An expired
// session (the session_expiry fault) is stored like any other but never
// validates.
func (s *sessionStore) add(tok, user string, expired bool) {
	now := s.clock()
	ses := &session{token: tok, user: user, expires: now.Add(s.lifetime())}
	if expired {
		ses.expires = now
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.purge(now)
	for len(s.byToken) >= s.limit() {
		s.remove(s.oldest)
	}
	if s.byToken == nil {
		s.byToken = make(map[string]*session)
	}
	s.byToken[tok] = ses
	ses.older = s.newest
	if s.newest != nil {
		s.newest.newer = ses
	} else {
		s.oldest = ses
	}
	s.newest = ses
}

// lookup returns the user signed in with tok, if the session is live.
func (s *sessionStore) lookup(tok string) (user string, ok bool) {
	now := s.clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	ses := s.byToken[tok]
	if ses == nil {
		return "", false
	}
	if !now.Before(ses.expires) {
		s.remove(ses)
		return "", false
	}
	return ses.user, true
}

// revoke ends the session of tok (sign-out); an unknown token is a no-op.
func (s *sessionStore) revoke(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ses := s.byToken[tok]; ses != nil {
		s.remove(ses)
	}
}

// live counts the sessions held, after dropping the expired ones at the old
// end of the chain.
func (s *sessionStore) live() int {
	now := s.clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.purge(now)
	return len(s.byToken)
}

// purge drops expired sessions from the old end. Sessions expire in the order
// they were issued (one ttl for all), so it stops at the first live one;
// each session is dropped once, so the cost is constant per sign-in. One
// born expired (session_expiry) may wait behind live ones until it is looked
// up or evicted: still within max.
func (s *sessionStore) purge(now time.Time) {
	for s.oldest != nil && !now.Before(s.oldest.expires) {
		s.remove(s.oldest)
	}
}

// remove unlinks ses. The map is dropped once empty: Go maps never shrink,
// and a burst of sign-ins must not pin its buckets for good.
func (s *sessionStore) remove(ses *session) {
	delete(s.byToken, ses.token)
	if len(s.byToken) == 0 {
		s.byToken = nil
	}
	if ses.older != nil {
		ses.older.newer = ses.newer
	} else {
		s.oldest = ses.newer
	}
	if ses.newer != nil {
		ses.newer.older = ses.older
	} else {
		s.newest = ses.older
	}
	ses.older, ses.newer = nil, nil
}

// newToken returns n random bytes, base64url-encoded without padding.
// crypto/rand.Read never fails (it aborts the program instead).
func newToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
