// Package dashboards generates forewarn's Grafana dashboards.
//
// The dashboards are Go code built with the Grafana Foundation SDK and
// committed as JSON (dashboards/*.json) for Grafana's file provisioning. A
// test keeps the committed files equal to what Build returns, parses every
// PromQL expression in them, and checks each metric they read against the
// metric catalogue (metrics/testdata/catalogue.golden): a renamed metric or
// label breaks the build, not a dashboard in production.
//
// Regenerate the files after changing a dashboard:
//
//	go run ./dashboards/cmd/gen -out dashboards
package dashboards

//go:generate go run ./cmd/gen -out .

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// UIDs of the dashboards: stable, so that links between them, bookmarks and
// the Slack case messages' Grafana links keep working across regenerations.
const (
	FleetUID  = "forewarn-fleet"
	TenantUID = "forewarn-tenant"
	SelfUID   = "forewarn-self"
)

// Tag is on every forewarn dashboard; each dashboard links to the others by it.
const Tag = "forewarn"

// dashboardFiles are the dashboards by the file name they are committed as.
var dashboardFiles = []struct {
	file  string
	build func() *dashboard.DashboardBuilder
}{
	{"fleet-overview.json", fleetOverview},
	{"tenant-detail.json", tenantDetail},
	{"forewarn-self-health.json", selfHealth},
}

// Build returns every dashboard as provisioning-ready JSON, keyed by its file
// name in dashboards/ (e.g. "fleet-overview.json"). The output is
// deterministic: the same code gives the same bytes.
func Build() (map[string][]byte, error) {
	out := make(map[string][]byte, len(dashboardFiles))
	for _, d := range dashboardFiles {
		b, err := render(d.build())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.file, err)
		}
		out[d.file] = b
	}
	return out, nil
}

// render builds the dashboard, numbers its panels and encodes it as indented
// JSON with a final newline.
func render(b *dashboard.DashboardBuilder) ([]byte, error) {
	d, err := b.Build()
	if err != nil {
		return nil, err
	}
	// Grafana requires panel ids unique within a dashboard; the SDK leaves
	// them unset. Numbering them here keeps the JSON stable and reviewable.
	for i, p := range d.Panels {
		id := uint32(i + 1)
		if p.Panel != nil {
			p.Panel.Id = &id
		}
		if p.RowPanel != nil {
			p.RowPanel.Id = id
		}
	}
	// The SDK places links in Grafana 12's controls menu; left unset,
	// dashboard links show in the header in every version (a field's data
	// links have no placement at all).
	for i := range d.Links {
		d.Links[i].Placement = nil
	}
	for _, p := range d.Panels {
		if p.Panel != nil && p.Panel.FieldConfig != nil {
			for i := range p.Panel.FieldConfig.Defaults.Links {
				p.Panel.FieldConfig.Defaults.Links[i].Placement = nil
			}
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep PromQL's <, > and URLs' & readable in diffs
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
