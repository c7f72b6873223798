// Package slack delivers case events to Slack as one thread per case.
//
// The first event of a case posts the root message: a Block Kit summary of
// the tenant (name, plan, seats), the case's kind and severity, when it
// opened, each cause with its check, reason, since when, how many failures
// and the first error in a code block, a capacity cause's knee against the
// tenant's seats with the measured curve as a table, and links to the
// tenant's Grafana dashboard and status page. Every later event is a short
// reply in that thread. Events that change what the root shows (reopened,
// resolved, severity_changed, cause_added, cause_resolved) also edit the
// root with chat.update, so the channel's top level always tells the case's
// current state: a resolved case's root reads "✅ Resolved after 1h 12m".
// A case.test event posts one standalone message to the default channel.
//
// # Text
//
// Every piece of text that comes from configuration or a probe (tenant
// names, check names, error messages) has &, < and > escaped, so a tenant
// named "<!channel>" pings nobody and cannot forge a link, and mrkdwn text
// objects are sent verbatim so Slack does not auto-link channel names in
// it. Messages are never sent with link_names, so a literal "@channel"
// stays text. Error messages are the case's own, already redacted by the
// probes; this package adds no text from elsewhere. Text is cut to Slack's
// limits (header 150 characters, section 3000) with an ellipsis.
//
// # Delivery guarantees
//
// The outbox dispatcher calls Deliver at least once per event, in order
// per case, and again after any error or crash. Deliver makes Slack show
// each event exactly once under these rules:
//
//   - The thread state ("slack/thread/<case id>" in the StateStore: the
//     channel ID, the root's ts, the last event delivered and the last
//     event the root was rendered from) is saved before Deliver returns
//     success. An event at or below the last delivered sequence number is
//     acknowledged without calling Slack: the repeat after a crash between
//     Deliver and the outbox's "delivered" mark sends nothing.
//   - Before every chat.postMessage, Deliver saves an attempt record (event
//     ID, channel, time) in the thread state and posts only once that save
//     succeeded. Every message carries Slack message metadata, event_type
//     "forewarn_case_event" with event_payload {event_id, case_id}.
//   - When Deliver finds an attempt record (a crash or an error came after
//     the post was sent, whether or not Slack took it), it looks for a
//     message carrying that event_id before posting again: in the channel's
//     history (conversations.history) for a root, in the thread
//     (conversations.replies) for a reply, with include_all_metadata, in a
//     window of 15 minutes either side of the attempt, at most 200
//     messages. If it finds one it adopts its ts instead of posting.
//   - chat.update renders the whole root from the event's case, so
//     repeating it is harmless.
//
// So delivery is exactly once as long as the state store is durable (it is
// the database that holds the outbox) and the bot can read the channel's
// history. It falls back to at least once, logging a warning, when:
//
//   - the token lacks channels:history (groups:history for a private
//     channel), or the bot posts to a public channel it is not a member of
//     (chat:write.public): any lookup error that is not worth retrying
//     makes Deliver post again;
//   - the first message forewarn ever posted to a channel configured by
//     name (not ID) crashed in the window: history needs the channel's ID,
//     which Slack returns only with a post, so Deliver resolves the name
//     with conversations.list, which needs channels:read (groups:read for
//     private channels). IDs learned from posts are kept in the state store
//     ("slack/channel/<name>"), so this happens at most once per channel;
//   - the message sits outside the lookup window (a channel with more than
//     200 messages in that half hour, or a clock 15 minutes off Slack's).
//
// A lookup that fails for a reason worth retrying (Slack down, rate
// limited) returns that error: Deliver never posts when it cannot tell.
// Test events are posted at least once, without a lookup.
//
// When a reply's case has no known root (its state was lost, or the root
// post was given up on as a dead letter), Deliver posts a fresh root-like
// message with the case as it is now and the event's change, and the case's
// later events thread under it, so one lost root does not fail the rest of
// the case forever.
//
// # Errors
//
// Deliver returns *notify.Error. A 429 is "rate_limited" with Slack's
// Retry-After, and until then Deliver answers "rate_limited" without
// calling Slack; 5xx and Slack's internal errors are "server_error",
// network failures "connect" or "timeout": all retried. A channel that
// does not exist or the bot is not in, a bad or revoked token and a missing
// scope are permanent "client_error"s whose message says what to fix; a
// message Slack rejects as malformed is a permanent "invalid". The token is
// never logged and never part of an error.
//
// Scopes: chat:write; channels:history and groups:history for exactly-once
// delivery; channels:read and groups:read when channels are configured by
// name; chat:write.public to post in public channels without joining them.
package slack
