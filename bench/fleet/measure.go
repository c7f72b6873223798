package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/forewarn/forewarn/bench/internal/benchenv"
)

type report struct {
	cpuMonitor, cpuDemo float64 // % of one core over the window
	rssMax, rssAvg      float64 // MiB
	scrapes             []scrape
	lagP50, lagP99      float64 // seconds, from the histogram's buckets
	lagCount            float64
	success, targets    int
}

type scrape struct {
	took           time.Duration
	plain, gzipped int
}

const scrapeEvery = 15 * time.Second

func measure(ctx context.Context, o options, monPID, demoPID int, metricsURL string) (*report, error) {
	r := &report{}
	// The window starts once the monitor is ready: every job is scheduled,
	// and the start-up cost of laying out 10,000 jobs is left out.
	cpu0, demo0, t0 := benchenv.CPUSeconds(monPID), benchenv.CPUSeconds(demoPID), time.Now()
	lag0, err := lagHistogram(metricsURL)
	if err != nil {
		return nil, err
	}
	var rssSum float64
	var samples int
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	nextScrape := time.Now()
	for end := t0.Add(o.duration); time.Now().Before(end); {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
		rss := benchenv.RSSMiB(monPID)
		rssSum += rss
		samples++
		r.rssMax = math.Max(r.rssMax, rss)
		if time.Now().After(nextScrape) {
			s, err := scrapeOnce(metricsURL)
			if err != nil {
				return nil, err
			}
			r.scrapes = append(r.scrapes, s)
			nextScrape = time.Now().Add(scrapeEvery)
		}
	}
	wall := time.Since(t0).Seconds()
	r.cpuMonitor = 100 * (benchenv.CPUSeconds(monPID) - cpu0) / wall
	r.cpuDemo = 100 * (benchenv.CPUSeconds(demoPID) - demo0) / wall
	r.rssAvg = rssSum / float64(max(samples, 1))
	return r, r.final(metricsURL, lag0)
}

func (r *report) final(url string, lag0 *dto.Histogram) error {
	mfs, err := families(url)
	if err != nil {
		return err
	}
	lag := mfs["forewarn_scheduler_lag_seconds"].GetMetric()[0].GetHistogram()
	r.lagCount = float64(lag.GetSampleCount() - lag0.GetSampleCount())
	r.lagP50 = quantile(0.50, lag, lag0)
	r.lagP99 = quantile(0.99, lag, lag0)
	for _, m := range mfs["probe_success"].GetMetric() {
		r.targets++
		if m.GetGauge().GetValue() == 1 {
			r.success++
		}
	}
	return nil
}

// quantile interpolates within the histogram's buckets over the window
// between two snapshots, as PromQL's histogram_quantile does.
func quantile(q float64, now, before *dto.Histogram) float64 {
	total := float64(now.GetSampleCount() - before.GetSampleCount())
	if total == 0 {
		return math.NaN()
	}
	rank := q * total
	var prevBound, prevCount float64
	for i, b := range now.GetBucket() {
		c := float64(b.GetCumulativeCount() - before.GetBucket()[i].GetCumulativeCount())
		if c >= rank {
			return prevBound + (b.GetUpperBound()-prevBound)*(rank-prevCount)/math.Max(c-prevCount, 1)
		}
		prevBound, prevCount = b.GetUpperBound(), c
	}
	return math.Inf(1)
}

func lagHistogram(url string) (*dto.Histogram, error) {
	mfs, err := families(url)
	if err != nil {
		return nil, err
	}
	return mfs["forewarn_scheduler_lag_seconds"].GetMetric()[0].GetHistogram(), nil
}

func families(url string) (map[string]*dto.MetricFamily, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(resp.Body)
}

// scrapeOnce fetches /metrics as Prometheus does (gzip) and times it.
func scrapeOnce(url string) (scrape, error) {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	began := time.Now()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return scrape{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	took := time.Since(began)
	if err != nil {
		return scrape{}, err
	}
	plain := raw
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return scrape{}, err
		}
		if plain, err = io.ReadAll(zr); err != nil {
			return scrape{}, err
		}
	}
	return scrape{took: took, plain: len(plain), gzipped: len(raw)}, nil
}

func (r *report) print(o options) {
	if len(r.scrapes) == 0 {
		fmt.Println("no scrape happened in the window; measure for longer")
		return
	}
	took := make([]time.Duration, len(r.scrapes))
	for i, s := range r.scrapes {
		took[i] = s.took
	}
	sort.Slice(took, func(a, b int) bool { return took[a] < took[b] })
	last := r.scrapes[len(r.scrapes)-1]
	fmt.Printf("\nfleet benchmark: %d tenants × 1 %s check every %s, measured %s\n", o.tenants, o.checks, o.interval, o.duration)
	fmt.Printf("  %-34s %10s   %s\n", "figure", "value", "goal")
	row := func(name, value, goal string) { fmt.Printf("  %-34s %10s   %s\n", name, value, goal) }
	row("probes in window", fmt.Sprintf("%.0f", r.lagCount), fmt.Sprintf("≈ %.0f", float64(o.tenants)*o.duration.Seconds()/o.interval.Seconds()))
	row("scheduler lag p50", fmt.Sprintf("%.2f ms", r.lagP50*1000), "")
	row("scheduler lag p99", fmt.Sprintf("%.2f ms", r.lagP99*1000), "< 50 ms")
	row("monitor CPU (% of one core)", fmt.Sprintf("%.1f %%", r.cpuMonitor), "< 15 %")
	row("monitor RSS max / avg", fmt.Sprintf("%.0f / %.0f MiB", r.rssMax, r.rssAvg), "< 250 MiB")
	row("demo CPU (% of one core)", fmt.Sprintf("%.1f %%", r.cpuDemo), "")
	row("scrape time median / max", fmt.Sprintf("%s / %s", took[len(took)/2].Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond)), "< 250 ms")
	row("scrape size plain / gzip", fmt.Sprintf("%.1f / %.1f MiB", float64(last.plain)/(1<<20), float64(last.gzipped)/(1<<20)), "")
	row("targets passing at the end", fmt.Sprintf("%d / %d", r.success, r.targets), "all")
}
