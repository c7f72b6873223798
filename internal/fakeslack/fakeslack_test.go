package fakeslack

import (
	"errors"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

func newClient(t *testing.T) (*Server, *slack.Client) {
	f := New(t, map[string]string{"support": "C0SUPPORT1"})
	return f, slack.New("xoxb-fake", slack.OptionAPIURL(f.URL()))
}

func post(t *testing.T, c *slack.Client, opts ...slack.MsgOption) string {
	t.Helper()
	_, ts, err := c.PostMessage("#support", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// A thread with metadata reads back as posted, a page at a time, and an
// update edits the root in place.
func TestThreadsPagesAndUpdates(t *testing.T) {
	f, c := newClient(t)
	meta := slack.SlackMetadata{EventType: "forewarn_case_event", EventPayload: map[string]any{"event_id": "c1:1", "case_id": "c1"}}
	root := post(t, c, slack.MsgOptionText("opened", false), slack.MsgOptionMetadata(meta))
	second := post(t, c, slack.MsgOptionText("another root", false))
	reply := post(t, c, slack.MsgOptionText("reply", false), slack.MsgOptionTS(root))
	if !(root < second && second < reply) {
		t.Errorf("ts %s, %s, %s: want increasing", root, second, reply)
	}
	if _, _, _, err := c.UpdateMessage("C0SUPPORT1", root, slack.MsgOptionText("resolved", false)); err != nil {
		t.Fatal(err)
	}

	h, err := c.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: "C0SUPPORT1", Limit: 1, IncludeAllMetadata: true})
	if err != nil || len(h.Messages) != 1 || h.Messages[0].Timestamp != second || !h.HasMore {
		t.Fatalf("history page 1: %+v, %v; want the newest root and more", h, err)
	}
	h, err = c.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: "C0SUPPORT1", Limit: 1,
		Cursor: h.ResponseMetaData.NextCursor, IncludeAllMetadata: true})
	if err != nil || len(h.Messages) != 1 || h.Messages[0].Timestamp != root || h.HasMore ||
		h.Messages[0].Metadata.EventPayload["event_id"] != "c1:1" {
		t.Fatalf("history page 2: %+v, %v; want the first root with its metadata, last", h, err)
	}
	msgs, _, _, err := c.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: "C0SUPPORT1", Timestamp: root})
	if err != nil || len(msgs) != 2 || msgs[1].Timestamp != reply {
		t.Fatalf("replies: %+v, %v; want the root and its reply", msgs, err)
	}

	roots := f.Roots()
	if len(roots) != 2 || roots[0].Text != "resolved" || roots[0].Updates != 1 || roots[0].CaseID() != "c1" || roots[0].EventID() != "c1:1" {
		t.Errorf("roots %+v", roots)
	}
	if r := f.Replies(root); len(r) != 1 || r[0].Text != "reply" {
		t.Errorf("replies %+v", r)
	}
	if !f.Tokens()["xoxb-fake"] || f.Calls("chat.postMessage") != 3 {
		t.Errorf("tokens %v, %d posts", f.Tokens(), f.Calls("chat.postMessage"))
	}
}

func TestFailureModes(t *testing.T) {
	f, c := newClient(t)
	f.SetRetryAfter(7)
	f.SetMode(RateLimited)
	var rl *slack.RateLimitedError
	if _, _, err := c.PostMessage("#support"); !errors.As(err, &rl) || rl.RetryAfter != 7*time.Second {
		t.Errorf("rate limited: %v, want Retry-After 7s", err)
	}
	f.SetModeFor("chat.postMessage", DropAnswer)
	if _, _, err := c.PostMessage("#support", slack.MsgOptionText("lost answer", false)); err == nil {
		t.Error("dropped answer: no error")
	}
	if _, _, err := c.GetConversations(&slack.GetConversationsParameters{}); err != nil {
		t.Errorf("conversations.list while only posts drop: %v", err)
	}
	f.SetMode(Healthy)
	f.SetError("chat.postMessage", "not_in_channel")
	if _, _, err := c.PostMessage("#support"); err == nil || err.Error() != "not_in_channel" {
		t.Errorf("error code: %v", err)
	}
	if f.Failures() != 3 || len(f.Messages()) != 1 {
		t.Errorf("%d failures, %d messages; want 3 and the dropped one stored:\n%s", f.Failures(), len(f.Messages()), f.Summary())
	}
}

// A held post is stored at once and answered on Release.
func TestHoldNextPost(t *testing.T) {
	f, c := newClient(t)
	posted := f.HoldNextPost()
	done := make(chan error, 1)
	go func() {
		_, _, err := c.PostMessage("#support", slack.MsgOptionText("held", false))
		done <- err
	}()
	m := <-posted
	select {
	case err := <-done:
		t.Fatalf("answered before Release: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	f.Release()
	if err := <-done; err != nil || m.Text != "held" {
		t.Errorf("held %+v: %v", m, err)
	}
}
