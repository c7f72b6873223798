package cli

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/forewarn/forewarn/config"
	"github.com/forewarn/forewarn/probes"
	"github.com/forewarn/forewarn/scheduler"
)

type checkCmd struct {
	Config string `short:"c" help:"Path to checks.yaml." default:"checks.yaml" type:"path"`
	Quiet  bool   `short:"q" help:"Only validate; print nothing when the file is valid."`
}

func (c checkCmd) Run(e *env) error {
	cfg, err := config.Load(c.Config)
	if err != nil {
		return configFailure(e, err)
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintln(e.stderr, "warning:", w)
	}
	if c.Quiet {
		return nil
	}
	fmt.Fprintf(e.stdout, "%s is valid: %d tenants, %d checks, %d targets\n\n",
		c.Config, len(cfg.Tenants), len(cfg.Checks), len(cfg.Targets))
	printPlan(e, cfg.Targets, time.Now())
	return nil
}

func printPlan(e *env, targets []probes.Target, now time.Time) {
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TENANT\tCHECK\tKIND\tSCHEDULE\tTIMEOUT\tNEXT RUN (UTC)")
	for _, t := range targets {
		sched := "every " + t.Interval.String()
		if t.Schedule != "" {
			sched = "cron " + t.Schedule
		}
		next := "-"
		if n, err := scheduler.NextRun(t, now); err == nil {
			next = n.UTC().Format("2006-01-02 15:04:05.000")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.Tenant, t.Check, t.Kind, sched, t.Timeout, next)
	}
	tw.Flush()
}
