package cases

import (
	"fmt"
	"math"
	"time"

	"github.com/forewarn/forewarn/probes"
)

// Finding is what one result says about its check: Kind "" is good.
type Finding struct {
	Kind       Kind
	Reason     string
	Message    string
	CertExpiry time.Time // expiring findings
	Capacity   *Capacity // findings of a load run that measured a knee
}

// Reasons the engine gives a result that passed but is still bad.
const (
	reasonSlow       = "slow"
	reasonCertExpiry = "cert_expiry"
)

// Classify says what a result means for its check; ok is false when it
// means nothing (see the package doc). It is what Observe uses.
func (e *Engine) Classify(r probes.Result) (f Finding, ok bool) {
	rule := e.cfg.rule(r.Tenant, r.Check, r.Kind)
	if r.Kind == probes.KindLoad || r.Load != nil {
		return e.classifyLoad(r)
	}
	if !r.Success {
		switch {
		case r.Reason == probes.ReasonInternal:
			return Finding{}, false
		case r.Reason == probes.ReasonCapacity:
			return Finding{Kind: KindCapacity, Reason: string(r.Reason), Message: r.Message}, true
		// The probe judges the duration before the certificate, so an
		// assertion failure of a slow result is its max_duration.
		case r.Reason == probes.ReasonAssertion && slow(r, rule):
			return Finding{Kind: KindDegraded, Reason: string(r.Reason), Message: r.Message}, true
		case r.Reason == probes.ReasonAssertion && expiring(r, rule):
			return Finding{Kind: KindExpiring, Reason: string(r.Reason), Message: r.Message, CertExpiry: r.CertExpiry}, true
		}
		return Finding{Kind: KindOutage, Reason: string(r.Reason), Message: r.Message}, true
	}
	if slow(r, rule) {
		return Finding{Kind: KindDegraded, Reason: reasonSlow, Message: fmt.Sprintf("took %s, limit %s",
			r.Duration.Round(time.Millisecond), rule.SlowAfter)}, true
	}
	if expiring(r, rule) {
		return Finding{Kind: KindExpiring, Reason: reasonCertExpiry, CertExpiry: r.CertExpiry,
			Message: fmt.Sprintf("certificate expires in %s (%s), warning at %s",
				probes.FormatDays(r.CertExpiry.Sub(r.Start)), r.CertExpiry.UTC().Format(time.DateOnly), probes.FormatDays(rule.CertWarning))}, true
	}
	return Finding{}, true
}

func slow(r probes.Result, rule CheckRule) bool {
	return rule.SlowAfter > 0 && r.Duration > rule.SlowAfter
}

// expiring: a certificate already expired fails the TLS handshake, an
// outage; one that expires within the warning is found in time.
func expiring(r probes.Result, rule CheckRule) bool {
	if !r.TLS || r.CertExpiry.IsZero() || rule.CertWarning <= 0 {
		return false
	}
	left := r.CertExpiry.Sub(r.Start)
	return left > 0 && left < rule.CertWarning
}

// classifyLoad judges a load run by its knee alone. A run that measured no
// knee (sign-in failed, aborted, stopped by its time cap before a break)
// says nothing about capacity: the login and http checks report outages at
// their own pace.
func (e *Engine) classifyLoad(r probes.Result) (Finding, bool) {
	l := r.Load
	if l == nil {
		return Finding{}, false
	}
	seats := e.tenant(r.Tenant).Seats
	if seats == 0 {
		seats = l.Seats
	}
	required := l.Required
	if required == 0 && seats > 0 {
		required = int(math.Ceil(float64(seats) * e.cfg.CapacityFraction))
	}
	c := capacityOf(l, seats, required, r.Start)
	broke := l.Knee.BreakAt > 0
	switch {
	case r.Reason == probes.ReasonCapacity || (broke && required > 0 && l.Knee.Users < required):
		msg := fmt.Sprintf("serves %d concurrent users, %d required", l.Knee.Users, required)
		if seats > 0 {
			msg += fmt.Sprintf(" (%d seats)", seats)
		}
		if broke {
			msg += fmt.Sprintf("; breaks at %d", l.Knee.BreakAt)
		}
		return Finding{Kind: KindCapacity, Reason: string(probes.ReasonCapacity), Message: msg, Capacity: c}, true
	case broke || (l.Knee.AtMax && l.Knee.Users >= required):
		return Finding{Capacity: c}, true
	}
	// The ramp ended below the requirement without a break: its max was
	// too low or it was cut short.
	return Finding{}, false
}

func capacityOf(l *probes.LoadResult, seats, required int, at time.Time) *Capacity {
	c := &Capacity{Seats: seats, Required: required, Knee: l.Knee.Users, BreakAt: l.Knee.BreakAt, MeasuredAt: at.UTC()}
	for _, s := range l.Steps {
		c.Curve = append(c.Curve, CurvePoint{Users: s.Users, Rate: s.Rate, ErrorRatio: s.ErrorRatio, P95: s.P95, Passed: s.Passed})
	}
	return c
}
