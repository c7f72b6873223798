// Package notify delivers case events to the people who act on them: a
// Slack thread per case (notify/slack) and signed webhooks to a ticketing
// system (notify/webhook). Events reach notifiers through the store's
// outbox: the case engine writes each event and its notifications in one
// transaction, and a Dispatcher per notifier delivers them with retries,
// so a slow Slack never holds up probes or the webhook, and a crash loses
// nothing.
package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/forewarn/forewarn/cases"
)

// SchemaVersion is the version of Event's JSON, sent as its "version". It
// changes only when a field changes meaning or goes away; new fields are
// added without a new version.
const SchemaVersion = "1"

// Event is one case change as notifiers deliver it; its JSON is the
// webhook's body (docs/webhook-event.schema.json).
type Event struct {
	Version string `json:"version"`
	// ID is the idempotency key, the case id and the event's sequence
	// ("acme-20261123T101500Z:3"): the same for every retry and after a
	// restart. The webhook sends it as webhook-id.
	ID string `json:"id"`
	// Type is "case." and the case event type: case.opened, case.reopened,
	// case.cause_added, case.severity_changed, case.updated,
	// case.cause_resolved, case.resolved; or case.test from
	// `forewarn notify test`.
	Type   string        `json:"type"`
	Time   time.Time     `json:"time"`
	Check  string        `json:"check,omitempty"` // the check the change is about, if one
	Tenant TenantContext `json:"tenant"`
	Case   cases.Case    `json:"case"` // after the change; messages redacted
	Links  Links         `json:"links"`
	Test   bool          `json:"test,omitempty"`
}

// TenantContext is what a support lead needs to know of the tenant.
type TenantContext struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Plan         string `json:"plan,omitempty"`
	Region       string `json:"region,omitempty"`
	Seats        int    `json:"seats,omitempty"`
	SlackChannel string `json:"slack_channel,omitempty"` // the tenant's own channel; empty: the default
}

// Links point at where to look next; empty when not configured.
type Links struct {
	Grafana    string `json:"grafana,omitempty"`     // the tenant's dashboard
	StatusPage string `json:"status_page,omitempty"` // the tenant's status page
}

// Type names of Event.Type.
const (
	TypePrefix = "case."
	TypeTest   = "case.test"
)

// Notifier delivers one event. Deliver must be safe to call again with the
// same event after an error or a crash (same ID): the webhook lets the
// receiver drop the repeat by its webhook-id; Slack looks for its own
// earlier message before posting again.
type Notifier interface {
	// Name identifies the notifier in the outbox and in metrics:
	// "slack", "webhook:ops".
	Name() string
	Deliver(ctx context.Context, e Event) error
}

// Error is a delivery failure with what the dispatcher should do about it.
// A plain error is retried.
type Error struct {
	// Reason is the `reason` label of forewarn_notify_failures_total:
	// connect, timeout, rate_limited, server_error, client_error, gone,
	// invalid (the event could not be built), other.
	Reason string
	// Permanent failures are not retried: the notification is a dead
	// letter (a 4xx other than 408 and 429, a Slack channel not found).
	Permanent bool
	// Disable stops the notifier altogether (a webhook answering 410 Gone).
	Disable bool
	// RetryAfter, when set, is the earliest retry the receiver asked for
	// (Slack's and HTTP's Retry-After).
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %v", e.Reason, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// AsError returns err's *Error, or one with reason "other" that is retried.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Reason: "other", Err: err}
}
