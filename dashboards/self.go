package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// selfHealth is forewarn watching itself: whether it runs probes on time,
// delivers notifications, keeps its configuration and history.
func selfHealth() *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder("forewarn · Self-health").
		Uid(SelfUID).
		Description("forewarn itself: scheduler lag and skipped runs, probes in flight, notification queue, failures and latency, configuration reloads, history store writes, the running build and the process.").
		Tags([]string{Tag}).
		Time("now-6h", "now").
		Refresh("1m").
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Link(forewarnLinks()).
		WithVariable(datasourceVariable()).
		WithRow(dashboard.NewRowBuilder("Scheduler")).
		WithPanel(quantiles("Scheduler lag",
			"How late probe runs start against their planned time, waiting for a free probe slot included, at the 50th, 95th and 99th percentiles per instance. Rising lag means the probe or load limits are too low for the plan.",
			"forewarn_scheduler_lag_seconds_bucket", "instance").
			Span(12).Height(8)).
		WithPanel(timeseriesPanel("Probes in flight",
			"Probes running now, per instance; flat at the configured limit means runs queue for a slot.",
			"short",
			series(`forewarn_probes_in_flight`, "{{instance}}")).
			Min(0).
			Span(6).Height(8)).
		WithPanel(timeseriesPanel("Plan targets",
			"Tenant × check pairs in the running plan, per instance; changes on a configuration reload.",
			"short",
			series(`forewarn_plan_targets`, "{{instance}}")).
			LineInterpolation(common.LineInterpolationStepAfter).
			Min(0).
			Span(6).Height(8)).
		WithPanel(stacked(timeseriesPanel("Skipped runs by reason",
			"Runs not started per second, by reason: overlap (the check's previous run was still going), outside_window (a load run outside its windows), load_budget (a load run that never got the load budget before its window closed).",
			"ops",
			series(`sum by (reason) (rate(forewarn_scheduler_skipped_total[$__rate_interval]))`, "{{reason}}"))).
			Span(24).Height(7)).
		WithRow(dashboard.NewRowBuilder("Notifications")).
		WithPanel(timeseriesPanel("Notification queue depth",
			"Notifications waiting to be delivered, by notifier (slack, webhook:<name>). A queue that only grows means the notifier cannot deliver.",
			"short",
			series(`sum by (notifier) (forewarn_notify_queue_depth)`, "{{notifier}}")).
			Min(0).
			Span(8).Height(8)).
		WithPanel(stacked(timeseriesPanel("Notification failures",
			"Failed delivery attempts per second, by notifier and reason (connect, timeout, rate_limited, server_error, client_error, gone, invalid, other). Failed attempts are retried with backoff.",
			"ops",
			series(`sum by (notifier, reason) (rate(forewarn_notify_failures_total[$__rate_interval]))`, "{{notifier}} · {{reason}}"))).
			Span(8).Height(8)).
		WithPanel(quantiles("Notification latency",
			"Time from a case change to its notification's delivery, by notifier, at the 50th, 95th and 99th percentiles: how long after forewarn knows the support team does.",
			"forewarn_notify_latency_seconds_bucket", "notifier").
			Span(8).Height(8)).
		WithRow(dashboard.NewRowBuilder("Configuration and build")).
		WithPanel(statPanel("Last configuration reload",
			"Whether the last load of checks.yaml succeeded, per instance. After a failed reload the previous plan keeps running; the error is in forewarn's log.",
			"none",
			now(`forewarn_config_last_reload_successful`, "{{instance}}")).
			Mappings(valueText("1", "succeeded", green, "0", "failed", red)).
			Span(6).Height(5)).
		WithPanel(statPanel("Configuration loaded",
			"When checks.yaml last loaded successfully, per instance.",
			"dateTimeFromNow",
			now(`forewarn_config_last_reload_success_timestamp_seconds * 1000`, "{{instance}}")).
			ColorMode(common.BigValueColorModeNone).
			Span(6).Height(5)).
		WithPanel(tablePanel("Build",
			"The forewarn build each instance runs: version, git revision and Go version.",
			"none",
			rows(`forewarn_build_info`)).
			WithTransformation(tableColumns([]string{"__name__", "job", "Value"},
				"instance", "Instance", "version", "Version", "revision", "Revision", "goversion", "Go")).
			Span(12).Height(5)).
		WithRow(dashboard.NewRowBuilder("History store")).
		WithPanel(quantiles("Store write latency",
			"Time to write one batch of results to the history store (SQLite or Postgres) at the 50th, 95th and 99th percentiles per instance.",
			"forewarn_store_write_duration_seconds_bucket", "instance").
			Span(8).Height(8)).
		WithPanel(timeseriesPanel("Store batches written",
			"Batches of results written to the history store per second, per instance.",
			"ops",
			series(`sum by (instance) (rate(forewarn_store_write_duration_seconds_count[$__rate_interval]))`, "{{instance}}")).
			Min(0).
			Span(8).Height(8)).
		WithPanel(timeseriesPanel("Store dropped results and write errors",
			"Results dropped because the write buffer was full (lost from history, still in metrics and cases), and failed batch writes (retried), per second.",
			"ops",
			series(`sum by (instance) (rate(forewarn_store_dropped_total[$__rate_interval]))`, "dropped · {{instance}}"),
			series(`sum by (instance) (rate(forewarn_store_write_errors_total[$__rate_interval]))`, "write errors · {{instance}}")).
			Min(0).
			OverrideByQuery("A", []dashboard.DynamicConfigValue{fixedColor(red)}).
			OverrideByQuery("B", []dashboard.DynamicConfigValue{fixedColor(orange)}).
			Span(8).Height(8)).
		WithRow(dashboard.NewRowBuilder("Process")).
		WithPanel(timeseriesPanel("CPU",
			"CPU the forewarn process uses, in cores, per instance.",
			"short",
			series(`rate(process_cpu_seconds_total[$__rate_interval])`, "{{instance}}")).
			Min(0).
			Span(8).Height(7)).
		WithPanel(timeseriesPanel("Resident memory",
			"Resident memory of the forewarn process, per instance.",
			"bytes",
			series(`process_resident_memory_bytes`, "{{instance}}")).
			Min(0).
			Span(8).Height(7)).
		WithPanel(timeseriesPanel("Goroutines",
			"Goroutines in the forewarn process, per instance; they grow with the probes and load users in flight.",
			"short",
			series(`go_goroutines`, "{{instance}}")).
			Min(0).
			Span(8).Height(7))
}

// quantiles is a panel of the 50th, 95th and 99th percentiles of a
// histogram's buckets, one series per value of by.
func quantiles(title, description, bucket, by string) *timeseries.PanelBuilder {
	q := func(q string) *prometheus.DataqueryBuilder {
		return series(`histogram_quantile(`+q+`, sum by (`+by+`, le) (rate(`+bucket+`[$__rate_interval])))`,
			"p"+q[2:]+" · {{"+by+"}}")
	}
	return timeseriesPanel(title, description, "s", q("0.50"), q("0.95"), q("0.99")).Min(0)
}
