package probes

import (
	"bytes"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/tidwall/gjson"
	"golang.org/x/net/html"
)

// extract runs a step's extractors on its response, in order. A required
// value not found fails the step; an optional one stays unset, and a later
// template that needs it fails with reason extraction.
func (run *loginRun) extract(extractors []Extractor, rs *response, x *exchange) ([]Extracted, *failure) {
	var set []Extracted
	for i := range extractors {
		e := &extractors[i]
		v, found, err := run.find(e, rs)
		if err != nil {
			return set, &failure{ReasonInternal, fmt.Sprintf("extract %s: %v", e.Var, err)}
		}
		if found {
			set = append(set, run.set(e.Var, v, e.Secret))
			x.secrets = run.secrets // a later extractor's excerpt may show this one
			continue
		}
		if e.Required {
			return set, &failure{ReasonExtraction, fmt.Sprintf("extract %s: %s", e.Var, x.notFound(e, rs))}
		}
	}
	return set, nil
}

// learnSecrets adds the values the step's secret extractors find to the
// secrets masked in its messages, before the response is judged. Nothing
// is set and nothing fails here: extract does that once the response
// passes.
func (run *loginRun) learnSecrets(extractors []Extractor, rs *response, x *exchange) {
	for i := range extractors {
		e := &extractors[i]
		if !e.Secret {
			continue
		}
		if v, found, err := run.find(e, rs); err == nil && found {
			run.addSecret(v)
		}
	}
	x.secrets = run.secrets
}

// find looks for e's value in the step's final response.
func (run *loginRun) find(e *Extractor, rs *response) (string, bool, error) {
	switch e.From {
	case ExtractJSON:
		v, ok := jsonValue(rs.body, e.Path)
		return v, ok, nil
	case ExtractRegex:
		if e.Regexp == nil {
			return "", false, fmt.Errorf("regex extractor without a regexp")
		}
		v, ok := regexValue(rs.body, e.Regexp, e.Group)
		return v, ok, nil
	case ExtractHeader:
		if v := rs.header.Values(e.Name); len(v) > 0 {
			return v[0], true, nil
		}
		return "", false, nil
	case ExtractCookie:
		v, ok := cookieValue(run.client.Jar, rs, e.Name)
		return v, ok, nil
	case ExtractFormInput:
		v, ok := formInput(rs.body, e.Name)
		return v, ok, nil
	}
	return "", false, fmt.Errorf("unknown source %q", e.From)
}

// notFound says where e looked, with the body when it looked there.
func (x *exchange) notFound(e *Extractor, rs *response) string {
	switch e.From {
	case ExtractJSON:
		if !gjson.ValidBytes(rs.body) {
			return fmt.Sprintf("no json path %q: body is not JSON; body: %s", e.Path, excerpt(rs.body, 0, x.secrets))
		}
		return fmt.Sprintf("no json path %q in the body; body: %s", e.Path, excerpt(rs.body, 0, x.secrets))
	case ExtractRegex:
		return fmt.Sprintf("/%s/ group %d: no match in the body; body: %s",
			e.Regexp, regexGroup(e.Regexp, e.Group), excerpt(rs.body, 0, x.secrets))
	case ExtractHeader:
		return fmt.Sprintf("no header %s in the response", e.Name)
	case ExtractCookie:
		where := "the response"
		if rs.url != nil {
			where = rs.url.Redacted()
		}
		return fmt.Sprintf("no cookie %q for %s", e.Name, where)
	case ExtractFormInput:
		return fmt.Sprintf("no <input name=%q> in the body", e.Name)
	}
	return "not found"
}

// jsonValue is the value at a gjson path: a string as its text, anything
// else as its JSON (42, true, {"a":1}). null counts as not found.
func jsonValue(body []byte, path string) (string, bool) {
	v := gjson.GetBytes(body, path)
	switch {
	case !v.Exists() || v.Type == gjson.Null:
		return "", false
	}
	return jsonText(v), true
}

// regexGroup is the group an extractor takes: Group, where 0 means the
// first capture group when the regexp has one, else the whole match.
func regexGroup(re *regexp.Regexp, group int) int {
	if group == 0 && re.NumSubexp() > 0 {
		return 1
	}
	return group
}

func regexValue(body []byte, re *regexp.Regexp, group int) (string, bool) {
	g := regexGroup(re, group)
	if g < 0 || g > re.NumSubexp() {
		return "", false
	}
	m := re.FindSubmatchIndex(body)
	if m == nil || m[2*g] < 0 { // a group that took no part in the match
		return "", false
	}
	return string(body[m[2*g]:m[2*g+1]]), true
}

// cookieValue is the named cookie the jar would send to the step's final
// URL or, failing that, one the final response set: a cookie the jar keeps
// from this URL (another Path, Secure over http) is still the one the
// server meant to set.
func cookieValue(jar http.CookieJar, rs *response, name string) (string, bool) {
	if rs.url != nil {
		for _, c := range jar.Cookies(rs.url) {
			if c.Name == name {
				return c.Value, true
			}
		}
	}
	now := time.Now()
	for _, line := range rs.header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil || c.Name != name {
			continue
		}
		if c.MaxAge < 0 || !c.Expires.IsZero() && c.Expires.Before(now) {
			continue // a deletion
		}
		return c.Value, true
	}
	return "", false
}

// formInput is the value of the first <input name=NAME> in an HTML body,
// found by tokenizing as a browser would: an input in a comment or a
// script is not one, and attributes may come in any order or quoting. An
// input without a value attribute has the empty value.
func formInput(body []byte, name string) (string, bool) {
	z := html.NewTokenizer(bytes.NewReader(body))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return "", false // io.EOF, or the rest of the body is not HTML
		case html.StartTagToken, html.SelfClosingTagToken:
			tag, hasAttr := z.TagName()
			if !hasAttr || string(tag) != "input" {
				continue
			}
			if v, ok := inputValue(z, name); ok {
				return v, true
			}
		}
	}
}

// inputValue reads the current input tag's attributes: its value, if it
// is named name. The tokenizer lowercases attribute names and unescapes
// values; the slices it returns last until the next token.
func inputValue(z *html.Tokenizer, name string) (string, bool) {
	var named, seenName, seenValue bool
	var value []byte
	for more := true; more; {
		var k, v []byte
		k, v, more = z.TagAttr()
		// A repeated attribute is ignored, as browsers do.
		switch {
		case string(k) == "name" && !seenName:
			named, seenName = string(v) == name, true
		case string(k) == "value" && !seenValue:
			value, seenValue = v, true
		}
	}
	return string(value), named
}
