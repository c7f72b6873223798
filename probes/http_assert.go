package probes

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"
)

// judge checks a response in a fixed order: status first (a 503 is the news
// even when its body is slow or huge), then the body read, then each
// assertion as listed in HTTPExpect. The first failure wins.
func (x *exchange) judge(ctx context.Context, rs *response) *failure {
	if f := x.checkStatus(rs); f != nil {
		return f
	}
	if rs.readErr != nil {
		return x.classify(ctx, rs.readErr)
	}
	if rs.overLimit {
		return &failure{ReasonBodyLimit, "body exceeds " + fmtBytes(x.limit()) + " limit"}
	}
	e := x.expect
	for _, check := range []func(HTTPExpect, *response) *failure{
		x.checkBody, x.checkJSON, checkDuration, checkCert, x.checkHeaders,
	} {
		if f := check(e, rs); f != nil {
			return f
		}
	}
	return nil
}

func (x *exchange) checkStatus(rs *response) *failure {
	want := x.expect.Status
	if len(want) == 0 && rs.status >= 200 && rs.status <= 299 || slices.Contains(want, rs.status) {
		return nil
	}
	got := strconv.Itoa(rs.status)
	if rs.location != "" {
		got += " (Location: " + x.clip(rs.location) + ")"
	}
	return &failure{ReasonStatus, fmt.Sprintf("status %s, want %s; body: %s",
		got, wantStatus(want), excerpt(rs.body, 0, x.secrets))}
}

func wantStatus(codes []int) string {
	switch len(codes) {
	case 0:
		return "2xx"
	case 1:
		return strconv.Itoa(codes[0])
	}
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = strconv.Itoa(c)
	}
	return "one of " + strings.Join(s, ", ")
}

func (x *exchange) checkBody(e HTTPExpect, rs *response) *failure {
	for _, want := range e.BodyContains {
		if !bytes.Contains(rs.body, []byte(want)) {
			return x.assertion(rs, 0, "body does not contain %q", want)
		}
	}
	for _, unwanted := range e.BodyNotContains {
		if i := bytes.Index(rs.body, []byte(unwanted)); i >= 0 {
			return x.assertion(rs, max(0, i-40), "body contains %q", unwanted)
		}
	}
	for _, re := range e.BodyMatches {
		if !re.Match(rs.body) {
			return x.assertion(rs, 0, "body does not match /%s/", re)
		}
	}
	return nil
}

// assertion is a failed assertion about the body, shown from byte from.
func (x *exchange) assertion(rs *response, from int, format string, args ...any) *failure {
	return &failure{ReasonAssertion, fmt.Sprintf(format, args...) + "; body: " + excerpt(rs.body, from, x.secrets)}
}

func (x *exchange) checkJSON(e HTTPExpect, rs *response) *failure {
	if len(e.JSON) == 0 {
		return nil
	}
	if !gjson.ValidBytes(rs.body) {
		return x.assertion(rs, 0, "body is not JSON")
	}
	for _, a := range e.JSON {
		if f := x.checkJSONValue(a, gjson.GetBytes(rs.body, a.Path)); f != nil {
			return f
		}
	}
	return nil
}

// checkJSONValue judges one path. A missing value fails every op but
// exists-false: a field that vanished is news even under not_equals.
func (x *exchange) checkJSONValue(a JSONAssertion, v gjson.Result) *failure {
	fail := func(format string, args ...any) *failure {
		return &failure{ReasonAssertion, fmt.Sprintf("json %q: ", a.Path) + fmt.Sprintf(format, args...)}
	}
	absent := a.Op == JSONExists && a.Value == "false"
	switch {
	case absent && v.Exists():
		return fail("want absent, got %s", x.clip(v.Raw))
	case absent:
		return nil
	case !v.Exists():
		return fail("missing")
	}
	switch a.Op {
	case JSONExists:
	case JSONEquals:
		if jsonText(v) != a.Value {
			return fail("want %q, got %s", a.Value, x.clip(v.Raw))
		}
	case JSONNotEquals:
		if jsonText(v) == a.Value {
			return fail("want not %q, got %s", a.Value, x.clip(v.Raw))
		}
	case JSONGt, JSONGe, JSONLt, JSONLe:
		if v.Type != gjson.Number {
			return fail("want a number %s %s, got %s", opSymbol[a.Op], fmtNumber(a.Number), x.clip(v.Raw))
		}
		if !compare(a.Op, v.Float(), a.Number) {
			return fail("want %s %s, got %s", opSymbol[a.Op], fmtNumber(a.Number), x.clip(v.Raw))
		}
	default:
		return &failure{ReasonInternal, fmt.Sprintf("json %q: unknown op %q", a.Path, a.Op)}
	}
	return nil
}

