package config

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"
)

// The decoder walks yaml.Node trees by hand instead of using yaml's struct
// decoding: Decoder.KnownFields stops at the first error and is not applied
// inside custom UnmarshalYAML (https://github.com/go-yaml/yaml/issues/460),
// and a config check must report every error of a file at once.
type decoder struct {
	report
	defaults   Defaults
	loadLimits LoadLimits
	warnings   []string
}

// warn records a problem that does not stop the config from loading.
func (d *decoder) warn(l loc, format string, args ...any) {
	w := Error{File: d.file, Line: l.line, Column: l.col, Field: l.field, Msg: fmt.Sprintf(format, args...)}
	if s := w.Error(); !slices.Contains(d.warnings, s) {
		d.warnings = append(d.warnings, s)
	}
}

func (d *decoder) errorf(n *yaml.Node, field, format string, args ...any) {
	d.add(at(n, field), format, args...)
}

func at(n *yaml.Node, field string) loc {
	if n == nil {
		return loc{field: field}
	}
	return loc{line: n.Line, col: n.Column, field: field}
}

// value follows aliases and turns an explicit null into "absent", so that
// `expect:` with nothing after it means the same as no expect at all.
func value(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	return n
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return strconv.Quote(n.Value)
}

// pair is one entry of a mapping, with both nodes for positions.
type pair struct {
	key  string
	k, v *yaml.Node
}

// pairs returns a mapping's entries in file order, reporting duplicate keys
// (yaml.v3 does not when decoding into a Node).
func (d *decoder) pairs(n *yaml.Node, field string) []pair {
	if n = value(n); n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, field, "expected a mapping, got %s", describe(n))
		return nil
	}
	var ps []pair
	lines := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if line, dup := lines[k.Value]; dup {
			d.errorf(k, field, "key %q already defined at line %d", k.Value, line)
			continue
		}
		lines[k.Value] = k.Line
		ps = append(ps, pair{key: k.Value, k: k, v: v})
	}
	return ps
}

// fields returns the values of a mapping by key, reporting unknown keys with
// the closest known one as a hint. what names the mapping in messages.
// It returns nil, after reporting, when n is not a mapping; an absent
// mapping is an empty one.
func (d *decoder) fields(n *yaml.Node, field, what string, known []string) map[string]*yaml.Node {
	if v := value(n); v != nil && v.Kind != yaml.MappingNode {
		d.errorf(v, field, "expected a mapping, got %s", describe(v))
		return nil
	}
	m := map[string]*yaml.Node{}
	for _, p := range d.pairs(n, field) {
		if !slices.Contains(known, p.key) {
			d.errorf(p.k, field, "field %q not found in %s%s", p.key, what, hint(p.key, known))
			continue
		}
		m[p.key] = p.v
	}
	return m
}

// required reports a missing key at the mapping that should hold it.
func (d *decoder) required(parent *yaml.Node, m map[string]*yaml.Node, field string, keys ...string) bool {
	ok := true
	for _, k := range keys {
		if value(m[k]) == nil {
			d.errorf(parent, field, "missing required field %q", k)
			ok = false
		}
	}
	return ok
}

func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

func index(field string, i int) string { return fmt.Sprintf("%s[%d]", field, i) }

func (d *decoder) scalar(n *yaml.Node, field, want string) *yaml.Node {
	if n = value(n); n == nil {
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, field, "expected %s, got %s", want, describe(n))
		return nil
	}
	return n
}

// str accepts any scalar: `plan: 2024` is the string "2024".
func (d *decoder) str(n *yaml.Node, field string) string {
	if n = d.scalar(n, field, "a string"); n == nil {
		return ""
	}
	return n.Value
}

func (d *decoder) boolean(n *yaml.Node, field string, def bool) bool {
	if n = d.scalar(n, field, "true or false"); n == nil {
		return def
	}
	b, err := strconv.ParseBool(n.Value)
	if n.Tag != "!!bool" || err != nil {
		d.errorf(n, field, "expected true or false, got %q", n.Value)
		return def
	}
	return b
}

func (d *decoder) integer(n *yaml.Node, field string, def, lowest int) int {
	if n = d.scalar(n, field, "an integer"); n == nil {
		return def
	}
	var i int
	if n.Tag != "!!int" || n.Decode(&i) != nil {
		d.errorf(n, field, "expected an integer, got %q", n.Value)
		return def
	}
	if i < lowest {
		d.errorf(n, field, "must be at least %d, got %d", lowest, i)
		return def
	}
	return i
}

