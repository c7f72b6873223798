package config

import (
	"fmt"
	"sort"
	"strings"

	"github.com/forewarn/forewarn/probes"
)

// Error is one problem in a config file, placed at the value that causes it.
type Error struct {
	File         string
	Line, Column int    // 1-based; 0 when unknown
	Field        string // path such as checks[0].expect.max_duration; may be empty
	Msg          string
}

// Error formats the error the way compilers do, so editors can jump to it:
// "checks.yaml:12:14: checks[0].expect.max_duration: invalid duration "2x"".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors are all the problems found in one file, sorted by position.
type Errors []*Error

// Error lists one error per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// loc is where a value was written, kept for errors found after decoding
// (timeouts against intervals, template expansion per tenant).
type loc struct {
	line, col int
	field     string
}

// report collects errors without stopping, so that one run shows every
// problem in the file.
type report struct {
	file string
	errs Errors
	seen map[Error]bool
}

func (r *report) add(at loc, format string, args ...any) {
	e := Error{File: r.file, Line: at.line, Column: at.col, Field: at.field, Msg: fmt.Sprintf(format, args...)}
	// A constant field that is wrong for every tenant is reported once.
	if r.seen[e] {
		return
	}
	if r.seen == nil {
		r.seen = map[Error]bool{}
	}
	r.seen[e] = true
	r.errs = append(r.errs, &e)
}

// result sorts the errors by position and masks every secret in them: an
// expanded URL or a template error may quote a resolved value.
func (r *report) result(secrets []string) error {
	if len(r.errs) == 0 {
		return nil
	}
	for _, e := range r.errs {
		e.Msg = probes.Redact(e.Msg, secrets)
		e.Field = probes.Redact(e.Field, secrets)
	}
	sort.SliceStable(r.errs, func(i, j int) bool {
		a, b := r.errs[i], r.errs[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return r.errs
}
