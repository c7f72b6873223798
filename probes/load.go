package probes

import (
	"context"
	"time"
)

// RunLoad runs t's ramp now. It returns when the ramp ends: at its max,
// at a confirmed break of the SLO, at a limit, or when ctx is done (within
// a second: every request is cancelled with it).
func RunLoad(ctx context.Context, t Target, o LoadOptions) Result {
	return Result{Tenant: t.Tenant, Check: t.Check, Kind: t.Kind, Start: time.Now(),
		Reason: ReasonInternal, Message: "load runner not built yet"}
}
