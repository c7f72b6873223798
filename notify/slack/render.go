package slack

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	slackgo "github.com/slack-go/slack"

	"github.com/forewarn/forewarn/cases"
	"github.com/forewarn/forewarn/notify"
)

// message is what one post or edit sends: the notification text and,
// for a root, its blocks.
type message struct {
	text   string
	blocks []slackgo.Block
}

// maxCauseBlocks bounds the causes shown in full: Slack takes 50 blocks.
const maxCauseBlocks = 10

func mrkdwn(s string) *slackgo.TextBlockObject {
	// verbatim: no auto-linking of channel names or URLs in tenant text.
	return slackgo.NewTextBlockObject(slackgo.MarkdownType, s, false, true)
}

func section(s string) *slackgo.SectionBlock { return slackgo.NewSectionBlock(mrkdwn(s), nil, nil) }

// rootMessage renders a case's root message from the case as the event
// carries it. note, when set, is the event's change, for a root posted in
// place of a lost one.
func rootMessage(e notify.Event, note string) message {
	c := e.Case
	blocks := []slackgo.Block{
		slackgo.NewHeaderBlock(slackgo.NewTextBlockObject(slackgo.PlainTextType, headerText(e), true, false)),
		slackgo.NewSectionBlock(nil, rootFields(e), nil),
	}
	if !c.Open() {
		blocks = append(blocks, section(fmt.Sprintf("*✅ Resolved after %s* · %s", humanDuration(caseDuration(c)), slackDate(c.ResolvedAt))))
	}
	if note != "" {
		blocks = append(blocks, section(fit("*Latest:* "+note, maxSection)),
			slackgo.NewContextBlock("", mrkdwn("forewarn no longer knew this case's thread, so this message starts a new one.")))
	}
	blocks = append(blocks, slackgo.NewDividerBlock())
	blocks = append(blocks, causeBlocks(c)...)
	if l := links(e.Links); l != "" {
		blocks = append(blocks, section(l))
	}
	blocks = append(blocks, slackgo.NewContextBlock("", mrkdwn("forewarn case `"+escFit(c.ID, 200)+"`")))
	return message{text: rootText(e), blocks: blocks}
}

func headerText(e notify.Event) string {
	title := kindTitle(e.Case.Kind) + " — "
	prefix := severityEmoji(e.Case.Severity) + " " + title
	if !e.Case.Open() {
		prefix = "✅ Resolved: " + title
	}
	return prefix + escFit(tenantLabel(e), maxHeader-utf8.RuneCountInString(prefix))
}

// rootText is the root's notification and fallback text.
func rootText(e notify.Event) string {
	c := e.Case
	head := kindTitle(c.Kind) + " — " + esc(tenantLabel(e))
	if !c.Open() {
		return fit(fmt.Sprintf("✅ Resolved after %s — %s", humanDuration(caseDuration(c)), head), maxText)
	}
	var checks []string
	for _, x := range c.ActiveCauses() {
		checks = append(checks, esc(x.Check))
	}
	text := severityEmoji(c.Severity) + " " + head
	if len(checks) > 0 {
		text += ": " + strings.Join(checks, ", ") + " failing since " + utcDate(c.OpenedAt)
	}
	return fit(text, maxText)
}

func rootFields(e notify.Event) []*slackgo.TextBlockObject {
	c := e.Case
	plan := firstNonEmpty(e.Tenant.Plan, c.Tenant.Plan)
	seats := e.Tenant.Seats
	if seats == 0 {
		seats = c.Tenant.Seats
	}
	field := func(name, value string) *slackgo.TextBlockObject {
		return mrkdwn(fit("*"+name+"*\n"+value, maxField))
	}
	fields := []*slackgo.TextBlockObject{
		field("Plan", orDash(escFit(plan, 200))),
		field("Seats", orDash(seatsText(seats))),
		field("Severity", orDash(esc(string(c.Severity)))),
		field("Opened", slackDate(c.OpenedAt)),
	}
	if e.Tenant.Region != "" {
		fields = append(fields, field("Region", escFit(e.Tenant.Region, 200)))
	}
	if c.Reopens > 0 {
		fields = append(fields, field("Reopened", fmt.Sprintf("%s (%d×)", slackDate(c.ReopenedAt), c.Reopens)))
	}
	if !c.Open() {
		fields = append(fields, field("Resolved", slackDate(c.ResolvedAt)), field("Duration", humanDuration(caseDuration(c))))
	}
	return fields
}

