package cases

import (
	"strconv"
	"time"

	"github.com/forewarn/forewarn/probes"
)

// Kind is what is wrong with a tenant.
type Kind string

// The case kinds, from the least severe to the most.
const (
	KindExpiring Kind = "expiring" // the TLS certificate expires soon
	KindCapacity Kind = "capacity" // serves fewer concurrent users than required
	KindDegraded Kind = "degraded" // answers, but slower than the check's limit
	KindOutage   Kind = "outage"   // fails
)

// Kinds lists every kind from the least severe to the most.
var Kinds = []Kind{KindExpiring, KindCapacity, KindDegraded, KindOutage}

// rank orders kinds by severity; 0 for no kind.
func (k Kind) rank() int {
	for i, x := range Kinds {
		if x == k {
			return i + 1
		}
	}
	return 0
}

// Severity is how urgent a case is.
type Severity string

// The severities, from the least urgent to the most.
const (
	SeverityInfo     Severity = "info"
	SeverityWarning  Severity = "warning"
	SeverityMajor    Severity = "major"
	SeverityCritical Severity = "critical"
)

// Severities lists every severity from the least urgent to the most.
var Severities = []Severity{SeverityInfo, SeverityWarning, SeverityMajor, SeverityCritical}

func (s Severity) rank() int {
	for i, x := range Severities {
		if x == s {
			return i + 1
		}
	}
	return 0
}

// Status is where a case is in its lifecycle.
type Status string

// Case statuses.
const (
	StatusOpen     Status = "open"
	StatusResolved Status = "resolved"
)

// EventType names a change of a case.
type EventType string

// Event types.
const (
	EventOpened          EventType = "opened"           // a new case
	EventReopened        EventType = "reopened"         // a resolved case, within ReopenWindow
	EventCauseAdded      EventType = "cause_added"      // another check joins an open case
	EventSeverityChanged EventType = "severity_changed" // the case's kind or severity changed
	EventUpdated         EventType = "updated"          // a cause changed, the case's kind and severity did not
	EventCauseResolved   EventType = "cause_resolved"   // a check recovered, the case stays open
	EventResolved        EventType = "resolved"         // the case is over
)

// Tenant is what notifications say about a tenant. The engine copies it into
// each case event, so the event is readable without the config.
type Tenant struct {
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	Plan  string `json:"plan,omitempty"`
	Seats int    `json:"seats,omitempty"` // contracted concurrent users; 0: unknown
}

// Window is a maintenance window: from Start until End (exclusive; zero End:
// until the window is removed). Tenant "" covers every tenant; Check ""
// every check of the tenant.
type Window struct {
	Tenant string    `json:"tenant,omitempty"`
	Check  string    `json:"check,omitempty"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end,omitzero"`
	Reason string    `json:"reason,omitempty"`
}

func (w Window) covers(tenant, check string, now time.Time) bool {
	return (w.Tenant == "" || w.Tenant == tenant) && (w.Check == "" || w.Check == check) &&
		!now.Before(w.Start) && (w.End.IsZero() || now.Before(w.End))
}

// Cause is one check's part in a case. A check has at most one cause per
// case: when it fails again after recovering, its cause is activated anew.
type Cause struct {
	Check string      `json:"check"`
	Probe probes.Kind `json:"probe"` // http, login, load
	Kind  Kind        `json:"kind"`
	// Reason is the probe's failure reason, or for a result that passed
	// but is still bad: "slow", "cert_expiry" or "capacity".
	Reason       string    `json:"reason"`
	FirstMessage string    `json:"first_message"` // the first bad result's, kept for the root message
	Message      string    `json:"message"`       // the latest bad result's
	Since        time.Time `json:"since"`         // start of the first bad result
	LastSeen     time.Time `json:"last_seen"`     // start of the latest bad result
	Failures     int       `json:"failures"`      // bad results since Since
	Active       bool      `json:"active"`
	ResolvedAt   time.Time `json:"resolved_at,omitzero"`

	CertExpiry time.Time `json:"cert_expiry,omitzero"` // expiring causes
	Capacity   *Capacity `json:"capacity,omitempty"`   // capacity causes
}

// Capacity is what a load run found, kept with a capacity cause.
type Capacity struct {
	Seats    int `json:"seats"`
	Required int `json:"required"` // the knee the tenant must reach
	// Knee is the highest user count that met the SLO; BreakAt the first
	// whose break was confirmed.
	Knee       int          `json:"knee"`
	BreakAt    int          `json:"break_at,omitempty"`
	MeasuredAt time.Time    `json:"measured_at"`
	Curve      []CurvePoint `json:"curve,omitempty"`
}

// CurvePoint is one measured step of a load run.
type CurvePoint struct {
	Users      int           `json:"users"`
	Rate       float64       `json:"rate"` // requests per second
	ErrorRatio float64       `json:"error_ratio"`
	P95        time.Duration `json:"p95"`
	Passed     bool          `json:"passed"`
}

// Case is a tenant incident: its causes and lifecycle.
type Case struct {
	ID       string   `json:"id"`
	Seq      int      `json:"seq"` // of the latest event
	Tenant   Tenant   `json:"tenant"`
	Status   Status   `json:"status"`
	Kind     Kind     `json:"kind"`
	Severity Severity `json:"severity"`
	Causes   []Cause  `json:"causes"` // in the order they joined

	OpenedAt   time.Time     `json:"opened_at"`
	ReopenedAt time.Time     `json:"reopened_at,omitzero"` // the latest reopening
	Reopens    int           `json:"reopens,omitempty"`
	ResolvedAt time.Time     `json:"resolved_at,omitzero"`
	Duration   time.Duration `json:"duration,omitempty"` // ResolvedAt − OpenedAt once resolved
}

// Open reports whether the case is open.
func (c *Case) Open() bool { return c.Status == StatusOpen }

// ActiveCauses returns the causes still failing.
func (c *Case) ActiveCauses() []Cause {
	var out []Cause
	for _, x := range c.Causes {
		if x.Active {
			out = append(out, x)
		}
	}
	return out
}

func (c *Case) cause(check string) *Cause {
	for i := range c.Causes {
		if c.Causes[i].Check == check {
			return &c.Causes[i]
		}
	}
	return nil
}

// clone copies c deeply enough that later changes to the engine's case do
// not show in an event already handed out.
func (c *Case) clone() Case {
	out := *c
	out.Causes = make([]Cause, len(c.Causes))
	copy(out.Causes, c.Causes)
	for i := range out.Causes {
		if p := out.Causes[i].Capacity; p != nil {
			cp := *p
			cp.Curve = append([]CurvePoint(nil), p.Curve...)
			out.Causes[i].Capacity = &cp
		}
	}
	return out
}

// Event is one change of a case, with the case as it is after the change.
type Event struct {
	CaseID string    `json:"case_id"`
	Seq    int       `json:"seq"` // 1, 2, 3, … per case
	Type   EventType `json:"type"`
	Time   time.Time `json:"time"`
	// Check is the cause the event is about; "" for a case resolved by time.
	Check string `json:"check,omitempty"`
	// PrevKind and PrevSeverity are set when the event changed them.
	PrevKind     Kind     `json:"prev_kind,omitempty"`
	PrevSeverity Severity `json:"prev_severity,omitempty"`
	Case         Case     `json:"case"`
}

// Key is the event's idempotency key: "<case id>/<seq>".
func (e Event) Key() string { return e.CaseID + "/" + strconv.Itoa(e.Seq) }
