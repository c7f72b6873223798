package demo

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Mode is a kind of fault.
type Mode string

// The fault modes.
const (
	ModeDown        Mode = "down"         // connection closed without a response
	ModeSlow        Mode = "slow"         // Delay before the response headers
	ModeError       Mode = "error"        // Status (default 503) and a short body
	ModeWrongBody   Mode = "wrong_body"   // 200, but health says degraded and the API "down"
	ModeExpiredTLS  Mode = "expired_tls"  // the SNI certificate expired yesterday
	ModeExpiringTLS Mode = "expiring_tls" // the SNI certificate expires in 3 days

	// Sign-in faults (see signin.go for the endpoints).
	ModeWrongCredentials Mode = "wrong_credentials" // the synthetic user's password, the client secret and API keys are rejected
	ModeTokenError       Mode = "token_error"       // POST /api/session and /oauth/token answer 500
	ModeSessionExpiry    Mode = "session_expiry"    // sign-in succeeds, but every session is born expired
	ModeSlowSignIn       Mode = "slow_signin"       // sign-in POSTs wait Delay (default 5s) first

	// ModeCapacity serves Users concurrent users instead of the tenant's
	// capacity (capacity.go); 0 lifts the limit.
	ModeCapacity Mode = "capacity"
)

// Defaults and bounds of the fault parameters.
const (
	DefaultSlowDelay   = 5 * time.Second
	DefaultErrorStatus = http.StatusServiceUnavailable
	maxDelay           = 10 * time.Minute
)

// ErrUnknownTenant is returned for a tenant id the demo does not serve.
var ErrUnknownTenant = errors.New("unknown tenant")

// Fault is what goes wrong with one tenant. In JSON (the admin API):
// {"mode":"slow","delay":"500ms"}, {"mode":"error","status":502} or
// {"mode":"capacity","users":80}.
type Fault struct {
	Mode   Mode
	Delay  time.Duration // slow and slow_signin only; default DefaultSlowDelay
	Status int           // error only; 400–599, default DefaultErrorStatus
	// Users is capacity's only, and required in JSON: the concurrent users
	// served while the fault lasts, 0 (unlimited) to MaxCapacity.
	Users int
}

// modeSpec is what a mode does. A new mode is one entry in modes.
type modeSpec struct {
	// serve applies the fault to an HTTP request before the tenant's
	// handler runs; it returns true when it has dealt with the request.
	serve func(f Fault, w http.ResponseWriter, r *http.Request) bool
	// degraded makes the tenant's handlers report a degraded service.
	degraded bool
	// certValidity, when set, gives the validity window of the certificate
	// presented for the tenant's SNI while the fault is active.
	certValidity func(now time.Time) (notBefore, notAfter time.Time)
	// signIn changes how the sign-in endpoints behave.
	signIn signInFault
	// usesUsers: Fault.Users replaces the tenant's capacity.
	usesDelay, usesStatus, usesUsers bool
}

// signInFault is what a mode does to sign-in; the sign-in handlers read it.
type signInFault struct {
	rejectCredentials bool // passwords and client secrets no longer match
	tokenError        bool // token endpoints answer 500
	expireSessions    bool // sessions are issued already expired
	slow              bool // sign-in endpoints wait Fault.Delay first
}

const day = 24 * time.Hour

var modes = map[Mode]modeSpec{
	ModeDown:      {serve: dropConnection},
	ModeSlow:      {serve: delayResponse, usesDelay: true},
	ModeError:     {serve: failResponse, usesStatus: true},
	ModeWrongBody: {degraded: true},
	ModeExpiredTLS: {certValidity: func(now time.Time) (time.Time, time.Time) {
		return now.Add(-91 * day), now.Add(-day)
	}},
	ModeExpiringTLS: {certValidity: func(now time.Time) (time.Time, time.Time) {
		return now.Add(-87 * day), now.Add(3 * day)
	}},
	ModeWrongCredentials: {signIn: signInFault{rejectCredentials: true}},
	ModeTokenError:       {signIn: signInFault{tokenError: true}},
	ModeSessionExpiry:    {signIn: signInFault{expireSessions: true}},
	ModeSlowSignIn:       {signIn: signInFault{slow: true}, usesDelay: true},
	ModeCapacity:         {usesUsers: true},
}

