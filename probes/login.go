package probes

import "context"

// ProbeLogin is being written; placeholder so dependants compile.
func ProbeLogin(ctx context.Context, t Target) Result {
	return Result{Tenant: t.Tenant, Check: t.Check, Kind: t.Kind, Reason: ReasonInternal, Message: "login probe not implemented"}
}
