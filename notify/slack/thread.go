package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/forewarn/forewarn/notify"
)

// thread is a case's Slack thread as the state store keeps it.
type thread struct {
	Channel string `json:"channel,omitempty"` // the channel's ID
	TS      string `json:"ts,omitempty"`      // the root message; "" until posted
	// Seq is the last event delivered; RootSeq the event the root was last
	// rendered from.
	Seq     int `json:"seq,omitempty"`
	RootSeq int `json:"root_seq,omitempty"`
	// Kind and Severity are the case's as of Seq, for the next
	// severity_changed reply to say what they were.
	Kind     string `json:"kind,omitempty"`
	Severity string `json:"severity,omitempty"`
	// Pending is the post started and not known to be done.
	Pending *attempt `json:"pending,omitempty"`
}

// attempt records a post about to be sent, saved before it is: after a
// crash or an error, the next Deliver looks for the message it may have
// left before posting again.
type attempt struct {
	Event     string    `json:"event"`
	Seq       int       `json:"seq"`
	Channel   string    `json:"channel"`              // as configured: a name or an ID
	ChannelID string    `json:"channel_id,omitempty"` // when known
	ThreadTS  string    `json:"thread_ts,omitempty"`  // a reply's root
	Kind      string    `json:"kind,omitempty"`
	Severity  string    `json:"severity,omitempty"`
	At        time.Time `json:"at"`
}

func threadKey(caseID string) string   { return "slack/thread/" + caseID }
func channelKey(channel string) string { return "slack/channel/" + channel }

func (n *Notifier) loadThread(ctx context.Context, caseID string) (thread, error) {
	var th thread
	b, err := n.state.LoadState(ctx, threadKey(caseID))
	if err != nil {
		if n.isNotFound(err) {
			return th, nil
		}
		return th, &notify.Error{Reason: "other", Err: fmt.Errorf("slack: load the thread of case %s: %w", caseID, err)}
	}
	if len(b) == 0 {
		return th, nil
	}
	if err := json.Unmarshal(b, &th); err != nil {
		// A state this package cannot read is no reason to stop the case:
		// its events go on in a new thread.
		n.log.Warn("unreadable thread state; the case's next message starts a new thread", "case", caseID, "error", err)
		return thread{}, nil
	}
	return th, nil
}

func (n *Notifier) saveThread(ctx context.Context, caseID string, th *thread) error {
	b, err := json.Marshal(th)
	if err != nil {
		return &notify.Error{Reason: "other", Err: fmt.Errorf("slack: encode the thread of case %s: %w", caseID, err)}
	}
	if err := n.state.SaveState(ctx, threadKey(caseID), b); err != nil {
		return &notify.Error{Reason: "other", Err: fmt.Errorf("slack: save the thread of case %s: %w", caseID, err)}
	}
	return nil
}

// The lookup window around an attempt, and how much of it is read.
const (
	lookupSkew     = 15 * time.Minute // our clock against Slack's ts, and the post's own time
	lookupPageSize = 50
	lookupMaxPages = 4
)

// findRoot looks for the top-level message that attempt p may have posted.
// It returns "" when there is none, or when the channel's history cannot
// be read (then delivery falls back to at least once).
func (n *Notifier) findRoot(ctx context.Context, caseID string, p *attempt) (ts, channelID string, err error) {
	channelID = p.ChannelID
	if channelID == "" {
		if channelID, err = n.resolveChannel(ctx, p.Channel); err != nil || channelID == "" {
			return "", "", err
		}
	}
	oldest, latest := window(p.At)
	cursor := ""
	for range lookupMaxPages {
		res, err := n.api.GetConversationHistoryContext(ctx, &slackgo.GetConversationHistoryParameters{
			ChannelID: channelID, Cursor: cursor, Oldest: oldest, Latest: latest, Inclusive: true,
			Limit: lookupPageSize, IncludeAllMetadata: true,
		})
		if err != nil {
			return "", "", n.lookupFailed(err, "conversations.history", channelID, caseID)
		}
		for _, m := range res.Messages {
			if metadataEventID(m.Metadata) == p.Event {
				return m.Timestamp, channelID, nil
			}
		}
		cursor = res.ResponseMetaData.NextCursor
		if !res.HasMore || cursor == "" {
			break
		}
	}
	return "", channelID, nil
}

