package config

import (
	"fmt"
	"slices"
	"strings"
	"text/template"
	tparse "text/template/parse"
)

// A login step's request templates run per probe, after earlier steps have
// extracted values into .Extracted. They are parsed once per check here and
// shared by every tenant's Target; what can be checked before a run is
// checked at load: here, that every .Extracted.NAME is extracted by an
// earlier step, and in expandRequest, that each template executes for each
// tenant.

// runnable is the template the prober executes for tm: tm's own, or one
// holding tm's plain text, so that every request part is a template.
func runnable(tm *tmpl) *template.Template {
	if tm == nil || tm.bad {
		return nil
	}
	if tm.t != nil {
		return tm.t
	}
	// Text without "{{" has no actions and cannot fail to parse.
	return template.Must(template.New(tm.at.field).Option("missingkey=error").Parse(tm.text))
}

// placeholder is what .Extracted.name holds when request templates are
// executed at load. It needs no escaping anywhere in a URL.
func placeholder(name string) string { return "extracted_" + name }

// extractedRefs lists the NAMEs a template reads as .Extracted.NAME (or
// index .Extracted "NAME"). opaque is true when it reads .Extracted in a
// way whose name cannot be known before a run.
func extractedRefs(tm *tmpl) (names []string, opaque bool) {
	if tm == nil || tm.t == nil {
		return nil, false
	}
	w := &refWalker{}
	for _, t := range tm.t.Templates() {
		if t.Tree != nil {
			w.walk(t.Tree.Root, true)
		}
	}
	return w.names, w.opaque
}

// startsWithExtracted reports whether tm's value begins with an extracted
// value, as in url: "{{ .Extracted.next }}": the URL is then known only
// when the step runs.
func startsWithExtracted(tm *tmpl) bool {
	if tm == nil || tm.t == nil || tm.t.Tree == nil || len(tm.t.Tree.Root.Nodes) == 0 {
		return false
	}
	w := &refWalker{}
	w.walk(tm.t.Tree.Root.Nodes[0], true)
	return len(w.names) > 0 || w.opaque
}

// refWalker finds .Extracted in a parse tree. root is false where dot is
// no longer the template data (inside with and range), so that a field
// named Extracted of something else is not taken for it; $.Extracted is
// the template data anywhere.
type refWalker struct {
	names  []string
	opaque bool
}

func (w *refWalker) walk(n tparse.Node, root bool) {
	switch n := n.(type) {
	case *tparse.ListNode:
		if n != nil {
			for _, c := range n.Nodes {
				w.walk(c, root)
			}
		}
	case *tparse.ActionNode:
		w.walk(n.Pipe, root)
	case *tparse.TemplateNode:
		w.walk(n.Pipe, root)
	case *tparse.IfNode:
		w.branch(&n.BranchNode, root, root)
	case *tparse.WithNode:
		w.branch(&n.BranchNode, root, false)
	case *tparse.RangeNode:
		w.branch(&n.BranchNode, root, false)
	case *tparse.PipeNode:
		if n != nil {
			for _, c := range n.Cmds {
				w.command(c, root)
			}
		}
	case *tparse.ChainNode:
		w.walk(n.Node, root)
	case *tparse.FieldNode:
		if root {
			w.ident(n.Ident)
		}
	case *tparse.VariableNode:
		if len(n.Ident) > 0 && n.Ident[0] == "$" {
			w.ident(n.Ident[1:])
		}
	}
}

func (w *refWalker) branch(b *tparse.BranchNode, root, listRoot bool) {
	w.walk(b.Pipe, root)
	w.walk(b.List, listRoot)
	w.walk(b.ElseList, root)
}

// command reads `index .Extracted "name"` as .Extracted.name.
func (w *refWalker) command(c *tparse.CommandNode, root bool) {
	args := c.Args
	if len(args) >= 3 && root {
		fn, _ := args[0].(*tparse.IdentifierNode)
		f, _ := args[1].(*tparse.FieldNode)
		s, _ := args[2].(*tparse.StringNode)
		if fn != nil && fn.Ident == "index" && f != nil && slices.Equal(f.Ident, []string{"Extracted"}) && s != nil {
			w.names = append(w.names, s.Text)
			args = args[3:]
		}
	}
	for _, a := range args {
		w.walk(a, root)
	}
}

func (w *refWalker) ident(ident []string) {
	switch {
	case len(ident) == 0 || ident[0] != "Extracted":
	case len(ident) == 1:
		w.opaque = true
	default:
		w.names = append(w.names, ident[1])
	}
}

// checkRefs reports every request template of a login check that reads a
// value no earlier step extracts. Such a template is marked bad, so that
// it is not executed per tenant to report the same problem again.
func (d *decoder) checkRefs(steps []*stepDef) { d.checkRefsFrom(nil, steps) }

// checkRefsFrom is checkRefs for steps that follow others which extract
// earlier: a load check's actions after its sign-in.
func (d *decoder) checkRefsFrom(earlier []string, steps []*stepDef) {
	earlier = slices.Clone(earlier)
	for i, s := range steps {
		for _, tm := range s.requestTemplates() {
			names, opaque := extractedRefs(tm)
			if opaque {
				d.add(tm.at, `.Extracted must be read as .Extracted.NAME or index .Extracted "NAME", so that NAME can be checked at load`)
				tm.bad = true
			}
			for _, name := range names {
				if slices.Contains(earlier, name) {
					continue
				}
				d.add(tm.at, ".Extracted.%s is not extracted by an earlier step (%s)%s", name, extracting(earlier), laterHint(steps, i, name))
				tm.bad = true
			}
		}
		earlier = append(earlier, s.varNames()...)
	}
}

func extracting(vars []string) string {
	if len(vars) == 0 {
		return "no earlier step extracts anything"
	}
	return "earlier steps extract: " + strings.Join(vars, ", ")
}

// laterHint says which step extracts name when one does, too late.
func laterHint(steps []*stepDef, i int, name string) string {
	for j := i; j < len(steps); j++ {
		if !slices.Contains(steps[j].varNames(), name) {
			continue
		}
		if j == i {
			return "; this step extracts it from its own response, after the request is sent"
		}
		return fmt.Sprintf("; step %q extracts it later", steps[j].name)
	}
	return ""
}

// checkLoadOnly reports .Extracted in templates that are expanded at load:
// their values are fixed before any step runs.
func (d *decoder) checkLoadOnly(ts []*tmpl) {
	for _, tm := range ts {
		if names, opaque := extractedRefs(tm); len(names) > 0 || opaque {
			d.add(tm.at, ".Extracted cannot be used here: this value is fixed at load; only request templates see extracted values")
			tm.bad = true
		}
	}
}
