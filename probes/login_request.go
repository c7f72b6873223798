package probes

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/template"
)

// newRequest executes a step's templates into its request. line names the
// request for messages, as far as it is known.
func (run *loginRun) newRequest(ctx context.Context, r *StepRequest) (req *http.Request, line string, f *failure) {
	method := cmp.Or(r.Method, http.MethodGet)
	data := &TemplateData{Tenant: run.spec.Tenant, Vars: run.spec.Vars, Extracted: run.extracted}
	rawURL, f := run.url(r, data)
	if f != nil {
		return nil, method + " " + templateText(r.URL), f
	}
	line = requestLine(method, rawURL)
	body, contentType, f := run.body(&r.Body, data)
	if f != nil {
		return nil, line, f
	}
	req, err := newProbeRequest(ctx, method, rawURL, body)
	if err != nil {
		return nil, line, &failure{ReasonInternal, err.Error()}
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for _, h := range r.Headers {
		v, f := run.execute(h.Value, data, "header "+h.Name)
		if f == nil {
			f = run.checkHeaderValue(h.Name, v)
		}
		if f != nil {
			return nil, line, f
		}
		setHeader(req, h.Name, v)
	}
	return req, line, nil
}

// url executes the URL template and appends r.Query. .Extracted values
// are escaped for where they land (see fillSlots), so that an extracted
// "a&b" cannot add a parameter; .Vars are used as written.
func (run *loginRun) url(r *StepRequest, data *TemplateData) (string, *failure) {
	slots := run.urlSlots()
	withSlots := *data
	withSlots.Extracted = slots.byName
	rendered, f := run.execute(r.URL, &withSlots, "url")
	if f != nil {
		return "", f
	}
	raw := slots.fill(rendered, run.lastURL)
	if len(r.Query) == 0 {
		return raw, nil
	}
	query, f := run.encodePairs(r.Query, data, "query")
	if f != nil {
		return "", f
	}
	base, fragment, hasFragment := strings.Cut(raw, "#")
	switch {
	case !strings.Contains(base, "?"):
		base += "?"
	case !strings.HasSuffix(base, "?") && !strings.HasSuffix(base, "&"):
		base += "&"
	}
	if hasFragment {
		return base + query + "#" + fragment, nil
	}
	return base + query, nil
}

// urlSlots stands in for the extracted values while a URL template runs:
// each value is a placeholder the rendered URL is then scanned for, since
// only there is it known whether a value landed in the path or the query.
type urlSlots struct {
	byName map[string]string // name → placeholder, or "" for an empty value
	values []string          // by placeholder index
}

// slotMark brackets a placeholder's index: a URL template has no use for
// NUL, and the values themselves are put in only after the scan.
const slotMark = "\x00"

func (run *loginRun) urlSlots() *urlSlots {
	if run.slots != nil {
		return run.slots
	}
	s := &urlSlots{byName: make(map[string]string, len(run.extracted))}
	for _, name := range slices.Sorted(maps.Keys(run.extracted)) {
		v := run.extracted[name]
		if v == "" {
			s.byName[name] = "" // keeps {{ if .Extracted.x }} working; escapes to itself anywhere
			continue
		}
		s.byName[name] = slotMark + strconv.Itoa(len(s.values)) + slotMark
		s.values = append(s.values, v)
	}
	run.slots = s
	return s
}

// fill puts the values in place of the placeholders in rendered: a value
// that starts the URL as it is, as a reference resolved against base (the
// previous step's final URL, so that a relative Location works), one in
// the path path-escaped, and one in the query or fragment query-escaped.
func (s *urlSlots) fill(rendered string, base *url.URL) string {
	if !strings.Contains(rendered, slotMark) {
		return rendered
	}
	var sb strings.Builder
	startsWithValue, inQuery := false, false
	for rest := rendered; rest != ""; {
		before, after, found := strings.Cut(rest, slotMark)
		sb.WriteString(before)
		inQuery = inQuery || strings.ContainsAny(before, "?#")
		if !found {
			break
		}
		index, tail, closed := strings.Cut(after, slotMark)
		i, err := strconv.Atoi(index)
		if !closed || err != nil || i < 0 || i >= len(s.values) {
			sb.WriteString(slotMark) // not ours: leave it for url.Parse to refuse
			rest = after
			continue
		}
		v := s.values[i]
		switch {
		case sb.Len() == 0:
			startsWithValue = true
			sb.WriteString(v)
			inQuery = strings.ContainsAny(v, "?#")
		case inQuery:
			sb.WriteString(url.QueryEscape(v))
		default:
			sb.WriteString(url.PathEscape(v))
		}
		rest = tail
	}
	out := sb.String()
	if !startsWithValue || base == nil {
		return out
	}
	ref, err := url.Parse(out)
	if err != nil {
		return out // newProbeRequest says what is wrong with it
	}
	return base.ResolveReference(ref).String()
}

// checkHeaderValue refuses a header value the transport would refuse
// later, as an internal error. When an extracted value brought the bad
// bytes (a token with a line break), the tenant's response is at fault.
func (run *loginRun) checkHeaderValue(name, v string) *failure {
	if validHeaderValue(v) {
		return nil
	}
	for _, k := range slices.Sorted(maps.Keys(run.extracted)) {
		if e := run.extracted[k]; e != "" && !validHeaderValue(e) && strings.Contains(v, e) {
			return &failure{ReasonExtraction, fmt.Sprintf("extract %s: %s; not sent as a header", k, badHeaderBytes(e))}
		}
	}
	return &failure{ReasonInternal, fmt.Sprintf("header %s: %s", name, badHeaderBytes(v))}
}

// validHeaderValue is httpguts.ValidHeaderFieldValue, the check net/http
// sends with: no control characters but tab (RFC 7230 §3.2).
func validHeaderValue(v string) bool {
	return !strings.ContainsFunc(v, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f })
}