// findReply looks in th's thread for the reply attempt p may have posted.
func (n *Notifier) findReply(ctx context.Context, caseID string, th *thread, p *attempt) (string, error) {
	oldest, latest := window(p.At)
	cursor := ""
	for range lookupMaxPages {
		msgs, hasMore, next, err := n.api.GetConversationRepliesContext(ctx, &slackgo.GetConversationRepliesParameters{
			ChannelID: th.Channel, Timestamp: th.TS, Cursor: cursor, Oldest: oldest, Latest: latest,
			Inclusive: true, Limit: lookupPageSize, IncludeAllMetadata: true,
		})
		if err != nil {
			return "", n.lookupFailed(err, "conversations.replies", th.Channel, caseID)
		}
		for _, m := range msgs {
			if metadataEventID(m.Metadata) == p.Event {
				return m.Timestamp, nil
			}
		}
		cursor = next
		if !hasMore || cursor == "" {
			break
		}
	}
	return "", nil
}

// lookupFailed decides what a failed history lookup means: an error worth
// retrying is returned (never post when we cannot tell); any other (no
// scope, not a member) is logged and makes the caller post again.
func (n *Notifier) lookupFailed(err error, method, channel, caseID string) error {
	ne := n.fail(err, method, channel)
	if !ne.Permanent {
		return ne
	}
	n.warnOnce(method+"/"+channel, "cannot read the channel's history to rule out a duplicate; posting again (at-least-once)",
		"case", caseID, "channel", channel, "method", method, "error", ne.Err.Error())
	return nil
}

func window(at time.Time) (oldest, latest string) {
	return slackTS(at.Add(-lookupSkew)), slackTS(at.Add(lookupSkew))
}

func slackTS(t time.Time) string { return fmt.Sprintf("%d.%06d", t.Unix(), t.Nanosecond()/1000) }

func metadataEventID(m slackgo.SlackMetadata) string {
	if m.EventType != metadataEventType {
		return ""
	}
	id, _ := m.EventPayload["event_id"].(string)
	return id
}

// channelIDPattern matches Slack conversation IDs: public (C), private (G)
// and direct (D) channels.
var channelIDPattern = regexp.MustCompile(`^[CGD][A-Z0-9]{6,}$`)

func (n *Notifier) knownChannelID(channel string) string {
	if channelIDPattern.MatchString(channel) {
		return channel
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.channelIDs[channel]
}

// rememberChannel keeps the ID Slack answered a post to a channel name
// with, for later history lookups.
func (n *Notifier) rememberChannel(ctx context.Context, channel, id string) {
	if channel == id || id == "" || n.knownChannelID(channel) == id {
		return
	}
	n.mu.Lock()
	n.channelIDs[channel] = id
	n.mu.Unlock()
	if err := n.state.SaveState(ctx, channelKey(channel), []byte(id)); err != nil {
		n.log.Warn("could not save a channel's ID", "channel", channel, "error", err)
	}
}

// resolveChannel finds a channel's ID by name: from what posts taught us,
// else from conversations.list. "" when it cannot be found or listed.
func (n *Notifier) resolveChannel(ctx context.Context, channel string) (string, error) {
	if id := n.knownChannelID(channel); id != "" {
		return id, nil
	}
	b, err := n.state.LoadState(ctx, channelKey(channel))
	switch {
	case err == nil && len(b) > 0:
		n.rememberChannel(ctx, channel, string(b))
		return string(b), nil
	case err != nil && !n.isNotFound(err):
		return "", &notify.Error{Reason: "other", Err: fmt.Errorf("slack: load the ID of channel %s: %w", channel, err)}
	}
	name := strings.TrimPrefix(channel, "#")
	cursor := ""
	for range 50 {
		chans, next, err := n.api.GetConversationsContext(ctx, &slackgo.GetConversationsParameters{
			Cursor: cursor, ExcludeArchived: true, Limit: 200, Types: []string{"public_channel", "private_channel"},
		})
		if err != nil {
			return "", n.lookupFailed(err, "conversations.list", channel, "")
		}
		for _, c := range chans {
			if c.Name == name {
				n.rememberChannel(ctx, channel, c.ID)
				return c.ID, nil
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	n.warnOnce("resolve/"+channel, "channel not found by name; posting again (at-least-once)", "channel", channel)
	return "", nil
}

func (n *Notifier) warnOnce(key, msg string, args ...any) {
	n.mu.Lock()
	seen := n.warned[key]
	n.warned[key] = true
	n.mu.Unlock()
	if !seen {
		n.log.Warn(msg, args...)
	}
}
