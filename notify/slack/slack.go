package slack

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/forewarn/forewarn/notify"
	"github.com/forewarn/forewarn/store"
)

// DefaultAPIURL is Slack's Web API.
const DefaultAPIURL = "https://slack.com/api/"

// StateStore keeps the notifier's small durable state: one thread per case
// and the channel IDs learned from posts. *store.Store satisfies it.
type StateStore interface {
	SaveState(ctx context.Context, key string, value []byte) error
	LoadState(ctx context.Context, key string) ([]byte, error)
	DeleteState(ctx context.Context, key string) error
}

var _ StateStore = (*store.Store)(nil)

// Options configure a Notifier.
type Options struct {
	// Token is the bot token (xoxb-…). It is a secret: never logged, never
	// in an error.
	Token string
	// APIURL is the Web API base URL; empty: DefaultAPIURL. Tests point it
	// at a fake Slack.
	APIURL string
	// DefaultChannel receives the cases of tenants without a channel of
	// their own, and test notifications. A channel ID (C0123…) or a name
	// (#saas-support).
	DefaultChannel string
	// State keeps the thread of each case across restarts. Required.
	State StateStore
	// IsNotFound tells a missing key in State.LoadState from a failure;
	// nil: errors.Is(err, store.ErrNotFound).
	IsNotFound func(error) bool
	// HTTPClient calls Slack; nil: a client with a 10 s timeout.
	HTTPClient *http.Client
	// Logger; nil: slog.Default().
	Logger *slog.Logger
}