func badHeaderBytes(v string) string {
	if strings.ContainsAny(v, "\r\n") {
		return "value has a line break"
	}
	return "value has a control character"
}

// encodePairs executes each value and encodes the pairs as url.Values
// does, in the configured order.
func (run *loginRun) encodePairs(pairs []NamedTemplate, data *TemplateData, what string) (string, *failure) {
	var sb strings.Builder
	for i, p := range pairs {
		v, f := run.execute(p.Value, data, what+" "+p.Name)
		if f != nil {
			return "", f
		}
		if i > 0 {
			sb.WriteByte('&')
		}
		sb.WriteString(url.QueryEscape(p.Name))
		sb.WriteByte('=')
		sb.WriteString(url.QueryEscape(v))
	}
	return sb.String(), nil
}

// body encodes a step's body and says its Content-Type. Each reader is one
// http.NewRequest knows, so a 307 or 308 resends the body.
func (run *loginRun) body(b *StepBody, data *TemplateData) (io.Reader, string, *failure) {
	switch b.Kind {
	case BodyNone:
		return nil, "", nil
	case BodyForm:
		form, f := run.encodePairs(b.Form, data, "form")
		return strings.NewReader(form), "application/x-www-form-urlencoded", f
	case BodyJSON:
		v, f := run.jsonTree(b.JSON, data)
		if f != nil {
			return nil, "", f
		}
		js, err := json.Marshal(v)
		if err != nil {
			return nil, "", &failure{ReasonInternal, "json body: " + err.Error()}
		}
		return bytes.NewReader(js), "application/json", nil
	case BodyRaw:
		raw, f := run.execute(b.Raw, data, "body")
		return strings.NewReader(raw), cmp.Or(b.ContentType, "text/plain"), f
	}
	return nil, "", &failure{ReasonInternal, fmt.Sprintf("unknown body kind %d", b.Kind)}
}

// jsonTree is v with every template leaf executed, ready to marshal, so
// that values are JSON-encoded whatever they hold.
func (run *loginRun) jsonTree(v any, data *TemplateData) (any, *failure) {
	switch v := v.(type) {
	case *template.Template:
		return run.execute(v, data, "json body")
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			ev, f := run.jsonTree(e, data)
			if f != nil {
				return nil, f
			}
			out[k] = ev
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			ev, f := run.jsonTree(e, data)
			if f != nil {
				return nil, f
			}
			out[i] = ev
		}
		return out, nil
	}
	return v, nil
}

// execute runs one template. A nil template is the empty string.
func (run *loginRun) execute(t *template.Template, data *TemplateData, what string) (string, *failure) {
	if t == nil {
		return "", nil
	}
	if v, ok := run.constants[t]; ok {
		return v, nil
	}
	var sb strings.Builder
	err := t.Execute(&sb, data)
	if err == nil {
		return sb.String(), nil
	}
	if name, ok := missingExtracted(err, run.extracted); ok {
		run.unset = name
		return "", &failure{ReasonExtraction, fmt.Sprintf(
			"%s: .Extracted.%s is not set (the step meant to extract it found nothing or did not run)", what, name)}
	}
	return "", &failure{ReasonInternal, what + ": " + err.Error()}
}

// missingExtracted reports the name of the unset .Extracted value a
// template stopped at. Config parses templates with missingkey=error, so
// that an unset value stops the template rather than sending "<no value>";
// text/template reports it only as a message, hence the parsing.
func missingExtracted(err error, extracted map[string]string) (string, bool) {
	var ee template.ExecError
	if !errors.As(err, &ee) {
		return "", false
	}
	msg := err.Error()
	_, rest, found := strings.Cut(msg, `map has no entry for key "`)
	name, _, closed := strings.Cut(rest, `"`)
	if !found || !closed || !strings.Contains(msg, "Extracted."+name+">") {
		return "", false
	}
	if _, set := extracted[name]; set {
		return "", false
	}
	return name, true
}

// templateText is a template's source, to name a URL that did not execute.
func templateText(t *template.Template) string {
	if t == nil || t.Tree == nil || t.Tree.Root == nil {
		return "(no url)"
	}
	return t.Tree.Root.String()
}
