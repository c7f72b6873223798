package scheduler

import (
	"hash/fnv"
	"time"

	"github.com/forewarn/forewarn/probes"
)

// Offset is the stable phase of a job within its interval: runs of the job
// with key k happen at times t with (t − Offset(k, i)) mod i = 0. Like
// Prometheus' scrape offsets it comes from a hash of the key, so 10,000 jobs
// with the same interval spread evenly instead of firing together, and a
// restart keeps each job at the same point in the interval.
func Offset(key string, interval time.Duration) time.Duration {
	if interval <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(key))
	return time.Duration(h.Sum64() % uint64(interval))
}

// NextSlot is the first run time of key strictly after now.
func NextSlot(key string, interval time.Duration, now time.Time) time.Time {
	prev := slotAtOrBefore(key, interval, now)
	return prev.Add(interval)
}

// NearestSlot is the planned run time closest to now, which is what a run
// happening now was planned for (a timer can fire a little early or late).
func NearestSlot(key string, interval time.Duration, now time.Time) time.Time {
	prev := slotAtOrBefore(key, interval, now)
	if now.Sub(prev) > interval/2 {
		return prev.Add(interval)
	}
	return prev
}

func slotAtOrBefore(key string, interval time.Duration, now time.Time) time.Time {
	off := int64(Offset(key, interval))
	n := now.UnixNano()
	i := int64(interval)
	phase := ((n-off)%i + i) % i
	return time.Unix(0, n-phase)
}

// NextRun is when t runs next after now: its next slot, or the next time of
// its cron schedule (read in UTC).
func NextRun(t probes.Target, now time.Time) (time.Time, error) {
	if t.Schedule == "" {
		return NextSlot(t.Key(), t.Interval, now), nil
	}
	sched, err := cronParser.Parse(t.Schedule)
	if err != nil {
		return time.Time{}, err
	}
	return sched.Next(now.UTC()), nil
}
