package statuspage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/forewarn/forewarn/store"
)

// Publication is what a support lead made public about a case, kept in the
// store's state under "statuspage/incident/<case id>". Until Published,
// pages show the case under a generic title only; a Hidden case is on no
// page at all (a false alarm).
type Publication struct {
	Title     string    `json:"title,omitempty"`
	Body      string    `json:"body,omitempty"`
	Published bool      `json:"published"`
	Hidden    bool      `json:"hidden"`
	Updates   []Update  `json:"updates,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Update is a dated line a support lead adds to a published incident.
type Update struct {
	Time time.Time `json:"time"`
	Text string    `json:"text"`
}

const publicationPrefix = "statuspage/incident/"

// publications caches what the store holds, for ttl: the pages read the
// publications of every case they show at each build. Writes through the
// admin API update the cache at once; another instance's writes show
// within ttl.
type publications struct {
	mu  sync.Mutex
	ttl time.Duration
	m   map[string]pubEntry
}

type pubEntry struct {
	p  *Publication // nil: none
	at time.Time
}

// publicationsFor returns the publications of the cases given (those
// without one are absent).
func (s *Server) publicationsFor(ctx context.Context, cs []caseView) (map[string]*Publication, error) {
	now := s.now()
	out := map[string]*Publication{}
	var missing []string
	s.pubs.mu.Lock()
	if s.pubs.m == nil || len(s.pubs.m) > 50000 {
		s.pubs.m = map[string]pubEntry{}
	}
	for _, cv := range cs {
		e, ok := s.pubs.m[cv.rec.ID]
		if !ok || now.Sub(e.at) >= s.pubs.ttl || now.Before(e.at) {
			missing = append(missing, cv.rec.ID)
		} else if e.p != nil {
			out[cv.rec.ID] = e.p
		}
	}
	s.pubs.mu.Unlock()
	for _, id := range missing {
		p, err := s.loadPublication(ctx, id)
		if err != nil {
			return nil, err
		}
		s.cachePublication(id, p, now)
		if p != nil {
			out[id] = p
		}
	}
	return out, nil
}

func (s *Server) cachePublication(id string, p *Publication, now time.Time) {
	s.pubs.mu.Lock()
	defer s.pubs.mu.Unlock()
	if s.pubs.m == nil {
		s.pubs.m = map[string]pubEntry{}
	}
	s.pubs.m[id] = pubEntry{p, now}
}

// loadPublication reads a case's publication from the store; nil if none.
func (s *Server) loadPublication(ctx context.Context, id string) (*Publication, error) {
	b, err := s.o.Store.LoadState(ctx, publicationPrefix+id)
	if errors.Is(err, store.ErrNotFound) || err == nil && len(b) == 0 {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var p Publication
	if err := json.Unmarshal(b, &p); err != nil {
		s.log.Warn("status page: an incident publication is unreadable; the case shows unpublished", "case", id, "error", err)
		return nil, nil
	}
	return &p, nil
}

func (s *Server) savePublication(ctx context.Context, id string, p *Publication) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if err := s.o.Store.SaveState(ctx, publicationPrefix+id, b); err != nil {
		return fmt.Errorf("save publication: %w", err)
	}
	s.cachePublication(id, p, s.now())
	return nil
}