// jsonText is a JSON value as a string, the same for an assertion and an
// extractor: a string is its text, anything else its JSON as the body
// wrote it (1.50, true, null, {"a":1}), not gjson's reformatting of it.
func jsonText(v gjson.Result) string {
	if v.Type == gjson.String {
		return v.Str
	}
	return v.Raw
}

var opSymbol = map[JSONOp]string{JSONGt: ">", JSONGe: ">=", JSONLt: "<", JSONLe: "<="}

func compare(op JSONOp, got, want float64) bool {
	switch op {
	case JSONGt:
		return got > want
	case JSONGe:
		return got >= want
	case JSONLt:
		return got < want
	case JSONLe:
		return got <= want
	}
	return false
}

func fmtNumber(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// clip shortens a JSON value for a message, redacting before it cuts.
func (x *exchange) clip(raw string) string { return excerpt([]byte(raw), 0, x.secrets) }

func checkDuration(e HTTPExpect, rs *response) *failure {
	if e.MaxDuration > 0 && rs.elapsed > e.MaxDuration {
		return &failure{ReasonAssertion, fmt.Sprintf("took %s, max %s",
			rs.elapsed.Round(time.Millisecond), e.MaxDuration)}
	}
	return nil
}

func checkCert(e HTTPExpect, rs *response) *failure {
	if e.CertValidFor <= 0 {
		return nil
	}
	if !rs.tls {
		return &failure{ReasonAssertion, "cert_valid_for is set but the connection did not use TLS"}
	}
	left := time.Until(rs.certExpiry)
	if left >= e.CertValidFor {
		return nil
	}
	date := rs.certExpiry.UTC().Format(time.DateOnly)
	if left < 0 {
		return &failure{ReasonAssertion, fmt.Sprintf("certificate expired %s ago (%s), need %s",
			FormatDays(-left), date, FormatDays(e.CertValidFor))}
	}
	return &failure{ReasonAssertion, fmt.Sprintf("certificate expires in %s (%s), need %s",
		FormatDays(left), date, FormatDays(e.CertValidFor))}
}

// FormatDays shows a time left as people count it: "5d", "2d23h", "20h";
// rounded down, so "expires in 13d23h, need 14d" never reads 14d.
func FormatDays(d time.Duration) string {
	const day = 24 * time.Hour
	days, hours := d/day, (d%day)/time.Hour
	switch {
	case days > 0 && hours > 0:
		return fmt.Sprintf("%dd%dh", days, hours)
	case days > 0:
		return fmt.Sprintf("%dd", days)
	case hours > 0:
		return fmt.Sprintf("%dh", hours)
	}
	return d.Round(time.Second).String()
}

// checkHeaders requires each named header, with a value matching its
// regexp. Of a repeated header (Set-Cookie) any value may match.
func (x *exchange) checkHeaders(_ HTTPExpect, rs *response) *failure {
	for _, m := range x.headers {
		values := rs.header.Values(m.Name)
		if len(values) == 0 {
			return &failure{ReasonAssertion, fmt.Sprintf("no header %s, want /%s/", m.Name, m.Regexp)}
		}
		if !slices.ContainsFunc(values, m.Regexp.MatchString) {
			return &failure{ReasonAssertion, fmt.Sprintf("header %s %q does not match /%s/", m.Name, x.clip(values[0]), m.Regexp)}
		}
	}
	return nil
}
