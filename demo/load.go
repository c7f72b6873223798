package demo

import (
	"fmt"
	"net/http"
	"sync/atomic"
)

// LoadStats are a tenant's load counters: what it was asked to serve and how
// its capacity held, so a test can prove a load generator kept to its caps.
// Counters and peaks run from New or the last ResetLoad. Slots are tracked
// while the capacity is limited.
type LoadStats struct {
	Tenant string `json:"tenant"`
	// Capacity is the capacity now (a capacity fault's, else the
	// configured one); 0 is unlimited. Queue is its bound on waiters.
	Capacity int `json:"capacity"`
	Queue    int `json:"queue"`
	// Requests counts every request to /t/{id}/…, gated or not; Rejected
	// those answered 503 over capacity.
	Requests int64 `json:"requests"`
	Rejected int64 `json:"rejected"`
	// InFlight are the requests being served now, waiters included.
	InFlight     int64 `json:"in_flight"`
	PeakInFlight int64 `json:"peak_in_flight"`
	// PeakPerSecond is the most requests started within one second (of
	// the clock: 12:00:01.000 to 12:00:01.999).
	PeakPerSecond int64 `json:"peak_per_second"`
	// Slots are the sessions holding a slot now.
	Slots       int `json:"slots"`
	PeakSlots   int `json:"peak_slots"`
	Waiters     int `json:"waiters"`
	PeakWaiters int `json:"peak_waiters"`
}

// loadCounters count a tenant's requests with atomics only: they run on
// every request.
type loadCounters struct {
	requests, rejected     atomic.Int64
	inFlight, peakInFlight atomic.Int64
	// second packs the current second (unix time, high bits) with the
	// requests started in it (low secondBits), so one CAS rolls it over.
	second        atomic.Uint64
	peakPerSecond atomic.Int64
}

const (
	secondBits = 24
	secondMask = 1<<secondBits - 1
)

// start counts a request starting in unix second sec.
func (c *loadCounters) start(sec int64) {
	c.requests.Add(1)
	raiseTo(&c.peakInFlight, c.inFlight.Add(1))
	for {
		old := c.second.Load()
		next := uint64(sec)<<secondBits | 1
		// A request that read the clock just before another rolled the
		// second over counts in the new one: the bucket never goes back.
		if int64(old>>secondBits) >= sec {
			if old&secondMask == secondMask {
				return // 16M requests in a second: saturated
			}
			next = old + 1
		}
		if c.second.CompareAndSwap(old, next) {
			raiseTo(&c.peakPerSecond, int64(next&secondMask))
			return
		}
	}
}

// raiseTo sets peak to v if v is higher.
func raiseTo(peak *atomic.Int64, v int64) {
	for {
		p := peak.Load()
		if v <= p || peak.CompareAndSwap(p, v) {
			return
		}
	}
}

// countLoad is the outermost tenant middleware: every request is counted,
// whatever happens to it.
func countLoad(next tenantHandler) tenantHandler {
	return func(a *tenantApp, w http.ResponseWriter, r *http.Request) {
		a.load.start(a.gate.clock().Unix())
		defer a.load.inFlight.Add(-1)
		next(a, w, r)
	}
}

// Load returns tenant id's load counters. Slots idle past SessionIdle are
// reclaimed first, so Slots counts the sessions active now.
func (s *Server) Load(id string) (LoadStats, error) {
	a := s.tenants[id]
	if a == nil {
		return LoadStats{}, fmt.Errorf("%w %q", ErrUnknownTenant, id)
	}
	st := LoadStats{
		Tenant:        id,
		Requests:      a.load.requests.Load(),
		Rejected:      a.load.rejected.Load(),
		InFlight:      a.load.inFlight.Load(),
		PeakInFlight:  a.load.peakInFlight.Load(),
		PeakPerSecond: a.load.peakPerSecond.Load(),
	}
	g := &a.gate
	g.mu.Lock()
	defer g.mu.Unlock()
	g.reclaim()
	st.Capacity = int(g.limit.Load())
	if st.Capacity > 0 {
		st.Queue = maxWaiters(st.Capacity)
	}
	st.Slots, st.PeakSlots = len(g.slots), g.peakSlots
	st.Waiters, st.PeakWaiters = g.waiters, g.peakWaiters
	return st, nil
}

// ResetLoad zeroes tenant id's counters. Peaks restart from the values now:
// from zero on an idle tenant.
func (s *Server) ResetLoad(id string) error {
	a := s.tenants[id]
	if a == nil {
		return fmt.Errorf("%w %q", ErrUnknownTenant, id)
	}
	a.load.requests.Store(0)
	a.load.rejected.Store(0)
	a.load.peakInFlight.Store(a.load.inFlight.Load())
	a.load.second.Store(0)
	a.load.peakPerSecond.Store(0)
	g := &a.gate
	g.mu.Lock()
	defer g.mu.Unlock()
	g.reclaim()
	g.peakSlots, g.peakWaiters = len(g.slots), g.waiters
	return nil
}