// causeBlocks shows the failing causes in full, with the first error each
// had; recovered causes of an open case get one line between them. A
// resolved case shows every cause in full: what failed, and for how long.
func causeBlocks(c cases.Case) []slackgo.Block {
	var blocks []slackgo.Block
	var recovered []string
	shown := 0
	for _, x := range c.Causes {
		if c.Open() && !x.Active {
			recovered = append(recovered, fmt.Sprintf("*%s* after %s", escFit(x.Check, 100), humanDuration(x.ResolvedAt.Sub(x.Since))))
			continue
		}
		if shown == maxCauseBlocks {
			more, word := len(c.Causes)-shown, "causes"
			if more == 1 {
				word = "cause"
			}
			blocks = append(blocks, section(fmt.Sprintf("…and %d more %s.", more, word)))
			break
		}
		shown++
		blocks = append(blocks, section(causeText(x)))
		if x.Capacity != nil {
			blocks = append(blocks, capacityBlocks(x.Capacity)...)
		}
	}
	if len(recovered) > 0 {
		blocks = append(blocks, section(fit("Recovered: "+strings.Join(recovered, " · "), maxSection)))
	}
	if len(blocks) == 0 {
		blocks = append(blocks, section("No check is failing now."))
	}
	return blocks
}

func causeText(x cases.Cause) string {
	var b strings.Builder
	b.WriteString(causeTitle(x))
	if x.Active {
		fmt.Fprintf(&b, "\nFailing since %s · %s", slackDate(x.Since), plural(x.Failures, "failure", "failures"))
	} else {
		fmt.Fprintf(&b, "\nFailed from %s, recovered after %s · %s", slackDate(x.Since),
			humanDuration(x.ResolvedAt.Sub(x.Since)), plural(x.Failures, "failure", "failures"))
	}
	if !x.CertExpiry.IsZero() {
		fmt.Fprintf(&b, "\nCertificate expires %s", slackDate(x.CertExpiry))
	}
	if x.FirstMessage != "" {
		b.WriteString("\nFirst error:\n")
		b.WriteString(codeBlock(x.FirstMessage, maxSection-utf8.RuneCountInString(b.String())))
	}
	return fit(b.String(), maxSection)
}

// causeTitle is "*sign-in* · login · outage · `status`".
func causeTitle(x cases.Cause) string {
	parts := []string{"*" + escFit(x.Check, 200) + "*"}
	for _, p := range []string{string(x.Probe), string(x.Kind)} {
		if p != "" {
			parts = append(parts, escFit(p, 50))
		}
	}
	if x.Reason != "" {
		parts = append(parts, "`"+escFit(x.Reason, 100)+"`")
	}
	return strings.Join(parts, " · ")
}

func links(l notify.Links) string {
	var parts []string
	if s := link(l.Grafana, "📈 Grafana dashboard"); s != "" {
		parts = append(parts, s)
	}
	if s := link(l.StatusPage, "📄 Status page"); s != "" {
		parts = append(parts, s)
	}
	return strings.Join(parts, "   ")
}

func tenantLabel(e notify.Event) string {
	id := firstNonEmpty(e.Tenant.ID, e.Case.Tenant.ID)
	name := firstNonEmpty(e.Tenant.Name, e.Case.Tenant.Name)
	switch {
	case name == "" || name == id:
		return firstNonEmpty(id, "unknown tenant")
	case id == "":
		return name
	}
	return name + " (" + id + ")"
}

func kindTitle(k cases.Kind) string {
	switch k {
	case cases.KindOutage:
		return "Outage"
	case cases.KindDegraded:
		return "Degraded"
	case cases.KindCapacity:
		return "Capacity below seats"
	case cases.KindExpiring:
		return "Certificate expiring"
	case "":
		return "Case"
	}
	return esc(string(k))
}

func severityEmoji(s cases.Severity) string {
	switch s {
	case cases.SeverityCritical:
		return "🔴"
	case cases.SeverityMajor:
		return "🟠"
	case cases.SeverityWarning:
		return "🟡"
	case cases.SeverityInfo:
		return "🔵"
	}
	return "⚪"
}

func caseDuration(c cases.Case) time.Duration {
	if c.Duration > 0 {
		return c.Duration
	}
	if !c.ResolvedAt.IsZero() {
		return c.ResolvedAt.Sub(c.OpenedAt)
	}
	return 0
}

func seatsText(n int) string {
	if n <= 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
