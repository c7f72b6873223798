package probes

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded in microseconds, from 1µs to 10 minutes, to three
// significant digits: 20ms is told from 20.02ms.
const (
	histMin    = 1
	histMax    = int64(10 * time.Minute / time.Microsecond)
	histDigits = 3
)

// recorder collects a step's requests from every user: counts and an HDR
// latency histogram, sharded so that users on different cores rarely
// contend for a lock. Only requests completed inside a measured window
// count; OnRequest sees every one.
type recorder struct {
	onRequest func(time.Duration, bool)
	shards    []recShard
	measuring atomic.Bool
	inFlight  atomic.Int64
	peak      atomic.Int64
	firstErr  atomic.Pointer[StepResult]
}

type recShard struct {
	mu       sync.Mutex
	h        *hdrhistogram.Histogram
	ok, errs int64
	_        [32]byte // keep shards on separate cache lines
}

func newRecorder(onRequest func(time.Duration, bool)) *recorder {
	n := 2 * runtime.GOMAXPROCS(0)
	r := &recorder{onRequest: onRequest, shards: make([]recShard, n)}
	for i := range r.shards {
		r.shards[i].h = hdrhistogram.New(histMin, histMax, histDigits)
	}
	return r
}

func (r *recorder) enter() {
	n := r.inFlight.Add(1)
	for {
		p := r.peak.Load()
		if n <= p || r.peak.CompareAndSwap(p, n) {
			return
		}
	}
}

func (r *recorder) leave() { r.inFlight.Add(-1) }

// record counts one completed request of user id. first is the failure,
// redacted, when it may be the window's first error.
func (r *recorder) record(id int, d time.Duration, ok bool, first *StepResult) {
	sr := first
	if r.onRequest != nil {
		r.onRequest(d, ok)
	}
	if !r.measuring.Load() {
		return
	}
	us := min(max(d.Microseconds(), histMin), histMax)
	s := &r.shards[id%len(r.shards)]
	s.mu.Lock()
	s.h.RecordValue(us)
	if ok {
		s.ok++
	} else {
		s.errs++
	}
	s.mu.Unlock()
	if !ok && sr != nil {
		r.firstErr.CompareAndSwap(nil, sr)
	}
}

// begin starts a measured window.
func (r *recorder) begin() {
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		s.h.Reset()
		s.ok, s.errs = 0, 0
		s.mu.Unlock()
	}
	r.peak.Store(r.inFlight.Load())
	r.firstErr.Store(nil)
	r.measuring.Store(true)
}

// counts are the window's requests and errors so far.
func (r *recorder) counts() (requests, errs int64) {
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		requests += s.ok + s.errs
		errs += s.errs
		s.mu.Unlock()
	}
	return requests, errs
}

// end closes the window of length d and sums it into a step.
func (r *recorder) end(d time.Duration) LoadStep {
	r.measuring.Store(false)
	all := hdrhistogram.New(histMin, histMax, histDigits)
	var st LoadStep
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		all.Merge(s.h)
		st.Requests += s.ok + s.errs
		st.Errors += s.errs
		s.mu.Unlock()
	}
	st.Duration = d
	if d > 0 {
		st.Rate = float64(st.Requests) / d.Seconds()
	}
	st.ErrorRatio = 1
	if st.Requests > 0 {
		st.ErrorRatio = float64(st.Errors) / float64(st.Requests)
	}
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	st.P50, st.P95, st.P99 = us(all.ValueAtQuantile(50)), us(all.ValueAtQuantile(95)), us(all.ValueAtQuantile(99))
	st.Max = us(all.Max())
	st.InFlight = int(r.peak.Load())
	if f := r.firstErr.Load(); f != nil {
		st.FirstError = f.Name + ": " + f.Message
	}
	return st
}
