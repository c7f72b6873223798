package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/forewarn/forewarn/notify"
)

// defaultRetryAfter is the wait after a 429 whose Retry-After could not be
// read.
const defaultRetryAfter = 30 * time.Second

// rateLimited answers for Slack while its last Retry-After runs: calling
// again before would only be refused again and count against the limit.
func (n *Notifier) rateLimited() error {
	n.mu.Lock()
	wait := n.notBefore.Sub(n.now())
	n.mu.Unlock()
	if wait <= 0 {
		return nil
	}
	return &notify.Error{Reason: "rate_limited", RetryAfter: wait,
		Err: fmt.Errorf("slack: rate limited, waiting %s as Slack asked", wait.Round(time.Second))}
}

// fail turns an error of a Slack call into a *notify.Error that says
// whether to retry, with the token scrubbed from its text.
func (n *Notifier) fail(err error, method, channel string) *notify.Error {
	ne := classify(err, method, channel)
	if n.token != "" && strings.Contains(ne.Err.Error(), n.token) {
		ne.Err = errors.New(strings.ReplaceAll(ne.Err.Error(), n.token, "[token]"))
	}
	if ne.Reason == "rate_limited" && ne.RetryAfter > 0 {
		n.mu.Lock()
		if until := n.now().Add(ne.RetryAfter); until.After(n.notBefore) {
			n.notBefore = until
		}
		n.mu.Unlock()
	}
	return ne
}

func classify(err error, method, channel string) *notify.Error {
	where := "slack: " + method
	if channel != "" {
		where += " " + channel
	}
	var (
		rl  *slackgo.RateLimitedError
		sc  slackgo.StatusCodeError
		se  slackgo.SlackErrorResponse
		ne  net.Error
		num *strconv.NumError
		syn *json.SyntaxError
	)
	switch {
	case errors.As(err, &rl):
		after := rl.RetryAfter
		if after <= 0 {
			after = time.Second
		}
		return &notify.Error{Reason: "rate_limited", RetryAfter: after, Err: fmt.Errorf("%s: rate limited, retry after %s", where, after)}
	case errors.As(err, &num):
		// slack-go returns the parse error of a Retry-After that is not a
		// number of seconds; it reads that header only on a 429.
		return &notify.Error{Reason: "rate_limited", RetryAfter: defaultRetryAfter, Err: fmt.Errorf("%s: rate limited (unreadable Retry-After)", where)}
	case errors.As(err, &sc):
		return statusError(sc, where)
	case errors.As(err, &se):
		return slackError(se, where, channel)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return &notify.Error{Reason: "timeout", Err: fmt.Errorf("%s: %w", where, err)}
	case errors.Is(err, context.Canceled):
		return &notify.Error{Reason: "other", Err: fmt.Errorf("%s: %w", where, err)}
	case errors.As(err, &ne), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &notify.Error{Reason: "connect", Err: fmt.Errorf("%s: %w", where, err)}
	case errors.As(err, &syn):
		return &notify.Error{Reason: "server_error", Err: fmt.Errorf("%s: unreadable answer: %w", where, err)}
	}
	return &notify.Error{Reason: "other", Err: fmt.Errorf("%s: %w", where, err)}
}

func statusError(sc slackgo.StatusCodeError, where string) *notify.Error {
	err := fmt.Errorf("%s: HTTP %d", where, sc.Code)
	switch {
	case sc.Code == http.StatusTooManyRequests:
		return &notify.Error{Reason: "rate_limited", RetryAfter: defaultRetryAfter, Err: err}
	case sc.Code == http.StatusRequestTimeout:
		return &notify.Error{Reason: "timeout", Err: err}
	case sc.Code >= 500:
		return &notify.Error{Reason: "server_error", Err: err}
	}
	return &notify.Error{Reason: "client_error", Permanent: true,
		Err: fmt.Errorf("%s: HTTP %d: check the Slack API URL", where, sc.Code)}
}

// slackError sorts Slack's own error codes (an HTTP 200 with ok: false):
// a few are Slack's trouble and retried; the rest need a person.
func slackError(se slackgo.SlackErrorResponse, where, channel string) *notify.Error {
	code := se.Err
	permanent := func(reason, hint string) *notify.Error {
		return &notify.Error{Reason: reason, Permanent: true, Err: fmt.Errorf("%s: %s: %s", where, code, hint)}
	}
	switch code {
	case "ratelimited", "rate_limited":
		return &notify.Error{Reason: "rate_limited", RetryAfter: defaultRetryAfter, Err: fmt.Errorf("%s: %s", where, code)}
	case "internal_error", "fatal_error", "service_unavailable", "request_timeout", "team_added_to_org":
		return &notify.Error{Reason: "server_error", Err: fmt.Errorf("%s: %s", where, code)}
	case "channel_not_found":
		return permanent("client_error", fmt.Sprintf("no channel %q the bot can see: check the channel's name or ID, and invite the bot to a private channel", channel))
	case "not_in_channel":
		return permanent("client_error", fmt.Sprintf("the bot is not a member of %s: invite it (/invite @<bot>) or grant chat:write.public", channel))
	case "is_archived":
		return permanent("client_error", fmt.Sprintf("channel %s is archived: unarchive it or configure another channel", channel))
	case "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "not_allowed_token_type":
		return permanent("client_error", "the Slack token is invalid, revoked or not a bot token: set a valid xoxb- token in alerting.slack.token")
	case "missing_scope":
		needed := se.Needed
		if needed == "" {
			needed = "chat:write, channels:history, groups:history"
		}
		return permanent("client_error", fmt.Sprintf("the token lacks a scope (needed: %s): add chat:write, channels:history and groups:history (channels:read, groups:read for channels given by name) to the Slack app and reinstall it", needed))
	case "invalid_blocks", "invalid_blocks_format", "msg_too_long", "no_text", "invalid_metadata_format",
		"invalid_metadata_schema", "metadata_too_large", "invalid_arguments", "invalid_array_arg", "too_many_attachments":
		return permanent("invalid", "Slack rejected the message as built")
	}
	return permanent("client_error", "Slack refused the call")
}
