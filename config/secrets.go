package config

import (
	"errors"
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"
)

// secretSource is where ${NAME} and {file: path} values are read from.
type secretSource struct {
	baseDir string
	o       Options
}

func (s secretSource) path(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(s.baseDir, p)
}

// varSet is a vars block with its secrets resolved.
type varSet struct {
	values  map[string]string
	secrets []string // every value read from the environment or a file
	ok      bool     // false when a secret could not be read: skip expansion
}

// envRef matches ${NAME}; other dollar signs are left as written.
var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

func (d *decoder) decodeVars(n *yaml.Node, field string, src secretSource) varSet {
	vs := varSet{values: map[string]string{}, ok: true}
	for _, p := range d.pairs(n, field) {
		if !isVarName(p.key) {
			d.errorf(p.k, join(field, p.key), "invalid variable name: use letters, digits and _ (it is read as {{ .Vars.name }})")
		}
		// Resolved even when the name is bad, so that its secrets are redacted.
		v, secrets, ok := d.varValue(p.v, join(field, p.key), src)
		vs.values[p.key] = v
		vs.secrets = append(vs.secrets, secrets...)
		vs.ok = vs.ok && ok
	}
	return vs
}

// isVarName reports whether {{ .Vars.name }} can read name: text/template
// lexes a field name as letters, digits and underscores after the dot, and
// a leading digit would make it a number.
func isVarName(name string) bool {
	for i, r := range name {
		if r != '_' && !unicode.IsLetter(r) && (i == 0 || !unicode.IsDigit(r)) {
			return false
		}
	}
	return name != ""
}

// varValue reads a plain value, a value with ${ENV} references, or
// {file: path}. Only the resolved parts are secrets: in "Bearer ${TOKEN}"
// that is the token.
func (d *decoder) varValue(n *yaml.Node, field string, src secretSource) (string, []string, bool) {
	switch n = value(n); {
	case n == nil:
		return "", nil, true
	case n.Kind == yaml.ScalarNode:
		return d.expandEnv(n, field, src)
	case n.Kind == yaml.MappingNode:
		return d.secretFile(n, field, src)
	}
	d.errorf(n, field, "expected a string or {file: path}, got %s", describe(n))
	return "", nil, false
}

func (d *decoder) expandEnv(n *yaml.Node, field string, src secretSource) (string, []string, bool) {
	var secrets []string
	ok := true
	out := envRef.ReplaceAllStringFunc(n.Value, func(ref string) string {
		name := ref[2 : len(ref)-1]
		v, set := src.o.LookupEnv(name)
		switch {
		case !set:
			d.errorf(n, field, "environment variable %s is not set", name)
			ok = false
		case v == "":
			// An empty password is almost always a missing export.
			d.errorf(n, field, "environment variable %s is empty", name)
			ok = false
		}
		secrets = append(secrets, v)
		return v
	})
	return out, secrets, ok
}

func (d *decoder) secretFile(n *yaml.Node, field string, src secretSource) (string, []string, bool) {
	m := d.fields(n, field, "secret", []string{"file"})
	if !d.required(n, m, field, "file") {
		return "", nil, false
	}
	name := d.str(m["file"], join(field, "file"))
	data, err := src.o.ReadFile(src.path(name))
	if err != nil {
		d.errorf(m["file"], join(field, "file"), "cannot read secret file %s: %v", name, pathError(err))
		return "", nil, false
	}
	v := strings.TrimRight(string(data), "\r\n")
	if v == "" {
		d.errorf(m["file"], join(field, "file"), "secret file %s is empty", name)
		return "", nil, false
	}
	return v, []string{v}, true
}

// pathError drops the path from a file error: the message names the path
// as written, which is stable across machines.
func pathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
