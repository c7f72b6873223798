package probes

// The knee search is pure: given the ramp's levels and the steps run so
// far, NextLevel says what to run next and FindKnee what the steps show. A
// run calls NextLevel after every step, so the rules that decide how far a
// tenant is pushed are here, table-tested, and nowhere else.
//
// The rules, chosen to harm the tenant as little as possible:
//   - A step that misses the SLO is re-run once at the same level, never
//     higher: the confirmation. Two misses in a row at a level are a
//     confirmed break, and the ramp stops there.
//   - A confirmation that meets the SLO was noise: the level counts as
//     served and the ramp goes on.
//   - The knee is the highest level served before the confirmed break.

// Met reports whether step s met slo: something completed, the error ratio
// at most the SLO's and the p95 latency at most the SLO's.
func (slo SLO) Met(s LoadStep) bool {
	return s.Requests > 0 && s.ErrorRatio <= slo.ErrorRatio && s.P95 <= slo.P95
}

// Ramp stop reasons (LoadResult.Stop).
const (
	StopMax     = "max"      // every level ran
	StopSLO     = "slo"      // a break was confirmed
	StopAborted = "aborted"  // cancelled: shutdown, reload or Ctrl-C
	StopTimeCap = "time cap" // the run's duration limit or window ended
	StopSignIn  = "sign-in"  // no user could sign in
)

// NextLevel decides the ramp's next step from the steps run so far: the
// users to run and whether the step confirms a break. done is true when the
// ramp is over, with stop saying why (StopMax or StopSLO).
func NextLevel(levels []int, steps []LoadStep) (users int, confirm, done bool, stop string) {
	if len(levels) == 0 {
		return 0, false, true, StopMax
	}
	if len(steps) == 0 {
		return levels[0], false, false, ""
	}
	last := steps[len(steps)-1]
	if !last.Passed {
		if last.Confirm {
			return 0, false, true, StopSLO
		}
		return last.Users, true, false, ""
	}
	for _, u := range levels {
		if u > last.Users {
			return u, false, false, ""
		}
	}
	return 0, false, true, StopMax
}

// FindKnee reads the knee off the steps run: the highest level served
// before the first confirmed break. levels are the ramp's planned levels:
// a knee at the last of them, with no break, is AtMax.
func FindKnee(levels []int, steps []LoadStep) Knee {
	var k Knee
	for i, s := range steps {
		if s.Passed {
			k.Users = max(k.Users, s.Users)
			continue
		}
		if s.Confirm && i > 0 && !steps[i-1].Passed && steps[i-1].Users == s.Users {
			k.BreakAt = s.Users
			break
		}
	}
	if k.BreakAt == 0 && len(levels) > 0 && k.Users >= levels[len(levels)-1] {
		k.AtMax = true
	}
	return k
}
