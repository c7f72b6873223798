package slack

import (
	"fmt"
	"slices"
	"strings"

	slackgo "github.com/slack-go/slack"

	"github.com/forewarn/forewarn/cases"
	"github.com/forewarn/forewarn/notify"
)

// maxReplyError bounds the error text quoted in a reply.
const maxReplyError = 1500

// replyText is a short reply telling one change of the case; th is the
// thread as it was before the event, for what the change was from.
func replyText(e notify.Event, th thread) string {
	c := e.Case
	x := causeOf(c, e.Check)
	var text string
	switch eventType(e) {
	case "opened":
		text = "🆕 Case opened."
	case "cause_added":
		text = "➕ " + causeLine(x, "joined the case")
		text += errorLine("First error", x, true)
	case "updated":
		text = "🔄 " + causeLine(x, "changed")
		text += errorLine("Latest error", x, false)
	case "severity_changed":
		text = severityLine(c, th)
		if x != nil {
			text += "\n" + causeLine(x, "now")
		}
	case "cause_resolved":
		text = "✅ " + recoveredLine(x) + stillFailing(c)
	case "reopened":
		text = fmt.Sprintf("🔁 *Case reopened* (%d×). ", max(c.Reopens, 1)) + causeLine(x, "fails again")
		text += errorLine("First error", x, true)
	case "resolved":
		text = fmt.Sprintf("✅ *Resolved after %s.* Every check has recovered.", humanDuration(caseDuration(c)))
	default:
		text = "ℹ️ Case event " + esc(e.Type) + "."
	}
	return fit(text, maxSection)
}

func causeOf(c cases.Case, check string) *cases.Cause {
	if check == "" {
		return nil
	}
	for i := range c.Causes {
		if c.Causes[i].Check == check {
			return &c.Causes[i]
		}
	}
	return nil
}

// causeLine is "*sign-in* · login · outage · `status` joined the case:
// failing since …, 3 failures." or a capacity cause's knee.
func causeLine(x *cases.Cause, verb string) string {
	if x == nil {
		return "A check " + verb + "."
	}
	line := causeTitle(*x) + " " + verb
	switch {
	case x.Capacity != nil:
		p := x.Capacity
		line += fmt.Sprintf(": knee %d users against %d required (%d seats)", p.Knee, p.Required, p.Seats)
		if h, ok := headroom(p); ok {
			line += fmt.Sprintf(", headroom %+.0f %%", h)
		}
	case !x.CertExpiry.IsZero():
		line += ": certificate expires " + slackDate(x.CertExpiry)
	default:
		line += fmt.Sprintf(": failing since %s, %s", slackDate(x.Since), plural(x.Failures, "failure", "failures"))
	}
	return line + "."
}

func errorLine(label string, x *cases.Cause, first bool) string {
	if x == nil {
		return ""
	}
	msg := x.Message
	if first {
		msg = x.FirstMessage
	}
	if block := codeBlock(msg, maxReplyError); block != "" {
		return "\n" + label + ":\n" + block
	}
	return ""
}

// severityLine is "⬆️ Severity major → *critical* · degraded → *outage*".
func severityLine(c cases.Case, th thread) string {
	arrow := "↕️"
	if prev := slices.Index(cases.Severities, cases.Severity(th.Severity)); prev >= 0 {
		switch now := slices.Index(cases.Severities, c.Severity); {
		case now > prev:
			arrow = "⬆️"
		case now < prev:
			arrow = "⬇️"
		}
	}
	text := arrow + " Severity "
	if th.Severity != "" && th.Severity != string(c.Severity) {
		text += esc(th.Severity) + " → "
	}
	text += "*" + esc(string(c.Severity)) + "*"
	if th.Kind != "" && th.Kind != string(c.Kind) {
		text += " · " + esc(th.Kind) + " → *" + esc(string(c.Kind)) + "*"
	} else {
		text += " · " + esc(string(c.Kind))
	}
	return text
}

func recoveredLine(x *cases.Cause) string {
	if x == nil {
		return "A check recovered."
	}
	return fmt.Sprintf("*%s* recovered after %s (%s).", escFit(x.Check, 200),
		humanDuration(x.ResolvedAt.Sub(x.Since)), plural(x.Failures, "failure", "failures"))
}

func stillFailing(c cases.Case) string {
	var names []string
	for _, x := range c.ActiveCauses() {
		names = append(names, "*"+escFit(x.Check, 100)+"*")
	}
	if len(names) == 0 {
		return " No check is failing; the case resolves once its minimum duration has passed."
	}
	return " Still failing: " + strings.Join(names, ", ") + "."
}

// testMessage is the standalone message of `forewarn notify test`.
func testMessage(e notify.Event, channel string) message {
	text := "🧪 *forewarn test notification*\nSlack delivery works: cases are posted to " + escFit(channel, 100) +
		", or to a tenant's own channel when it has one."
	if label := tenantLabel(e); e.Tenant.ID != "" || e.Tenant.Name != "" {
		text += "\nTenant: " + escFit(label, 300)
		if e.Tenant.SlackChannel != "" {
			text += ", channel " + escFit(e.Tenant.SlackChannel, 100)
		}
	}
	blocks := []slackgo.Block{section(text)}
	if !e.Time.IsZero() {
		blocks = append(blocks, slackgo.NewContextBlock("", mrkdwn("Sent "+slackDate(e.Time))))
	}
	return message{text: "forewarn test notification", blocks: blocks}
}
