package probes

import (
	"cmp"
	"crypto/tls"
	"net/http/httptrace"
	"sync"
	"time"
)

// Where a request was when it failed; timeout messages end with it.
const (
	stageStart   = "before connecting"
	stageResolve = "while resolving"
	stageConnect = "while connecting"
	stageTLS     = "during TLS handshake"
	stageSend    = "while sending request"
	stageWait    = "waiting for response headers"
	stageHeaders = "while reading response headers"
	stageBody    = "while reading body"
)

// phaseTracer times the requests of one probe through httptrace and remembers
// how far the last one got. Callbacks may run on the transport's dial
// goroutines, hence the lock. Each phase sums over redirects.
type phaseTracer struct {
	mu sync.Mutex
	p  Phases

	// Start of each phase still open; zero when closed.
	dnsStart, connStart, tlsStart, wrote, firstByte time.Time

	stage     string // one of the stage constants
	dialed    bool   // a TCP connect was attempted
	tlsFailed bool   // a TLS handshake returned an error
}

// clientTrace returns the hooks for httptrace.WithClientTrace.
func (t *phaseTracer) clientTrace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		// GetConn opens each request, redirects included: the previous
		// response's body has been drained by then, so its transfer ends here.
		GetConn: func(string) {
			t.at(func(now time.Time) { t.closeOpen(now); t.stage = stageConnect })
		},
		DNSStart: func(httptrace.DNSStartInfo) {
			t.at(func(now time.Time) { t.dnsStart = now; t.stage = stageResolve })
		},
		DNSDone: func(httptrace.DNSDoneInfo) {
			t.at(func(now time.Time) { span(&t.p.Resolve, &t.dnsStart, now); t.stage = stageConnect })
		},
		ConnectStart: func(_, _ string) {
			t.at(func(now time.Time) {
				// With several addresses dialled in turn or in parallel, the
				// phase runs from the first attempt to the first success.
				if t.connStart.IsZero() {
					t.connStart = now
				}
				t.dialed = true
				t.stage = stageConnect
			})
		},
		ConnectDone: func(_, _ string, err error) {
			if err == nil {
				t.at(func(now time.Time) { span(&t.p.Connect, &t.connStart, now) })
			}
		},
		TLSHandshakeStart: func() {
			t.at(func(now time.Time) { t.tlsStart = now; t.stage = stageTLS })
		},
		TLSHandshakeDone: func(_ tls.ConnectionState, err error) {
			t.at(func(now time.Time) { span(&t.p.TLS, &t.tlsStart, now); t.tlsFailed = err != nil })
		},
		GotConn: func(httptrace.GotConnInfo) {
			t.at(func(time.Time) { t.stage = stageSend })
		},
		WroteRequest: func(httptrace.WroteRequestInfo) {
			t.at(func(now time.Time) { t.wrote = now; t.stage = stageWait })
		},
		GotFirstResponseByte: func() {
			t.at(func(now time.Time) {
				span(&t.p.Processing, &t.wrote, now)
				t.firstByte = now
				t.stage = stageHeaders
			})
		},
	}
}

func (t *phaseTracer) at(f func(now time.Time)) {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	f(now)
}

// span adds now − *start to *d and closes the phase, if it was open.
func span(d *time.Duration, start *time.Time, now time.Time) {
	if !start.IsZero() {
		*d += now.Sub(*start)
		*start = time.Time{}
	}
}

// closeOpen ends every open phase at now, so a request cut short still
// reports the time it spent where it got stuck.
func (t *phaseTracer) closeOpen(now time.Time) {
	span(&t.p.Resolve, &t.dnsStart, now)
	span(&t.p.Connect, &t.connStart, now)
	span(&t.p.TLS, &t.tlsStart, now)
	span(&t.p.Processing, &t.wrote, now)
	span(&t.p.Transfer, &t.firstByte, now)
}

// finish ends the last request: after its body was read, or when it failed.
func (t *phaseTracer) finish(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closeOpen(now)
}

func (t *phaseTracer) setStage(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stage = s
}

// state reports how far the last request got, for classifying its error.
func (t *phaseTracer) state() (stage string, dialed, tlsFailed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return cmp.Or(t.stage, stageStart), t.dialed, t.tlsFailed
}

func (t *phaseTracer) phases() Phases {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.p
}
