// Package cases turns probe results into support cases: one case per tenant
// incident, opened before the customer calls and resolved when the tenant is
// healthy again.
//
// The package is a pure state machine. Engine.Observe takes a probes.Result
// and the time it is handled and returns the Events it caused; Engine.Tick
// does the transitions that only time makes. Nothing here reads a clock,
// starts a goroutine or does I/O: the caller stores the events (an outbox,
// keyed by Event.Key), persists Engine.Snapshot in the same transaction, and
// notifiers send the events on. Every type is plain data and round-trips
// through encoding/json.
//
// # From results to causes
//
// Each result is classified (Engine.Classify) as good, bad of one Kind, or
// inconclusive:
//
//   - outage: the probe failed (DNS, connect, TLS, timeout, status, a body
//     or JSON assertion, …).
//   - degraded: the probe took longer than its check's SlowAfter, whether it
//     passed or failed on its own max_duration assertion.
//   - capacity: a load run found a knee (a confirmed break) below the seats
//     it must serve: LoadResult.Required, or seats × CapacityFraction.
//   - expiring: the peer certificate expires within CertWarning (or the
//     check's own), whether the probe passed or failed on cert_valid_for.
//   - inconclusive: internal failures (forewarn's fault, not the tenant's)
//     and load runs that measured no knee. They change nothing.
//
// Every (tenant, check) keeps a streak of consecutive bad and good results.
// A check becomes an active cause after FailureThreshold bad results in a
// row (3 by default; 1 for load checks, whose one daily run is already a
// confirmed measurement) and stops being one after SuccessThreshold good
// results in a row (2; 1 for load checks). A check that alternates fail,
// ok, fail, ok never reaches either threshold, so it never opens a case.
//
// # From causes to cases
//
// A tenant has at most one current case. The first cause opens it (opened);
// causes from other checks join it (cause_added) rather than opening their
// own: sign-in and health failing together is one case with two causes.
// The case's Kind is the most severe kind among its active causes
// (outage > degraded > capacity > expiring) and its Severity comes from the
// Config.Severity table, kind × tenant plan. A cause whose kind grows worse
// changes the case at once (severity_changed, or updated when the case's
// kind and severity stay the same); a cause whose kind gets milder changes
// only after SuccessThreshold milder results in a row, so a check that
// alternates timeouts and slow answers does not post a change every minute.
// A load run that finds a different knee for an active capacity cause is an
// update too.
//
// When a cause's check recovers, the cause is resolved (cause_resolved).
// When the last one recovers, the case resolves (resolved), but never
// before MinDuration after it was (re)opened: until then it stays open with
// no active cause, a new cause can still join it, and Tick or the tenant's
// next result resolves it once MinDuration has passed.
//
// A resolved case stays the tenant's current case for ReopenWindow. A cause
// that appears in that time reopens it (reopened): same ID, same Slack
// thread, the sequence goes on. After ReopenWindow the case is forgotten
// and the next cause opens a new one.
//
// # Maintenance
//
// While a maintenance Window covers a tenant (or one of its checks, or
// every tenant), no case opens or reopens for it and an open case is kept
// but does not escalate: no new causes, no worse kind. Causes still resolve
// and cases still resolve. Streaks go on counting through the window, so a
// check still failing after it opens its case with its next bad result.
//
// # Identity and idempotency
//
// A case's ID is the tenant and the UTC second it opened
// ("acme-20250102T030405Z"); a reopened case keeps it. Each event of a case
// has the next Seq (1, 2, 3, …), and Event.Key ("<case id>/<seq>") is the
// idempotency key for the outbox, Slack and webhooks. Restoring a Snapshot
// taken together with the stored events continues without a duplicate.
package cases
