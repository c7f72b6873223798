package config

import (
	"slices"
	"sort"
	"strings"

	"github.com/forewarn/forewarn/probes"
	"gopkg.in/yaml.v3"
)

// kindDef is what a check kind adds to the common check fields. A new kind
// (login, load) is one entry here and one file like http.go.
type kindDef struct {
	keys   []string // the kind's own keys in a check
	decode func(d *decoder, n *yaml.Node, m map[string]*yaml.Node, field string) kindSpec
}

// kindSpec is one check's kind-specific part, validated and with its
// templates parsed.
type kindSpec interface {
	// overrideKeys are the keys a tenant override may set for this kind.
	overrideKeys() []string
	decodeOverride(d *decoder, m map[string]*yaml.Node, field string) any
	// expand fills t's spec for one tenant; ov is decodeOverride's result
	// or nil. Problems are reported through x.
	expand(x *expansion, t *probes.Target, ov any)
}

var kinds = map[probes.Kind]kindDef{
	probes.KindHTTP:  {keys: httpKeys, decode: decodeHTTP},
	probes.KindLogin: {keys: loginKeys, decode: decodeLogin},
	probes.KindLoad:  {keys: loadKeys, decode: decodeLoad},
}

func knownKinds() string {
	var names []string
	for k := range kinds {
		names = append(names, string(k))
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// allKindKeys accepts any kind's keys when the kind is unknown, so that a
// mistyped kind is one error, not one per key.
func allKindKeys() []string {
	keys := slices.Clone(checkKeys)
	for _, k := range kinds {
		keys = append(keys, k.keys...)
	}
	return keys
}

func (d *decoder) decodeChecks(n *yaml.Node) []*checkDef {
	items, ok := d.nonEmptyList(n, "checks", "check")
	if !ok {
		return nil
	}
	seen := uniqueNames{what: "check name"}
	var checks []*checkDef
	for i, item := range items {
		c := d.decodeCheck(item, index("checks", i))
		if c != nil && seen.first(d, c.Name, c.at) {
			checks = append(checks, c)
		}
	}
	return checks
}

func (d *decoder) decodeCheck(n *yaml.Node, field string) *checkDef {
	kind, kd, kindOK := d.kind(n, field)
	keys := allKindKeys()
	if kindOK {
		keys = append(slices.Clone(checkKeys), kd.keys...)
	}
	m := d.fields(n, field, "check", keys)
	if m == nil {
		return nil
	}
	d.required(n, m, field, "name", "kind")
	c := &checkDef{at: at(value(m["name"]), join(field, "name"))}
	c.Name = d.slug(m["name"], join(field, "name"))
	c.Kind = kind
	c.timing = d.decodeTiming(m, field)
	c.Select, c.selectAt = d.decodeSelect(m["select"], join(field, "select"))
	if kindOK {
		c.spec = kd.decode(d, n, m, field)
	}
	w, _ := d.effective(&c.timing, nil)
	c.Interval, c.Timeout, c.Schedule = w.interval, w.timeout, w.schedule
	if c.at.line == 0 {
		c.at = at(n, field)
	}
	return c
}

// kind reads a check's kind before its other keys, which depend on it.
func (d *decoder) kind(n *yaml.Node, field string) (probes.Kind, kindDef, bool) {
	if n = value(n); n == nil || n.Kind != yaml.MappingNode {
		return "", kindDef{}, false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != "kind" {
			continue
		}
		v := d.scalar(n.Content[i+1], join(field, "kind"), "a kind")
		if v == nil {
			return "", kindDef{}, false
		}
		kd, ok := kinds[probes.Kind(v.Value)]
		if !ok {
			d.errorf(v, join(field, "kind"), "unknown kind %q (known kinds: %s)", v.Value, knownKinds())
		}
		return probes.Kind(v.Value), kd, ok
	}
	return "", kindDef{}, false
}
