package statuspage

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"time"
)

// What a model is rendered as.
const (
	kindHTML = "html"
	kindJSON = "json"
	kindAtom = "atom"
)

func (s *Server) publicModel(ctx context.Context) (*publicModel, error) {
	return getLazy(s, ctx, &s.public, s.o.CacheTTL, s.buildPublic, false)
}

// lastPublic is the public model as last built, nil before the first
// build; it never waits (a build may start).
func (s *Server) lastPublic() *publicModel {
	m, _ := getLazy(s, context.Background(), &s.public, s.o.CacheTTL, s.buildPublic, true)
	return m
}

func (s *Server) servePublic(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		m, err := s.publicModel(r.Context())
		if err != nil || m == nil {
			s.send(w, r, s.assets.unavailable)
			return
		}
		s.send(w, r, m.renders.get(kind, func() *response { return s.renderPublic(m, kind) }))
	}
}

func (s *Server) publicBadge(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	if badgeWindow(file) < 0 {
		s.notFound(w, r)
		return
	}
	s.servePublic("badge:"+file)(w, r)
}

// publicTenantBadge serves /badge/{tenant}/{file} for public tenants only;
// any other id is the 404 page, whether or not the tenant exists.
func (s *Server) publicTenantBadge(w http.ResponseWriter, r *http.Request) {
	id, file := r.PathValue("tenant"), r.PathValue("file")
	if badgeWindow(file) < 0 {
		s.notFound(w, r)
		return
	}
	m, err := s.publicModel(r.Context())
	if err != nil || m == nil {
		s.send(w, r, s.assets.unavailable)
		return
	}
	for _, c := range m.Tenants {
		if c.ID == id {
			s.send(w, r, m.renders.get("badge:"+id+"/"+file, func() *response { return s.badgeResponse(c.State, c.Uptime, file, true) }))
			return
		}
	}
	s.notFound(w, r)
}

func (s *Server) serveTenant(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		m, ok := s.tenantFor(w, r)
		if !ok {
			return
		}
		s.send(w, r, m.renders.get(kind, func() *response { return s.renderTenant(m, kind) }))
	}
}

func (s *Server) tenantBadge(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	m, ok := s.tenantFor(w, r)
	if !ok {
		return
	}
	if badgeWindow(file) < 0 {
		s.notFound(w, r)
		return
	}
	s.send(w, r, m.renders.get("badge:"+file, func() *response { return s.badgeResponse(m.State, m.Uptime, file, false) }))
}

// tenantFor finds the model of the request's token, or answers: the 404
// page for a token that opens nothing, 503 when the store fails.
func (s *Server) tenantFor(w http.ResponseWriter, r *http.Request) (*tenantModel, bool) {
	m, ok, err := s.tenantModel(r.Context(), r.PathValue("token"))
	switch {
	case err != nil:
		s.send(w, r, s.assets.unavailable)
		return nil, false
	case !ok:
		s.notFound(w, r)
		return nil, false
	}
	return m, true
}

func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request) {
	if a, ok := s.assets.static[r.PathValue("file")]; ok {
		s.send(w, r, a)
		return
	}
	s.notFound(w, r)
}

func (s *Server) serveSchema(w http.ResponseWriter, r *http.Request) {
	if a, ok := s.assets.schemas[r.PathValue("file")]; ok {
		s.send(w, r, a)
		return
	}
	s.notFound(w, r)
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) { s.send(w, r, s.assets.notFound) }

// send writes a built response. At most GOMAXPROCS-1 are written at once
// (at least one) and the others wait their turn: a crowd refreshing the
// pages during an outage then parks instead of crowding the run queues,
// and the probes' timers keep their schedule. A turn covers what costs
// CPU: the headers and the first sendChunk bytes of the body, which the
// socket's buffer takes at once; the rest, which waits on the reader, is
// written after the turn. Building a page happens before, never in the
// queue. No one waits longer than sendWait for a turn: past it (a reader
// whose buffer is full holds one), the response is written anyway.
func (s *Server) send(w http.ResponseWriter, r *http.Request, resp *response) {
	select {
	case s.sending <- struct{}{}:
	default:
		t := time.NewTimer(sendWait)
		defer t.Stop()
		select {
		case s.sending <- struct{}{}:
		case <-t.C:
			resp.write(w, r, nil)
			return
		case <-r.Context().Done():
			return
		}
	}
	resp.write(w, r, func() { <-s.sending })
}

