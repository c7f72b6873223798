package metrics

import (
	"slices"

	dto "github.com/prometheus/client_model/go"

	"github.com/forewarn/forewarn/probes"
)

// stepState is the last result of one step of a login check. Steps are
// labelled by their configured name, never a URL, so cardinality stays
// tenants × checks × steps.
type stepState struct {
	name                      string
	labels                    []*dto.LabelPair // check, kind, step, tenant
	success, duration, status float64
	series                    [stepFamilyCount]*series
}

// stepFamilyCount is len(stepFamilies), spelled out for the same reason as
// gaugeFamilies.
const stepFamilyCount = 3

var (
	_ [len(stepFamilies) - stepFamilyCount]struct{}
	_ [stepFamilyCount - len(stepFamilies)]struct{}
)

// The step families and how each reads a step's state.
var stepFamilies = [...]struct {
	name, help string
	value      func(*stepState) float64
}{
	{"probe_step_http_status_code", "HTTP status of the step's last response; 0 when none arrived or the step did not run.",
		func(s *stepState) float64 { return s.status }},
	{"probe_step_duration_seconds", "Wall time of the step in the last run; 0 when it did not run.",
		func(s *stepState) float64 { return s.duration }},
	{"probe_step_success", "1 if the step passed in the last run; 0 if it failed or did not run because an earlier step failed.",
		func(s *stepState) float64 { return s.success }},
}

// observeSteps records a login result's steps. The caller holds s.mu.
//
// The target keeps exactly the steps of this result: a step renamed or
// removed by a reload stops being exported.
func (t *targetState) observeSteps(r probes.Result) {
	t.login = true
	t.stepsCompleted = float64(r.StepsCompleted)
	steps := make([]*stepState, 0, len(r.Steps))
	for _, sr := range r.Steps {
		st := t.stepNamed(sr.Name)
		if st == nil {
			st = &stepState{name: sr.Name, labels: t.labelsWith(pairs("step", sr.Name)[0])}
		}
		st.success = boolFloat(sr.Ran && sr.Success)
		st.duration = seconds(sr.Duration)
		st.status = float64(sr.StatusCode)
		steps = append(steps, st)
	}
	t.steps = steps
}

// gatherSteps appends the step families, sorted by (check, kind, step,
// tenant) like every other family. The caller holds s.mu.
func gatherSteps(out []*dto.MetricFamily, ts []*targetState) []*dto.MetricFamily {
	for fi, f := range stepFamilies {
		var b []*dto.Metric
		eachGroup(ts, func(group []*targetState) {
			for _, name := range stepNames(group) {
				for _, t := range group {
					if st := t.stepNamed(name); st != nil {
						b = append(b, st.metric(fi, f.value(st)))
					}
				}
			}
		})
		out = appendFamily(out, f.name, f.help, dto.MetricType_GAUGE, b)
	}
	return out
}

// stepNames is the sorted union of the step names of a group's targets.
func stepNames(group []*targetState) []string {
	var names []string
	for _, t := range group {
		for _, st := range t.steps {
			if !slices.Contains(names, st.name) {
				names = append(names, st.name)
			}
		}
	}
	slices.Sort(names)
	return names
}

func (t *targetState) stepNamed(name string) *stepState {
	for _, st := range t.steps {
		if st.name == name {
			return st
		}
	}
	return nil
}

func (st *stepState) metric(family int, v float64) *dto.Metric {
	if st.series[family] == nil {
		st.series[family] = newSeries(st.labels, false)
	}
	st.series[family].v = v
	return &st.series[family].m
}
