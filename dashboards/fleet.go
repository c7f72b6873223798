package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// fleetOverview is the SRE's first screen: which tenants fail now, which do
// worst over the range, which serve fewer users than they pay for, and whose
// certificates run out first.
func fleetOverview() *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder("forewarn · Fleet overview").
		Uid(FleetUID).
		Description("Every tenant at a glance: state now, the worst tenants over the range, capacity headroom against seats, expiring certificates and open support cases.").
		Tags([]string{Tag}).
		Time("now-24h", "now").
		Refresh("1m").
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Link(forewarnLinks()).
		WithVariable(datasourceVariable()).
		WithRow(dashboard.NewRowBuilder("Now")).
		WithPanel(statPanel("Checks failing now",
			"Checks (tenant × check) whose last run failed: probe_success is 0.",
			"short",
			now(`count(probe_success == 0) or vector(0)`, "")).
			Thresholds(thresholds(green, 1, red)).
			Span(6).Height(4)).
		WithPanel(statPanel("Tenants affected now",
			"Tenants with at least one failing check now.",
			"short",
			now(`count(count by (tenant) (probe_success == 0)) or vector(0)`, "")).
			Thresholds(thresholds(green, 1, red)).
			Span(6).Height(4)).
		WithPanel(statPanel("Open cases",
			"Support cases open now, of every kind (outage, degraded, capacity, expiring).",
			"short",
			now(`sum(forewarn_case_open) or vector(0)`, "")).
			Thresholds(thresholds(green, 1, orange)).
			Span(6).Height(4)).
		WithPanel(statPanel("Fleet availability",
			"Share of passing runs over the dashboard's time range, averaged over every check of every tenant.",
			"percentunit",
			now(`avg(avg_over_time(probe_success[$__range]))`, "")).
			Decimals(3).
			Thresholds(thresholds(red, 0.99, orange, 0.999, green)).
			Span(6).Height(4)).
		WithRow(dashboard.NewRowBuilder("Tenants by state")).
		WithPanel(tenantsByState()).
		WithPanel(statusHistoryPanel("Checks that failed in the range",
			"Pass (up) and fail (down) over time of every check that failed at least once in the dashboard's time range; checks that passed throughout are left out so the panel stays readable for a large fleet. Click a row for the tenant's detail.",
			"none",
			series(`probe_success and on (tenant, check) (min_over_time(probe_success[$__range] @ end()) == 0)`, "{{tenant}} · {{check}}")).
			Mappings(upDown()).
			DataLinks(tenantLink(bySeriesLabel)).
			Span(12).Height(10)).
		WithPanel(stacked(timeseriesPanel("Failed runs by reason",
			"Failed runs across the fleet per interval, by reason: dns, connect, tls, timeout, status, assertion, extraction, body_limit, capacity or internal.",
			"short",
			series(`sum by (reason) (increase(probe_failures_total[$__rate_interval]))`, "{{reason}}"))).
			Span(12).Height(8)).
		WithPanel(openCases()).
		WithRow(dashboard.NewRowBuilder("Worst tenants over the range")).
		WithPanel(barGaugePanel("Worst tenants by success ratio",
			"The 15 tenants with the lowest share of passing runs over the dashboard's time range, all their checks averaged, lowest first. Click a bar for the tenant's detail.",
			"percentunit",
			now(`sort(bottomk(15, avg by (tenant) (avg_over_time(probe_success[$__range]))))`, "{{tenant}}")).
			Min(0).Max(1).Decimals(2).
			Thresholds(thresholds(red, 0.99, orange, 0.999, green)).
			DataLinks(tenantLink(bySeriesLabel)).
			Span(12).Height(10)).
		WithPanel(barGaugePanel("Slowest tenants",
			"The 15 tenants with the highest average probe duration over the dashboard's time range (the slowest of their HTTP and sign-in checks; load runs are left out, they last minutes by design), slowest first.",
			"s",
			now(`sort_desc(topk(15, max by (tenant) (avg_over_time(probe_duration_seconds{kind!="load"}[$__range]))))`, "{{tenant}}")).
			Min(0).
			Thresholds(thresholds(green, 1, orange, 2.5, red)).
			DataLinks(tenantLink(bySeriesLabel)).
			Span(12).Height(10)).
		WithRow(dashboard.NewRowBuilder("Capacity and certificates")).
		WithPanel(capacityHeadroom()).
		WithPanel(expiringCertificates()).
		WithRow(dashboard.NewRowBuilder("Cases")).
		WithPanel(timeseriesPanel("Cases opened by kind",
			"Support cases opened per interval, by kind; a reopened case is not counted again.",
			"short",
			series(`sum by (kind) (increase(forewarn_cases_opened_total[$__rate_interval]))`, "{{kind}}")).
			DrawStyle(common.GraphDrawStyleBars).FillOpacity(80).
			Span(12).Height(8)).
		WithPanel(stacked(timeseriesPanel("Open cases by severity",
			"Support cases open over time, by severity.",
			"short",
			series(`sum by (severity) (forewarn_case_open)`, "{{severity}}"))).
			LineInterpolation(common.LineInterpolationStepAfter).
			Span(12).Height(8))
}

