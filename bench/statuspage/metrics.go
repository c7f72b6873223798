package main

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// lagName is the monitor's scheduler lag histogram. It is a classic
// histogram (fixed buckets, in metrics/self.go): the text exposition
// carries its buckets; a native histogram would need the protobuf format
// and is not what forewarn exports.
const lagName = "forewarn_scheduler_lag_seconds"

// histogram is a snapshot of a classic histogram's cumulative buckets.
type histogram struct {
	bounds []float64 // upper bounds, ascending, +Inf last
	counts []float64 // cumulative
	count  float64
}

// snapshot is what one scrape of /metrics gives the benchmark.
type snapshot struct {
	lag            histogram
	failing, total int // probe_success 0, and all of them
	took           time.Duration
}

// scrape reads /metrics line by line, keeping the lag histogram and
// probe_success: at 10,000 targets the exposition is about 8 MiB, and
// decoding all of it would cost this program (which shares the cores)
// more than the monitor spends writing it.
func scrape(ctx context.Context, base string) (*snapshot, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	began := time.Now()
	resp, err := http.DefaultClient.Do(req) // asks for gzip and decompresses
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics: status %d", resp.StatusCode)
	}
	s := &snapshot{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	bucket, count := lagName+"_bucket{", lagName+"_count"
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, bucket):
			le, v, err := bucketLine(line[len(bucket):])
			if err != nil {
				return nil, fmt.Errorf("/metrics: %q: %w", line, err)
			}
			s.lag.bounds = append(s.lag.bounds, le)
			s.lag.counts = append(s.lag.counts, v)
		case strings.HasPrefix(line, count+" "):
			v, err := strconv.ParseFloat(strings.Fields(line)[1], 64)
			if err != nil {
				return nil, fmt.Errorf("/metrics: %q: %w", line, err)
			}
			s.lag.count = v
		case strings.HasPrefix(line, "probe_success{"):
			s.total++
			if f := strings.Fields(line); f[len(f)-1] == "0" {
				s.failing++
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("/metrics: %w", err)
	}
	s.took = time.Since(began)
	if len(s.lag.bounds) == 0 || !math.IsInf(s.lag.bounds[len(s.lag.bounds)-1], 1) {
		return nil, fmt.Errorf("/metrics: no classic buckets of %s", lagName)
	}
	return s, nil
}

// bucketLine parses `le="0.005"} 123` (the rest of a _bucket line).
func bucketLine(rest string) (le, v float64, err error) {
	labels, value, ok := strings.Cut(rest, "} ")
	if !ok {
		return 0, 0, fmt.Errorf("no value")
	}
	for _, l := range strings.Split(labels, ",") {
		if k, q, ok := strings.Cut(l, "="); ok && k == "le" {
			if le, err = strconv.ParseFloat(strings.Trim(q, `"`), 64); err != nil {
				return 0, 0, err
			}
			if v, err = strconv.ParseFloat(strings.Fields(value)[0], 64); err != nil {
				return 0, 0, err
			}
			return le, v, nil
		}
	}
	return 0, 0, fmt.Errorf("no le label")
}

// delta is the histogram of the observations between before and h.
func (h histogram) delta(before histogram) (histogram, error) {
	if len(before.bounds) != len(h.bounds) {
		return histogram{}, fmt.Errorf("%s: buckets changed between scrapes", lagName)
	}
	d := histogram{bounds: h.bounds, counts: make([]float64, len(h.counts)), count: h.count - before.count}
	for i := range h.counts {
		if h.bounds[i] != before.bounds[i] {
			return histogram{}, fmt.Errorf("%s: buckets changed between scrapes", lagName)
		}
		d.counts[i] = h.counts[i] - before.counts[i]
	}
	return d, nil
}

// quantile is PromQL's histogram_quantile over h: linear interpolation
// within the bucket that holds the rank, from 0 for the first bucket; a
// rank in the +Inf bucket gives the highest finite bound.
func (h histogram) quantile(q float64) float64 {
	n := len(h.counts)
	if n < 2 || h.counts[n-1] == 0 {
		return math.NaN()
	}
	rank := q * h.counts[n-1]
	i := 0
	for i < n && h.counts[i] < rank {
		i++
	}
	if i == n-1 {
		return h.bounds[n-2]
	}
	lower, below := 0.0, 0.0
	if i > 0 {
		lower, below = h.bounds[i-1], h.counts[i-1]
	}
	return lower + (h.bounds[i]-lower)*(rank-below)/(h.counts[i]-below)
}

// bucketOf is the bucket a value falls in: its lower and upper bounds.
func (h histogram) bucketOf(v float64) (lower, upper float64) {
	for i, b := range h.bounds {
		if v <= b {
			if i > 0 {
				lower = h.bounds[i-1]
			}
			return lower, b
		}
	}
	return h.bounds[len(h.bounds)-1], math.Inf(1)
}

// over counts the observations above bound, exactly when bound is a
// bucket's upper bound.
func (h histogram) over(bound float64) (float64, bool) {
	for i, b := range h.bounds {
		if b == bound {
			return h.counts[len(h.counts)-1] - h.counts[i], true
		}
	}
	return 0, false
}

// boundsText lists the finite bucket bounds in ms, for the report.
func (h histogram) boundsText() string {
	var parts []string
	for _, b := range h.bounds {
		if !math.IsInf(b, 1) {
			parts = append(parts, strconv.FormatFloat(b*1000, 'g', -1, 64))
		}
	}
	return strings.Join(parts, ", ") + " ms, +Inf"
}
