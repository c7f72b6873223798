package statuspage

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/forewarn/forewarn/cases"
	"github.com/forewarn/forewarn/store"
)

// Limits on what a support lead writes.
const (
	maxTitle     = 200
	maxBody      = 20000
	maxUpdate    = 5000
	maxUpdates   = 200
	maxAdminBody = 64 << 10
)

func (s *Server) adminRoutes(mux *http.ServeMux) {
	if s.o.AdminToken == "" {
		return // the paths fall through to the 404 page
	}
	mux.Handle("GET /admin/incidents", s.admin(s.adminList))
	mux.Handle("GET /admin/incidents/{id}", s.admin(s.adminGet))
	mux.Handle("PUT /admin/incidents/{id}", s.admin(s.adminEdit))
	mux.Handle("POST /admin/incidents/{id}/updates", s.admin(s.adminAddUpdate))
	mux.Handle("PUT /admin/incidents/{id}/updates/{n}", s.admin(s.adminEditUpdate))
	mux.Handle("DELETE /admin/incidents/{id}/updates/{n}", s.admin(s.adminDeleteUpdate))
}

// admin guards the admin API: loopback clients only (unless
// AdminAllowRemote), with the bearer token.
func (s *Server) admin(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	want := sha256.Sum256([]byte(s.o.AdminToken))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if !s.o.AdminAllowRemote && !loopback(r.RemoteAddr) {
			adminError(w, http.StatusForbidden, "the admin API answers loopback clients only")
			return
		}
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
		if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="forewarn status admin"`)
			adminError(w, http.StatusUnauthorized, "missing or wrong bearer token")
			return
		}
		if err := h(w, r); err != nil {
			var he httpError
			if errors.As(err, &he) {
				adminError(w, he.status, he.msg)
				return
			}
			s.log.Error("status page admin", "path", r.URL.Path, "error", err)
			adminError(w, http.StatusInternalServerError, "the store failed; see the log")
		}
	})
}

type httpError struct {
	status int
	msg    string
}

func (e httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return httpError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

func loopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func adminError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	enc.Encode(v)
}

// adminCase is a case as the admin API shows it, internal details
// included: the support lead decides what becomes public.
type adminCase struct {
	CaseID       string       `json:"case_id"`
	PublicID     string       `json:"public_id"`
	Tenant       adminTenant  `json:"tenant"`
	Kind         string       `json:"kind"`
	Severity     string       `json:"severity"`
	State        string       `json:"state"`
	OpenedAt     time.Time    `json:"opened_at"`
	ResolvedAt   *time.Time   `json:"resolved_at"`
	Causes       []adminCause `json:"causes"`
	Publication  Publication  `json:"publication"`
	PublicTitle  string       `json:"public_title"` // what the public page shows; "" when it shows nothing
	PrivateTitle string       `json:"private_title"`
	ShownOn      []string     `json:"shown_on"` // public, private
}

type adminTenant struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Public bool   `json:"public"`
}

type adminCause struct {
	Check        string `json:"check"`
	Probe        string `json:"probe"`
	Kind         string `json:"kind"`
	Reason       string `json:"reason"`
	Active       bool   `json:"active"`
	FirstMessage string `json:"first_message"`
	Message      string `json:"message"`
}

// adminCaseOf is a case as the admin API shows it; m is the public page
// as last built, nil if there is none yet.
func (s *Server) adminCaseOf(n *snapshot, m *publicModel, cv caseView, p *Publication) adminCase {
	t, _ := n.tenant(cv.rec.Tenant)
	ac := adminCase{CaseID: cv.rec.ID, PublicID: s.publicID("case:" + cv.rec.ID),
		Tenant: adminTenant{cv.rec.Tenant, t.Name, t.Public}, Kind: cv.rec.Kind, Severity: cv.rec.Severity,
		State: cv.rec.State, OpenedAt: cv.rec.OpenedAt, ResolvedAt: timePtr(cv.rec.ResolvedAt), Causes: []adminCause{}}
	for _, c := range cv.c.Causes {
		ac.Causes = append(ac.Causes, adminCause{c.Check, string(c.Probe), string(c.Kind), c.Reason, c.Active, c.FirstMessage, c.Message})
	}
	if p != nil {
		ac.Publication = *p
	}
	ac.ShownOn = []string{}
	if publicVisible(cv, p) {
		ac.PublicTitle = s.genericTitle(cases.Kind(cv.rec.Kind))
		switch {
		case p != nil && p.Published && p.Title != "":
			ac.PublicTitle = p.Title
		case !t.Public && (p == nil || !p.Published):
			// Folded into its region's incident of the day, whose title
			// follows the worst kind in it (as last built, or this one's).
			if in := m.incident(s.publicID("group:" + groupKey(t.Region, cv.rec.OpenedAt))); in != nil &&
				kindRank(cases.Kind(in.Kind)) > kindRank(cases.Kind(cv.rec.Kind)) {
				ac.PublicTitle = s.genericTitle(cases.Kind(in.Kind))
			}
		}
		ac.ShownOn = append(ac.ShownOn, "public")
	}
	if incs := s.tenantIncidents([]caseView{cv}, map[string]*Publication{cv.rec.ID: p}); len(incs) == 1 {
		ac.PrivateTitle = incs[0].Title
		ac.ShownOn = append(ac.ShownOn, "private")
	}
	return ac
}

func (s *Server) adminList(w http.ResponseWriter, r *http.Request) error {
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return badRequest("limit must be 1 to 1000")
		}
		limit = n
	}
	ctx := r.Context()
	open, err := s.o.Store.OpenCases(ctx)
	if err != nil {
		return err
	}
	recent, err := s.o.Store.RecentCases(ctx, limit)
	if err != nil {
		return err
	}
	cs := parseCases(open, recent)
	pubs, err := s.publicationsFor(ctx, cs)
	if err != nil {
		return err
	}
	n := s.snap()
	m := s.lastPublic()
	out := make([]adminCase, 0, len(cs))
	for _, cv := range cs {
		out = append(out, s.adminCaseOf(n, m, cv, pubs[cv.rec.ID]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"incidents": out})
	return nil
}

// adminCaseAndPub reads a case and its publication, fresh from the store.
func (s *Server) adminCaseAndPub(ctx context.Context, id string) (caseView, *Publication, error) {
	rec, err := s.o.Store.Case(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return caseView{}, nil, httpError{http.StatusNotFound, "no case " + strconv.Quote(id)}
	}
	if err != nil {
		return caseView{}, nil, err
	}
	p, err := s.loadPublication(ctx, id)
	if err != nil {
		return caseView{}, nil, err
	}
	return parseCases([]store.CaseRecord{rec})[0], p, nil
}

func (s *Server) adminGet(w http.ResponseWriter, r *http.Request) error {
	cv, p, err := s.adminCaseAndPub(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.adminCaseOf(s.snap(), s.lastPublic(), cv, p))
	return nil
}

// adminEditBody is PUT /admin/incidents/{id}: fields left out keep their value.
type adminEditBody struct {
	Title     *string `json:"title"`
	Body      *string `json:"body"`
	Published *bool   `json:"published"`
	Hidden    *bool   `json:"hidden"`
}

func (s *Server) adminEdit(w http.ResponseWriter, r *http.Request) error {
	var in adminEditBody
	if err := decodeBody(w, r, &in); err != nil {
		return err
	}
	return s.modify(w, r, http.StatusOK, func(p *Publication) error {
		if in.Title != nil {
			t, err := cleanText(*in.Title, maxTitle, false, "title")
			if err != nil {
				return err
			}
			p.Title = t
		}
		if in.Body != nil {
			b, err := cleanText(*in.Body, maxBody, true, "body")
			if err != nil {
				return err
			}
			p.Body = b
		}
		if in.Published != nil {
			p.Published = *in.Published
		}
		if in.Hidden != nil {
			p.Hidden = *in.Hidden
		}
		return nil
	})
}

type adminUpdateBody struct {
	Text string `json:"text"`
}

// updateText reads an update's text from the request body; empty is
// refused with ifEmpty.
func updateText(w http.ResponseWriter, r *http.Request, ifEmpty string) (string, error) {
	var in adminUpdateBody
	if err := decodeBody(w, r, &in); err != nil {
		return "", err
	}
	text, err := cleanText(in.Text, maxUpdate, true, "text")
	if err != nil {
		return "", err
	}
	if text == "" {
		return "", badRequest("%s", ifEmpty)
	}
	return text, nil
}

func (s *Server) adminAddUpdate(w http.ResponseWriter, r *http.Request) error {
	text, err := updateText(w, r, "text is empty")
	if err != nil {
		return err
	}
	return s.modify(w, r, http.StatusCreated, func(p *Publication) error {
		if len(p.Updates) >= maxUpdates {
			return badRequest("an incident has at most %d updates", maxUpdates)
		}
		p.Updates = append(p.Updates, Update{Time: s.now(), Text: text})
		return nil
	})
}

func (s *Server) adminEditUpdate(w http.ResponseWriter, r *http.Request) error {
	text, err := updateText(w, r, "text is empty: DELETE the update to remove it")
	if err != nil {
		return err
	}
	return s.modify(w, r, http.StatusOK, func(p *Publication) error {
		i, err := updateIndex(r, p)
		if err != nil {
			return err
		}
		p.Updates[i].Text = text
		return nil
	})
}

func (s *Server) adminDeleteUpdate(w http.ResponseWriter, r *http.Request) error {
	return s.modify(w, r, http.StatusOK, func(p *Publication) error {
		i, err := updateIndex(r, p)
		if err != nil {
			return err
		}
		p.Updates = append(p.Updates[:i], p.Updates[i+1:]...)
		return nil
	})
}

// updateIndex reads {n}, counted from 1 as the API lists them.
func updateIndex(r *http.Request, p *Publication) (int, error) {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 || n > len(p.Updates) {
		return 0, httpError{http.StatusNotFound, fmt.Sprintf("no update %q: the incident has %d", r.PathValue("n"), len(p.Updates))}
	}
	return n - 1, nil
}

// modify applies a change to a case's publication and saves it; the pages
// showing the case are rebuilt at once.
func (s *Server) modify(w http.ResponseWriter, r *http.Request, status int, change func(*Publication) error) error {
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	ctx := r.Context()
	cv, p, err := s.adminCaseAndPub(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	next := Publication{}
	if p != nil {
		next = *p
		next.Updates = append([]Update(nil), p.Updates...)
	}
	if err := change(&next); err != nil {
		return err
	}
	next.UpdatedAt = s.now()
	if err := s.savePublication(ctx, cv.rec.ID, &next); err != nil {
		return err
	}
	s.log.Info("status page: incident publication changed", "case", cv.rec.ID, "published", next.Published,
		"hidden", next.Hidden, "updates", len(next.Updates))
	s.invalidate(cv.rec.Tenant)
	writeJSON(w, status, s.adminCaseOf(s.snap(), s.lastPublic(), cv, &next))
	return nil
}

// invalidate rebuilds the public page and the tenant's private pages now,
// so a support lead sees a change at the next reload.
func (s *Server) invalidate(tenant string) {
	s.public.invalidate()
	getLazy(s, context.Background(), &s.public, s.o.CacheTTL, s.buildPublic, true)
	s.tenantMu.Lock()
	defer s.tenantMu.Unlock()
	for k, e := range s.tenants {
		id, token, _ := strings.Cut(k, "\x00")
		if id == tenant {
			e.lazy.invalidate()
			getLazy(s, context.Background(), &e.lazy, s.o.CacheTTL, func(ctx context.Context) (*tenantModel, error) {
				return s.buildTenant(ctx, id, token)
			}, true)
		}
	}
}

func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAdminBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("bad JSON body: %v", err)
	}
	return nil
}

// cleanText trims text and refuses control characters (line breaks are
// kept where multiline), invalid UTF-8 and text over max characters.
func cleanText(s string, max int, multiline bool, field string) (string, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if !utf8.ValidString(s) {
		return "", badRequest("%s is not valid UTF-8", field)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return "", badRequest("%s has %d characters; at most %d", field, n, max)
	}
	for _, r := range s {
		if r == '\n' && multiline || r == '\t' {
			continue
		}
		if unicode.IsControl(r) {
			return "", badRequest("%s has a control character (U+%04X)", field, r)
		}
	}
	return s, nil
}
