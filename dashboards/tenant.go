package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// tenantDetail is one tenant: its checks' state and timings, its sign-in
// steps, and the capacity its load runs found against its seats.
func tenantDetail() *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder("forewarn · Tenant detail").
		Uid(TenantUID).
		Description("One tenant: success and timing of each check, HTTP phases and status codes, sign-in steps, and the capacity its load runs found against the seats its customer pays for.").
		Tags([]string{Tag}).
		Time("now-24h", "now").
		Refresh("1m").
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Link(forewarnLinks()).
		WithVariable(datasourceVariable()).
		WithVariable(dashboard.NewQueryVariableBuilder("tenant").
			Label("Tenant").
			Description("The tenant (its id in checks.yaml) to show.").
			Datasource(datasource()).
			Query(dashboard.StringOrMap{String: cog.ToPtr("label_values(probe_success, tenant)")}).
			Definition("label_values(probe_success, tenant)").
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
			Sort(dashboard.VariableSortAlphabeticalAsc)).
		WithVariable(dashboard.NewQueryVariableBuilder("check").
			Label("HTTP check").
			Description("The tenant's HTTP and sign-in checks whose request phases to show, one panel each.").
			Datasource(datasource()).
			Query(dashboard.StringOrMap{String: cog.ToPtr(`label_values(probe_http_duration_seconds{tenant="$tenant"}, check)`)}).
			Definition(`label_values(probe_http_duration_seconds{tenant="$tenant"}, check)`).
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
			Sort(dashboard.VariableSortAlphabeticalAsc).
			Multi(true).
			IncludeAll(true).
			Current(dashboard.VariableOption{
				Text:  dashboard.StringOrArrayOfString{ArrayOfString: []string{"All"}},
				Value: dashboard.StringOrArrayOfString{ArrayOfString: []string{"$__all"}},
			})).
		WithRow(dashboard.NewRowBuilder("Availability")).
		WithPanel(statPanel("Checks now",
			"Whether each of the tenant's checks passed (up) or failed (down) in its last run.",
			"none",
			now(`probe_success{tenant="$tenant"}`, "{{check}}")).
			Mappings(upDown()).
			TextMode(common.BigValueTextModeValueAndName).
			Span(12).Height(5)).
		WithPanel(statPanel("Availability over the range",
			"Share of each check's runs that passed over the dashboard's time range.",
			"percentunit",
			now(`avg_over_time(probe_success{tenant="$tenant"}[$__range])`, "{{check}}")).
			Decimals(3).
			Thresholds(thresholds(red, 0.99, orange, 0.999, green)).
			TextMode(common.BigValueTextModeValueAndName).
			Span(12).Height(5)).
		WithPanel(statusHistoryPanel("Success by check",
			"Each check's result over time: up when the run passed, down when it failed.",
			"none",
			series(`probe_success{tenant="$tenant"}`, "{{check}}")).
			Mappings(upDown()).
			Span(24).Height(6)).
		WithPanel(timeseriesPanel("Probe duration",
			"Wall time of each HTTP and sign-in check's last run (a sign-in's is all its steps). Load runs are left out: they last minutes by design.",
			"s",
			series(`probe_duration_seconds{tenant="$tenant", kind!="load"}`, "{{check}}")).
			Min(0).
			Span(12).Height(8)).
		WithPanel(timeseriesPanel("Failed runs by reason",
			"Failed runs per interval, by check and reason (dns, connect, tls, timeout, status, assertion, extraction, body_limit, capacity, internal).",
			"short",
			series(`sum by (check, reason) (increase(probe_failures_total{tenant="$tenant"}[$__rate_interval]))`, "{{check}} · {{reason}}")).
			DrawStyle(common.GraphDrawStyleBars).FillOpacity(80).
			Span(12).Height(8)).
		WithRow(dashboard.NewRowBuilder("HTTP")).
		WithPanel(httpPhases()).
		WithPanel(statusHistoryPanel("Status codes",
			"HTTP status of each check's last response and of each sign-in step's; 0 (red) means no response came. Green 2xx, blue 3xx, orange 4xx, red 5xx.",
			"none",
			series(`probe_http_status_code{tenant="$tenant"}`, "{{check}}"),
			series(`probe_step_http_status_code{tenant="$tenant"}`, "{{check}} · {{step}}")).
			ShowValue(common.VisibilityModeAuto).
			ColorScheme(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdThresholds)).
			Thresholds(thresholds(red, 200, green, 300, blue, 400, orange, 500, red)).
			Span(24).Height(8)).
		WithRow(dashboard.NewRowBuilder("Sign-in steps")).
		WithPanel(statusHistoryPanel("Step results",
			"Each sign-in step's result over time: up when it passed, down when it failed or did not run because an earlier step failed.",
			"none",
			series(`probe_step_success{tenant="$tenant"}`, "{{check}} · {{step}}")).
			Mappings(upDown()).
			Span(12).Height(8)).
		WithPanel(stacked(timeseriesPanel("Step duration",
			"Time each sign-in step took in the last run, stacked: the top of the stack is the whole sign-in.",
			"s",
			series(`probe_step_duration_seconds{tenant="$tenant"}`, "{{check}} · {{step}}"))).
			Span(12).Height(8)).
		WithRow(dashboard.NewRowBuilder("Capacity")).
		WithPanel(capacityKnee()).
		WithPanel(statPanel("Knee ÷ seats",
			"The capacity knee the last load run found divided by the seats the customer pays for. Below 100 % the tenant serves fewer concurrent users than contracted.",
			"percentunit",
			now(`probe_load_capacity_knee_users{tenant="$tenant"} / on (tenant) group_left forewarn_tenant_seats{tenant="$tenant"}`, "{{check}}")).
			Thresholds(thresholds(red, 1, orange, 1.2, green)).
			TextMode(common.BigValueTextModeValueAndName).
			Span(8).Height(9)).
		WithPanel(capacityCurve()).
		WithPanel(loadErrors()).
		WithPanel(loadLatency()).
		WithPanel(stacked(timeseriesPanel("Load requests by result",
			"Requests per second load runs sent, by result: ok or error.",
			"reqps",
			series(`sum by (check, result) (rate(probe_load_requests_total{tenant="$tenant"}[$__rate_interval]))`, "{{check}} · {{result}}"))).
			OverrideByRegexp(".* · error", []dashboard.DynamicConfigValue{fixedColor(red)}).
			OverrideByRegexp(".* · ok", []dashboard.DynamicConfigValue{fixedColor(green)}).
			Span(12).Height(9)).
		WithPanel(recentLoadRuns())
}

