package probes

import (
	"bytes"
	"encoding/json"
	"html"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// Redacted replaces a secret wherever it would be shown.
const Redacted = "<secret>"

// Redact replaces every secret in s, in any of the forms secretForms lists,
// with Redacted. Secrets shorter than 3 bytes are still masked: a leaked
// short password is worse than an odd-looking message.
func Redact(s string, secrets []string) string {
	if len(secrets) == 0 || s == "" {
		return s
	}
	b := []byte(s)
	spans := secretSpans(b, 0, secretForms(secrets))
	if len(spans) == 0 {
		return s
	}
	return mask(b, spans, 0, len(b))
}

// secretForms lists each secret as a response or message may carry it: raw,
// URL-escaped (query and path), and JSON-escaped, since a server echoing a
// token back in JSON writes `\u0026` for `&`. Encoders that do not escape
// HTML (most outside Go) write `&` as is, so that form is listed too, and
// PHP's json_encode writes `/` as `\/`. A page echoing a value into HTML
// writes `&amp;` for `&`, and html/template `&#43;` for `+` as well.
func secretForms(secrets []string) []string {
	var forms []string
	add := func(f string) {
		if f != "" && !slices.Contains(forms, f) {
			forms = append(forms, f)
		}
	}
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		add(sec)
		add(url.QueryEscape(sec))
		add(url.PathEscape(sec))
		for _, escapeHTML := range []bool{true, false} {
			js := jsonEscape(sec, escapeHTML)
			add(js)
			add(strings.ReplaceAll(js, "/", `\/`))
		}
		escaped := html.EscapeString(sec)
		add(escaped)
		add(strings.ReplaceAll(escaped, "+", "&#43;"))
	}
	return forms
}

// jsonEscape is s as encoding/json writes it inside a string literal.
func jsonEscape(s string, escapeHTML bool) string {
	if !strings.ContainsFunc(s, jsonEscapes) {
		return s // the common case: Redact runs on every failure message
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(escapeHTML)
	if enc.Encode(s) != nil {
		return ""
	}
	quoted := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	return string(quoted[1 : len(quoted)-1])
}

// jsonEscapes reports a rune encoding/json may write differently: quotes,
// backslashes, controls, HTML characters, and anything outside ASCII
// (U+2028, U+2029 and invalid UTF-8 among them).
func jsonEscapes(r rune) bool {
	return r < 0x20 || r >= utf8.RuneSelf || strings.ContainsRune(`"\<>&`, r)
}

// longestForm is the length of the longest form: a window that reaches this
// far past a cut holds whole every secret that crosses it.
func longestForm(forms []string) int {
	n := 0
	for _, f := range forms {
		n = max(n, len(f))
	}
	return n
}

// secretSpan is the byte range [start, end) a secret occupies.
type secretSpan struct{ start, end int }

// secretSpans finds every occurrence of every form in b, overlapping ones
// included, and returns them sorted and merged, offset by base. Masking
// merged spans rather than replacing form after form means two secrets that
// share bytes are masked as one, and neither leaves a fragment behind.
func secretSpans(b []byte, base int, forms []string) []secretSpan {
	var spans []secretSpan
	for _, f := range forms {
		spans = appendOccurrences(spans, b, base, []byte(f))
	}
	if len(spans) == 0 {
		return nil
	}
	slices.SortFunc(spans, func(x, y secretSpan) int { return x.start - y.start })
	merged := spans[:1]
	for _, s := range spans[1:] {
		last := &merged[len(merged)-1]
		if s.start < last.end {
			last.end = max(last.end, s.end)
			continue
		}
		merged = append(merged, s)
	}
	return merged
}

// appendOccurrences appends the spans of f in b, joining overlapping
// occurrences as it goes so that "aaaa" in a run of a's costs one span.
func appendOccurrences(spans []secretSpan, b []byte, base int, f []byte) []secretSpan {
	first := len(spans)
	for i := 0; i <= len(b)-len(f); {
		j := bytes.Index(b[i:], f)
		if j < 0 {
			break
		}
		s := secretSpan{base + i + j, base + i + j + len(f)}
		if n := len(spans); n > first && s.start < spans[n-1].end {
			spans[n-1].end = s.end
		} else {
			spans = append(spans, s)
		}
		i += j + 1
	}
	return spans
}

// mask returns b[from:to] with every span in it replaced by Redacted. No
// span may cross from or to: the caller widens them to whole secrets first.
func mask(b []byte, spans []secretSpan, from, to int) string {
	var sb strings.Builder
	at := from
	for _, s := range spans {
		if s.end <= from || s.start >= to {
			continue
		}
		sb.Write(b[at:s.start])
		sb.WriteString(Redacted)
		at = s.end
	}
	sb.Write(b[at:to])
	return sb.String()
}