func (d *decoder) number(n *yaml.Node, field string) float64 {
	if n = d.scalar(n, field, "a number"); n == nil {
		return 0
	}
	f, err := strconv.ParseFloat(n.Value, 64)
	if err != nil || n.Tag != "!!int" && n.Tag != "!!float" || math.IsNaN(f) {
		d.errorf(n, field, "expected a number, got %q", n.Value)
		return 0
	}
	return f
}

// duration parses Prometheus durations (30s, 1h30m, 14d, 1w). ok is false
// when the value is absent or invalid.
func (d *decoder) duration(n *yaml.Node, field string) (time.Duration, bool) {
	if n = d.scalar(n, field, "a duration"); n == nil {
		return 0, false
	}
	v, err := model.ParseDuration(n.Value)
	if err != nil {
		d.errorf(n, field, "invalid duration %q (use a number and a unit: ms, s, m, h, d, w, y)", n.Value)
		return 0, false
	}
	return time.Duration(v), true
}

// sizeUnits are longest first so that "MiB" is not read as "B".
var sizeUnits = []struct {
	suffix string
	factor int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1},
}

// size reads a byte count: 4096, 512KiB, 1MiB, 10MB. Like ParseInt, it
// saturates at the int64 range, for the caller's range check to report.
func (d *decoder) size(n *yaml.Node, field string) (int64, bool) {
	if n = d.scalar(n, field, "a size"); n == nil {
		return 0, false
	}
	s, factor := strings.TrimSpace(n.Value), int64(1)
	for _, u := range sizeUnits {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			s, factor = strings.TrimSpace(num), u.factor
			break
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	switch {
	case err != nil && !errors.Is(err, strconv.ErrRange):
		d.errorf(n, field, "invalid size %q (use bytes or a number with KiB, MiB, GiB, KB, MB, GB)", n.Value)
		return 0, false
	case v > math.MaxInt64/factor:
		return math.MaxInt64, true
	case v < math.MinInt64/factor:
		return math.MinInt64, true
	}
	return v * factor, true
}

// maxBodyLimit bounds body_limit: the prober holds the body in memory, one
// per concurrent run.
const maxBodyLimit = 1 << 30

// bodyLimit reads a body_limit; errors quote the value as written.
func (d *decoder) bodyLimit(n *yaml.Node, field string, def int64) int64 {
	v, ok := d.size(n, field)
	if !ok {
		return def
	}
	written := strings.TrimSpace(value(n).Value)
	switch {
	case v <= 0:
		d.errorf(n, field, "body_limit must be positive, got %s", written)
	case v > maxBodyLimit:
		d.errorf(n, field, "body_limit %s is larger than the 1GiB maximum", written)
	default:
		return v
	}
	return def
}

// strs reads one string or a list of them. It returns nil when absent and
// a non-nil slice when written, even `[]`.
func (d *decoder) strs(n *yaml.Node, field string) []string {
	if n = value(n); n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return []string{d.str(n, field)}
	}
	out := []string{}
	for i, item := range n.Content {
		out = append(out, d.str(item, index(field, i)))
	}
	return out
}

// list returns the items of a sequence, reporting anything else.
func (d *decoder) list(n *yaml.Node, field string) []*yaml.Node {
	if n = value(n); n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, field, "expected a list, got %s", describe(n))
		return nil
	}
	return n.Content
}

// nonEmptyList is list for the sections a config cannot do without.
func (d *decoder) nonEmptyList(n *yaml.Node, field, what string) ([]*yaml.Node, bool) {
	if n = value(n); n != nil && n.Kind != yaml.SequenceNode {
		d.errorf(n, field, "expected a list, got %s", describe(n))
		return nil, false
	}
	if n == nil || len(n.Content) == 0 {
		d.add(at(n, field), "at least one %s is required", what)
		return nil, false
	}
	return n.Content, true
}

// schedule checks a cron expression with the standard 5-field parser, the
// one the scheduler uses.
func (d *decoder) schedule(n *yaml.Node, field string) (string, bool) {
	if n = d.scalar(n, field, "a cron schedule"); n == nil {
		return "", false
	}
	if _, err := cron.ParseStandard(n.Value); err != nil {
		d.errorf(n, field, "invalid schedule %q: %v", n.Value, err)
		return "", false
	}
	return n.Value, true
}

// hint suggests the known key closest to a mistyped one.
func hint(key string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if dist := editDistance(key, k); dist < bestDist && dist < len(key) {
			best, bestDist = k, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("; did you mean %q?", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
