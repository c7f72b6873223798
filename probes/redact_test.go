package probes

import (
	"html"
	"net/url"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	const odd = `p&ss <word>"q` // every character JSON or URLs escape
	for _, tc := range []struct {
		name    string
		in      string
		secrets []string
		want    string
	}{
		{"raw", "token abc123XYZ rejected", []string{"abc123XYZ"}, "token <secret> rejected"},
		{"query-escaped", "GET /?pw=" + url.QueryEscape(odd) + "&x=1", []string{odd}, "GET /?pw=<secret>&x=1"},
		{"path-escaped", "GET /users/" + url.PathEscape(odd) + "/keys", []string{odd}, "GET /users/<secret>/keys"},
		{"JSON-escaped", `{"pw":"p\u0026ss \u003cword\u003e\"q"}`, []string{odd}, `{"pw":"<secret>"}`},
		{"JSON-escaped without HTML escaping", `{"pw":"p&ss <word>\"q"}`, []string{odd}, `{"pw":"<secret>"}`},
		{"HTML-escaped", "<p>" + html.EscapeString(odd) + "</p>", []string{odd}, "<p><secret></p>"},
		{"html/template-escaped", `<input value="a&#43;b&amp;c">`, []string{"a+b&c"}, `<input value="<secret>">`},
		{"JSON with escaped slashes", `{"next":"https:\/\/x\/cb?t=1"}`, []string{"https://x/cb?t=1"}, `{"next":"<secret>"}`},
		{"JSON with escaped slashes and HTML", `{"n":"a\/b\u0026c"}`, []string{"a/b&c"}, `{"n":"<secret>"}`},
		{"every occurrence", "a=s3cr3t b=s3cr3t", []string{"s3cr3t"}, "a=<secret> b=<secret>"},
		{"overlapping secrets", "xxabcdefyy", []string{"abcd", "cdef"}, "xx<secret>yy"},
		{"secret overlapping itself", "key=aaaaa;", []string{"aaa"}, "key=<secret>;"},
		{"secret inside a longer one", "pw=hunter22", []string{"hunter2", "hunter22"}, "pw=<secret>"},
		{"short secret still masked", "cab", []string{"ab"}, "c<secret>"},
		{"empty secret ignored", "a x1y2 b", []string{"", "x1y2"}, "a <secret> b"},
		{"only an empty secret", "abc", []string{""}, "abc"},
		{"no secrets", "abc", nil, "abc"},
		{"mask text not matched again", "a <secret> b", []string{"secret"}, "a <<secret>> b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Redact(tc.in, tc.secrets); got != tc.want {
				t.Errorf("Redact(%q, %q) = %q, want %q", tc.in, tc.secrets, got, tc.want)
			}
		})
	}
}

func TestRedactRunOfSecretIsOneMask(t *testing.T) {
	in := strings.Repeat("a", 1<<16)
	if got := Redact(in, []string{"aa"}); got != Redacted {
		t.Errorf("run of a secret: %d bytes left, want one mask", len(got))
	}
}
