// Package alertrules holds forewarn's Prometheus recording and alerting
// rules (*.rules.yml) and their promtool unit tests (tests/). These Go tests
// run promtool on them, and check what promtool cannot: that the rules name
// only metrics forewarn exports, and that every alert is documented and
// unit-tested both firing and quiet.
package alertrules

import (
	"bufio"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const (
	catalogue = "../metrics/testdata/catalogue.golden"
	runbooks  = "../docs/alerts.md"
	// runbookBase is where every runbook_url points, followed by the
	// alert's section: its name in lower case, as GitHub anchors headings.
	runbookBase = "https://github.com/forewarn/forewarn/blob/main/docs/alerts.md#"
)

// promtool finds promtool on PATH. Without it the promtool tests skip,
// except in CI, which must install it (make prometheus).
func promtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool not installed, and CI must run every test: run `make prometheus` (installs Debian's prometheus package)")
		}
		t.Skip("promtool not installed: run `make prometheus` (installs Debian's prometheus package)")
	}
	return path
}

func glob(t *testing.T, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no files match %s (%v)", pattern, err)
	}
	return files
}

func runPromtool(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command(promtool(t), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("promtool %s:\n%s", strings.Join(args, " "), out)
}

func TestPromtoolCheckRules(t *testing.T) {
	runPromtool(t, append([]string{"check", "rules"}, glob(t, "*.yml")...)...)
}

func TestPromtoolUnitTests(t *testing.T) {
	runPromtool(t, append([]string{"test", "rules"}, glob(t, "tests/*.yml")...)...)
}

type rule struct {
	Record      string            `yaml:"record"`
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

type group struct {
	Name  string `yaml:"name"`
	Rules []rule `yaml:"rules"`
}

// loadRules reads every rule group of the rule files.
func loadRules(t *testing.T) []group {
	t.Helper()
	var groups []group
	for _, f := range glob(t, "*.yml") {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var rf struct {
			Groups []group `yaml:"groups"`
		}
		if err := yaml.Unmarshal(b, &rf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		groups = append(groups, rf.Groups...)
	}
	return groups
}

// metricLabels is the catalogue: every series name forewarn exports (a
// histogram's _bucket, _sum and _count) and its labels.
func metricLabels(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open(catalogue)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// forewarn_case_open gauge {kind,severity,tenant}
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 {
			t.Fatalf("%s: unexpected line %q", catalogue, sc.Text())
		}
		name, typ := fields[0], fields[1]
		var labels []string
		if l := strings.Trim(fields[2], "{}"); l != "" {
			labels = strings.Split(l, ",")
		}
		if typ == "histogram" {
			out[name+"_bucket"] = append(slices.Clone(labels), "le")
			out[name+"_sum"] = labels
			out[name+"_count"] = labels
			continue
		}
		out[name] = labels
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

var (
	stringLit = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")
	selector  = regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}`)
	matcher   = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)`)
	rangeSel  = regexp.MustCompile(`\[[^\]]*\]`)
	grouping  = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)`)
	token     = regexp.MustCompile(`[0-9][0-9a-zA-Z_.]*|[a-zA-Z_:][a-zA-Z0-9_:]*(?:\s*\()?`)
	keywords  = []string{"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
		"group_left", "group_right", "inf", "nan", "atan2"}
)

// selectorsOf returns the metric names a PromQL expression selects, and the
// label names its matchers use per metric. A small scanner rather than the
// Prometheus parser, which forewarn does not depend on: rule expressions
// are plain enough (no nested braces in matchers).
func selectorsOf(expr string) map[string][]string {
	// Strings emptied first: a matcher's value may hold braces.
	out := map[string][]string{}
	expr = stringLit.ReplaceAllString(expr, `""`)
	expr = selector.ReplaceAllStringFunc(expr, func(s string) string {
		m := selector.FindStringSubmatch(s)
		name := strings.TrimSpace(m[1])
		for _, lm := range matcher.FindAllStringSubmatch(m[2], -1) {
			if lm[1] == "__name__" {
				continue
			}
			out[name] = append(out[name], lm[1])
		}
		if _, ok := out[name]; !ok && name != "" {
			out[name] = nil
		}
		return " " + name + " "
	})
	expr = rangeSel.ReplaceAllString(expr, " ")
	expr = grouping.ReplaceAllString(expr, " ")
	for _, tok := range token.FindAllString(expr, -1) {
		if tok[0] >= '0' && tok[0] <= '9' || strings.HasSuffix(tok, "(") || slices.Contains(keywords, strings.ToLower(tok)) {
			continue // a number or duration, a function or aggregation, a keyword
		}
		if _, ok := out[tok]; !ok {
			out[tok] = nil
		}
	}
	delete(out, "")
	return out
}

func TestSelectorsOf(t *testing.T) {
	got := selectorsOf(`1 - (rate(a_bucket{le=~"5|5\\.0"}[10m]) / ignoring (le) rate(b_count[10m] offset 3d)) > 0.1
		and on (tenant) max by (tenant, check) (probe_success{kind="login", check!="x{y}"}) == bool 14.4 * 86400
		or sum without (reason) (c_total) unless absent(d) or avg_over_time(e:f:ratio5m[1h:1m]) > 1e3`)
	want := map[string][]string{"a_bucket": {"le"}, "b_count": nil, "probe_success": {"kind", "check"},
		"c_total": nil, "d": nil, "e:f:ratio5m": nil}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || !slices.Equal(g, v) {
			t.Errorf("%s: got %v (%v), want %v", k, g, ok, v)
		}
	}
}

// TestRulesUseCatalogueMetrics: a rule naming a metric forewarn does not
// export (a typo, a rename) would never fire, and promtool accepts it.
func TestRulesUseCatalogueMetrics(t *testing.T) {
	known := metricLabels(t)
	recorded := map[string]bool{}
	groups := loadRules(t)
	for _, g := range groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				recorded[r.Record] = true
			}
		}
	}
	used := map[string]bool{}
	for _, g := range groups {
		for _, r := range g.Rules {
			name := r.Alert + r.Record
			sels := selectorsOf(r.Expr)
			if len(sels) == 0 {
				t.Errorf("%s: no metric found in %q", name, r.Expr)
			}
			for metric, labels := range sels {
				used[metric] = true
				if recorded[metric] {
					continue
				}
				allowed, ok := known[metric]
				if !ok {
					t.Errorf("%s: %s is not in %s", name, metric, catalogue)
					continue
				}
				for _, l := range labels {
					// job and instance come from the scrape.
					if !slices.Contains(allowed, l) && l != "job" && l != "instance" {
						t.Errorf("%s: %s has no label %q (it has %v)", name, metric, l, allowed)
					}
				}
			}
		}
	}
	for r := range recorded {
		if !used[r] {
			t.Errorf("recording rule %s is used by no rule", r)
		}
	}
}

// TestAlertsAreLabelledAndDocumented: every alert has a severity Alertmanager
// routes on, a summary and description, and a runbook_url whose section
// exists in docs/alerts.md.
func TestAlertsAreLabelledAndDocumented(t *testing.T) {
	doc, err := os.ReadFile(runbooks)
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, line := range strings.Split(string(doc), "\n") {
		if h, ok := strings.CutPrefix(line, "#"); ok {
			anchors[githubAnchor(strings.TrimLeft(h, "# "))] = true
		}
	}
	n := 0
	for _, g := range loadRules(t) {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			n++
			if s := r.Labels["severity"]; s != "critical" && s != "warning" {
				t.Errorf("%s: severity %q, want critical (page) or warning (ticket)", r.Alert, s)
			}
			for _, a := range []string{"summary", "description", "runbook_url"} {
				if strings.TrimSpace(r.Annotations[a]) == "" {
					t.Errorf("%s: no %s annotation", r.Alert, a)
				}
			}
			want := runbookBase + strings.ToLower(r.Alert)
			if r.Annotations["runbook_url"] != want {
				t.Errorf("%s: runbook_url %q, want %q", r.Alert, r.Annotations["runbook_url"], want)
			}
			if !anchors[strings.ToLower(r.Alert)] {
				t.Errorf("%s: %s has no section headed %s", r.Alert, runbooks, r.Alert)
			}
		}
	}
	if n == 0 {
		t.Fatal("no alerts found")
	}
}

// githubAnchor is the id GitHub gives a Markdown heading.
func githubAnchor(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return b.String()
}

type unitTests struct {
	Tests []struct {
		AlertRuleTest []struct {
			Alertname string `yaml:"alertname"`
			ExpAlerts []struct {
				ExpLabels map[string]string `yaml:"exp_labels"`
			} `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

// TestEveryAlertIsUnitTested: each alert has a promtool case where it fires
// and one where it stays quiet; per-tenant alerts fire with a tenant label
// and forewarn's own without.
func TestEveryAlertIsUnitTested(t *testing.T) {
	firing, quiet := map[string]bool{}, map[string]bool{}
	tenantLabel := map[string][]bool{}
	for _, f := range glob(t, "tests/*.yml") {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var ut unitTests
		if err := yaml.Unmarshal(b, &ut); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, tc := range ut.Tests {
			for _, a := range tc.AlertRuleTest {
				if len(a.ExpAlerts) == 0 {
					quiet[a.Alertname] = true
				}
				for _, e := range a.ExpAlerts {
					firing[a.Alertname] = true
					_, ok := e.ExpLabels["tenant"]
					tenantLabel[a.Alertname] = append(tenantLabel[a.Alertname], ok)
				}
			}
		}
	}
	alerts := map[string]bool{}
	for _, g := range loadRules(t) {
		perTenant := g.Name != "forewarn-self"
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			alerts[r.Alert] = true
			if !firing[r.Alert] {
				t.Errorf("%s: no promtool test where it fires", r.Alert)
			}
			if !quiet[r.Alert] {
				t.Errorf("%s: no promtool test where it stays quiet", r.Alert)
			}
			if slices.Contains(tenantLabel[r.Alert], !perTenant) {
				t.Errorf("%s: fires with a tenant label %v, want %v (group %s)", r.Alert, !perTenant, perTenant, g.Name)
			}
		}
	}
	for _, a := range slices.Concat(slices.Collect(maps.Keys(firing)), slices.Collect(maps.Keys(quiet))) {
		if !alerts[a] {
			t.Errorf("tests name alert %s, which no rule defines", a)
		}
	}
	if len(alerts) == 0 {
		t.Fatal(errors.New("no alerts found"))
	}
}
