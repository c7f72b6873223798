package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/forewarn/forewarn/cases"
	"github.com/forewarn/forewarn/config"
	"github.com/forewarn/forewarn/store"
)

type casesCmd struct {
	Config string `short:"c" help:"Path to checks.yaml (its store: says where the history is)." default:"checks.yaml" type:"path"`
	Tenant string `help:"Only this tenant's cases."`
	Limit  int    `help:"How many recent cases to list besides the open ones." default:"20"`
	JSON   bool   `help:"Print the cases as JSON."`
}

// caseRow is a case as the command shows it.
type caseRow struct {
	cases.Case
	Notifications []notificationRow `json:"notifications,omitempty"`
}

type notificationRow struct {
	Notifier  string    `json:"notifier"`
	Seq       int64     `json:"seq"`
	State     string    `json:"state"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error,omitempty"`
	Delivered time.Time `json:"delivered,omitzero"`
}

func (c casesCmd) Run(e *env) error {
	cfg, err := config.Load(c.Config)
	if err != nil {
		return configFailure(e, err)
	}
	ctx, st, closeHistory, err := openHistory(e, cfg)
	if err != nil {
		return err
	}
	defer closeHistory()
	rows, err := c.load(ctx, st)
	if err != nil {
		fmt.Fprintln(e.stderr, "forewarn:", err)
		return failure{ExitRuntime}
	}
	if c.JSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	printCases(e, rows, time.Now())
	return nil
}

// load reads the open cases, then the most recent others, with their
// notifications' delivery state.
func (c casesCmd) load(ctx context.Context, st *store.Store) ([]caseRow, error) {
	open, err := st.OpenCases(ctx)
	if err != nil {
		return nil, err
	}
	var recent []store.CaseRecord
	if c.Tenant != "" {
		recent, err = st.TenantCases(ctx, c.Tenant, c.Limit)
	} else {
		recent, err = st.RecentCases(ctx, c.Limit)
	}
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var rows []caseRow
	for _, rec := range append(open, recent...) {
		if seen[rec.ID] || (c.Tenant != "" && rec.Tenant != c.Tenant) {
			continue
		}
		seen[rec.ID] = true
		var cs cases.Case
		if err := json.Unmarshal(rec.Data, &cs); err != nil {
			return nil, fmt.Errorf("case %s: %w", rec.ID, err)
		}
		row := caseRow{Case: cs}
		items, err := st.CaseNotifications(ctx, rec.ID)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			row.Notifications = append(row.Notifications, notificationRow{Notifier: it.Notifier, Seq: it.Seq,
				State: string(it.State), Attempts: it.Attempts, LastError: it.LastError, Delivered: it.DeliveredAt})
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func printCases(e *env, rows []caseRow, now time.Time) {
	if len(rows) == 0 {
		fmt.Fprintln(e.stdout, "no cases")
		return
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tTENANT\tSTATE\tKIND\tSEVERITY\tOPENED (UTC)\tFOR\tCAUSES\tNOTIFIED")
	for _, r := range rows {
		dur := r.Duration
		if r.Open() {
			dur = now.Sub(r.OpenedAt)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Tenant.ID, r.Status, r.Kind, r.Severity,
			r.OpenedAt.UTC().Format("2006-01-02 15:04:05"), dur.Round(time.Second), causes(r.Case), notified(r.Notifications))
	}
	tw.Flush()
}

// causes lists a case's checks: active ones with their reason, resolved
// ones marked so.
func causes(c cases.Case) string {
	var out []string
	for _, x := range c.Causes {
		s := x.Check + " " + string(x.Kind)
		if x.Reason != "" {
			s += " (" + x.Reason + ")"
		}
		if !x.Active {
			s += " ✓"
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}

// notified sums up a case's notifications per notifier: "slack 3/3,
// webhook:tickets 2/3 (retrying: 503)".
func notified(items []notificationRow) string {
	type sum struct {
		done, all int
		state     string
		err       string
	}
	var order []string
	by := map[string]*sum{}
	for _, it := range items {
		s := by[it.Notifier]
		if s == nil {
			s = &sum{}
			by[it.Notifier] = s
			order = append(order, it.Notifier)
		}
		s.all++
		switch it.State {
		case string(store.Delivered):
			s.done++
		case string(store.Dead):
			s.state, s.err = "dead", it.LastError
		default:
			if it.Attempts > 0 && s.state == "" {
				s.state, s.err = "retrying", it.LastError
			}
		}
	}
	var out []string
	for _, n := range order {
		s := by[n]
		txt := fmt.Sprintf("%s %d/%d", n, s.done, s.all)
		if s.state != "" {
			txt += " (" + s.state
			if s.err != "" {
				txt += ": " + clip(s.err, 60)
			}
			txt += ")"
		}
		out = append(out, txt)
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, ", ")
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// openHistory opens the store checks.yaml names, for a command that reads
// it beside a running forewarn: no retention runs from here. close also
// ends the command's signal handling.
func openHistory(e *env, cfg *config.Config) (ctx context.Context, st *store.Store, closeFn func(), err error) {
	ctx, stop := signalContext()
	st, err = store.OpenWith(ctx, cfg.Store.DSN, store.Options{RetentionInterval: -1, Logger: e.log})
	if err != nil {
		stop()
		fmt.Fprintln(e.stderr, "forewarn:", err)
		return nil, nil, nil, failure{ExitRuntime}
	}
	return ctx, st, func() { st.Close(context.WithoutCancel(ctx)); stop() }, nil
}