// modeNames lists the modes for error messages, in a stable order.
const modeNames = "down, slow, error, wrong_body, expired_tls, expiring_tls, " +
	"wrong_credentials, token_error, session_expiry, slow_signin or capacity"

// normalize validates f against its mode and fills in defaults.
func (f Fault) normalize() (Fault, modeSpec, error) {
	spec, ok := modes[f.Mode]
	if !ok {
		return f, spec, fmt.Errorf("unknown fault mode %q (want %s)", f.Mode, modeNames)
	}
	switch {
	case f.Delay < 0 || f.Delay > maxDelay:
		return f, spec, fmt.Errorf("delay %s out of range (0 to %s)", f.Delay, maxDelay)
	case f.Delay != 0 && !spec.usesDelay:
		return f, spec, fmt.Errorf("delay applies only to modes %q and %q, not %q", ModeSlow, ModeSlowSignIn, f.Mode)
	case f.Status != 0 && !spec.usesStatus:
		return f, spec, fmt.Errorf("status applies only to mode %q, not %q", ModeError, f.Mode)
	case f.Status != 0 && (f.Status < 400 || f.Status > 599):
		return f, spec, fmt.Errorf("status %d is not an error status (400–599)", f.Status)
	case f.Users != 0 && !spec.usesUsers:
		return f, spec, errUsersOnly(f.Mode)
	case f.Users < 0 || f.Users > MaxCapacity:
		return f, spec, fmt.Errorf("users %d out of range (0 for unlimited to %d)", f.Users, MaxCapacity)
	}
	if spec.usesDelay && f.Delay == 0 {
		f.Delay = DefaultSlowDelay
	}
	if spec.usesStatus && f.Status == 0 {
		f.Status = DefaultErrorStatus
	}
	return f, spec, nil
}

func errUsersOnly(m Mode) error {
	return fmt.Errorf("users applies only to mode %q, not %q", ModeCapacity, m)
}

// faultParamError is a fault whose JSON is well-formed but whose parameters
// do not fit its mode.
type faultParamError struct{ Err error }

func (e *faultParamError) Error() string { return e.Err.Error() }
func (e *faultParamError) Unwrap() error { return e.Err }

type faultJSON struct {
	Mode   Mode   `json:"mode"`
	Delay  string `json:"delay,omitempty"`
	Status int    `json:"status,omitempty"`
	// Users is a pointer so that capacity's users 0 (unlimited) is written
	// and a missing users is told apart from it.
	Users *int `json:"users,omitempty"`
}

