package dashboards

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
)

// The tests here read the committed JSON, what Grafana provisions, and hold
// it to what forewarn exports (metrics/testdata/catalogue.golden) and to
// what a reader of the dashboards needs.

// metric is one line of the catalogue: a name, its type and its labels.
type metric struct {
	typ    string
	labels map[string]bool
}

// runtimeMetrics are client_golang's Go and process collectors' series the
// self-health dashboard reads. The catalogue leaves those collectors out
// (their series vary by Go version and platform); these three exist on
// every Linux build.
var runtimeMetrics = map[string]metric{
	"process_cpu_seconds_total":     {"counter", map[string]bool{}},
	"process_resident_memory_bytes": {"gauge", map[string]bool{}},
	"go_goroutines":                 {"gauge", map[string]bool{}},
}

// targetLabels are the labels Prometheus adds to every scraped series.
var targetLabels = []string{"instance", "job"}

func loadCatalogue(t *testing.T) map[string]metric {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "metrics", "testdata", "catalogue.golden"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cat := map[string]metric{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) != 3 {
			t.Fatalf("catalogue line %q: want name type {labels}", s.Text())
		}
		m := metric{typ: fields[1], labels: map[string]bool{}}
		for _, l := range strings.Split(strings.Trim(fields[2], "{}"), ",") {
			if l != "" {
				m.labels[l] = true
			}
		}
		cat[fields[0]] = m
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	for name, m := range runtimeMetrics {
		cat[name] = m
	}
	return cat
}

// lookup resolves a series name to its catalogue entry: the name itself, or
// a histogram's _bucket, _sum or _count series (le only on _bucket).
func lookup(cat map[string]metric, name string) (metric, error) {
	if m, ok := cat[name]; ok {
		return m, nil
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suffix)
		if !ok {
			continue
		}
		m, ok := cat[base]
		if !ok || m.typ != "histogram" {
			break
		}
		if suffix == "_bucket" {
			labels := map[string]bool{"le": true}
			for l := range m.labels {
				labels[l] = true
			}
			m.labels = labels
		}
		return m, nil
	}
	return metric{}, fmt.Errorf("metric %s is not in metrics/testdata/catalogue.golden", name)
}

// Grafana's macros, replaced by values the parser accepts. The durations
// are unusual on purpose: the rate check below recognises $__rate_interval
// by its value.
const rateInterval = 61 * time.Second

var macros = map[string]string{
	"__rate_interval": "61s",
	"__interval":      "59s",
	"__interval_ms":   "59000",
	"__range":         "86399s",
	"__range_s":       "86399",
	"__range_ms":      "86399000",
}

var (
	variableRef = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\$(\w+)`)
	legendLabel = regexp.MustCompile(`\{\{\s*(\w+)\s*\}\}`)
	labelValues = regexp.MustCompile(`^label_values\((.+),\s*(\w+)\)$`)
)

// substitute replaces macros and dashboard variables in q as Grafana would
// before sending it. A variable the dashboard does not define is an error.
func substitute(q string, variables map[string]bool) (string, error) {
	var err error
	out := variableRef.ReplaceAllStringFunc(q, func(ref string) string {
		m := variableRef.FindStringSubmatch(ref)
		name := m[1] + m[2]
		if v, ok := macros[name]; ok {
			return v
		}
		if strings.HasPrefix(name, "__") {
			err = fmt.Errorf("unknown Grafana macro %s", ref)
		} else if !variables[name] {
			err = fmt.Errorf("variable %s is not defined in the dashboard", ref)
		}
		return "value-of-" + name
	})
	return out, err
}

type dashboardJSON struct {
	Title      string      `json:"title"`
	UID        string      `json:"uid"`
	Panels     []panelJSON `json:"panels"`
	Templating struct {
		List []variableJSON `json:"list"`
	} `json:"templating"`
}

type variableJSON struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Datasource *datasourceJSON `json:"datasource"`
}

type datasourceJSON struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type panelJSON struct {
	Type        string          `json:"type"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Datasource  *datasourceJSON `json:"datasource"`
	Panels      []panelJSON     `json:"panels"` // a row's
	Targets     []struct {
		RefID        string          `json:"refId"`
		Expr         string          `json:"expr"`
		LegendFormat string          `json:"legendFormat"`
		Datasource   *datasourceJSON `json:"datasource"`
	} `json:"targets"`
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
}

