package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/forewarn/forewarn/cases"
	"github.com/forewarn/forewarn/config"
	"github.com/forewarn/forewarn/monitor"
	"github.com/forewarn/forewarn/notify"
	"github.com/forewarn/forewarn/notify/webhook"
)

type notifyCmd struct {
	Test      notifyTestCmd      `cmd:"" help:"Send a test case to every configured notifier now and say which worked; exits 1 if one failed."`
	NewSecret notifyNewSecretCmd `cmd:"" name:"new-secret" help:"Print a new webhook signing secret (whsec_…)."`
}

type notifyTestCmd struct {
	Config string `short:"c" help:"Path to checks.yaml." default:"checks.yaml" type:"path"`
	Tenant string `help:"The tenant the test case names (default: the first)."`
}

func (c notifyTestCmd) Run(e *env) error {
	cfg, err := config.Load(c.Config)
	if err != nil {
		return configFailure(e, err)
	}
	if len(cfg.Notify.NotifierNames()) == 0 {
		fmt.Fprintf(e.stderr, "forewarn: no notifier in %s: add notify.slack or notify.webhooks\n", c.Config)
		return failure{ExitFailed}
	}
	ctx, st, closeHistory, err := openHistory(e, cfg)
	if err != nil {
		return err
	}
	defer closeHistory()
	ns, err := monitor.Notifiers(cfg, st, e.log)
	if err != nil {
		fmt.Fprintln(e.stderr, "forewarn:", err)
		return failure{ExitFailed}
	}
	ev := testEvent(cfg, c.Tenant, time.Now())
	failed := 0
	for _, n := range ns {
		attempt, cancel := context.WithTimeout(ctx, 15*time.Second)
		start := time.Now()
		err := n.Deliver(attempt, ev)
		cancel()
		if err != nil {
			failed++
			fmt.Fprintf(e.stdout, "%-24s FAIL  %s\n", n.Name(), cfg.Redact(err.Error()))
			continue
		}
		fmt.Fprintf(e.stdout, "%-24s OK    delivered in %s\n", n.Name(), ms(time.Since(start)))
	}
	if failed > 0 {
		return failure{ExitFailed}
	}
	return nil
}

// testEvent is a case.test event about a tenant of cfg: a made-up outage,
// marked as a test everywhere it shows.
func testEvent(cfg *config.Config, tenant string, now time.Time) notify.Event {
	t := config.Tenant{ID: "test", Name: "forewarn test"}
	for _, x := range cfg.Tenants {
		if tenant == "" || x.ID == tenant {
			t = x
			break
		}
	}
	grafana, status := cfg.Notify.Links(t)
	id := fmt.Sprintf("test-%s-%d", t.ID, now.UnixNano())
	return notify.Event{
		Version: notify.SchemaVersion, ID: id, Type: notify.TypeTest, Time: now.UTC(), Test: true,
		Tenant: notify.TenantContext{ID: t.ID, Name: t.Name, Plan: t.Plan, Region: t.Region, Seats: t.Seats, SlackChannel: t.SlackChannel},
		Case: cases.Case{ID: id, Seq: 1, Tenant: cases.Tenant{ID: t.ID, Name: t.Name, Plan: t.Plan, Seats: t.Seats},
			Status: cases.StatusOpen, Kind: cases.KindOutage, Severity: cases.SeverityInfo, OpenedAt: now.UTC(),
			Causes: []cases.Cause{{Check: "test", Kind: cases.KindOutage, Reason: "test", Active: true, Since: now.UTC(),
				LastSeen: now.UTC(), Failures: 1, FirstMessage: "a test notification from forewarn notify test: nothing is wrong"}}},
		Links: notify.Links{Grafana: grafana, StatusPage: status},
	}
}

type notifyNewSecretCmd struct{}

func (notifyNewSecretCmd) Run(e *env) error {
	s, err := webhook.NewSecret()
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, s)
	return nil
}