// MarshalJSON writes the delay as a Go duration string ("500ms"), and users
// for capacity even when 0.
func (f Fault) MarshalJSON() ([]byte, error) {
	j := faultJSON{Mode: f.Mode, Status: f.Status}
	if f.Delay != 0 {
		j.Delay = f.Delay.String()
	}
	if f.Users != 0 || modes[f.Mode].usesUsers {
		j.Users = &f.Users
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads the admin API's fault object; unknown fields are
// errors, and so are a capacity fault without users and users with another
// mode (a *faultParamError): users 0 means unlimited, too much to assume.
func (f *Fault) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var j faultJSON
	if err := dec.Decode(&j); err != nil {
		return err
	}
	var d time.Duration
	if j.Delay != "" {
		var err error
		if d, err = time.ParseDuration(j.Delay); err != nil {
			return fmt.Errorf("delay: %w", err)
		}
	}
	if spec, ok := modes[j.Mode]; ok {
		switch {
		case spec.usesUsers && j.Users == nil:
			return &faultParamError{fmt.Errorf(`mode %q needs users: the concurrent users served (0 for unlimited to %d), e.g. {"mode":"capacity","users":80}`,
				j.Mode, MaxCapacity)}
		case !spec.usesUsers && j.Users != nil:
			return &faultParamError{errUsersOnly(j.Mode)}
		}
	}
	*f = Fault{Mode: j.Mode, Delay: d, Status: j.Status}
	if j.Users != nil {
		f.Users = *j.Users
	}
	return nil
}

// activeFault is a tenant's current fault with what it needs at request time.
type activeFault struct {
	Fault
	spec modeSpec
	cert *tls.Certificate // for TLS modes: the certificate to present instead
}

// SetFault makes tenant id misbehave until ClearFault, replacing any earlier
// fault, and returns the fault as stored (defaults filled in). It returns
// ErrUnknownTenant (wrapped) or a validation error.
func (s *Server) SetFault(id string, f Fault) (Fault, error) {
	a := s.tenants[id]
	if a == nil {
		return Fault{}, fmt.Errorf("%w %q", ErrUnknownTenant, id)
	}
	f, spec, err := f.normalize()
	if err != nil {
		return Fault{}, err
	}
	af := &activeFault{Fault: f, spec: spec}
	if spec.certValidity != nil {
		notBefore, notAfter := spec.certValidity(time.Now())
		if af.cert, err = issueLeaf(ServerName(id), notBefore, notAfter); err != nil {
			return Fault{}, err
		}
	}
	s.faultMu.Lock()
	a.fault.Store(af)
	a.gate.setLimit(a.capacityUnder(af))
	s.faultMu.Unlock()
	s.log.Info("demo fault set", "tenant", id, "mode", f.Mode, "delay", f.Delay, "status", f.Status, "users", f.Users)
	return f, nil
}

// capacityUnder is the tenant's capacity while f (nil: none) is active.
func (a *tenantApp) capacityUnder(f *activeFault) int {
	if f != nil && f.spec.usesUsers {
		return f.Users
	}
	return a.Capacity
}

// ClearFault makes tenant id healthy again. Clearing a healthy tenant is a no-op.
func (s *Server) ClearFault(id string) error {
	a := s.tenants[id]
	if a == nil {
		return fmt.Errorf("%w %q", ErrUnknownTenant, id)
	}
	s.faultMu.Lock()
	old := a.fault.Swap(nil)
	a.gate.setLimit(a.Capacity)
	s.faultMu.Unlock()
	if old != nil {
		s.log.Info("demo fault cleared", "tenant", id, "mode", old.Mode)
	}
	return nil
}

// Faults returns the active faults by tenant id.
func (s *Server) Faults() map[string]Fault {
	out := make(map[string]Fault)
	for _, a := range s.order {
		if f := a.fault.Load(); f != nil {
			out[a.ID] = f.Fault
		}
	}
	return out
}

// applyFault is the tenant middleware that injects the active fault, if any.
// The lookup is one atomic load, so healthy tenants pay next to nothing.
func applyFault(next tenantHandler) tenantHandler {
	return func(a *tenantApp, w http.ResponseWriter, r *http.Request) {
		if f := a.fault.Load(); f != nil && f.spec.serve != nil && f.spec.serve(f.Fault, w, r) {
			return
		}
		next(a, w, r)
	}
}

// dropConnection closes the connection without writing a response. Hijacking
// needs HTTP/1.x; where it is unavailable, ErrAbortHandler makes the server
// abort the response (and reset the stream on HTTP/2) without logging.
func dropConnection(_ Fault, w http.ResponseWriter, _ *http.Request) bool {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
	return true
}

// delayResponse waits before the handler runs. A cancelled request (client
// gone, or the demo shutting down) ends the wait and is aborted: returning
// would send an empty 200.
func delayResponse(f Fault, _ http.ResponseWriter, r *http.Request) bool {
	t := time.NewTimer(f.Delay)
	defer t.Stop()
	select {
	case <-t.C:
		return false
	case <-r.Context().Done():
		panic(http.ErrAbortHandler)
	}
}

func failResponse(f Fault, w http.ResponseWriter, _ *http.Request) bool {
	http.Error(w, "injected fault: "+http.StatusText(f.Status), f.Status)
	return true
}
