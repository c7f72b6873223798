package slack

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/forewarn/forewarn/internal/fakeslack"
	"github.com/forewarn/forewarn/store"
)

const fakeToken = "xoxb-test-secret-token-1234"

// newFakeSlack is a fake Slack with the channels the tests post to.
func newFakeSlack(t *testing.T) *fakeslack.Server {
	t.Helper()
	return fakeslack.New(t, map[string]string{"saas-support": "C0DEFAULT1", "support-acme": "C0ACME0001"})
}

// memState is an in-memory StateStore that answers store.ErrNotFound.
type memState struct {
	mu    sync.Mutex
	data  map[string][]byte
	saves int
}

func newMemState() *memState { return &memState{data: map[string][]byte{}} }

func (s *memState) SaveState(_ context.Context, key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data[key] = append([]byte(nil), value...)
	s.saves++
	return nil
}

func (s *memState) LoadState(_ context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.data[key]
	if !ok {
		return nil, store.ErrNotFound
	}
	return append([]byte(nil), v...), nil
}

func (s *memState) DeleteState(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.data, key)
	return nil
}

// killableState drops every write once killed: a process killed with -9
// after Slack took its post writes nothing more.
type killableState struct {
	StateStore
	mu     sync.Mutex
	killed bool
}

func (s *killableState) kill() {
	s.mu.Lock()
	s.killed = true
	s.mu.Unlock()
}

func (s *killableState) SaveState(ctx context.Context, key string, value []byte) error {
	s.mu.Lock()
	killed := s.killed
	s.mu.Unlock()
	if killed {
		return nil
	}
	return s.StateStore.SaveState(ctx, key, value)
}

func newTimeoutClient(d time.Duration) *http.Client { return &http.Client{Timeout: d} }
