package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/forewarn/forewarn/config"
	"github.com/forewarn/forewarn/probes"
)

type probeCmd struct {
	Tenant string `arg:"" help:"Tenant id, as in checks.yaml."`
	Check  string `arg:"" help:"Check name, as in checks.yaml."`
	Config string `short:"c" help:"Path to checks.yaml." default:"checks.yaml" type:"path"`
	JSON   bool   `help:"Print the result as JSON."`
}

func (c probeCmd) Run(e *env) error {
	cfg, err := config.Load(c.Config)
	if err != nil {
		return configFailure(e, err)
	}
	t, err := findTarget(cfg, c.Tenant, c.Check)
	if err != nil {
		fmt.Fprintln(e.stderr, "forewarn:", err)
		return failure{ExitUsage}
	}
	ctx, stop := signalContext()
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, t.Timeout+time.Second)
	defer cancel()
	res := probes.Run(ctx, t)
	if c.JSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(jsonResult(res)); err != nil {
			return err
		}
	} else {
		printResult(e, t, res)
	}
	if !res.Success {
		return failure{ExitFailed}
	}
	return nil
}

func findTarget(cfg *config.Config, tenant, check string) (probes.Target, error) {
	tenants, checks := map[string]bool{}, map[string]bool{}
	for _, t := range cfg.Targets {
		if t.Tenant == tenant && t.Check == check {
			return t, nil
		}
		tenants[t.Tenant] = true
		if t.Tenant == tenant {
			checks[t.Check] = true
		}
	}
	if !tenants[tenant] {
		return probes.Target{}, fmt.Errorf("no tenant %q in %s (tenants: %s)", tenant, cfg.File, list(tenants, 10))
	}
	return probes.Target{}, fmt.Errorf("tenant %q has no check %q in %s (its checks: %s)", tenant, check, cfg.File, list(checks, 20))
}

func list(set map[string]bool, most int) string {
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) > most {
		return strings.Join(names[:most], ", ") + fmt.Sprintf(" and %d more", len(names)-most)
	}
	return strings.Join(names, ", ")
}

func printResult(e *env, t probes.Target, r probes.Result) {
	state := "OK"
	if !r.Success {
		state = "FAIL (" + string(r.Reason) + ")"
	}
	fmt.Fprintf(e.stdout, "%s/%s  %s  %s  in %s\n", r.Tenant, r.Check, r.Kind, state, ms(r.Duration))
	if len(r.Steps) > 0 {
		printSteps(e, r)
		return
	}
	if t.HTTP != nil {
		fmt.Fprintf(e.stdout, "  request   %s %s\n", t.HTTP.Request.MethodOrGet(), shownURL(t))
	}
	if r.StatusCode != 0 {
		fmt.Fprintf(e.stdout, "  response  %d, %d bytes, %d redirects\n", r.StatusCode, r.BodyBytes, r.Redirects)
	}
	var phases []string
	r.Phases.Each(func(phase string, d time.Duration) { phases = append(phases, phase+" "+ms(d)) })
	fmt.Fprintf(e.stdout, "  phases    %s\n", strings.Join(phases, "  "))
	if r.TLS {
		left := time.Until(r.CertExpiry).Hours() / 24
		fmt.Fprintf(e.stdout, "  tls       certificate expires %s (in %.0f days)\n", r.CertExpiry.UTC().Format(time.DateOnly), left)
	}
	if r.Message != "" {
		fmt.Fprintf(e.stdout, "  error     %s\n", r.Message)
	}
}

// printSteps shows a login run step by step: what each got and extracted.
// Messages and extracted secrets arrive redacted from the prober.
func printSteps(e *env, r probes.Result) {
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	for i, st := range r.Steps {
		state := "OK"
		switch {
		case !st.Ran:
			fmt.Fprintf(tw, "  %d\t%s\tskipped\t\t\t(an earlier step failed)\n", i+1, st.Name)
			continue
		case !st.Success:
			state = "FAIL (" + string(st.Reason) + ")"
		}
		var got []string
		for _, x := range st.Extracted {
			got = append(got, x.Var+"="+shown(x.Value))
		}
		extracted := ""
		if len(got) > 0 {
			extracted = "extracted " + strings.Join(got, " ")
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\n", i+1, st.Name, state, status(st.StatusCode), ms(st.Duration), extracted)
	}
	tw.Flush()
	fmt.Fprintf(e.stdout, "  %d of %d steps passed\n", r.StepsCompleted, len(r.Steps))
	if r.Message != "" {
		fmt.Fprintf(e.stdout, "  error     %s\n", r.Message)
	}
}

func status(code int) string {
	if code == 0 {
		return "-"
	}
	return fmt.Sprint(code)
}

// shown is an extracted value as it may be printed: masked values as they
// are, others quoted (a server's value may hold tabs or terminal escapes)
// and cut after 24 characters, on a character boundary.
func shown(v string) string {
	if v == probes.Redacted {
		return v
	}
	if r := []rune(v); len(r) > 24 {
		return strconv.Quote(string(r[:24])) + "…"
	}
	return strconv.Quote(v)
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}

// jsonResult is the --json shape: stable snake_case names, durations in
// seconds.
func jsonResult(r probes.Result) any {
	phases := map[string]float64{}
	r.Phases.Each(func(phase string, d time.Duration) { phases[phase] = d.Seconds() })
	out := map[string]any{
		"tenant": r.Tenant, "check": r.Check, "kind": r.Kind, "success": r.Success,
		"start": r.Start.UTC(), "duration_seconds": r.Duration.Seconds(),
		"status_code": r.StatusCode, "phases_seconds": phases, "redirects": r.Redirects, "body_bytes": r.BodyBytes,
	}
	if !r.Success {
		out["reason"], out["message"] = r.Reason, r.Message
	}
	if r.TLS {
		out["cert_expiry"] = r.CertExpiry.UTC()
	}
	if len(r.Steps) > 0 {
		out["steps"], out["steps_completed"] = jsonSteps(r.Steps), r.StepsCompleted
	}
	return out
}

// shownURL is the request URL as it may be printed: declared secrets and a
// password in the URL itself masked.
func shownURL(t probes.Target) string {
	raw := t.HTTP.Request.URL
	if u, err := url.Parse(raw); err == nil {
		raw = u.Redacted()
	}
	return probes.Redact(raw, t.Secrets)
}

func jsonSteps(steps []probes.StepResult) []map[string]any {
	out := make([]map[string]any, len(steps))
	for i, st := range steps {
		m := map[string]any{"name": st.Name, "ran": st.Ran, "success": st.Success,
			"status_code": st.StatusCode, "duration_seconds": st.Duration.Seconds()}
		if st.Ran && !st.Success {
			m["reason"], m["message"] = st.Reason, st.Message
		}
		if len(st.Extracted) > 0 {
			x := map[string]string{}
			for _, e := range st.Extracted {
				x[e.Var] = e.Value
			}
			m["extracted"] = x
		}
		out[i] = m
	}
	return out
}