// Notifier posts case events to Slack, one thread per case. It is safe for
// concurrent use; events of one case are delivered one at a time.
type Notifier struct {
	api            *slackgo.Client
	token          string
	defaultChannel string
	state          StateStore
	isNotFound     func(error) bool
	log            *slog.Logger
	now            func() time.Time

	caseLocks [64]sync.Mutex

	mu         sync.Mutex
	notBefore  time.Time         // Slack's Retry-After: no call until then
	channelIDs map[string]string // channel name → ID, learned from posts
	warned     map[string]bool   // warnings given once per process
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns a Notifier.
func New(o Options) (*Notifier, error) {
	if strings.TrimSpace(o.Token) == "" {
		return nil, errors.New("slack: a bot token is required")
	}
	if strings.TrimSpace(o.DefaultChannel) == "" {
		return nil, errors.New("slack: a default channel is required")
	}
	if o.State == nil {
		return nil, errors.New("slack: a state store is required (it keeps each case's thread)")
	}
	apiURL := o.APIURL
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	if !strings.HasSuffix(apiURL, "/") {
		apiURL += "/"
	}
	client := o.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	n := &Notifier{
		// No slack-go retries: the dispatcher retries, and a post retried
		// inside the library would bypass the attempt record.
		api:            slackgo.New(o.Token, slackgo.OptionAPIURL(apiURL), slackgo.OptionHTTPClient(client)),
		token:          o.Token,
		defaultChannel: strings.TrimSpace(o.DefaultChannel),
		state:          o.State,
		isNotFound:     o.IsNotFound,
		log:            o.Logger,
		now:            time.Now,
		channelIDs:     map[string]string{},
		warned:         map[string]bool{},
	}
	if n.isNotFound == nil {
		n.isNotFound = func(err error) bool { return errors.Is(err, store.ErrNotFound) }
	}
	if n.log == nil {
		n.log = slog.Default()
	}
	n.log = n.log.With("notifier", "slack")
	return n, nil
}

// Name implements notify.Notifier.
func (n *Notifier) Name() string { return "slack" }

// Deliver implements notify.Notifier: it posts e to its case's thread,
// exactly once as the package documentation describes.
func (n *Notifier) Deliver(ctx context.Context, e notify.Event) error {
	if err := n.rateLimited(); err != nil {
		return err
	}
	if e.Test || e.Type == notify.TypeTest {
		return n.deliverTest(ctx, e)
	}
	if e.ID == "" || e.Case.ID == "" {
		return &notify.Error{Reason: "invalid", Permanent: true, Err: errors.New("slack: event without an id or a case id")}
	}
	mu := n.caseLock(e.Case.ID)
	mu.Lock()
	defer mu.Unlock()
	seq := eventSeq(e)
	if seq <= 0 {
		return &notify.Error{Reason: "invalid", Permanent: true, Err: fmt.Errorf("slack: event %s without a sequence number", e.ID)}
	}
	th, err := n.loadThread(ctx, e.Case.ID)
	if err != nil {
		return err
	}
	if th.TS != "" && seq <= th.Seq {
		return nil // delivered before; the outbox did not record it
	}
	if th.TS == "" {
		done, err := n.ensureRoot(ctx, e, &th)
		if err != nil || done {
			return err
		}
	}
	return n.deliverReply(ctx, e, &th)
}

// Forget drops a case's thread state, for retention once the case can no
// longer reopen. Later events of the case would start a new thread.
func (n *Notifier) Forget(ctx context.Context, caseID string) error {
	return n.state.DeleteState(ctx, threadKey(caseID))
}

// ensureRoot gives th a root: the message of an earlier attempt found in
// the channel, or e posted as a new root. done reports that e itself is
// delivered (it was the root); otherwise e is a reply to post next.
func (n *Notifier) ensureRoot(ctx context.Context, e notify.Event, th *thread) (done bool, err error) {
	seq := eventSeq(e)
	if p := th.Pending; p != nil {
		ts, channelID, err := n.findRoot(ctx, e.Case.ID, p)
		if err != nil {
			return false, err
		}
		if ts != "" {
			n.log.Info("adopted a root message posted before a crash or an error", "case", e.Case.ID, "event", p.Event, "channel", channelID)
			*th = thread{Channel: channelID, TS: ts, Seq: p.Seq, RootSeq: p.Seq, Kind: p.Kind, Severity: p.Severity}
			if p.Event == e.ID {
				th.Seq, th.RootSeq = seq, seq
				return true, n.saveThread(ctx, e.Case.ID, th)
			}
			if err := n.saveThread(ctx, e.Case.ID, th); err != nil {
				return false, err
			}
			return false, nil
		}
	}

	channel := n.channelFor(e)
	th.Pending = &attempt{Event: e.ID, Seq: seq, Channel: channel, ChannelID: n.knownChannelID(channel),
		Kind: string(e.Case.Kind), Severity: string(e.Case.Severity), At: n.now().UTC()}
	if err := n.saveThread(ctx, e.Case.ID, th); err != nil {
		return false, err
	}
	note := ""
	if !isRootEvent(e) {
		// The case's root is unknown: start a new thread that says what
		// just changed, rather than failing every later event.
		note = replyText(e, *th)
	}
	msg := rootMessage(e, note)
	channelID, ts, err := n.post(ctx, channel, "", msg, e)
	if err != nil {
		return false, err
	}
	n.rememberChannel(ctx, channel, channelID)
	*th = thread{Channel: channelID, TS: ts, Seq: seq, RootSeq: seq,
		Kind: string(e.Case.Kind), Severity: string(e.Case.Severity)}
	return true, n.saveThread(ctx, e.Case.ID, th)
}

// deliverReply edits the root when e changes what it shows, then posts e
// as a reply in the thread, unless an earlier attempt already did.
func (n *Notifier) deliverReply(ctx context.Context, e notify.Event, th *thread) error {
	seq := eventSeq(e)
	if updatesRoot(e) && th.RootSeq < seq {
		if err := n.updateRoot(ctx, e, th); err != nil {
			return err
		}
		th.RootSeq = seq
	}
	if p := th.Pending; p != nil && p.Event == e.ID {
		ts, err := n.findReply(ctx, e.Case.ID, th, p)
		if err != nil {
			return err
		}
		if ts != "" {
			n.log.Info("adopted a reply posted before a crash or an error", "case", e.Case.ID, "event", e.ID)
			return n.completeReply(ctx, e, th)
		}
	}
	text := replyText(e, *th)
	th.Pending = &attempt{Event: e.ID, Seq: seq, Channel: th.Channel, ChannelID: th.Channel, ThreadTS: th.TS, At: n.now().UTC()}
	if err := n.saveThread(ctx, e.Case.ID, th); err != nil {
		return err
	}
	if _, _, err := n.post(ctx, th.Channel, th.TS, message{text: text}, e); err != nil {
		return err
	}
	return n.completeReply(ctx, e, th)
}

func (n *Notifier) completeReply(ctx context.Context, e notify.Event, th *thread) error {
	th.Seq = eventSeq(e)
	th.Kind, th.Severity = string(e.Case.Kind), string(e.Case.Severity)
	th.Pending = nil
	return n.saveThread(ctx, e.Case.ID, th)
}

// updateRoot re-renders the root from e's case. A root that is gone or no
// longer editable is logged and skipped: the reply still tells the change.
func (n *Notifier) updateRoot(ctx context.Context, e notify.Event, th *thread) error {
	msg := rootMessage(e, "")
	_, _, _, err := n.api.UpdateMessageContext(ctx, th.Channel, th.TS,
		slackgo.MsgOptionText(msg.text, false), slackgo.MsgOptionBlocks(msg.blocks...), slackgo.MsgOptionMetadata(metadata(e)))
	if err == nil {
		return nil
	}
	var se slackgo.SlackErrorResponse
	if errors.As(err, &se) {
		switch se.Err {
		case "message_not_found", "cant_update_message", "edit_window_closed":
			n.log.Warn("could not edit the case's root message; posting the reply only",
				"case", e.Case.ID, "channel", th.Channel, "error", se.Err)
			return nil
		}
	}
	return n.fail(err, "chat.update", th.Channel)
}

// post sends one message with the event's metadata and returns the
// channel's ID and the message's ts.
func (n *Notifier) post(ctx context.Context, channel, threadTS string, msg message, e notify.Event) (string, string, error) {
	opts := []slackgo.MsgOption{
		slackgo.MsgOptionText(msg.text, false),
		slackgo.MsgOptionMetadata(metadata(e)),
		slackgo.MsgOptionDisableLinkUnfurl(),
		slackgo.MsgOptionDisableMediaUnfurl(),
	}
	if len(msg.blocks) > 0 {
		opts = append(opts, slackgo.MsgOptionBlocks(msg.blocks...))
	}
	if threadTS != "" {
		opts = append(opts, slackgo.MsgOptionTS(threadTS))
	}
	channelID, ts, err := n.api.PostMessageContext(ctx, channel, opts...)
	if err != nil {
		return "", "", n.fail(err, "chat.postMessage", channel)
	}
	if ts == "" {
		return "", "", &notify.Error{Reason: "server_error", Err: fmt.Errorf("slack: chat.postMessage to %s: no ts in the answer", channel)}
	}
	if channelID == "" {
		channelID = channel
	}
	return channelID, ts, nil
}

func (n *Notifier) deliverTest(ctx context.Context, e notify.Event) error {
	_, _, err := n.post(ctx, n.defaultChannel, "", testMessage(e, n.defaultChannel), e)
	return err
}

// metadata marks a message as forewarn's post of one event, so that a
// retry can find it in the channel's history.
func metadata(e notify.Event) slackgo.SlackMetadata {
	return slackgo.SlackMetadata{
		EventType:    metadataEventType,
		EventPayload: map[string]any{"event_id": e.ID, "case_id": e.Case.ID},
	}
}

const metadataEventType = "forewarn_case_event"

func (n *Notifier) channelFor(e notify.Event) string {
	if c := strings.TrimSpace(e.Tenant.SlackChannel); c != "" {
		return c
	}
	return n.defaultChannel
}

func (n *Notifier) caseLock(caseID string) *sync.Mutex {
	h := fnv.New32a()
	_, _ = h.Write([]byte(caseID))
	return &n.caseLocks[h.Sum32()%uint32(len(n.caseLocks))]
}

// eventSeq is the event's sequence number in its case: the case's Seq
// after the change, or the number after the ID's last colon.
func eventSeq(e notify.Event) int {
	if e.Case.Seq > 0 {
		return e.Case.Seq
	}
	if i := strings.LastIndexAny(e.ID, ":/"); i >= 0 {
		if s, err := strconv.Atoi(e.ID[i+1:]); err == nil {
			return s
		}
	}
	return 0
}

// eventType is e's case event type without the "case." prefix.
func eventType(e notify.Event) string { return strings.TrimPrefix(e.Type, notify.TypePrefix) }

func isRootEvent(e notify.Event) bool { return eventType(e) == "opened" }

// updatesRoot reports whether e changes what the root message shows
// enough to edit it. A plain "updated" (another failure counted, a new
// latest error) is only a reply: editing the root every minute is noise.
func updatesRoot(e notify.Event) bool {
	switch eventType(e) {
	case "reopened", "resolved", "severity_changed", "cause_added", "cause_resolved":
		return true
	}
	return false
}
