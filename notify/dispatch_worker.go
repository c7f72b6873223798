package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/forewarn/forewarn/store"
)

// worker delivers one notifier's queue, one item at a time.
type worker struct {
	d    *Dispatcher
	n    Notifier
	name string
	wake chan struct{}
	log  *slog.Logger

	// resumeAt (Clock time) holds off every attempt: a receiver's
	// Retry-After is about the receiver, not one item, and a failing
	// outbox is not asked again at once.
	resumeAt      time.Time
	storeFailures int
}

// outcome is what became of one item.
type outcome int

const (
	delivered   outcome = iota
	dead                // a dead letter: not retried
	failed              // retried later; so is the rest of the batch
	disabled            // the notifier stops
	interrupted         // Stop cancelled the attempt; the item is as it was
)

func (w *worker) run() {
	defer w.d.wg.Done()
	timer := time.NewTimer(w.d.opts.PollInterval)
	defer timer.Stop()
	for !w.d.stopping() {
		if !w.d.opts.Clock().Before(w.resumeAt) {
			more, stop := w.pass()
			if stop {
				return
			}
			if more {
				continue
			}
		}
		timer.Reset(w.d.opts.PollInterval)
		select {
		case <-w.d.quit:
			return
		case <-w.wake:
		case <-timer.C:
		}
	}
}

// pass delivers the items due now. more: some were done, which may have
// made the next events of their cases due, so look again at once. stop:
// the notifier is disabled or the dispatcher stopping.
func (w *worker) pass() (more, stop bool) {
	d := w.d
	now := d.opts.Clock()
	ctx, cancel := context.WithTimeout(d.ctx, d.opts.StoreTimeout)
	items, err := d.outbox.DueNotifications(ctx, w.name, now, d.opts.BatchSize)
	cancel()
	if err != nil {
		if d.ctx.Err() != nil {
			return false, true
		}
		w.storeFailures++
		w.resumeAt = now.Add(d.backoff(w.storeFailures))
		w.log.Warn("notify: cannot read the outbox", "error", err, "failures", w.storeFailures)
		return false, false
	}
	w.storeFailures = 0
	for _, it := range items {
		if d.stopping() {
			return false, true
		}
		switch w.attempt(it) {
		case delivered, dead:
			more = true
		case failed:
			// The receiver is likely failing for the rest too: they wait
			// for the next poll rather than each taking a timeout now.
			return false, false
		case disabled, interrupted:
			return false, true
		}
	}
	return more, false
}

// attempt delivers one item and records the outcome in the outbox.
func (w *worker) attempt(it store.OutboxItem) outcome {
	d := w.d
	e, err := decode(it)
	if err == nil {
		err = w.deliver(e)
	}
	now := d.opts.Clock()
	if d.ctx.Err() != nil {
		return interrupted
	}
	if err != nil {
		return w.failure(it, err, now)
	}
	if !w.mark(it, "delivered", func(ctx context.Context) error { return d.outbox.MarkDelivered(ctx, it.ID, now) }) {
		return failed
	}
	if m := d.opts.Metrics; m != nil {
		m.Delivered(w.name, now.Sub(it.CreatedAt))
	}
	w.log.Debug("notify: delivered", "case", it.CaseID, "seq", it.Seq, "id", it.Key, "attempt", it.Attempts+1)
	return delivered
}

// deliver calls the notifier with the attempt's timeout. A plain error
// after the timeout is a timeout; a panic is a failed attempt, not a
// crashed monitor.
func (w *worker) deliver(e Event) (err error) {
	ctx, cancel := context.WithTimeout(w.d.ctx, w.d.opts.AttemptTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			w.log.Error("notify: notifier panicked", "panic", r, "stack", string(debug.Stack()))
			err = &Error{Reason: "other", Err: fmt.Errorf("notifier panicked: %v", r)}
		}
	}()
	err = w.n.Deliver(ctx, e)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		if ne := AsError(err); ne.Reason == "other" {
			return &Error{Reason: "timeout", Err: fmt.Errorf("no answer within %s: %w", w.d.opts.AttemptTimeout, err)}
		}
	}
	return err
}

// failure records a failed attempt: a dead letter, a disabled notifier or
// a retry after backoff.
func (w *worker) failure(it store.OutboxItem, err error, now time.Time) outcome {
	d := w.d
	ne := AsError(err)
	attempt := it.Attempts + 1
	if m := d.opts.Metrics; m != nil {
		m.Failure(w.name, ne.Reason)
	}
	attrs := []any{"case", it.CaseID, "seq", it.Seq, "id", it.Key, "attempt", attempt, "reason", ne.Reason, "error", err}
	markDead := func(cause error) bool {
		return w.mark(it, "dead", func(ctx context.Context) error { return d.outbox.MarkDead(ctx, it.ID, cause) })
	}
	switch {
	case ne.Disable:
		if ne.Permanent {
			markDead(err)
		} else {
			w.retryAt(it, err, now.Add(d.backoff(attempt)))
		}
		d.disable(w.name)
		w.log.Error("notify: NOTIFIER DISABLED: the receiver says it is gone; nothing more is sent to it, "+
			"its notifications wait in the outbox until its configuration is fixed and forewarn restarts", attrs...)
		return disabled
	case ne.Permanent:
		if !markDead(err) {
			return failed
		}
		w.log.Warn("notify: dead letter: the receiver refused the notification, it is not retried", attrs...)
		return dead
	case d.opts.MaxAge > 0 && now.Sub(it.CreatedAt) >= d.opts.MaxAge:
		if !markDead(fmt.Errorf("given up after %d attempts in %s: %w", attempt, d.opts.MaxAge, err)) {
			return failed
		}
		w.log.Error("notify: dead letter: retried too long, given up", attrs...)
		return dead
	}
	delay := d.backoff(attempt)
	if ne.RetryAfter > 0 {
		delay = max(delay, ne.RetryAfter)
		w.resumeAt = now.Add(ne.RetryAfter)
	}
	next := now.Add(delay)
	w.retryAt(it, err, next)
	w.log.Warn("notify: delivery failed, will retry", append(attrs, "next", next)...)
	return failed
}

func (w *worker) retryAt(it store.OutboxItem, err error, next time.Time) {
	w.mark(it, "failed", func(ctx context.Context) error { return w.d.outbox.MarkFailed(ctx, it.ID, err, next) })
}

// mark records an outcome, trying thrice: the outbox's marks are
// idempotent, and an outcome not recorded means the item is delivered
// again. It reports whether the outcome was recorded.
func (w *worker) mark(it store.OutboxItem, what string, f func(ctx context.Context) error) bool {
	d := w.d
	var err error
	for i := range 3 {
		if i > 0 {
			select {
			case <-d.ctx.Done():
				return false
			case <-time.After(time.Duration(i) * 100 * time.Millisecond):
			}
		}
		ctx, cancel := context.WithTimeout(d.ctx, d.opts.StoreTimeout)
		err = f(ctx)
		cancel()
		if err == nil || errors.Is(err, store.ErrNotFound) || d.ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		w.log.Error("notify: cannot record the outcome of a notification; it may be sent again", "outcome", what,
			"case", it.CaseID, "seq", it.Seq, "id", it.Key, "error", err)
		return false
	}
	return true
}
