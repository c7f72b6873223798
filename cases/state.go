package cases

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// StateVersion is the version of State this package writes and reads.
const StateVersion = 1

// State is everything the engine remembers, for the store to persist in
// the transaction that stores the events it produced. Restoring it after a
// restart neither reopens nor duplicates a case.
type State struct {
	Version int          `json:"version"`
	Checks  []CheckState `json:"checks"` // by tenant, then check
	Cases   []Case       `json:"cases"`  // by tenant: open, or resolved within ReopenWindow
}

// CheckState is one check's streak.
type CheckState struct {
	Tenant    string `json:"tenant"`
	Check     string `json:"check"`
	Failures  int    `json:"failures,omitempty"`  // bad results in a row
	Successes int    `json:"successes,omitempty"` // good results in a row
	// Since and FirstMessage are of the current bad streak's first result.
	Since        time.Time `json:"since,omitzero"`
	FirstMessage string    `json:"first_message,omitempty"`
	// Milder counts bad results in a row milder than the active cause's kind.
	Milder int `json:"milder,omitempty"`
}

// Snapshot returns the engine's state; it shares nothing with the engine.
func (e *Engine) Snapshot() State {
	s := State{Version: StateVersion, Checks: make([]CheckState, 0, len(e.checks)), Cases: e.Cases()}
	for _, cs := range e.checks {
		s.Checks = append(s.Checks, *cs)
	}
	slices.SortFunc(s.Checks, func(a, b CheckState) int {
		if c := strings.Compare(a.Tenant, b.Tenant); c != 0 {
			return c
		}
		return strings.Compare(a.Check, b.Check)
	})
	return s
}

// Restore replaces the engine's state with s, as Snapshot returned it.
// Tenants, maintenance windows and the config are not part of it.
func (e *Engine) Restore(s State) error {
	if s.Version != StateVersion {
		return fmt.Errorf("cases: state version %d, want %d", s.Version, StateVersion)
	}
	checks := make(map[checkKey]*CheckState, len(s.Checks))
	for _, cs := range s.Checks {
		k := checkKey{cs.Tenant, cs.Check}
		if _, dup := checks[k]; dup {
			return fmt.Errorf("cases: state: check %s/%s twice", cs.Tenant, cs.Check)
		}
		checks[k] = &cs
	}
	cases := make(map[string]*Case, len(s.Cases))
	for _, c := range s.Cases {
		if c.ID == "" || c.Tenant.ID == "" {
			return fmt.Errorf("cases: state: a case without id or tenant")
		}
		if _, dup := cases[c.Tenant.ID]; dup {
			return fmt.Errorf("cases: state: two cases of tenant %s", c.Tenant.ID)
		}
		cp := c.clone()
		cases[c.Tenant.ID] = &cp
	}
	e.checks, e.cases = checks, cases
	return nil
}
