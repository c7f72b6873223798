package cases

import (
	"fmt"
	"time"

	"github.com/forewarn/forewarn/probes"
)

// Defaults for the zero values of Config.
const (
	DefaultFailureThreshold = 3
	DefaultSuccessThreshold = 2
	DefaultMinDuration      = 5 * time.Minute
	DefaultReopenWindow     = time.Hour
	DefaultCapacityFraction = 1.0
	DefaultCertWarning      = 14 * 24 * time.Hour
)

// Config tunes the engine. Zero values take the defaults above; a negative
// MinDuration or ReopenWindow turns that feature off.
type Config struct {
	// FailureThreshold bad results in a row make a check a cause;
	// SuccessThreshold good results in a row end it. Load checks default to
	// 1 and 1: a load run confirms its own break, and runs once a day.
	FailureThreshold int `json:"failure_threshold,omitempty"`
	SuccessThreshold int `json:"success_threshold,omitempty"`

	// MinDuration is the shortest a case stays open after it (re)opened.
	MinDuration time.Duration `json:"min_duration,omitempty"`
	// ReopenWindow is how long after resolving a case a new cause reopens
	// it instead of opening a new case.
	ReopenWindow time.Duration `json:"reopen_window,omitempty"`

	// CapacityFraction of the tenant's seats is the knee a load check must
	// reach when the check sets no requirement of its own
	// (LoadResult.Required).
	CapacityFraction float64 `json:"capacity_fraction,omitempty"`
	// CertWarning: a certificate expiring sooner makes an expiring cause.
	CertWarning time.Duration `json:"cert_warning,omitempty"`

	// Severity maps kind × tenant plan to a severity; plan "" is any plan
	// not listed. Entries override DefaultSeverity's, the rest stay.
	Severity map[Kind]map[string]Severity `json:"severity,omitempty"`

	// Checks overrides the rules for one check: keyed "tenant/check" (as
	// probes.Target.Key) or by check name for every tenant; the first key
	// found wins, field by field over the defaults.
	Checks map[string]CheckRule `json:"checks,omitempty"`
}

// CheckRule is what the engine needs to know about one check beyond its
// results. The wiring fills it from checks.yaml: SlowAfter from
// expect.max_duration, CertWarning from expect.cert_valid_for.
type CheckRule struct {
	FailureThreshold int `json:"failure_threshold,omitempty"`
	SuccessThreshold int `json:"success_threshold,omitempty"`
	// SlowAfter: a result taking longer is degraded (0: never). A probe
	// that failed its own max_duration assertion is a failure with reason
	// "assertion"; with SlowAfter set to the same limit it is classified as
	// degraded, not as an outage.
	SlowAfter time.Duration `json:"slow_after,omitempty"`
	// CertWarning overrides Config.CertWarning for this check.
	CertWarning time.Duration `json:"cert_warning,omitempty"`
}

// DefaultSeverity is the severity table: an outage of an enterprise tenant
// is critical; capacity and certificates are warnings, found in time to act.
func DefaultSeverity() map[Kind]map[string]Severity {
	return map[Kind]map[string]Severity{
		KindOutage:   {"enterprise": SeverityCritical, "": SeverityMajor},
		KindDegraded: {"enterprise": SeverityMajor, "": SeverityWarning},
		KindCapacity: {"": SeverityWarning},
		KindExpiring: {"": SeverityWarning},
	}
}

// normalize applies the defaults and checks the values.
func (c Config) normalize() (Config, error) {
	if c.FailureThreshold < 0 || c.SuccessThreshold < 0 {
		return c, fmt.Errorf("cases: thresholds must not be negative")
	}
	if c.CapacityFraction < 0 || c.CertWarning < 0 {
		return c, fmt.Errorf("cases: capacity_fraction and cert_warning must not be negative")
	}
	c.FailureThreshold = or(c.FailureThreshold, DefaultFailureThreshold)
	c.SuccessThreshold = or(c.SuccessThreshold, DefaultSuccessThreshold)
	c.MinDuration = orDuration(c.MinDuration, DefaultMinDuration)
	c.ReopenWindow = orDuration(c.ReopenWindow, DefaultReopenWindow)
	c.CertWarning = orDuration(c.CertWarning, DefaultCertWarning)
	if c.CapacityFraction == 0 {
		c.CapacityFraction = DefaultCapacityFraction
	}

	table := DefaultSeverity()
	for k, plans := range c.Severity {
		if k.rank() == 0 {
			return c, fmt.Errorf("cases: severity: unknown kind %q", k)
		}
		for plan, s := range plans {
			if s.rank() == 0 {
				return c, fmt.Errorf("cases: severity[%s][%q]: unknown severity %q", k, plan, s)
			}
			table[k][plan] = s
		}
	}
	c.Severity = table

	for key, r := range c.Checks {
		if r.FailureThreshold < 0 || r.SuccessThreshold < 0 || r.SlowAfter < 0 || r.CertWarning < 0 {
			return c, fmt.Errorf("cases: checks[%q]: values must not be negative", key)
		}
	}
	return c, nil
}

func or(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// orDuration: zero takes the default, negative means off.
func orDuration(v, def time.Duration) time.Duration {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// rule resolves the effective rule of one check.
func (c Config) rule(tenant, check string, kind probes.Kind) CheckRule {
	r := CheckRule{FailureThreshold: c.FailureThreshold, SuccessThreshold: c.SuccessThreshold, CertWarning: c.CertWarning}
	if kind == probes.KindLoad {
		r.FailureThreshold, r.SuccessThreshold = 1, 1
	}
	o, ok := c.Checks[tenant+"/"+check]
	if !ok {
		o = c.Checks[check]
	}
	r.FailureThreshold = or(o.FailureThreshold, r.FailureThreshold)
	r.SuccessThreshold = or(o.SuccessThreshold, r.SuccessThreshold)
	r.CertWarning = or64(o.CertWarning, r.CertWarning)
	r.SlowAfter = o.SlowAfter
	return r
}

func or64(v, def time.Duration) time.Duration {
	if v == 0 {
		return def
	}
	return v
}

// severity looks kind × plan up in the normalized table.
func (c Config) severity(k Kind, plan string) Severity {
	plans := c.Severity[k]
	if s, ok := plans[plan]; ok {
		return s
	}
	if s, ok := plans[""]; ok {
		return s
	}
	return SeverityWarning
}
