package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"time"

	"github.com/forewarn/forewarn/config"
	"github.com/forewarn/forewarn/loadreport"
	"github.com/forewarn/forewarn/probes"
)

type capacityCmd struct {
	Tenant     string  `arg:"" help:"Tenant id, as in checks.yaml."`
	Check      string  `arg:"" optional:"" help:"Load check name; may be left out when the tenant has one load check."`
	Config     string  `short:"c" help:"Path to checks.yaml." default:"checks.yaml" type:"path"`
	DryRun     bool    `help:"Print the ramp plan (levels, duration, SLO, limits) and send nothing."`
	Chart      *string `placeholder:"FILE" help:"Write the capacity chart (SVG) to FILE; default capacity-TENANT-CHECK.svg, \"\" for none."`
	JSON       bool    `help:"Print the result as JSON instead of the table."`
	NoProgress bool    `help:"No live progress bar; print one line per finished step instead."`
}

// runLoad runs a load check; tests replace it, as the real ramp sends
// real traffic for minutes.
var runLoad = probes.RunLoad

func (c capacityCmd) Run(e *env) error {
	cfg, err := config.Load(c.Config)
	if err != nil {
		return configFailure(e, err)
	}
	t, err := findLoadTarget(cfg.Targets, cfg.File, c.Tenant, c.Check)
	if err != nil {
		return usage(e, "%v", err)
	}
	return c.run(e, t)
}

// run is the command past config loading, for a resolved load target.
func (c capacityCmd) run(e *env, t probes.Target) error {
	if t.Load == nil {
		return fmt.Errorf("%s: a load check without its load spec", t.Key())
	}
	if c.DryRun {
		printLoadPlan(e, t)
		return nil
	}
	ctx, stop := signalContext()
	defer stop()
	show := newRampProgress(e.stderr, t.Load, !c.NoProgress && isTerminal(e.stderr))
	// After the first Ctrl-C the ramp winds down (within a second) and the
	// partial curve is printed; a second one kills the process as usual.
	unhook := context.AfterFunc(ctx, func() {
		stop()
		show.note("interrupted: stopping the ramp; the curve so far follows (Ctrl-C again to quit now)")
	})
	res := runLoad(ctx, t, probes.LoadOptions{Progress: show.update})
	interrupted := ctx.Err() != nil
	unhook() // stop, deferred, cancels ctx too: that is no interruption
	var steps []probes.LoadStep
	if res.Load != nil {
		// The stop message may quote a sign-in step's error; RunLoad
		// redacts Result.Message only, and this one is printed and charted.
		l := *res.Load
		l.Message = probes.Redact(l.Message, t.Secrets)
		res.Load, steps = &l, l.Steps
	}
	show.finish(steps, interrupted)

	if c.JSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(jsonLoadResult(res)); err != nil {
			return err
		}
	} else {
		printLoadResult(e, res)
	}
	if err := c.writeChart(e, t, res); err != nil {
		fmt.Fprintln(e.stderr, "forewarn: chart:", err)
		return failure{ExitRuntime}
	}
	if !res.Success {
		return failure{ExitFailed}
	}
	return nil
}

// findLoadTarget picks tenant's load check: the one named, or its only
// one when check is empty. Its errors are usage errors that list what the
// tenant has.
func findLoadTarget(targets []probes.Target, file, tenant, check string) (probes.Target, error) {
	known := false
	var loads []probes.Target
	for _, t := range targets {
		if t.Tenant != tenant {
			continue
		}
		known = true
		if check != "" && t.Check == check {
			if t.Kind != probes.KindLoad {
				return probes.Target{}, fmt.Errorf("%s is of kind %s; capacity runs load checks only (%s)",
					t.Key(), t.Kind, loadChecks(tenant, targets))
			}
			return t, nil
		}
		if t.Kind == probes.KindLoad {
			loads = append(loads, t)
		}
	}
	if !known {
		tenants := map[string]bool{}
		for _, t := range targets {
			tenants[t.Tenant] = true
		}
		return probes.Target{}, fmt.Errorf("no tenant %q in %s (tenants: %s)", tenant, file, list(tenants, 10))
	}
	switch {
	case check != "":
		return probes.Target{}, fmt.Errorf("tenant %q has no check %q in %s (%s)", tenant, check, file, loadChecks(tenant, targets))
	case len(loads) == 1:
		return loads[0], nil
	case len(loads) == 0:
		return probes.Target{}, fmt.Errorf("tenant %q has no load check in %s", tenant, file)
	}
	return probes.Target{}, fmt.Errorf("tenant %q has %d load checks; name one: forewarn capacity %s CHECK (%s)",
		tenant, len(loads), tenant, loadChecks(tenant, targets))
}

