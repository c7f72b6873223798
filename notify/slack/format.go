package slack

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Slack's limits on text, in characters.
// https://docs.slack.dev/reference/block-kit/blocks/header-block
// https://docs.slack.dev/reference/block-kit/blocks/section-block
const (
	maxHeader  = 150
	maxSection = 3000
	maxField   = 2000
	maxText    = 3000 // the top-level text: Slack takes 40,000, notifications show far less
)

// esc escapes Slack's control characters in text that is not forewarn's
// own: "<!channel>" from a tenant name must stay text.
// https://docs.slack.dev/messaging/formatting-message-text#escaping
var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func esc(s string) string { return escaper.Replace(s) }

// escFit escapes s and cuts it, with an ellipsis, so that the escaped text
// has at most limit characters; an entity is never cut in two.
func escFit(s string, limit int) string {
	if e := esc(s); utf8.RuneCountInString(e) <= limit {
		return e
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		piece := esc(string(r))
		w := utf8.RuneCountInString(piece)
		if n+w > limit-1 {
			break
		}
		b.WriteString(piece)
		n += w
	}
	b.WriteString("…")
	return b.String()
}

// fit cuts forewarn's own (already escaped) text to limit characters.
func fit(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	r := []rune(s)
	return string(r[:limit-1]) + "…"
}

// codeBlock puts untrusted text in a preformatted block of at most limit
// characters. Backtick fences inside it are broken up so the text cannot
// close the block.
func codeBlock(s string, limit int) string {
	s = strings.TrimSpace(s)
	if s == "" || limit < 10 {
		return ""
	}
	s = strings.ReplaceAll(s, "```", "`\u200b``")
	return "```" + escFit(s, limit-6) + "```"
}

// slackDate renders t in each reader's time zone, falling back to UTC.
// https://docs.slack.dev/messaging/formatting-message-text#date-formatting
func slackDate(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), utcDate(t))
}

func utcDate(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// humanDuration is "1h 12m", "3d 4h", "45s".
func humanDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	if d < time.Minute {
		return fmt.Sprintf("%ds", int(d.Round(time.Second)/time.Second))
	}
	d = d.Round(time.Minute)
	days, hours, mins := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case days > 0 && hours > 0:
		return fmt.Sprintf("%dd %dh", days, hours)
	case days > 0:
		return fmt.Sprintf("%dd", days)
	case hours > 0 && mins > 0:
		return fmt.Sprintf("%dh %dm", hours, mins)
	case hours > 0:
		return fmt.Sprintf("%dh", hours)
	}
	return fmt.Sprintf("%dm", mins)
}

// latency is a p95 for the curve table: "812ms", "2.1s".
func latency(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

// link is a mrkdwn link to an http(s) URL, or "" for anything else.
func link(raw, label string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(raw) > 2000 {
		return ""
	}
	safe := strings.NewReplacer("&", "&amp;", "<", "%3C", ">", "%3E", "|", "%7C", " ", "%20").Replace(raw)
	return "<" + safe + "|" + label + ">"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
