package probes

import (
	"crypto/x509"
	"net/http"
	"regexp"
	"time"
)

// HTTPSpec is a resolved HTTP check: one request and what its response must
// satisfy. Regexes are compiled at config load, never per run.
type HTTPSpec struct {
	Request HTTPRequest
	Expect  HTTPExpect

	// FollowRedirects follows up to MaxRedirects redirects, taken as
	// written: 0 follows none, like FollowRedirects false. Config load
	// fills in the default (10); a hand-built spec gets no default. When
	// not following, the first response is judged as it is (a 302 then
	// fails the default 2xx). Only http and https redirects are followed.
	FollowRedirects bool
	MaxRedirects    int
	// BodyLimit bounds the decoded body read, in bytes (default 1 MiB).
	// A larger body fails with reason body_limit.
	BodyLimit int64
	TLS       TLSConfig
}

// HTTPRequest is the request to send.
type HTTPRequest struct {
	Method  string // empty: GET, see MethodOrGet
	URL     string
	Headers map[string]string
	Body    string
}

// MethodOrGet is the method sent: Method, or GET when it is empty. Anything
// that shows or sends the request uses it, so all agree on the default.
func (r HTTPRequest) MethodOrGet() string {
	if r.Method == "" {
		return http.MethodGet
	}
	return r.Method
}

// TLSConfig tunes certificate verification for checks of private or test
// deployments.
type TLSConfig struct {
	ServerName         string // SNI and verification name, when not the URL host
	CAFile             string // PEM bundle trusted instead of the system roots
	CAPEM              []byte // the contents of CAFile, read at config load
	InsecureSkipVerify bool   // still reports the certificate's expiry

	// Roots is parsed from CAPEM at config load (see CertPool); used when
	// set. When only CAPEM is set, as in hand-built targets, the probe
	// parses it once and caches the pool by content.
	Roots *x509.CertPool
}

// HTTPExpect lists the assertions. An empty HTTPExpect still requires a 2xx.
type HTTPExpect struct {
	Status          []int // allowed codes; empty means any 2xx
	BodyContains    []string
	BodyNotContains []string
	BodyMatches     []*regexp.Regexp
	JSON            []JSONAssertion
	MaxDuration     time.Duration // 0: no limit beyond the timeout
	CertValidFor    time.Duration // 0: no check; else NotAfter − now ≥ this
}

// JSONOp is a comparison of a JSON path's value.
type JSONOp string

// JSON path comparisons. Numeric ones fail when the value is not a number.
const (
	JSONExists    JSONOp = "exists"     // the path is present (Value "false": absent)
	JSONEquals    JSONOp = "equals"     // string form of the value equals Value
	JSONNotEquals JSONOp = "not_equals" // string form differs from Value
	JSONGt        JSONOp = "gt"
	JSONGe        JSONOp = "ge"
	JSONLt        JSONOp = "lt"
	JSONLe        JSONOp = "le"
)

// JSONAssertion checks one value of a JSON body, addressed by a gjson path
// (https://github.com/tidwall/gjson/blob/master/SYNTAX.md).
type JSONAssertion struct {
	Path   string
	Op     JSONOp
	Value  string  // for exists/equals/not_equals
	Number float64 // for gt/ge/lt/le
}