// sendWait is the longest a response waits for its turn to be written.
const sendWait = 20 * time.Millisecond

// maxAge is CacheTTL in whole seconds, at least 1.
func (s *Server) maxAge() string {
	return strconv.Itoa(max(1, int(math.Ceil(s.o.CacheTTL.Seconds()))))
}

func (s *Server) publicCache() string  { return "public, max-age=" + s.maxAge() }
func (s *Server) privateCache() string { return "private, max-age=" + s.maxAge() }

// renderPublic renders the public model as a page, JSON, a feed or a badge.
func (s *Server) renderPublic(m *publicModel, kind string) *response {
	switch kind {
	case kindHTML:
		return s.publicHTML(m)
	case kindJSON:
		return s.jsonResponse(s.publicJSON(m), s.publicCache())
	case kindAtom:
		return s.publicFeed(m)
	}
	if file, ok := cutPrefix(kind, "badge:"); ok {
		return s.badgeResponse(m.State, m.Uptime, file, true)
	}
	return s.assets.notFound
}

func (s *Server) renderTenant(m *tenantModel, kind string) *response {
	switch kind {
	case kindHTML:
		return s.tenantHTML(m)
	case kindJSON:
		return s.jsonResponse(s.tenantJSON(m), s.privateCache())
	case kindAtom:
		return s.tenantFeed(m)
	}
	return s.assets.notFound
}

func cutPrefix(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return "", false
}

// prerenderPublic renders what nearly every reader asks for, in the build.
func (s *Server) prerenderPublic(m *publicModel) {
	for _, k := range []string{kindHTML, kindJSON} {
		m.renders.get(k, func() *response { return s.renderPublic(m, k) })
	}
}

func (s *Server) prerenderTenant(m *tenantModel) {
	m.renders.get(kindHTML, func() *response { return s.renderTenant(m, kindHTML) })
}

func (s *Server) publicHTML(m *publicModel) *response {
	p := s.assets.page(m.Title, "public")
	p.Now, p.Public, p.Feed = m.Built, m, "/feed.atom"
	p.Stamp = &stamp{T: m.Built}
	p.Overall = overall(m.State, m.State.Summary(), m.Checked, m.Built)
	p.Links = []link{{"/api/v1/status", "JSON API", ""}, {"/feed.atom", "Incident feed (Atom)", "alternate"},
		{"/badge/status.svg", "Status badge", ""}}
	return s.html(p, s.publicCache())
}

func (s *Server) tenantHTML(m *tenantModel) *response {
	base := "/t/" + m.Token
	p := s.assets.page(m.Title, "tenant")
	p.PageTitle = m.Tenant.Name + " · " + m.Title
	p.Now, p.Tenant, p.TenantID, p.Private, p.Feed = m.Built, m, m.Tenant.ID, true, base+"/feed.atom"
	p.Stamp = &stamp{T: m.Built}
	p.Overall = overall(m.State, m.State.TenantSummary(), m.Checked, m.Built)
	p.Links = []link{{"/api/v1/tenants/" + m.Token + "/status", "JSON API", ""}, {base + "/feed.atom", "Incident feed (Atom)", "alternate"},
		{base + "/badge/uptime-30d.svg", "Uptime badge", ""}}
	return s.html(p, s.privateCache())
}

// overall is the state line's data. Rollups are hourly: "last checked"
// is the end of the latest hour in which probes ran, or now in the
// current hour.
func overall(st State, summary string, checked, built time.Time) overallArgs {
	o := overallArgs{State: st, Summary: summary}
	if !checked.IsZero() {
		end := checked.Add(time.Hour)
		if end.After(built) {
			end = built
		}
		o.Checked = &stamp{end, built}
	}
	return o
}

func (s *Server) html(p page, cache string) *response {
	body, err := s.assets.execute(p.Kind, p)
	if err != nil {
		s.log.Error("status page: render failed", "page", p.Kind, "error", err)
		return s.assets.unavailable
	}
	return newResponse(http.StatusOK, "text/html; charset=utf-8", cache, body)
}
