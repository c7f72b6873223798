package probes

import (
	"regexp"
	"text/template"
	"time"
)

// KindLogin is a scripted multi-step sign-in: steps run in order with one
// cookie jar, each able to use the values earlier steps extracted.
const KindLogin Kind = "login"

// LoginSpec is a resolved login check for one tenant. Its templates are
// parsed at config load and executed per run, because they may use values
// extracted during the run (.Extracted).
type LoginSpec struct {
	Steps []Step
	// Tenant and Vars are the template data fixed at load; each run adds
	// Extracted.
	Tenant TemplateTenant
	Vars   map[string]string
}

// TemplateData is what a step's templates see when they run.
type TemplateData struct {
	Tenant    TemplateTenant
	Vars      map[string]string
	Extracted map[string]string
}

// TemplateTenant is the tenant as templates see it: {{ .Tenant.URL }}.
type TemplateTenant struct {
	ID, Name, URL string
	Seats         int
	Plan, Region  string
	Public        bool
	Labels        map[string]string
}

// Step is one request of a login check, or one OAuth2 token request.
// Exactly one of Request and OAuth2 is set.
type Step struct {
	Name string // the `step` label: configured, never a URL
	// AlwaysRun runs the step even after an earlier step failed (a
	// sign-out). Its own failure still fails the check. After a failure it
	// gets its own deadline (Timeout, else the check's capped at 5s), so a
	// run that timed out still signs out; and it is skipped if it needs an
	// .Extracted value no earlier step set.
	AlwaysRun bool
	// Timeout bounds this step; 0 means only the check's timeout, which
	// covers all steps together.
	Timeout time.Duration

	Request *StepRequest
	OAuth2  *OAuth2Grant

	FollowRedirects bool
	MaxRedirects    int
	BodyLimit       int64 // 0: 1 MiB
	TLS             TLSConfig

	Expect        HTTPExpect
	HeaderMatches []HeaderMatch
	Extract       []Extractor
}

// StepRequest is a request whose parts are templates over TemplateData.
//
// Values are escaped for where they go. In URL, an .Extracted value is
// path-escaped in the path and query-escaped in the query or fragment; one
// that starts the URL is used as is, as a reference resolved against the
// previous step's final URL (a Location header). Configured .Vars are used
// as written: they may hold base URLs; pipe one through urlquery to escape
// it. Query and Form entries are URL-encoded; JSON leaves are JSON-encoded;
// headers and Raw are used as is, but a header value with a line break is
// not sent.
type StepRequest struct {
	Method  string // default GET
	URL     *template.Template
	Headers []NamedTemplate
	Query   []NamedTemplate // added to the URL's query string
	Body    StepBody
}

// NamedTemplate is a name with a templated value: a header, a query
// parameter or a form field.
type NamedTemplate struct {
	Name  string
	Value *template.Template
}

// BodyKind says how a step's body is encoded.
type BodyKind int

// Body kinds.
const (
	BodyNone BodyKind = iota
	BodyForm          // application/x-www-form-urlencoded from Form
	BodyJSON          // application/json from JSON
	BodyRaw           // Raw as is, with ContentType
)

// StepBody is a step's request body.
type StepBody struct {
	Kind BodyKind
	Form []NamedTemplate
	// JSON is the body's structure as decoded from YAML: map[string]any,
	// []any, scalars, and *template.Template for every string leaf. Each
	// leaf is executed and the whole value marshalled, so values are
	// JSON-encoded whatever they hold.
	JSON        any
	Raw         *template.Template
	ContentType string // for BodyRaw; default text/plain
}

// HeaderMatch asserts that a response header matches a regular expression.
type HeaderMatch struct {
	Name   string
	Regexp *regexp.Regexp
}

// ExtractFrom is where an extractor takes its value from.
type ExtractFrom string

// Extractor sources.
const (
	ExtractJSON      ExtractFrom = "json"       // gjson path in the body
	ExtractRegex     ExtractFrom = "regex"      // capture group of a regex on the body
	ExtractHeader    ExtractFrom = "header"     // a response header (Location, Set-Cookie, …)
	ExtractCookie    ExtractFrom = "cookie"     // a cookie by name, from the run's jar
	ExtractFormInput ExtractFrom = "form_input" // value of an <input name=…> in the HTML body (CSRF tokens)
)

// Extractor sets a variable for later steps from a step's response.
type Extractor struct {
	Var    string // {{ .Extracted.Var }}
	From   ExtractFrom
	Path   string         // json
	Regexp *regexp.Regexp // regex
	Group  int            // regex capture group (default 1)
	Name   string         // header, cookie or form input name
	// Required fails the step (reason extraction) when nothing is found,
	// rather than sending an empty value on. Default true.
	Required bool
	// Secret masks the value wherever a result is shown or logged, like a
	// configured secret: session tokens usually are.
	Secret bool
}

// OAuth2Grant is a token request by the client-credentials or password
// grant. The access token is extracted into Var (default "access_token") as
// a secret.
type OAuth2Grant struct {
	Grant        string // "client_credentials" or "password"
	TokenURL     string
	ClientID     string
	ClientSecret string
	Username     string // password grant
	Password     string // password grant
	Scopes       []string
	Var          string
	// AuthStyle is how the client authenticates: "header" (HTTP Basic, the
	// default every server must support, RFC 6749 §2.3.1) or "params"
	// (client_id and client_secret in the form body). Empty means "header".
	AuthStyle string
}

// OAuth2 client authentication styles.
const (
	AuthStyleHeader = "header"
	AuthStyleParams = "params"
)

// OAuth2 grant types.
const (
	GrantClientCredentials = "client_credentials"
	GrantPassword          = "password"
)

// StepResult is what one step of a login run found.
type StepResult struct {
	Name       string
	Ran        bool // false: skipped after an earlier failure
	Success    bool
	Reason     Reason // ReasonNone when Success or not run
	Message    string // redacted
	StatusCode int
	Duration   time.Duration
	Phases     Phases
	// Extracted lists the values this step set, secrets masked.
	Extracted []Extracted
}

// Extracted is one variable a step set, as it may be shown.
type Extracted struct {
	Var, Value string // Value is Redacted for secrets
}
