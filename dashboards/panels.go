package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/statushistory"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// The helpers here give every panel what a reviewer should not have to check
// panel by panel: the datasource variable on the panel and on each query,
// a title, a description and a unit, and query ids A, B, C…

// datasourceVar is the name of the datasource variable every panel reads.
const datasourceVar = "datasource"

// datasource is the dashboard's datasource variable as a reference.
func datasource() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${" + datasourceVar + "}")}
}

// datasourceVariable lets the viewer pick the Prometheus that scrapes forewarn.
func datasourceVariable() *dashboard.DatasourceVariableBuilder {
	return dashboard.NewDatasourceVariableBuilder(datasourceVar).
		Label("Data source").
		Type("prometheus")
}

// forewarnLinks links every forewarn dashboard to the others, keeping the
// time range and variables (the tenant) when moving between them.
func forewarnLinks() cog.Builder[dashboard.DashboardLink] {
	return dashboard.NewDashboardLinkBuilder("forewarn").
		Type(dashboard.DashboardLinkTypeDashboards).
		Tags([]string{Tag}).
		AsDropdown(true).
		KeepTime(true).
		IncludeVars(true)
}

// tenantLink opens the tenant detail dashboard for the tenant of the clicked
// value; field is how the panel names the tenant (a table's column or a
// series' label).
func tenantLink(field string) []cog.Builder[dashboard.DashboardLink] {
	return []cog.Builder[dashboard.DashboardLink]{
		dashboard.NewDashboardLinkBuilder("Tenant detail").
			Url("/d/" + TenantUID + "?var-tenant=" + field + "&${" + datasourceVar + ":queryparam}&${__url_time_range}"),
	}
}

const (
	byTableColumn = "${__data.fields.tenant}"
	bySeriesLabel = "${__field.labels.tenant}"
)

// series is a range query drawn as one series per result, named by legend.
func series(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Expr(expr).LegendFormat(legend).Range()
}

// now is an instant query: the value at the end of the dashboard's range.
func now(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Expr(expr).LegendFormat(legend).Instant()
}

// rows is an instant query in table format: one row per series, one column
// per label.
func rows(expr string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Expr(expr).Instant().Format(prometheus.PromQueryFormatTable)
}

// queries sets the datasource and the ids A, B, C… on the panel's queries.
func queries(qs []*prometheus.DataqueryBuilder) []cog.Builder[variants.Dataquery] {
	out := make([]cog.Builder[variants.Dataquery], len(qs))
	for i, q := range qs {
		out[i] = q.RefId(string(rune('A' + i))).Datasource(datasource())
	}
	return out
}

func timeseriesPanel(title, description, unit string, qs ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().Title(title).Description(description).Unit(unit).
		Datasource(datasource()).Targets(queries(qs)).
		FillOpacity(10).
		ShowPoints(common.VisibilityModeNever).
		Legend(common.NewVizLegendOptionsBuilder().
			ShowLegend(true).
			DisplayMode(common.LegendDisplayModeList).
			Placement(common.LegendPlacementBottom)).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending))
}

// stacked is a time series panel whose series add up (phases of one
// request, steps of one sign-in).
func stacked(p *timeseries.PanelBuilder) *timeseries.PanelBuilder {
	return p.Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).FillOpacity(60)
}

func statPanel(title, description, unit string, qs ...*prometheus.DataqueryBuilder) *stat.PanelBuilder {
	return stat.NewPanelBuilder().Title(title).Description(description).Unit(unit).
		Datasource(datasource()).Targets(queries(qs)).
		ColorMode(common.BigValueColorModeBackground).
		GraphMode(common.BigValueGraphModeNone).
		Orientation(common.VizOrientationAuto).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false))
}

// tablePanelBuilder names the table builder for functions that return one.
type tablePanelBuilder = table.PanelBuilder

func tablePanel(title, description, unit string, qs ...*prometheus.DataqueryBuilder) *table.PanelBuilder {
	return table.NewPanelBuilder().Title(title).Description(description).Unit(unit).
		Datasource(datasource()).Targets(queries(qs)).
		CellHeight(common.TableCellHeightSm).
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"sum"}))
}

func statusHistoryPanel(title, description, unit string, qs ...*prometheus.DataqueryBuilder) *statushistory.PanelBuilder {
	return statushistory.NewPanelBuilder().Title(title).Description(description).Unit(unit).
		Datasource(datasource()).Targets(queries(qs)).
		ShowValue(common.VisibilityModeNever).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeSingle).Sort(common.SortOrderNone)).
		Legend(common.NewVizLegendOptionsBuilder().ShowLegend(false).
			DisplayMode(common.LegendDisplayModeHidden).Placement(common.LegendPlacementBottom))
}

