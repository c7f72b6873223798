// Package probes runs one check against one tenant and returns a plain Result.
//
// A probe takes a context and a resolved Target and returns a Result value. It
// does not touch metrics, storage or notifiers: whoever ran it hands the
// result on. That keeps every probe testable with an httptest server alone.
package probes

import (
	"context"
	"fmt"
	"time"
)

// Kind names a probe type; it is the `kind` label everywhere.
type Kind string

// The probe kinds. Later kinds (login, load) add their own Spec fields to Target.
const (
	KindHTTP Kind = "http"
)

// Reason is the one cause a failed probe is filed under. The list is fixed so
// that probe_failures_total{reason} stays bounded.
type Reason string

// The fixed reasons, in the order errors can happen during a request.
const (
	ReasonNone       Reason = ""
	ReasonDNS        Reason = "dns"
	ReasonConnect    Reason = "connect"
	ReasonTLS        Reason = "tls"
	ReasonTimeout    Reason = "timeout"
	ReasonStatus     Reason = "status"
	ReasonAssertion  Reason = "assertion"
	ReasonExtraction Reason = "extraction"
	ReasonBodyLimit  Reason = "body_limit"
	ReasonInternal   Reason = "internal"
)

// Reasons lists every failure reason, so metrics and docs can list every reason.
var Reasons = []Reason{
	ReasonDNS, ReasonConnect, ReasonTLS, ReasonTimeout, ReasonStatus,
	ReasonAssertion, ReasonExtraction, ReasonBodyLimit, ReasonCapacity, ReasonInternal,
}

// Target is one (tenant × check) with every template expanded and every
// secret substituted. It is built once at config load and never changed.
type Target struct {
	Tenant string // tenant id: the `tenant` label
	Check  string // check name: the `check` label
	Kind   Kind

	// Interval is the period between runs; Schedule, when set, is a cron
	// expression (5 fields) used instead.
	Interval time.Duration
	Schedule string
	Timeout  time.Duration

	// Secrets are the resolved secret values this target uses. Any of them
	// found in an error message or printed output is replaced by "<secret>".
	Secrets []string

	HTTP  *HTTPSpec  // set when Kind == KindHTTP
	Login *LoginSpec // set when Kind == KindLogin
	Load  *LoadSpec  // set when Kind == KindLoad
}

// Key identifies the target in the plan: "tenant/check".
func (t Target) Key() string { return t.Tenant + "/" + t.Check }

// Result is what one probe run found. It is plain data.
type Result struct {
	Tenant string
	Check  string
	Kind   Kind

	Start    time.Time     // when the probe started
	Duration time.Duration // total wall time of the probe
	Success  bool
	Reason   Reason // ReasonNone when Success
	Message  string // readable, secrets redacted; empty on success

	// HTTP details; zero when no response arrived.
	StatusCode int
	Phases     Phases
	Redirects  int
	BodyBytes  int64 // decoded body bytes read

	// TLS is true when the final connection used TLS; CertExpiry is then the
	// earliest NotAfter of the peer certificate chain.
	TLS        bool
	CertExpiry time.Time

	// Login checks: every configured step in order, and how many passed
	// before the first failure. For a login check StatusCode is that of the
	// failed step, or of the last step run; Phases sum over the steps.
	Steps          []StepResult
	StepsCompleted int

	// Load checks: the ramp's curve and knee.
	Load *LoadResult

	// Skipped is set when a scheduled run did not happen (a load run
	// outside its window, or one that never got the load budget): there is
	// no finding, and the scheduler only counts the skip.
	Skipped string
}

// Phases splits an HTTP request's time the way blackbox_exporter does. With
// redirects, each phase is the sum over every request made.
type Phases struct {
	Resolve    time.Duration // DNS lookup
	Connect    time.Duration // TCP connect
	TLS        time.Duration // TLS handshake
	Processing time.Duration // request written → first response byte
	Transfer   time.Duration // first byte → body read
}

// Each calls f for every phase with its label value, in a fixed order.
func (p Phases) Each(f func(phase string, d time.Duration)) {
	f("resolve", p.Resolve)
	f("connect", p.Connect)
	f("tls", p.TLS)
	f("processing", p.Processing)
	f("transfer", p.Transfer)
}

// add sums two phase splits, as a login check sums its steps'.
func (p Phases) add(q Phases) Phases {
	return Phases{
		Resolve: p.Resolve + q.Resolve, Connect: p.Connect + q.Connect, TLS: p.TLS + q.TLS,
		Processing: p.Processing + q.Processing, Transfer: p.Transfer + q.Transfer,
	}
}

// PhaseNames are the `phase` label values, in the order Each reports them.
var PhaseNames = []string{"resolve", "connect", "tls", "processing", "transfer"}

// Run runs the probe for t's kind. It never panics on a bad target: an
// unsupported kind is an internal failure.
func Run(ctx context.Context, t Target) Result {
	switch t.Kind {
	case KindHTTP:
		if t.HTTP != nil {
			return ProbeHTTP(ctx, t)
		}
	case KindLogin:
		if t.Login != nil {
			return ProbeLogin(ctx, t)
		}
	}
	return Result{
		Tenant: t.Tenant, Check: t.Check, Kind: t.Kind, Start: time.Now(),
		Reason: ReasonInternal, Message: fmt.Sprintf("no prober for kind %q", t.Kind),
	}
}
