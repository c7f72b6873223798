package cases

import (
	"time"

	"github.com/forewarn/forewarn/probes"
)

// good counts a good result; the check's cause resolves after
// SuccessThreshold of them in a row.
func (e *Engine) good(cs *CheckState, rule CheckRule, now time.Time) []Event {
	cs.Successes++
	cs.Failures, cs.Milder = 0, 0
	c := e.cases[cs.Tenant]
	if c == nil || !c.Open() {
		return nil
	}
	x := c.cause(cs.Check)
	if x == nil || !x.Active || cs.Successes < rule.SuccessThreshold {
		return nil
	}
	return e.resolveCause(c, x, now)
}

// bad counts a bad result: it updates the check's active cause, or makes
// the check a cause once its streak reaches FailureThreshold.
func (e *Engine) bad(cs *CheckState, r probes.Result, f Finding, rule CheckRule, now time.Time) []Event {
	cs.Successes = 0
	if cs.Failures == 0 {
		cs.Since, cs.FirstMessage = r.Start.UTC(), f.Message
	}
	cs.Failures++
	maint := e.InMaintenance(cs.Tenant, cs.Check, now)

	c := e.cases[cs.Tenant]
	if c != nil && c.Open() {
		if x := c.cause(cs.Check); x != nil && x.Active {
			return e.update(c, x, cs, r, f, rule, maint, now)
		}
	}
	if cs.Failures < rule.FailureThreshold || maint {
		return nil
	}
	cs.Milder = 0

	typ := EventCauseAdded
	switch {
	case c != nil && c.Open():
	case c != nil && e.cfg.ReopenWindow > 0 && now.Sub(c.ResolvedAt) <= e.cfg.ReopenWindow:
		typ = EventReopened
		c.Status, c.ResolvedAt, c.Duration = StatusOpen, time.Time{}, 0
		c.ReopenedAt = now
		c.Reopens++
	default:
		typ = EventOpened
		id := caseID(cs.Tenant, now)
		if c != nil && c.ID == id { // a case opened and resolved within the second
			id += "-2"
		}
		c = &Case{ID: id, Tenant: e.tenant(cs.Tenant), Status: StatusOpen, OpenedAt: now}
		e.cases[cs.Tenant] = c
	}

	x := c.cause(cs.Check)
	if x == nil {
		c.Causes = append(c.Causes, Cause{Check: cs.Check})
		x = &c.Causes[len(c.Causes)-1]
	}
	*x = Cause{
		Check: cs.Check, Probe: r.Kind, Kind: f.Kind, Reason: f.Reason,
		FirstMessage: cs.FirstMessage, Message: f.Message,
		Since: cs.Since, LastSeen: r.Start.UTC(), Failures: cs.Failures, Active: true,
		CertExpiry: f.CertExpiry.UTC(), Capacity: f.Capacity,
	}
	prevKind, prevSev := c.Kind, c.Severity
	e.recompute(c)
	if typ != EventCauseAdded {
		prevKind, prevSev = "", ""
	}
	return []Event{e.emit(c, typ, cs.Check, now, prevKind, prevSev)}
}

// update folds a bad result into the check's active cause. A worse kind
// applies at once (but not in maintenance); a milder one only after
// SuccessThreshold milder results in a row.
func (e *Engine) update(c *Case, x *Cause, cs *CheckState, r probes.Result, f Finding, rule CheckRule, maint bool, now time.Time) []Event {
	x.LastSeen, x.Message, x.Failures = r.Start.UTC(), f.Message, x.Failures+1
	kindChanged := false
	switch {
	case f.Kind.rank() > x.Kind.rank():
		cs.Milder = 0
		if !maint {
			kindChanged = true
		}
	case f.Kind.rank() < x.Kind.rank():
		cs.Milder++
		if cs.Milder >= rule.SuccessThreshold {
			cs.Milder = 0
			kindChanged = true
		}
	default:
		cs.Milder = 0
		x.Reason = f.Reason
		if !f.CertExpiry.IsZero() {
			x.CertExpiry = f.CertExpiry.UTC()
		}
	}
	if !kindChanged {
		if f.Kind == x.Kind && f.Capacity != nil {
			knee := x.Capacity == nil || x.Capacity.Knee != f.Capacity.Knee
			x.Capacity = f.Capacity
			if knee {
				return []Event{e.emit(c, EventUpdated, x.Check, now, "", "")}
			}
		}
		return nil
	}
	x.Kind, x.Reason, x.CertExpiry, x.Capacity = f.Kind, f.Reason, f.CertExpiry.UTC(), f.Capacity
	prevKind, prevSev := c.Kind, c.Severity
	e.recompute(c)
	if c.Kind == prevKind && c.Severity == prevSev {
		return []Event{e.emit(c, EventUpdated, x.Check, now, "", "")}
	}
	return []Event{e.emit(c, EventSeverityChanged, x.Check, now, prevKind, prevSev)}
}