// httpPhases is one stacked panel per HTTP check (the check variable) of the
// time each phase of its request took.
func httpPhases() *timeseries.PanelBuilder {
	phase := func(name string) *prometheus.DataqueryBuilder {
		// One query per phase, in request order, so they stack in that order.
		return series(`probe_http_duration_seconds{tenant="$tenant", check="$check", phase="`+name+`"}`, name)
	}
	return stacked(timeseriesPanel("HTTP phases · $check",
		"Time the check's last request spent in each phase, stacked in request order: DNS resolve, TCP connect, TLS handshake, processing (to the first response byte) and transfer; summed over redirects. One panel per check chosen in the HTTP check variable.",
		"s",
		phase("resolve"), phase("connect"), phase("tls"), phase("processing"), phase("transfer"))).
		Repeat("check").RepeatDirection(dashboard.PanelRepeatDirectionH).MaxPerRow(3).
		Span(24).Height(8)
}

// capacityKnee draws the knee each load run found against what the check
// requires and what the customer pays for.
func capacityKnee() *timeseries.PanelBuilder {
	return timeseriesPanel("Capacity knee against seats",
		"The capacity knee the last load run found (the most concurrent users served within the SLO), against the knee the check requires and the seats the customer contracted for. The knee changes only when a load run completes.",
		"short",
		series(`probe_load_capacity_knee_users{tenant="$tenant"}`, "knee · {{check}}"),
		series(`probe_load_required_users{tenant="$tenant"}`, "required · {{check}}"),
		series(`forewarn_tenant_seats{tenant="$tenant"}`, "seats")).
		LineInterpolation(common.LineInterpolationStepAfter).
		LineWidth(2).
		Min(0).
		OverrideByQuery("B", []dashboard.DynamicConfigValue{dashed(), noFill(), fixedColor(orange)}).
		OverrideByQuery("C", []dashboard.DynamicConfigValue{dashed(), noFill(), fixedColor(purple)}).
		Span(16).Height(9)
}

