package probes

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
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
		if f != nil {
			return nil, line, f
		}
		setHeader(req, h.Name, v)
	}
	return req, line, nil
}

// url executes the URL template with .Extracted query-escaped, so that an
// extracted "a&b" cannot add a parameter, and appends r.Query.
func (run *loginRun) url(r *StepRequest, data *TemplateData) (string, *failure) {
	escaped := *data
	escaped.Extracted = run.escapedExtracted()
	raw, f := run.execute(r.URL, &escaped, "url")
	if f != nil || len(r.Query) == 0 {
		return raw, f
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

func (run *loginRun) escapedExtracted() map[string]string {
	if run.escaped == nil && run.extracted != nil {
		run.escaped = make(map[string]string, len(run.extracted))
		for k, v := range run.extracted {
			run.escaped[k] = url.QueryEscape(v)
		}
	}
	return run.escaped
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
	var sb strings.Builder
	err := t.Execute(&sb, data)
	if err == nil {
		return sb.String(), nil
	}
	if name, ok := missingExtracted(err, run.extracted); ok {
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