// loadChecks lists tenant's load checks for an error message.
func loadChecks(tenant string, targets []probes.Target) string {
	names := map[string]bool{}
	for _, t := range targets {
		if t.Tenant == tenant && t.Kind == probes.KindLoad {
			names[t.Check] = true
		}
	}
	if len(names) == 0 {
		return tenant + " has no load check"
	}
	return "its load checks: " + list(names, 20)
}

// printLoadResult writes the run's outcome, then its curve as a table.
func printLoadResult(e *env, r probes.Result) {
	state := "OK"
	if !r.Success {
		state = "FAIL (" + string(r.Reason) + ")"
	}
	fmt.Fprintf(e.stdout, "%s/%s  %s  %s  in %s\n", r.Tenant, r.Check, r.Kind, state, r.Duration.Round(time.Second))
	if r.Message != "" && (r.Load == nil || r.Message != r.Load.Message) {
		fmt.Fprintf(e.stdout, "  %s\n", r.Message)
	}
	if r.Load == nil {
		return
	}
	fmt.Fprintln(e.stdout)
	loadreport.Table(e.stdout, *r.Load)
}

// writeChart writes the SVG chart where --chart says; nothing when the
// ramp did not run at all or --chart is "". It says where it wrote on
// stdout, or on stderr with --json so stdout stays one JSON document.
func (c capacityCmd) writeChart(e *env, t probes.Target, r probes.Result) error {
	path := chartPath(c.Chart, t)
	if path == "" || r.Load == nil {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = loadreport.SVG(f, t.Tenant, t.Check, *r.Load)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	out := e.stdout
	if c.JSON {
		out = e.stderr
	}
	fmt.Fprintf(out, "chart: %s\n", path)
	return nil
}

// unsafeInName is what may not go into a default chart file name. Tenant
// and check names are slugs in checks.yaml; this only keeps a name from
// becoming a path.
var unsafeInName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func chartPath(flag *string, t probes.Target) string {
	if flag != nil {
		return *flag
	}
	name := "capacity-" + t.Tenant + "-" + t.Check
	return unsafeInName.ReplaceAllString(name, "_") + ".svg"
}

// jsonLoadResult is the --json shape: like probe's, stable snake_case
// names and durations in seconds, with the curve under "load".
func jsonLoadResult(r probes.Result) any {
	out := map[string]any{
		"tenant": r.Tenant, "check": r.Check, "kind": r.Kind, "success": r.Success,
		"start": r.Start.UTC(), "duration_seconds": r.Duration.Seconds(),
	}
	if !r.Success {
		out["reason"], out["message"] = r.Reason, r.Message
	}
	l := r.Load
	if l == nil {
		return out
	}
	steps := make([]map[string]any, len(l.Steps))
	for i, s := range l.Steps {
		steps[i] = map[string]any{
			"users": s.Users, "confirm": s.Confirm, "start": s.Start.UTC(), "duration_seconds": s.Duration.Seconds(),
			"requests": s.Requests, "errors": s.Errors, "rate": s.Rate, "error_ratio": s.ErrorRatio,
			"p50_seconds": s.P50.Seconds(), "p95_seconds": s.P95.Seconds(), "p99_seconds": s.P99.Seconds(),
			"max_seconds": s.Max.Seconds(), "in_flight": s.InFlight, "passed": s.Passed,
		}
	}
	out["load"] = map[string]any{
		"model": l.Model, "slo": map[string]any{"p95_seconds": l.SLO.P95.Seconds(), "error_ratio": l.SLO.ErrorRatio},
		"seats": l.Seats, "required": l.Required, "planned": append([]int{}, l.Planned...), "steps": steps,
		"knee":     map[string]any{"users": l.Knee.Users, "break_at": l.Knee.BreakAt, "at_max": l.Knee.AtMax},
		"headroom": loadreport.Headroom(*l), "stop": l.Stop, "stop_message": l.Message,
	}
	return out
}
