// Package demo is a simulated SaaS with many tenants: the target of forewarn's
// quickstart, of its end-to-end tests and of its 10,000-tenant benchmark.
//
// All tenants share one HTTP listener and one TLS listener and are routed by
// path (/t/{id}/…); on TLS the certificate is picked by SNI
// ({id}.demo.forewarn.test) and signed by a fixed, public demo CA (CAPEM).
// Faults are injected per tenant through an admin API (/admin/…) or
// Server.SetFault, so a monitor can be watched noticing them.
//
// Every tenant has a sign-in, in the three styles a monitor meets (see
// signin.go): an HTML form with a CSRF token and a session cookie, a JSON
// session API returning a bearer token, and an OAuth2 token endpoint; GET
// /api/me says who is signed in. Its synthetic user SyntheticUser(id) and
// OAuth2 client OAuthClientID(id) sign in with Options.Password. Sessions
// last SessionTTL, at most MaxSessionsPerTenant per tenant. Sign-in faults:
// wrong_credentials, token_error, session_expiry, slow_signin.
//
// Every tenant has a capacity (Tenant.Capacity, Options.Capacities; see
// capacity.go): the concurrent users it serves well, so a load check has a
// knee to find. Acme serves 150 users of its 500 seats; initech, soylent and
// wonka also break below their seats; most tenants serve 1.2–1.5 times
// theirs. A signed-in session holds one slot from sign-in (or its first
// request) until sign-out or SessionIdle without a request. With every slot
// held, requests with a session queue (at most capacity/20, at least one) for
// up to QueueTimeout, then get 503 "over capacity" with Retry-After: 1, as
// does sign-in; requests without a session are never held up. The capacity
// fault ({"mode":"capacity","users":80}) changes a capacity while it lasts.
// APIKey gives MaxAPIKeys ready bearer credentials per tenant, each a session
// of its own. Server.Load (GET /admin/tenants/{id}/load) counts requests,
// rejections, in-flight and per-second peaks and slots, so a test can prove
// a load generator kept to its caps; ResetLoad zeroes them.
//
// Quick use:
//
//	s, err := demo.New(demo.Options{Tenants: 100, Password: os.Getenv(demo.PasswordEnv)})
//	if err != nil { … }
//	if err := s.Start(); err != nil { … }        // 127.0.0.1:8081 and :8443
//	defer s.Shutdown(ctx)
//	s.SetFault("acme", demo.Fault{Mode: demo.ModeSlow, Delay: 3 * time.Second})
//	s.SetFault("acme", demo.Fault{Mode: demo.ModeCapacity, Users: 80})
//	st, _ := s.Load("acme")                         // st.Rejected, st.PeakInFlight, …
//	demo.WriteChecks(f, s.Tenants(), s.URL(), s.TLSURL())   // + demo.ChecksOnly(…, demo.CheckSignIn)
package demo
