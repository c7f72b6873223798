package probes

import "context"

// ProbeHTTP is being written; placeholder so dependants compile.
func ProbeHTTP(ctx context.Context, t Target) Result {
	return Result{Tenant: t.Tenant, Check: t.Check, Kind: t.Kind, Reason: ReasonInternal, Message: "not implemented"}
}
