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
// Quick use:
//
//	s, err := demo.New(demo.Options{Tenants: 100, Password: os.Getenv(demo.PasswordEnv)})
//	if err != nil { … }
//	if err := s.Start(); err != nil { … }        // 127.0.0.1:8081 and :8443
//	defer s.Shutdown(ctx)
//	s.SetFault("acme", demo.Fault{Mode: demo.ModeSlow, Delay: 3 * time.Second})
//	demo.WriteChecks(f, s.Tenants(), s.URL(), s.TLSURL())   // + demo.ChecksOnly(…, demo.CheckSignIn)
package demo
