package main

import (
	"context"
	"math"
	"time"

	"github.com/forewarn/forewarn/bench/internal/benchenv"
)

// phase is one measured window: path "" is no page load.
type phase struct {
	name, what, path string
}

type pids struct{ monitor, demo int }

type phaseResult struct {
	phase
	wall             time.Duration
	lag              histogram // observations in the window
	lagP50, lagP99   float64   // seconds, interpolated
	cpuMonitor       float64   // seconds of CPU, user + system
	cpuDemo          float64
	rssMax, rssEnd   float64 // MiB
	wrk              *wrkResult
	failing, targets int // probe_success at the end
	scrape0, scrape1 time.Duration
	loadAvg          string // at the window's end
}

// measure runs one phase: a scrape, the window (wrk, or a sleep), a
// scrape. The monitor's CPU is read inside the scrapes, so that their
// own cost (an 8 MiB exposition at 10,000 targets) stays out of it.
func measure(ctx context.Context, o options, wrk, base string, p phase, pids pids) (*phaseResult, error) {
	r := &phaseResult{phase: p}
	s0, err := scrape(ctx, base)
	if err != nil {
		return nil, err
	}
	r.scrape0 = s0.took
	cpu0, demo0, t0 := benchenv.CPUSeconds(pids.monitor), benchenv.CPUSeconds(pids.demo), time.Now()

	sampleCtx, stopSampling := context.WithCancel(ctx)
	rss := make(chan [2]float64, 1)
	go func() { rss <- sampleRSS(sampleCtx, pids.monitor) }()
	if p.path == "" {
		err = benchenv.Sleep(ctx, o.duration)
	} else {
		r.wrk, err = runWrk(ctx, wrk, o, base+p.path)
	}
	stopSampling()
	got := <-rss
	r.rssMax, r.rssEnd = got[0], got[1]
	if err != nil {
		return nil, err
	}
	r.cpuMonitor, r.cpuDemo = benchenv.CPUSeconds(pids.monitor)-cpu0, benchenv.CPUSeconds(pids.demo)-demo0
	r.wall = time.Since(t0)
	r.loadAvg = benchenv.LoadAverage()

	s1, err := scrape(ctx, base)
	if err != nil {
		return nil, err
	}
	r.scrape1 = s1.took
	if r.lag, err = s1.lag.delta(s0.lag); err != nil {
		return nil, err
	}
	r.lagP50, r.lagP99 = r.lag.quantile(0.50), r.lag.quantile(0.99)
	r.failing, r.targets = s1.failing, s1.total
	return r, nil
}

// sampleRSS samples the process's resident memory every 250 ms until ctx
// ends: the maximum and the last sample, in MiB.
func sampleRSS(ctx context.Context, pid int) [2]float64 {
	var maxRSS, last float64
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		last = benchenv.RSSMiB(pid)
		maxRSS = math.Max(maxRSS, last)
		select {
		case <-ctx.Done():
			return [2]float64{maxRSS, last}
		case <-tick.C:
		}
	}
}