// capacityCurve shows a load run's ramp: the users of each step and the
// throughput they got. Where users keep rising and throughput flattens, the
// tenant has passed its knee.
func capacityCurve() *timeseries.PanelBuilder {
	return timeseriesPanel("Capacity curve: users and throughput",
		"During a load run: the virtual users of the current step (left axis) and the requests per second they got (right axis): the current step's measured rate and every request sent. Where users step up and throughput stops rising, the tenant has passed its knee. All 0 between runs.",
		"short",
		series(`probe_load_users{tenant="$tenant"}`, "users · {{check}}"),
		series(`probe_load_request_rate{tenant="$tenant"}`, "step rate · {{check}}"),
		series(`sum by (check) (rate(probe_load_requests_total{tenant="$tenant"}[$__rate_interval]))`, "sent · {{check}}")).
		LineInterpolation(common.LineInterpolationStepAfter).
		Min(0).
		OverrideByQuery("B", []dashboard.DynamicConfigValue{rightAxis(), unitOf("reqps")}).
		OverrideByQuery("C", []dashboard.DynamicConfigValue{rightAxis(), unitOf("reqps"), noFill()}).
		Span(12).Height(9)
}

// loadErrors is the failed share of load requests against the SLO.
func loadErrors() *timeseries.PanelBuilder {
	return timeseriesPanel("Load error ratio",
		"Failed share of load requests: of the current step's measured window, and of every request sent per interval (warm-up included), against the error ratio the SLO allows (dashed).",
		"percentunit",
		series(`probe_load_error_ratio{tenant="$tenant"}`, "step · {{check}}"),
		series(`sum by (check) (rate(probe_load_requests_total{tenant="$tenant", result="error"}[$__rate_interval])) / sum by (check) (rate(probe_load_requests_total{tenant="$tenant"}[$__rate_interval]))`, "all requests · {{check}}"),
		series(`probe_load_slo_error_ratio{tenant="$tenant"}`, "SLO · {{check}}")).
		Min(0).
		OverrideByQuery("C", []dashboard.DynamicConfigValue{dashed(), noFill(), fixedColor(red)}).
		Span(12).Height(9)
}

// loadLatency is the load requests' latency quantiles against the SLO.
func loadLatency() *timeseries.PanelBuilder {
	quantile := func(q string) *prometheus.DataqueryBuilder {
		return series(`histogram_quantile(`+q+`, sum by (check, le) (rate(probe_load_request_duration_seconds_bucket{tenant="$tenant"}[$__rate_interval])))`,
			"p"+q[2:]+" · {{check}}")
	}
	return timeseriesPanel("Load latency",
		"Latency of load requests (warm-up included) at the 50th, 95th and 99th percentiles, against the p95 the SLO allows (dashed).",
		"s",
		quantile("0.50"), quantile("0.95"), quantile("0.99"),
		series(`probe_load_slo_latency_seconds{tenant="$tenant"}`, "SLO p95 · {{check}}")).
		Min(0).
		OverrideByQuery("D", []dashboard.DynamicConfigValue{dashed(), noFill(), fixedColor(red)}).
		Span(12).Height(9)
}

// recentLoadRuns summarises each load check's last run and how many ran in
// the range. Prometheus keeps only the last run's values; every run's steps
// are in forewarn's history store.
func recentLoadRuns() *tablePanelBuilder {
	return tablePanel("Recent load runs",
		"Each load check's last run: when it started, whether the tenant met its required knee, how long it took, the knee it found and the knee required; and how many runs started in the dashboard's time range. Earlier runs' full curves are in forewarn's history store.",
		"short",
		rows(`max by (check) (probe_last_run_timestamp_seconds{tenant="$tenant", kind="load"}) * 1000`),
		rows(`max by (check) (probe_success{tenant="$tenant", kind="load"})`),
		rows(`max by (check) (probe_duration_seconds{tenant="$tenant", kind="load"})`),
		rows(`max by (check) (probe_load_capacity_knee_users{tenant="$tenant"})`),
		rows(`max by (check) (probe_load_required_users{tenant="$tenant"})`),
		rows(`max by (check) (changes(probe_last_run_timestamp_seconds{tenant="$tenant", kind="load"}[$__range]))`)).
		WithTransformation(merge()).
		WithTransformation(tableColumns(nil,
			"check", "Check", "Value #A", "Last run started", "Value #B", "Result", "Value #C", "Duration",
			"Value #D", "Knee (users)", "Value #E", "Required (users)", "Value #F", "Runs in range")).
		OverrideByName("Last run started", []dashboard.DynamicConfigValue{unitOf("dateTimeAsIso")}).
		OverrideByName("Result", []dashboard.DynamicConfigValue{
			mappingsOf(valueText("1", "passed", green, "0", "failed", red)), cellColor(),
		}).
		OverrideByName("Duration", []dashboard.DynamicConfigValue{unitOf("s")}).
		SortBy(sortBy("Check", false)).
		Span(24).Height(7)
}
