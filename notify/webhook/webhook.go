// Package webhook delivers case events as signed HTTP POSTs, following the
// Standard Webhooks specification (https://www.standardwebhooks.com): the
// body is the event's JSON (docs/webhook-event.schema.json), and the
// webhook-id, webhook-timestamp and webhook-signature headers let the
// receiver check where it came from, drop repeats and refuse replays.
//
// Deliver maps the answer onto notify.Error so the dispatcher knows what to
// do: 2xx is delivered; 408, 429, 5xx, timeouts and connection errors are
// retried (honouring Retry-After); any other 4xx or a redirect is a dead
// letter; 410 Gone also disables the webhook. docs/webhooks.md is the
// receiver's guide.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/forewarn/forewarn/notify"
	"github.com/forewarn/forewarn/probes"
)

// Prefix is what the notifier's name starts with: "webhook:" and the
// configured name.
const Prefix = "webhook:"

// DefaultTimeout bounds one delivery attempt when Options.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// maxErrorBody is how much of a failed answer is read for the error
// message: enough for a JSON error, never a whole page.
const maxErrorBody = 4 << 10

// userAgent names the sender; Options.Headers may override it.
const userAgent = "forewarn-webhook/" + notify.SchemaVersion

// Options configure one webhook.
type Options struct {
	// Name tells webhooks apart in the outbox and in metrics: the notifier
	// is "webhook:" + Name. Letters, digits, '-', '_' and '.'.
	Name string
	// URL receives the POSTs: http or https.
	URL string
	// Secrets sign every request, each "whsec_" and the base64 of at least
	// 24 random bytes. Each secret adds a signature, so while a receiver
	// rotates its secret both the old and the new one verify.
	Secrets []string
	// Timeout bounds one attempt, answer included (DefaultTimeout).
	Timeout time.Duration
	// HTTPClient sends the requests (a client of its own by default). It is
	// copied, never changed: redirects are not followed in the copy.
	HTTPClient *http.Client
	// Headers are added to every request (an Authorization a gateway in
	// front of the receiver wants, say). Their values are treated as
	// secrets: never shown in errors. The webhook-*, Content-Type,
	// Content-Length and Host headers are forewarn's own.
	Headers map[string]string
	// Now is the clock of webhook-timestamp (time.Now); for tests.
	Now func() time.Time
}

// Notifier posts events to one URL. It is safe for concurrent use.
type Notifier struct {
	name    string
	url     string
	keys    [][]byte
	timeout time.Duration
	client  *http.Client
	headers http.Header
	secrets []string // what error text must never show
	now     func() time.Time
}

var _ notify.Notifier = (*Notifier)(nil)

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// reservedHeaders are set by Deliver itself.
var reservedHeaders = []string{"Webhook-Id", "Webhook-Timestamp", "Webhook-Signature", "Content-Type",
	"Content-Length", "Host", "Transfer-Encoding"}

// New checks the options and returns the notifier. Errors never include a
// secret.
func New(o Options) (*Notifier, error) {
	if !validName.MatchString(o.Name) {
		return nil, fmt.Errorf("webhook: name %q: want letters, digits, '-', '_' or '.'", o.Name)
	}
	name := Prefix + o.Name
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The URL may carry a token: say what is wrong without it.
		return nil, fmt.Errorf("%s: url: want an absolute http or https URL", name)
	}
	keys, err := parseSecrets(o.Secrets)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	n := &Notifier{name: name, url: o.URL, keys: keys, timeout: o.Timeout, headers: http.Header{}, now: o.Now}
	if n.timeout <= 0 {
		n.timeout = DefaultTimeout
	}
	if n.now == nil {
		n.now = time.Now
	}
	n.secrets = append(n.secrets, o.Secrets...)
	for _, s := range o.Secrets {
		n.secrets = append(n.secrets, strings.TrimPrefix(s, secretPrefix))
	}
	if u.User != nil {
		if p, ok := u.User.Password(); ok {
			n.secrets = append(n.secrets, p)
		}
	}
	for k, v := range o.Headers {
		ck := http.CanonicalHeaderKey(k)
		switch {
		case !httpguts.ValidHeaderFieldName(k):
			return nil, fmt.Errorf("%s: header %q: not a valid header name", name, k)
		case !httpguts.ValidHeaderFieldValue(v):
			return nil, fmt.Errorf("%s: header %s: not a valid header value", name, ck)
		case isReserved(ck):
			return nil, fmt.Errorf("%s: header %s: set by forewarn itself", name, ck)
		}
		n.headers.Set(ck, v)
		n.secrets = append(n.secrets, v)
	}
	if n.headers.Get("User-Agent") == "" {
		n.headers.Set("User-Agent", userAgent)
	}
	client := http.DefaultClient
	if o.HTTPClient != nil {
		client = o.HTTPClient
	}
	c := *client
	// Standard Webhooks: a redirect is not followed. The receiver's URL is
	// configured; a redirect means it is wrong (or hijacked), and following
	// it would send a signed event somewhere nobody configured.
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	n.client = &c
	return n, nil
}