func barGaugePanel(title, description, unit string, qs ...*prometheus.DataqueryBuilder) *bargauge.PanelBuilder {
	return bargauge.NewPanelBuilder().Title(title).Description(description).Unit(unit).
		Datasource(datasource()).Targets(queries(qs)).
		Orientation(common.VizOrientationHorizontal).
		DisplayMode(common.BarGaugeDisplayModeBasic).
		ShowUnfilled(true).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false))
}

// thresholds are absolute colour steps: base is the colour below the first
// value, then each value and the colour from it up.
func thresholds(base string, steps ...any) *dashboard.ThresholdsConfigBuilder {
	out := []dashboard.Threshold{{Color: base}} // nil value: from -Infinity
	for i := 0; i+1 < len(steps); i += 2 {
		v := toFloat(steps[i])
		out = append(out, dashboard.Threshold{Value: &v, Color: steps[i+1].(string)})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(out)
}

func toFloat(v any) float64 {
	switch v := v.(type) {
	case int:
		return float64(v)
	case float64:
		return v
	}
	panic("dashboards: threshold value must be int or float64")
}

// valueText maps exact values to a text and colour, e.g. 1 → up (green).
func valueText(pairs ...string) []dashboard.ValueMapping {
	options := map[string]dashboard.ValueMappingResult{}
	for i := 0; i+2 < len(pairs); i += 3 {
		index := int32(i / 3)
		options[pairs[i]] = dashboard.ValueMappingResult{Text: cog.ToPtr(pairs[i+1]), Color: cog.ToPtr(pairs[i+2]), Index: &index}
	}
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: options}}}
}

// upDown shows probe_success-style values as up and down.
func upDown() []dashboard.ValueMapping {
	return valueText("1", "up", "green", "0", "down", "red")
}

// tableColumns hides the Time column of instant tables and renames and
// orders the rest; columns are pairs of (field, title), in display order.
func tableColumns(hide []string, columns ...string) dashboard.DataTransformerConfig {
	exclude := map[string]bool{"Time": true}
	for _, h := range hide {
		exclude[h] = true
	}
	rename := map[string]string{}
	index := map[string]int{}
	for i := 0; i+1 < len(columns); i += 2 {
		index[columns[i]] = i / 2
		if columns[i+1] != columns[i] {
			rename[columns[i]] = columns[i+1]
		}
	}
	return dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
		"excludeByName": exclude,
		"renameByName":  rename,
		"indexByName":   index,
	}}
}

// merge joins instant table queries on their common labels into one table.
func merge() dashboard.DataTransformerConfig {
	return dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}}
}

// sortBy sorts a table by a column.
func sortBy(column string, desc bool) []cog.Builder[common.TableSortByFieldState] {
	return []cog.Builder[common.TableSortByFieldState]{
		common.NewTableSortByFieldStateBuilder().DisplayName(column).Desc(desc),
	}
}

// Field overrides.

func unitOf(unit string) dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: "unit", Value: unit}
}

func rightAxis() dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: "custom.axisPlacement", Value: "right"}
}

// dashed draws a limit (an SLO, the seats) apart from measured series.
func dashed() dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: "custom.lineStyle", Value: map[string]any{"fill": "dash", "dash": []int{10, 10}}}
}

func fixedColor(color string) dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": color}}
}

func noFill() dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: "custom.fillOpacity", Value: 0}
}

func cellGauge() dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: "custom.cellOptions", Value: map[string]any{"type": "gauge", "mode": "basic"}}
}

func cellColor() dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: "custom.cellOptions", Value: map[string]any{"type": "color-background", "mode": "basic"}}
}

func mappingsOf(m []dashboard.ValueMapping) dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: "mappings", Value: m}
}

func thresholdsOf(b *dashboard.ThresholdsConfigBuilder) dashboard.DynamicConfigValue {
	t, err := b.Build()
	if err != nil {
		panic(err) // built from constants above
	}
	return dashboard.DynamicConfigValue{Id: "thresholds", Value: t}
}

func minMax(min, max float64) []dashboard.DynamicConfigValue {
	return []dashboard.DynamicConfigValue{{Id: "min", Value: min}, {Id: "max", Value: max}}
}

// Grafana's colours, by name.
const (
	green  = "green"
	yellow = "yellow"
	orange = "orange"
	red    = "red"
	blue   = "blue"
	purple = "purple"
	text   = "text"
)

// Durations as seconds, for thresholds.
const (
	day  = 24 * 60 * 60
	week = 7 * day
)
