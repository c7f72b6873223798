package cli

import (
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/forewarn/forewarn/loadreport"
	"github.com/forewarn/forewarn/probes"
)

// isTerminal reports whether w is a terminal, where a live bar can redraw
// itself; tests replace it.
var isTerminal = func(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// rampProgress shows a running ramp: on a terminal one mpb bar over the
// planned levels' time, with the current step's users, phase, rate and
// errors; elsewhere (a log, CI, --no-progress) one plain line per finished
// step. Either way every finished step is printed once.
//
// update is called from the runner's goroutine and note from a signal's;
// they share mu. The bar's decorators run on mpb's goroutine, which
// update waits on when it moves the bar, so they never lock: they read the
// text update last stored in view.
type rampProgress struct {
	out      io.Writer // lines go here: stderr, or the bar container, which prints above the bar
	slo      probes.SLO
	planned  []int
	stepTime time.Duration
	start    time.Time

	p   *mpb.Progress // nil without a live bar
	bar *mpb.Bar

	mu      sync.Mutex
	last    probes.LoadProgress
	printed int // finished steps printed so far
	rate    rateMeter
	total   int64 // the bar's total, in ms

	view atomic.Pointer[rampView]
}

// rampView is the current step as the bar's decorators show it.
type rampView struct{ step, counts string }

func newRampProgress(w io.Writer, spec *probes.LoadSpec, live bool) *rampProgress {
	r := &rampProgress{out: w, slo: spec.SLO, planned: spec.Ramp.Levels(), stepTime: spec.Ramp.StepDuration, start: time.Now()}
	if !live {
		return r
	}
	// isTerminal already said w is one: ForceTTY and WithAutoRefresh make
	// mpb agree when w is wrapped (and let tests render into a buffer).
	r.p = mpb.New(mpb.WithOutput(w), mpb.ForceTTY(), mpb.WithAutoRefresh(), mpb.WithRefreshRate(200*time.Millisecond))
	r.total = max(int64(len(r.planned))*r.stepTime.Milliseconds(), 1)
	r.view.Store(&rampView{step: "starting"})
	// Fixed widths keep the bar from jumping as the texts change length.
	// The bar goes when the ramp ends: the step lines above it stay.
	r.bar = r.p.AddBar(r.total, mpb.BarRemoveOnComplete(),
		mpb.PrependDecorators(decor.Any(func(decor.Statistics) string { return r.view.Load().step },
			decor.WC{W: 38, C: decor.DindentRight | decor.DextraSpace})),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return r.view.Load().counts },
			decor.WC{W: 30, C: decor.DindentRight | decor.DextraSpace}), decor.Any(r.timeDecor, decor.WC{C: decor.DextraSpace})),
	)
	r.out = r.p
	return r
}

// update takes the runner's state: it prints steps newly finished and
// moves the bar to the time the planned steps have used.
func (r *rampProgress) update(p probes.LoadProgress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p.Step != r.last.Step || p.Requests < r.last.Requests {
		r.rate = rateMeter{}
	}
	r.rate.add(p.Elapsed, p.Requests)
	r.last = p
	r.printSteps(p.Done)
	if r.bar == nil || p.Users == 0 { // the report at the end has no current step
		return
	}
	r.view.Store(&rampView{step: r.stepText(), counts: r.countsText()})
	// Elapsed is the time into the current step, of StepTime; a re-run to
	// confirm a break adds a step to the plan.
	step := r.stepTime
	if p.StepTime > 0 {
		step = p.StepTime
	}
	ms := step.Milliseconds()
	if total := int64(max(len(r.planned), p.Step+1)) * ms; total > r.total {
		r.total = total
		r.bar.SetTotal(total, false)
	}
	cur := int64(p.Step)*ms + min(max(p.Elapsed.Milliseconds(), 0), ms)
	r.bar.SetCurrent(min(cur, r.total-1)) // only finish completes the bar
}

// finish prints the steps not yet printed and takes the bar down.
func (r *rampProgress) finish(steps []probes.LoadStep, interrupted bool) {
	r.mu.Lock()
	r.printSteps(steps)
	r.mu.Unlock()
	if r.p == nil {
		return
	}
	if interrupted {
		r.bar.Abort(true)
	} else {
		r.bar.SetTotal(-1, true)
	}
	r.p.Wait()
}

// note prints a message between the step lines.
func (r *rampProgress) note(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintln(r.out, msg)
}

func (r *rampProgress) printSteps(done []probes.LoadStep) {
	for ; r.printed < len(done); r.printed++ {
		s := done[r.printed]
		fmt.Fprintf(r.out, "%s  %s\n", r.level(s.Users), loadreport.StepLine(s, r.slo))
	}
}

// level is "level 3/6" for a planned level of users.
func (r *rampProgress) level(users int) string {
	if i := slices.Index(r.planned, users); i >= 0 {
		return fmt.Sprintf("level %d/%d", i+1, len(r.planned))
	}
	return "level ?"
}

// stepText: "level 4/6 200 users (re-run) measure".
func (r *rampProgress) stepText() string {
	p := r.last
	again := ""
	if n := len(p.Done); n > 0 && p.Done[n-1].Users == p.Users {
		again = " (re-run)"
	}
	return fmt.Sprintf("%s %d users%s %s", r.level(p.Users), p.Users, again, p.Phase)
}

// countsText: the current step's "142 req/s 3 errors (0.2%)".
func (r *rampProgress) countsText() string {
	p := r.last
	pct := 0.0
	if p.Requests > 0 {
		pct = float64(p.Errors) * 100 / float64(p.Requests)
	}
	return fmt.Sprintf("%.0f req/s  %d errors (%.1f%%)", r.rate.perSecond(), p.Errors, pct)
}

// timeDecor: "1m02s, ≤ 4m10s left". What is left is the planned steps'
// time; a break ends the ramp sooner, a re-run makes it longer.
func (r *rampProgress) timeDecor(s decor.Statistics) string {
	left := time.Duration(max(s.Total-s.Current, 0)) * time.Millisecond
	return fmt.Sprintf("%s, ≤ %s left", time.Since(r.start).Round(time.Second), left.Round(time.Second))
}

// rateMeter is the request rate over the last few seconds of one step,
// from the counts the runner reports: whether its counts include the
// warm-up or not, the difference of two is a rate.
type rateMeter struct {
	at  []time.Duration
	req []int64
}

const rateWindow = 3 * time.Second

func (m *rateMeter) add(at time.Duration, requests int64) {
	m.at = append(m.at, at)
	m.req = append(m.req, requests)
	for len(m.at) > 2 && at-m.at[1] >= rateWindow {
		m.at, m.req = m.at[1:], m.req[1:]
	}
}

func (m rateMeter) perSecond() float64 {
	n := len(m.at)
	if n < 2 || m.at[n-1] <= m.at[0] {
		return 0
	}
	return float64(m.req[n-1]-m.req[0]) / (m.at[n-1] - m.at[0]).Seconds()
}
