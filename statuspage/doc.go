// Package statuspage serves forewarn's status pages: a public page for
// everyone, a private page per tenant behind an unguessable token, a JSON
// API, SVG badges and Atom feeds of incidents, and a small admin API with
// which a support lead publishes what the public reads about an incident.
//
// Everything is rendered from the store's rollups and cases, never from raw
// results, into a page model that is rebuilt at most once per CacheTTL (one
// build at a time; while a newer one is built, readers get the last one).
// HTML, JSON, feeds and badges are rendered once per model and served as
// bytes from memory, gzipped ahead of time, so a crowd refreshing the page
// during an outage costs the store one build per interval whatever its
// size. Past days of the 90-day bars are read once and kept; each build
// re-reads only today.
//
// Privacy is the default. The public page names a tenant only when its
// config says public: true, shows incidents of other tenants only under a
// title by kind ("Service disruption for some customers"), grouped per
// region and day,
// and never shows a probe's error text, a check name or a case id. A
// private page shows one tenant's own checks, uptime, response times,
// capacity and incidents, and nothing of any other tenant. A wrong token
// gets the same 404 as an unknown path.
//
// Every text is escaped for where it goes: html/template for pages,
// encoding/json for the API (which escapes <, > and &), encoding/xml for
// feeds and badges. Pages need no JavaScript: a small script served from
// /static adds the reader's local time next to each UTC time, allowed by a
// Content-Security-Policy that allows nothing inline.
package statuspage