// resolveCause ends one cause. The last one resolves the case, unless the
// case is younger than MinDuration: then it waits open for expire.
func (e *Engine) resolveCause(c *Case, x *Cause, now time.Time) []Event {
	x.Active, x.ResolvedAt = false, now
	if len(c.ActiveCauses()) == 0 && !now.Before(e.minEnd(c)) {
		return []Event{e.resolve(c, x.Check, now)}
	}
	prevKind, prevSev := c.Kind, c.Severity
	e.recompute(c)
	return []Event{e.emit(c, EventCauseResolved, x.Check, now, prevKind, prevSev)}
}

func (e *Engine) resolve(c *Case, check string, now time.Time) Event {
	c.Status, c.ResolvedAt, c.Duration = StatusResolved, now, now.Sub(c.OpenedAt)
	return e.emit(c, EventResolved, check, now, "", "")
}

// expire does the tenant's transitions that time alone makes.
func (e *Engine) expire(tenant string, now time.Time) []Event {
	c := e.cases[tenant]
	switch {
	case c == nil:
	case c.Open():
		if len(c.ActiveCauses()) == 0 && !now.Before(e.minEnd(c)) {
			return []Event{e.resolve(c, "", now)}
		}
	case e.cfg.ReopenWindow <= 0 || now.Sub(c.ResolvedAt) > e.cfg.ReopenWindow:
		delete(e.cases, tenant)
	}
	return nil
}

func (e *Engine) minEnd(c *Case) time.Time {
	from := c.OpenedAt
	if c.ReopenedAt.After(from) {
		from = c.ReopenedAt
	}
	return from.Add(e.cfg.MinDuration)
}

// recompute sets the case's kind and severity from its active causes; with
// none active they stay as they were.
func (e *Engine) recompute(c *Case) {
	e.refreshTenant(c)
	var kind Kind
	var sev Severity
	for _, x := range c.Causes {
		if !x.Active {
			continue
		}
		if x.Kind.rank() > kind.rank() {
			kind = x.Kind
		}
		if s := e.cfg.severity(x.Kind, c.Tenant.Plan); s.rank() > sev.rank() {
			sev = s
		}
	}
	if kind != "" {
		c.Kind, c.Severity = kind, sev
	}
}

// emit numbers the case's next event and snapshots the case into it.
// prevKind and prevSeverity are reported only when they changed.
func (e *Engine) emit(c *Case, typ EventType, check string, now time.Time, prevKind Kind, prevSev Severity) Event {
	c.Seq++
	e.refreshTenant(c)
	ev := Event{CaseID: c.ID, Seq: c.Seq, Type: typ, Time: now, Check: check, Case: c.clone()}
	if prevKind != "" && prevKind != c.Kind {
		ev.PrevKind = prevKind
	}
	if prevSev != "" && prevSev != c.Severity {
		ev.PrevSeverity = prevSev
	}
	return ev
}

// refreshTenant takes the tenant's current plan, seats and name; a tenant
// no longer known keeps what the case had.
func (e *Engine) refreshTenant(c *Case) {
	if t, ok := e.tenants[c.Tenant.ID]; ok {
		c.Tenant = t
	}
}

func caseID(tenant string, at time.Time) string {
	return tenant + "-" + at.UTC().Format("20060102T150405Z")
}