func isReserved(canonical string) bool {
	for _, r := range reservedHeaders {
		if canonical == r {
			return true
		}
	}
	return false
}

// Name is "webhook:" and the configured name.
func (n *Notifier) Name() string { return n.name }

// Deliver posts e, signed. An error is a *notify.Error saying whether to
// retry, give up or disable the webhook.
func (n *Notifier) Deliver(ctx context.Context, e notify.Event) error {
	if e.ID == "" || !httpguts.ValidHeaderFieldValue(e.ID) {
		return &notify.Error{Reason: "invalid", Permanent: true, Err: fmt.Errorf("event id %q cannot be a webhook-id", e.ID)}
	}
	if e.Version == "" {
		e.Version = notify.SchemaVersion
	}
	body, err := json.Marshal(e)
	if err != nil {
		return &notify.Error{Reason: "invalid", Permanent: true, Err: fmt.Errorf("encode event: %w", err)}
	}
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.url, bytes.NewReader(body))
	if err != nil {
		return &notify.Error{Reason: "invalid", Permanent: true, Err: errors.New("cannot build the request")}
	}
	req.Header = n.headers.Clone()
	ts := n.now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Webhook-Id", e.ID)
	req.Header.Set("Webhook-Timestamp", strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set("Webhook-Signature", sign(n.keys, e.ID, ts, body))

	resp, err := n.client.Do(req)
	if err != nil {
		return n.transportError(ctx, err)
	}
	defer resp.Body.Close()
	return n.answer(resp, ts)
}

// transportError classifies a request that got no answer. The error text
// leaves the URL out: url.Error quotes it whole, query tokens included.
func (n *Notifier) transportError(ctx context.Context, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := probes.Redact(err.Error(), n.secrets)
	var te interface{ Timeout() bool }
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &te) && te.Timeout():
		return &notify.Error{Reason: "timeout", Err: fmt.Errorf("no answer within %s: %s", n.timeout, msg)}
	case errors.Is(err, context.Canceled):
		return &notify.Error{Reason: "other", Err: errors.New("cancelled")}
	default:
		return &notify.Error{Reason: "connect", Err: errors.New(msg)}
	}
}

// answer maps a response onto the delivery's outcome.
func (n *Notifier) answer(resp *http.Response, now time.Time) error {
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		// Drain a little so the connection is reused; a receiver that
		// answers with megabytes does not get them read.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		return nil
	}
	err := fmt.Errorf("%s%s", resp.Status, n.excerpt(resp.Body))
	switch {
	case code == http.StatusGone:
		return &notify.Error{Reason: "gone", Permanent: true, Disable: true, Err: err}
	case code == http.StatusRequestTimeout:
		return &notify.Error{Reason: "timeout", RetryAfter: retryAfter(resp.Header, now), Err: err}
	case code == http.StatusTooManyRequests:
		return &notify.Error{Reason: "rate_limited", RetryAfter: retryAfter(resp.Header, now), Err: err}
	case code >= 500:
		return &notify.Error{Reason: "server_error", RetryAfter: retryAfter(resp.Header, now), Err: err}
	case code >= 400:
		return &notify.Error{Reason: "client_error", Permanent: true, Err: err}
	case code >= 300:
		return &notify.Error{Reason: "client_error", Permanent: true,
			Err: fmt.Errorf("%w: redirects are not followed, configure the URL it points to", err)}
	default:
		return &notify.Error{Reason: "other", Err: err}
	}
}

// excerpt is the start of an error answer, made printable, on one line and
// with secrets masked; "" for an empty body.
func (n *Notifier) excerpt(body io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(body, maxErrorBody))
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r < 0x20 || r == 0x7f || r == ' '
	}), " ")
	if s == "" {
		return ""
	}
	// Mask before cutting: a secret across the cut would leave its start.
	s = probes.Redact(s, n.secrets)
	const maxShown = 1 << 10
	if len(s) > maxShown {
		cut := maxShown
		for cut > 0 && !isRuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return ": " + s
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// maxRetryAfter caps a receiver's Retry-After: a receiver asking for a day
// does not park a support case for a day.
const maxRetryAfter = time.Hour

// retryAfter reads Retry-After, in seconds or as an HTTP date
// (RFC 9110 §10.2.3); 0 when absent, unreadable or past.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}