// committed reads every dashboard JSON file in dashboards/.
func committed(t *testing.T) map[string]dashboardJSON {
	t.Helper()
	names, err := filepath.Glob("*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatal("no dashboards/*.json: run go test ./dashboards -update")
	}
	out := map[string]dashboardJSON{}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboardJSON
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = d
	}
	return out
}

// panels flattens a dashboard's panels, those inside rows included, and
// leaves the rows themselves out.
func panels(ps []panelJSON) []panelJSON {
	var out []panelJSON
	for _, p := range ps {
		if p.Type == "row" {
			out = append(out, panels(p.Panels)...)
			continue
		}
		out = append(out, p)
	}
	return out
}

const wantDatasource = "${" + datasourceVar + "}"

func checkDatasource(ds *datasourceJSON) error {
	if ds == nil || ds.Type != "prometheus" || ds.UID != wantDatasource {
		return fmt.Errorf("datasource %+v, want {prometheus %s}", ds, wantDatasource)
	}
	return nil
}

// TestPanels: every panel says what it shows (title, description, unit)
// and reads the dashboard's datasource variable, as does each of its queries.
func TestPanels(t *testing.T) {
	for file, d := range committed(t) {
		if !slices.ContainsFunc(d.Templating.List, func(v variableJSON) bool {
			return v.Name == datasourceVar && v.Type == "datasource" && string(v.Query) == `"prometheus"`
		}) {
			t.Errorf("%s: no datasource variable %q of type prometheus", file, datasourceVar)
		}
		ps := panels(d.Panels)
		if len(ps) == 0 {
			t.Errorf("%s: no panels", file)
		}
		for _, p := range ps {
			where := file + ": panel " + fmt.Sprintf("%q", p.Title)
			if p.Title == "" {
				t.Errorf("%s: a %s panel has no title", file, p.Type)
			}
			if strings.TrimSpace(p.Description) == "" {
				t.Errorf("%s: no description", where)
			}
			if p.FieldConfig.Defaults.Unit == "" {
				t.Errorf("%s: no unit", where)
			}
			if err := checkDatasource(p.Datasource); err != nil {
				t.Errorf("%s: %v", where, err)
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s: no queries", where)
			}
			for _, q := range p.Targets {
				if err := checkDatasource(q.Datasource); err != nil {
					t.Errorf("%s, query %s: %v", where, q.RefID, err)
				}
			}
		}
	}
}

// TestPromQL parses every query and variable query with Prometheus's own
// parser after substituting Grafana's macros, and checks each metric and
// label it names against the catalogue, each rate against $__rate_interval,
// and each legend against the labels its query can return.
func TestPromQL(t *testing.T) {
	cat := loadCatalogue(t)
	p := parser.NewParser(parser.Options{})
	queries := 0
	for file, d := range committed(t) {
		vars := map[string]bool{}
		for _, v := range d.Templating.List {
			vars[v.Name] = true
		}
		for _, v := range d.Templating.List {
			if v.Type != "query" {
				continue
			}
			where := fmt.Sprintf("%s: variable %s", file, v.Name)
			if err := checkDatasource(v.Datasource); err != nil {
				t.Errorf("%s: %v", where, err)
			}
			var q string
			if err := json.Unmarshal(v.Query, &q); err != nil {
				t.Errorf("%s: query %s is not a string", where, v.Query)
				continue
			}
			m := labelValues.FindStringSubmatch(q)
			if m == nil {
				t.Errorf("%s: query %q: want label_values(selector, label)", where, q)
				continue
			}
			labels, err := checkExpr(p, cat, m[1], vars)
			if err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			if !labels[m[2]] {
				t.Errorf("%s: %s has no label %s", where, m[1], m[2])
			}
			queries++
		}
		for _, panel := range panels(d.Panels) {
			for _, q := range panel.Targets {
				where := fmt.Sprintf("%s: panel %q, query %s", file, panel.Title, q.RefID)
				labels, err := checkExpr(p, cat, q.Expr, vars)
				if err != nil {
					t.Errorf("%s: %v", where, err)
					continue
				}
				for _, m := range legendLabel.FindAllStringSubmatch(q.LegendFormat, -1) {
					if !labels[m[1]] {
						t.Errorf("%s: legend {{%s}}: no metric of %s has that label", where, m[1], q.Expr)
					}
				}
				queries++
			}
		}
	}
	if queries == 0 {
		t.Fatal("no queries checked")
	}
	t.Logf("%d queries parsed and checked", queries)
}

// checkExpr parses one expression and checks it against the catalogue. It
// returns every label the expression's metrics carry, for the legend check.
func checkExpr(p parser.Parser, cat map[string]metric, expr string, vars map[string]bool) (map[string]bool, error) {
	q, err := substitute(expr, vars)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", expr, err)
	}
	root, err := p.ParseExpr(q)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", q, err)
	}
	var errs []string
	all := map[string]bool{}
	for _, l := range targetLabels {
		all[l] = true
	}
	parser.Inspect(root, func(node parser.Node, _ []parser.Node) error {
		switch n := node.(type) {
		case *parser.VectorSelector:
			if n.Name == "" {
				errs = append(errs, "a selector without a metric name")
				return nil
			}
			m, err := lookup(cat, n.Name)
			if err != nil {
				errs = append(errs, err.Error())
				return nil
			}
			for l := range m.labels {
				all[l] = true
			}
			for _, lm := range n.LabelMatchers {
				if lm.Name != "__name__" && !m.labels[lm.Name] && !slices.Contains(targetLabels, lm.Name) {
					errs = append(errs, fmt.Sprintf("%s has no label %s", n.Name, lm.Name))
				}
			}
		case *parser.Call:
			switch n.Func.Name {
			case "rate", "irate", "increase":
				if ms, ok := n.Args[0].(*parser.MatrixSelector); !ok || ms.Range != rateInterval {
					errs = append(errs, fmt.Sprintf("%s: use [$__rate_interval]", n))
				}
			}
		case *parser.AggregateExpr:
			if err := checkGrouping(cat, n.Expr, n.Grouping); err != nil {
				errs = append(errs, err.Error())
			}
		case *parser.BinaryExpr:
			if n.VectorMatching != nil {
				for _, side := range []parser.Expr{n.LHS, n.RHS} {
					if err := checkGrouping(cat, side, n.VectorMatching.MatchingLabels); err != nil {
						errs = append(errs, err.Error())
					}
				}
			}
		}
		return nil
	})
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: %s", expr, strings.Join(errs, "; "))
	}
	return all, nil
}

// checkGrouping checks that every label of a by (…) or on (…) clause is on
// some metric of the expression it applies to.
func checkGrouping(cat map[string]metric, e parser.Expr, grouping []string) error {
	have := map[string]bool{}
	for _, l := range targetLabels {
		have[l] = true
	}
	parser.Inspect(e, func(node parser.Node, _ []parser.Node) error {
		if vs, ok := node.(*parser.VectorSelector); ok {
			if m, err := lookup(cat, vs.Name); err == nil {
				for l := range m.labels {
					have[l] = true
				}
			}
		}
		return nil
	})
	for _, l := range grouping {
		if !have[l] {
			return fmt.Errorf("grouping by %s: no metric of %s has that label", l, e)
		}
	}
	return nil
}

// TestCheckerCatchesMistakes: the checks above fail on the mistakes they
// exist for, so that a passing TestPromQL means something.
func TestCheckerCatchesMistakes(t *testing.T) {
	cat := loadCatalogue(t)
	p := parser.NewParser(parser.Options{})
	vars := map[string]bool{"tenant": true}
	for _, tc := range []struct{ expr, want string }{
		{`probe_sucess`, "not in metrics/testdata/catalogue.golden"},
		{`probe_success{tenant_id="$tenant"}`, "has no label tenant_id"},
		{`rate(probe_failures_total[5m])`, "use [$__rate_interval]"},
		{`probe_success{tenant="$tennant"}`, "not defined"},
		{`rate(probe_failures_total[$__rate_intervall])`, "unknown Grafana macro"},
		{`sum by (phase) (probe_success)`, "grouping by phase"},
		{`probe_success_bucket`, "not in metrics/testdata/catalogue.golden"},
		{`avg_over_time(probe_success[$__range]`, "unclosed"},
	} {
		_, err := checkExpr(p, cat, tc.expr, vars)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got error %v, want one containing %q", tc.expr, err, tc.want)
		}
	}
	if _, err := checkExpr(p, cat, `histogram_quantile(0.9, sum by (le) (rate(forewarn_scheduler_lag_seconds_bucket[$__rate_interval])))`, vars); err != nil {
		t.Errorf("a valid histogram query: %v", err)
	}
}