// tenantsByState lists every check's state now, failing ones first.
func tenantsByState() *tablePanelBuilder {
	return tablePanel("Tenants by state",
		"Every check of every tenant and whether its last run passed (up) or failed (down), failing first. Click a row for the tenant's detail.",
		"none",
		rows(`probe_success`)).
		WithTransformation(tableColumns([]string{"__name__", "instance", "job"},
			"tenant", "Tenant", "check", "Check", "kind", "Kind", "Value", "State")).
		OverrideByName("State", []dashboard.DynamicConfigValue{mappingsOf(upDown()), cellColor()}).
		SortBy(sortBy("State", false)).
		DataLinks(tenantLink(byTableColumn)).
		Span(12).Height(10)
}

// openCases lists the open support cases.
func openCases() *tablePanelBuilder {
	return tablePanel("Open cases",
		"Support cases open now: one per tenant and kind, with its severity. Click a row for the tenant's detail.",
		"none",
		rows(`forewarn_case_open`)).
		WithTransformation(tableColumns([]string{"__name__", "instance", "job", "Value"},
			"tenant", "Tenant", "kind", "Kind", "severity", "Severity")).
		OverrideByName("Severity", []dashboard.DynamicConfigValue{
			mappingsOf(valueText("critical", "critical", red, "major", "major", orange, "warning", "warning", yellow, "info", "info", blue)),
			{Id: "custom.cellOptions", Value: map[string]any{"type": "color-text"}},
		}).
		SortBy(sortBy("Tenant", false)).
		DataLinks(tenantLink(byTableColumn)).
		Span(12).Height(8)
}

// capacityHeadroom is every tenant's capacity knee against its seats,
// lowest first: below 1, the tenant serves fewer concurrent users than its
// customer pays for.
func capacityHeadroom() *tablePanelBuilder {
	return tablePanel("Capacity headroom",
		"For every tenant with a load check: the capacity knee its last load run found (the most concurrent users served within the SLO), the knee the check requires, the seats the customer contracted for, and knee ÷ seats, lowest first. Below 100 % the tenant serves fewer users than it pays for.",
		"short",
		rows(`max by (tenant, check) (probe_load_capacity_knee_users) / on (tenant) group_left max by (tenant) (forewarn_tenant_seats)`),
		rows(`max by (tenant, check) (probe_load_capacity_knee_users)`),
		rows(`max by (tenant, check) (probe_load_required_users)`),
		rows(`max by (tenant, check) (probe_load_capacity_knee_users) * 0 + on (tenant) group_left max by (tenant) (forewarn_tenant_seats)`)).
		WithTransformation(merge()).
		WithTransformation(tableColumns(nil,
			"tenant", "Tenant", "check", "Check", "Value #A", "Knee / seats",
			"Value #B", "Knee (users)", "Value #C", "Required (users)", "Value #D", "Seats")).
		OverrideByName("Knee / seats", []dashboard.DynamicConfigValue{
			unitOf("percentunit"), cellGauge(),
			thresholdsOf(thresholds(red, 1, orange, 1.2, green)),
			{Id: "min", Value: 0}, {Id: "max", Value: 2},
		}).
		SortBy(sortBy("Knee / seats", false)).
		DataLinks(tenantLink(byTableColumn)).
		Span(12).Height(12)
}

// expiringCertificates lists the TLS certificates that expire first.
func expiringCertificates() *tablePanelBuilder {
	const earliest = `bottomk(20, min by (tenant, check) (probe_ssl_earliest_cert_expiry))`
	return tablePanel("Certificates expiring soonest",
		"The 20 TLS certificates (earliest of each chain, per tenant and check) that expire first: time left and the expiry date. Red under 7 days, orange under 14 (when an expiring case opens by default), yellow under 30.",
		"s",
		rows(earliest+` - time()`),
		rows(earliest+` * 1000`)).
		WithTransformation(merge()).
		WithTransformation(tableColumns(nil,
			"tenant", "Tenant", "check", "Check", "Value #A", "Expires in", "Value #B", "Expires at")).
		OverrideByName("Expires in", []dashboard.DynamicConfigValue{
			cellColor(), thresholdsOf(thresholds(red, week, orange, 2*week, yellow, 30*day, green)),
		}).
		OverrideByName("Expires at", []dashboard.DynamicConfigValue{unitOf("dateTimeAsIso")}).
		SortBy(sortBy("Expires in", false)).
		DataLinks(tenantLink(byTableColumn)).
		Span(12).Height(12)
}
